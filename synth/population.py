"""The true people of the county at the start of the period: households placed in real
townships, with names, ethnicities, birth dates and addresses.

``People`` is a column store of numpy arrays (strings as object arrays) that the events of
the period extend; ``People.frame()`` turns it into the polars frame the rest works on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl
from numpy.typing import NDArray

from .config import CountyConfig
from .geography import Geography, destination
from .households import CHILD, DIL, FATHER, GRANDCHILD, HEAD, MOTHER, SPOUSE, Members
from .identity import day, draw_given, draw_surnames, draw_uyghur, surname_weights, years
from .names_table import DESTINATIONS, MIDDLE_DOT, STREETS, UYGHUR

# the value meaning "none": -1 in integer columns, "" in text columns, False in flags
NONE_INT = -1


@dataclass
class People:
    """All humans of the truth (natives first, then everyone the period adds), by column."""

    cols: dict[str, pl.Series] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.cols["pid"])

    def np(self, name: str) -> NDArray[Any]:
        """A writable numpy copy of a numeric column."""
        return self.cols[name].to_numpy().copy()

    def set(self, name: str, values: NDArray[Any] | pl.Series) -> None:
        dtype = self.cols[name].dtype
        self.cols[name] = pl.Series(name, values, dtype=dtype)

    def take(self, name: str, idx: NDArray[Any]) -> list:
        return self.cols[name].gather(idx).to_list()

    def scatter(self, name: str, idx: NDArray[Any], values: list | NDArray[Any]) -> None:
        if len(idx):
            s = self.cols[name].clone()
            s.scatter(idx, pl.Series(values, dtype=s.dtype))
            self.cols[name] = s

    def append(self, **new: NDArray[Any] | list | pl.Series) -> NDArray[Any]:
        """Add persons; columns left out get their "none" value. Returns the new pids."""
        n = len(next(iter(new.values())))
        start = len(self)
        pids = np.arange(start, start + n, dtype=np.int64)
        for name, old in self.cols.items():
            if name == "pid":
                add = pl.Series(name, pids)
            elif name in new:
                add = pl.Series(name, new[name], dtype=old.dtype)
            elif old.dtype == pl.String:
                add = pl.Series(name, [""] * n, dtype=pl.String)
            elif old.dtype == pl.Boolean:
                add = pl.Series(name, np.zeros(n, dtype=bool))
            else:
                add = pl.Series(name, np.full(n, NONE_INT), dtype=old.dtype)
            self.cols[name] = pl.concat([old, add], rechunk=False)
        return pids

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(list(self.cols.values())).rechunk()


def _place_households(rng: np.random.Generator, geo: Geography, n_h: int) -> pl.DataFrame:
    """Township, village, 户号, address and 户口性质 of each household."""
    towns = geo.townships
    w = np.array(
        [
            4.0 if i == geo.seat else 1.3 if t.endswith(("镇", "街道")) else 1.0
            for i, t in enumerate(towns)
        ]
    )
    town = rng.choice(len(towns), size=n_h, p=w / w.sum())
    n_vil = np.array([len(v) for v in geo.villages])
    vil = (rng.random(n_h) * n_vil[town]).astype(np.int64)
    community = vil < np.array(geo.communities)[town]
    zu = rng.integers(1, 13, size=n_h)
    number = rng.integers(1, 120, size=n_h)
    # 户口性质: 社区 mostly 非农业/居民, villages mostly 农业 (居民 since the 2016 reform)
    u = rng.random(n_h)
    kind = np.where(
        community,
        np.where(u < 0.55, "非农业", np.where(u < 0.9, "居民", "农业")),
        np.where(u < 0.8, "农业", "居民"),
    )
    # 户号: township code tail + village + sequence within the village
    order = np.lexsort((rng.random(n_h), vil, town))
    key = town * 1000 + vil
    sorted_key = key[order]
    first = np.r_[0, np.flatnonzero(np.diff(sorted_key)) + 1]
    seq_sorted = np.arange(n_h) - np.repeat(first, np.diff(np.r_[first, n_h]))
    seq = np.empty(n_h, dtype=np.int64)
    seq[order] = seq_sorted + 1
    width = max(4, len(str(int(seq.max()) if n_h else 0)))
    tails = np.array([c[-3:] for c in geo.township_codes], dtype=object)
    offsets = np.cumsum([0] + [len(v) for v in geo.villages])[:-1]
    all_villages = np.array([v for vs in geo.villages for v in vs], dtype=object)
    streets = np.array(STREETS, dtype=object)
    frame = pl.DataFrame(
        {
            "hh": np.arange(n_h, dtype=np.int64),
            "town_idx": town,
            "vil_idx": vil,
            "hukou_type": kind,
            "tail": tails[town].astype(str),
            "seq": seq,
            "township": np.asarray(towns, dtype=object)[town].astype(str),
            "village": all_villages[offsets[town] + vil].astype(str),
            "street": streets[zu % len(streets)].astype(str),
            "zu": zu,
            "number": number,
            "community": community,
        }
    )
    number_part = pl.col("number").cast(pl.String) + pl.lit("号")
    return frame.with_columns(
        (
            pl.lit(geo.prefix)
            + pl.col("township")
            + pl.col("village")
            + pl.when(pl.col("community"))
            .then(pl.col("street"))
            .otherwise(pl.col("zu").cast(pl.String) + pl.lit("组"))
            + number_part
        ).alias("hukou_address"),
        (
            pl.col("tail")
            + (pl.col("vil_idx") + 1).cast(pl.String).str.zfill(2)
            + pl.col("seq").cast(pl.String).str.zfill(width)
        ).alias("household_id"),
    ).drop("tail", "seq", "zu", "number", "street", "community")


def destination_pool(
    rng: np.random.Generator, county: str, size: int = 256
) -> list[tuple[int, str]]:
    """Addresses outside the county where people work or move to."""
    prefixes = [p for p, _ in DESTINATIONS]
    w = np.array([x for _, x in DESTINATIONS])
    picks = rng.choice(len(prefixes), size=size, p=w / w.sum())
    return [destination(prefixes[i], rng, exclude=county) for i in picks.tolist()]


def build_people(
    rng: np.random.Generator,
    cfg: CountyConfig,
    geo: Geography,
    m: Members,
    pool: list[tuple[int, str]],
) -> tuple[People, pl.DataFrame]:
    """Natives (persons in county households at the period start) and the household table."""
    n, n_h = len(m), len(m.hh_type)
    homes = _place_households(rng, geo, n_h)
    hh, kind, sex = m.hh, m.kind, m.sex
    start = day(cfg.period_start)
    birth = start - np.floor(m.age * 365.2425).astype(np.int64) - 1
    by = years(birth)

    eth_names = list(cfg.ethnicity)
    p = np.array([cfg.ethnicity[e] for e in eth_names])
    lineage_eth = rng.choice(len(eth_names), size=n_h, p=p / p.sum())
    uy_code = eth_names.index(UYGHUR) if UYGHUR in eth_names else -1
    own_p = np.where(np.arange(len(eth_names)) == uy_code, 0.0, p)
    own_eth = rng.choice(len(eth_names), size=n, p=own_p / own_p.sum())
    married_in = (kind == SPOUSE) | (kind == DIL) | (kind == MOTHER)
    eth_idx = np.where(married_in, own_eth, lineage_eth[hh])
    eth_idx = np.where(lineage_eth[hh] == uy_code, uy_code, eth_idx)
    uy = eth_idx == uy_code

    table = surname_weights(cfg.surname_boost)
    lineage = draw_surnames(rng, n_h, table)
    sur_idx = draw_surnames(rng, n, table)
    male_line = (
        (kind == CHILD) | (kind == GRANDCHILD) | (((kind == HEAD) | (kind == SPOUSE)) & (sex == 1))
    )
    sur_idx[male_line] = lineage[hh[male_line]]
    head_row = np.full(n_h, -1)
    head_row[hh[kind == HEAD]] = np.flatnonzero(kind == HEAD)
    fathers = kind == FATHER
    sur_idx[fathers] = sur_idx[head_row[hh[fathers]]]
    surname = pl.Series("surname", table[0]).gather(sur_idx)
    given = draw_given(rng, by, sex)
    # a family never gives two of its members one name: draw again for a repeat (a few
    # rounds suffice; popular names such as 子涵 repeat by chance otherwise)
    for _ in range(5):
        repeat = (
            pl.DataFrame({"hh": hh, "name": surname + given})
            .select(pl.int_range(pl.len()).over("hh", "name") > 0)
            .to_series()
            .to_numpy()
        )
        if not repeat.any():
            break
        idx = np.flatnonzero(repeat)
        given = given.scatter(idx, draw_given(rng, by[idx], sex[idx]))
    name = surname + given
    if uy.any():  # 名·父名, no surname
        sel = np.flatnonzero(uy)
        own = draw_uyghur(rng, sex[sel])
        by_row = dict(zip(sel.tolist(), own, strict=True))
        spare = draw_uyghur(rng, np.ones(len(sel), dtype=np.int8))
        fathers_given = [by_row.get(int(f), s) for f, s in zip(m.father[sel], spare, strict=True)]
        surname = surname.scatter(sel, [""] * len(sel))
        given = given.scatter(sel, own)
        name = name.scatter(
            sel, [f"{g}{MIDDLE_DOT}{f}" for g, f in zip(own, fathers_given, strict=True)]
        )

    rel_code = kind.astype(np.int64) * 2 + (sex == 2)
    rel_names = [
        "户主",
        "户主",
        "配偶",
        "配偶",
        "父亲",
        "父亲",
        "母亲",
        "母亲",
        "子",
        "女",
        "女婿",
        "儿媳",
        "孙子",
        "孙女",
    ]
    relation = pl.Series("relation", rel_names).gather(rel_code)

    ev = cfg.events
    out_p = np.where(married_in, ev["outside_spouse_region"], ev["native_other_region"])
    outside = rng.random(n) < out_p
    region = np.full(n, int(geo.code), dtype=np.int64)
    region[outside] = rng.choice(geo.outside_codes, size=int(outside.sum()), p=geo.outside_weights)

    away = (by < 2008) & (by > 1961) & (rng.random(n) < 0.15)  # 外出务工: works elsewhere
    pool_addr = pl.Series([a for _, a in pool])
    away_addr = pool_addr.gather(rng.integers(len(pool), size=n))
    current = pl.select(
        pl.when(pl.Series(away)).then(away_addr).otherwise(homes["hukou_address"].gather(hh))
    ).to_series()

    none = np.full(n, NONE_INT, dtype=np.int64)
    empty = pl.Series([""] * n, dtype=pl.String)
    cols: dict[str, NDArray[Any] | pl.Series] = {
        "pid": np.arange(n, dtype=np.int64),
        "origin": pl.Series(["native"] * n, dtype=pl.String),
        "surname": surname,
        "given": given,
        "name": name,
        "sex": sex.astype(np.int8),
        "birth": birth.astype(np.int64),
        "ethnicity": pl.Series(eth_names).gather(eth_idx),
        "region": region,
        "hh": hh.astype(np.int64),
        "relation": relation,
        "marital0": m.marital.astype(np.int8),
        "marital": m.marital.astype(np.int8),
        "father": m.father.astype(np.int64),
        "mother": m.mother.astype(np.int64),
        "spouse": m.spouse.astype(np.int64),
        "in_county0": np.ones(n, dtype=bool),
        "address": current,
        "death": none,
        "move_out": none,
        "moved_to": empty,
        "moved_to_code": empty,
        "move_in": none,
        "married_out": none,
        "rename": none,
        "former_name": empty,
    }
    people = People({k: pl.Series(k, v) for k, v in cols.items()})
    return people, homes
