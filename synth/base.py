"""The 全员人口库 as a county really has it: stale and dirty.

Built from the truth, then made wrong on purpose at the error model's rates: residents
missing, duplicate rows (slightly different), deaths and moves not cancelled, newborns and
movers-in not registered, marital status and renames not updated, and wrong attributes
(name, sex, birth date, ethnicity, ID, household). Every change is logged.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import polars as pl

from .config import CountyConfig, ErrorModel
from .households import MARITAL
from .identity import as_date, day, id_bodies, id_strings
from .noise import (
    ErrorLog,
    date_digit,
    homophone,
    id_typo,
    lunar_birthday,
    month_day_swap,
    similar_shape,
)

SOURCE = "population"
_WRONG_ETHNICITY = {"土家族": "汉族", "汉族": "土家族", "苗族": "土家族"}
#: 户口性质 the base holds wrongly: the pre-reform type kept where 公安 now says 居民, or the
#: other of 农业/非农业
_STALE_HUKOU_TYPE = {"居民": "农业", "农业": "非农业", "非农业": "农业"}


def _rate(model: ErrorModel, family: str) -> float:
    return model.rate(SOURCE, family)


def _log(log: ErrorLog, frame: pl.DataFrame, family: str, column: str = "") -> None:
    log.add(
        SOURCE,
        frame["person_id"] if "person_id" in frame.columns else [""] * frame.height,
        "person",
        f"base_{family}",
        column,
        frame["true_pid"],
    )


def _person_ids(code: str, seq: np.ndarray) -> pl.Expr:
    return pl.lit(code) + pl.Series(seq).cast(pl.String).str.zfill(10)


def build_base(
    rng: np.random.Generator,
    cfg: CountyConfig,
    model: ErrorModel,
    truth: pl.DataFrame,
    log: ErrorLog,
) -> pl.DataFrame:
    """Rows of the population base, with ``true_pid`` and ``is_duplicate`` kept for truth."""
    n = truth.height
    u = rng.random(n)
    native = pl.col("origin") == "native"
    truth = truth.select(
        "pid",
        "origin",
        "name",
        "former_name",
        "sex",
        "id_number",
        "birth_date",
        "birth",
        "ethnicity",
        "household_id",
        "relation",
        "marital0",
        "marital",
        "hukou_type",
        "hukou_address",
        "address",
        "township",
        "village",
        "death",
        "move_out",
        "move_in",
        "rename",
    ).with_columns(pl.Series("__u", u))
    missing = truth.filter(native & (pl.col("__u") < _rate(model, "missing")))
    newborn_late = truth.filter(
        (pl.col("origin") == "newborn") & (pl.col("__u") < _rate(model, "birth_not_registered"))
    )
    mover_late = truth.filter(
        (pl.col("move_in") >= 0) & (pl.col("__u") < _rate(model, "move_in_not_registered"))
    )
    for frame, fam in (
        (missing, "missing"),
        (newborn_late, "birth_not_registered"),
        (mover_late, "move_in_not_registered"),
    ):
        _log(log, frame.rename({"pid": "true_pid"}), fam)
    skip = pl.concat([missing["pid"], newborn_late["pid"], mover_late["pid"]])
    rows = truth.filter(
        (native | (pl.col("origin") == "newborn") | (pl.col("move_in") >= 0))
        & ~pl.col("pid").is_in(skip.implode())
    ).rename({"pid": "true_pid"})

    # person ids in order of creation: natives and their duplicate rows shuffled (the
    # original row always the earlier), then this period's newborns and movers-in
    k = rows.height
    late = (rows["origin"] != "native").to_numpy()
    early = np.flatnonzero(~late)
    dup_rows = early[rng.random(len(early)) < _rate(model, "duplicate")]
    ids = rng.permutation(len(early) + len(dup_rows)) + 1
    seq = np.empty(k, dtype=np.int64)
    seq[early] = ids[: len(early)]
    dup_seq = ids[len(early) :]
    first = np.minimum(seq[dup_rows], dup_seq)
    dup_seq = np.maximum(seq[dup_rows], dup_seq)
    seq[dup_rows] = first
    seq[late] = len(ids) + 1 + np.arange(int(late.sum()))
    ref = day(cfg.reference_date)
    v = rng.random((k, 4))
    lag = rng.integers(2, 90, size=k)
    death, move = rows["death"].to_numpy(), rows["move_out"].to_numpy()
    dead_cancel = (death >= 0) & (v[:, 0] >= _rate(model, "death_not_cancelled"))
    move_cancel = (move >= 0) & (v[:, 0] >= _rate(model, "move_not_cancelled"))
    marital0, marital = rows["marital0"].to_numpy(), rows["marital"].to_numpy()
    changed = (marital0 != marital) & (rows["origin"] == "native").to_numpy()
    stale_marital = changed & (v[:, 1] < _rate(model, "marital_not_updated"))
    renamed = rows["rename"].to_numpy() >= 0
    stale_name = renamed & (v[:, 2] < _rate(model, "name_change_not_updated"))
    touched = np.select(
        [dead_cancel, move_cancel, late],
        [death + lag, move + lag, rows["birth"].to_numpy() + lag],
        -1,
    )
    old = day(dt.date(2015, 1, 1)) + (v[:, 3] * (day(cfg.period_start) - day(dt.date(2015, 1, 1))))
    updated = np.minimum(np.where(touched >= 0, touched, old.astype(np.int64)), ref)
    updated = np.where(
        rows["move_in"].to_numpy() >= 0, np.minimum(rows["move_in"].to_numpy() + lag, ref), updated
    )
    base = rows.with_columns(
        _person_ids(cfg.code, seq).alias("person_id"),
        pl.when(pl.Series(stale_name))
        .then(pl.col("former_name"))
        .otherwise(pl.col("name"))
        .alias("name"),
        pl.Series("marital_status", np.where(stale_marital, marital0, marital)).replace_strict(
            dict(enumerate(MARITAL)), return_dtype=pl.String
        ),
        pl.Series(
            "status", np.select([dead_cancel, move_cancel], ["死亡注销", "迁出注销"], "正常")
        ),
        as_date(updated).alias("updated_at"),
        pl.col("relation").alias("relation_to_head"),
        pl.col("address").alias("current_address"),
        pl.lit(False).alias("is_duplicate"),
    )
    _log(
        log,
        base.filter((pl.col("death") >= 0) & (pl.col("status") == "正常")),
        "death_not_cancelled",
        "status",
    )
    _log(
        log,
        base.filter((pl.col("move_out") >= 0) & (pl.col("status") == "正常")),
        "move_not_cancelled",
        "status",
    )
    _log(log, base.filter(pl.Series(stale_marital)), "marital_not_updated", "marital_status")
    _log(log, base.filter(pl.Series(stale_name)), "name_change_not_updated", "name")
    base = _wrong_values(rng, model, base, log)
    base = _duplicates(rng, cfg, model, base, dup_rows, dup_seq, log)
    first_nobody = int(truth["pid"].to_numpy().max(initial=0)) + 1
    base = _false_entries(rng, cfg, model, base, first_nobody, log)
    return base.sort(pl.col("person_id").str.slice(len(cfg.code)).cast(pl.Int64)).select(
        "person_id",
        "name",
        "sex",
        "id_number",
        "birth_date",
        "ethnicity",
        "household_id",
        "relation_to_head",
        "marital_status",
        "hukou_type",
        "hukou_address",
        "current_address",
        "township",
        "village",
        "status",
        "updated_at",
        "true_pid",
        "is_duplicate",
    )


def _false_entries(
    rng: np.random.Generator,
    cfg: CountyConfig,
    model: ErrorModel,
    base: pl.DataFrame,
    first_pid: int,
    log: ErrorLog,
) -> pl.DataFrame:
    """Persons the base holds who never lived (虚假人口): a row in a real household, a name of
    the county's surnames and given names, a valid ID of the county, and nobody behind it
    (``true_pid`` beyond every real person's)."""
    m = round(_rate(model, "false_entry") * base.height)
    if m == 0:
        return base
    live = base.filter(pl.col("status") == "正常")
    rows = live[rng.integers(live.height, size=m)]
    given = live["name"][rng.integers(live.height, size=m)].str.slice(1)
    names = rows["name"].str.slice(0, 1) + given
    born = day(dt.date(1950, 1, 1)) + rng.integers(0, 365 * 50, size=m)
    sex = rng.integers(1, 3, size=m)
    region = np.full(m, int(cfg.code))
    ids = id_strings(id_bodies(rng, region, born, sex))
    last = int(base["person_id"].str.slice(len(cfg.code)).cast(pl.Int64).to_numpy().max())
    seq = last + 1 + np.arange(m)
    fake = rows.with_columns(
        _person_ids(cfg.code, seq).alias("person_id"),
        names.alias("name"),
        pl.Series("sex", sex).cast(rows["sex"].dtype),  # coded as the people's: 1 = male
        ids.alias("id_number"),
        as_date(born, event=False).alias("birth_date"),
        pl.lit("其他").alias("relation_to_head"),
        pl.lit("正常").alias("status"),
        pl.Series("true_pid", first_pid + np.arange(m)),
        pl.lit(False).alias("is_duplicate"),
    )
    _log(log, fake, "false_entry")
    return pl.concat([base, fake.select(base.columns)], how="vertical_relaxed")


def _scatter(base: pl.DataFrame, column: str, idx: np.ndarray, values: list) -> pl.DataFrame:
    s = base[column].clone()
    s.scatter(idx, pl.Series(values, dtype=s.dtype))
    return base.with_columns(s)


def _wrong_values(
    rng: np.random.Generator, model: ErrorModel, base: pl.DataFrame, log: ErrorLog
) -> pl.DataFrame:
    """Attribute errors in the base rows (the hukou keeps the true values)."""
    k = base.height

    def pick(family: str, eligible: np.ndarray) -> np.ndarray:
        return np.flatnonzero(eligible & (rng.random(k) < _rate(model, f"wrong_{family}")))

    ids = base["id_number"].to_numpy()
    has_id = ids != ""
    tasks = (
        ("name", "name", np.ones(k, dtype=bool)),
        ("sex", "sex", np.ones(k, dtype=bool)),
        ("birth_date", "birth_date", np.ones(k, dtype=bool)),
        ("ethnicity", "ethnicity", base["ethnicity"].is_in(list(_WRONG_ETHNICITY)).to_numpy()),
        ("id", "id_number", has_id),
        ("household", "household_id", np.ones(k, dtype=bool)),
        ("hukou_type", "hukou_type", base["hukou_type"].is_in(list(_STALE_HUKOU_TYPE)).to_numpy()),
    )
    for family, column, eligible in tasks:
        idx = pick(family, eligible)
        old = base[column].gather(idx).to_list()
        new = [_wrong(family, value, rng, base, int(i)) for value, i in zip(old, idx, strict=True)]
        keep = [j for j, value in enumerate(new) if value is not None and value != old[j]]
        idx = idx[keep]
        base = _scatter(base, column, idx, [new[j] for j in keep])
        _log(log, base[idx], f"wrong_{family}", column)
    return base


def _wrong(
    family: str, value: Any, rng: np.random.Generator, base: pl.DataFrame, row: int
) -> object:
    """A wrong version of ``value`` (a cell of the column ``family`` corrupts, so its type
    follows the family: text, sex code, date), or None when none could be made."""
    if family == "name":
        return homophone(value, rng) or similar_shape(value, rng)
    if family == "sex":
        return 3 - value
    if family == "birth_date":
        fn = (date_digit, month_day_swap, lunar_birthday)[int(rng.integers(3))]
        return fn(value, rng) or date_digit(value, rng)
    if family == "ethnicity":
        return _WRONG_ETHNICITY[value]
    if family == "id":
        return id_typo(value, rng)
    if family == "hukou_type":
        return _STALE_HUKOU_TYPE[value]
    # household: a neighbour's 户号 in the same village (the family split, the base kept
    # the old number)
    other = base["household_id"][int(rng.integers(base.height))]
    return value[:-4] + other[-4:]


def _duplicates(
    rng: np.random.Generator,
    cfg: CountyConfig,
    model: ErrorModel,
    base: pl.DataFrame,
    rows: np.ndarray,
    seq: np.ndarray,
    log: ErrorLog,
) -> pl.DataFrame:
    """Second rows of the same person (ids ``seq``), each slightly different from the first."""
    dup = base[rows]
    m = dup.height
    what = rng.integers(4, size=m)
    # some second rows differ twice: the ID left out or mistyped *and* a name, a date or
    # the household (what makes a duplicate hard to find)
    second = np.where(
        rng.random(m) < _rate(model, "duplicate_second_change"),
        (what + 1 + rng.integers(3, size=m)) % 4,
        -1,
    )
    names, births = dup["name"].to_list(), dup["birth_date"].to_list()
    ids, homes = dup["id_number"].to_list(), dup["household_id"].to_list()
    for j in range(m):
        for change in (what[j], second[j]):
            if change == 0:
                names[j] = homophone(names[j], rng) or similar_shape(names[j], rng) or names[j]
            elif change == 1:
                births[j] = date_digit(births[j], rng) or births[j]
            elif change == 2 and ids[j]:
                # left out, the old 15-digit form (only for those born before 1985, who had
                # one), or one digit mistyped
                kind = rng.random()
                old = births[j] is not None and births[j].year < 1985 and len(ids[j]) == 18
                ids[j] = (
                    ""
                    if kind < 0.4 or len(ids[j]) != 18
                    else ids[j][:6] + ids[j][8:17]
                    if kind < 0.7 and old
                    else id_typo(ids[j], rng) or ids[j]
                )
            elif change == 3:  # registered again under the household it had before a split
                homes[j] = homes[j][:-4] + f"{int(rng.integers(10000)):04d}"
    cancelled = rng.random(m) < _rate(model, "duplicate_cancelled")
    dup = dup.with_columns(
        pl.Series("name", names, dtype=pl.String),
        pl.Series("birth_date", births, dtype=pl.Date),
        pl.Series("id_number", ids, dtype=pl.String),
        pl.Series("household_id", homes, dtype=pl.String),
        pl.when(pl.Series(cancelled))
        .then(pl.lit("重复注销"))
        .otherwise(pl.col("status"))
        .alias("status"),
        _person_ids(cfg.code, seq).alias("person_id"),
        pl.lit(True).alias("is_duplicate"),
    )
    _log(log, dup, "duplicate")
    return pl.concat([base, dup], how="vertical_relaxed")
