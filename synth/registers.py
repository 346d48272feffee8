"""Who holds an ID number, and the 公安 户籍 register at the reference date.

The hukou register is authoritative: true names (with 曾用名), true IDs, cancellations of
deaths (most, with a lag) and of moves out (all), newborns once 落户 (most) and spouses whose
hukou moved in. ``truth_frame`` joins people with their households: the ``persons`` truth.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from .config import CountyConfig, ErrorModel
from .identity import as_date, day, id_bodies, id_strings
from .noise import ErrorLog
from .population import People


def assign_ids(
    rng: np.random.Generator, model: ErrorModel, people: People, log: ErrorLog
) -> np.ndarray:
    """Give every person who has one an ID (newborns only once 落户). Returns the newborns
    registered in the hukou (a mask over persons)."""
    origin = people.cols["origin"].to_numpy()
    newborn = origin == "newborn"
    registered = newborn & (
        rng.random(len(people)) >= model.rate("hukou", "newborn_not_registered")
    )
    late = np.flatnonzero(newborn & ~registered)
    log.add("hukou", [""] * len(late), "person", "hukou_newborn_not_registered", "", late)
    has_id = (origin != "outside_child") & (~newborn | registered)
    who = np.flatnonzero(has_id)
    bodies = id_bodies(
        rng, people.np("region")[who], people.np("birth")[who], people.np("sex")[who]
    )
    ids = pl.Series([""] * len(people), dtype=pl.String)
    ids.scatter(who, id_strings(bodies))
    people.cols["id_number"] = ids.alias("id_number")
    return registered


def truth_frame(people: People, homes: pl.DataFrame, cfg: CountyConfig) -> pl.DataFrame:
    """Every human with their household's place; dates as Date; flags at the reference date."""
    frame = people.frame()
    ref = day(cfg.reference_date)
    places = homes.select(
        "hh", "household_id", "township", "village", "hukou_address", "hukou_type"
    )
    return (
        frame.join(places, on="hh", how="left")
        .sort("pid")
        .with_columns(
            as_date(frame["birth"], event=False).alias("birth_date"),
            as_date(frame["death"]).alias("death_date"),
            as_date(frame["move_out"]).alias("move_date"),
            as_date(frame["move_in"]).alias("move_in_date"),
            as_date(frame["rename"]).alias("rename_date"),
            (pl.col("death") < 0).alias("alive"),
            (pl.col("move_out") >= 0).alias("moved_out"),
            (pl.col("move_in") >= 0).alias("moved_in"),
            (
                (pl.col("hh") >= 0)
                & (pl.col("move_out") < 0)
                & (pl.col("death") < 0)
                & ((pl.col("move_in") < 0) | (pl.col("move_in") <= ref))
            ).alias("in_county"),
        )
    )


def hukou_register(
    rng: np.random.Generator,
    cfg: CountyConfig,
    model: ErrorModel,
    truth: pl.DataFrame,
    newborn_registered: np.ndarray,
    log: ErrorLog,
) -> pl.DataFrame:
    """The 户籍人口 snapshot: residents, newborns 落户, movers-in, recent cancellations."""
    n = truth.height
    origin = truth["origin"].to_numpy()
    native = origin == "native"
    missing = native & (rng.random(n) < model.rate("hukou", "missing_resident"))
    dropped = np.flatnonzero(missing)
    log.add("hukou", [""] * len(dropped), "person", "hukou_missing_resident", "", dropped)
    rows = (native & ~missing) | newborn_registered | (truth["move_in"].to_numpy() >= 0)
    ref = day(cfg.reference_date)
    death = truth["death"].to_numpy()
    death_lag = death + rng.integers(3, 60, size=n)
    cancelled = (death >= 0) & (rng.random(n) >= model.rate("hukou", "death_not_cancelled"))
    cancelled &= death_lag <= ref
    move = truth["move_out"].to_numpy()
    birth = truth["birth"].to_numpy()
    change = np.select(
        [
            cancelled,
            move >= 0,
            origin == "newborn",
            truth["move_in"].to_numpy() >= 0,
            truth["rename"].to_numpy() >= 0,
        ],
        [
            death_lag,
            move,
            np.minimum(birth + rng.integers(10, 90, size=n), ref),
            truth["move_in"].to_numpy(),
            truth["rename"].to_numpy(),
        ],
        -1,
    )
    status = np.select([cancelled, move >= 0], ["死亡注销", "迁出注销"], "正常")
    keep = (
        "pid",
        "name",
        "former_name",
        "sex",
        "id_number",
        "birth_date",
        "ethnicity",
        "household_id",
        "relation",
        "hukou_address",
        "hukou_type",
        "moved_to",
        "moved_to_code",
        "death",
    )
    frame = (
        truth.select(keep)
        .with_columns(
            pl.Series("hukou_status", status),
            as_date(change).alias("change_date"),
        )
        .filter(pl.Series(rows))
        .sort(pl.col("household_id").cast(pl.Int64), "pid")
    )
    late = frame.filter((pl.col("death") >= 0) & (pl.col("hukou_status") == "正常"))
    seq = rng.permutation(frame.height) + 1
    frame = frame.with_columns(
        (pl.lit(f"HJ{cfg.code}") + pl.Series(seq).cast(pl.String).str.zfill(9)).alias("record_id"),
    )
    late_ids = frame.filter(pl.col("pid").is_in(late["pid"].implode()))
    log.add(
        "hukou", late_ids["record_id"], "person", "hukou_death_not_cancelled", "", late_ids["pid"]
    )
    return frame.select(
        "record_id",
        "name",
        "former_name",
        "sex",
        "id_number",
        "birth_date",
        "ethnicity",
        "household_id",
        pl.col("relation").alias("relation_to_head"),
        "hukou_address",
        "hukou_type",
        "hukou_status",
        "change_date",
        "moved_to",
        pl.col("pid").alias("true_pid"),
        pl.col("moved_to_code").alias("true_destination"),
    )
