"""Names, dates and 公民身份号码 of synthetic persons, vectorised over whole arrays.

Dates are ``int`` days since 1970-01-01 while generating (numpy-friendly) and become polars
``Date`` at the end. IDs are built as 17-digit integers (region, birth date, order with odd =
male) so uniqueness is one ``np.unique``; the check character follows GB 11643-1999 and is
verified against ``linkage.standardise.ids.check_char`` in the tests.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from linkage.standardise.ids import CHECK_CHARS, WEIGHTS

from .names_table import GENERATIONS, GIVEN_NAMES, SURNAMES, UYGHUR_GIVEN

EPOCH = dt.date(1970, 1, 1)


def day(date: dt.date) -> int:
    """Days since 1970-01-01."""
    return (date - EPOCH).days


def as_date(days: np.ndarray | pl.Series, *, event: bool = True) -> pl.Series:
    """Days since 1970-01-01 → polars Date. For event dates (all after 1970) a negative
    value means "none" and becomes null; birth dates pass ``event=False``."""
    s = days if isinstance(days, pl.Series) else pl.Series(np.asarray(days, dtype=np.int64))
    s = s.cast(pl.Int64)
    cond = s >= 0 if event else s.is_not_null()
    return pl.select(pl.when(cond).then(s).cast(pl.Int32).cast(pl.Date)).to_series()


def years(days: np.ndarray) -> np.ndarray:
    return days.astype("datetime64[D]").astype("datetime64[Y]").astype(np.int64) + 1970


def ymd(days: np.ndarray) -> np.ndarray:
    """Days → ``YYYYMMDD`` integers."""
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    month = (m - y.astype("datetime64[M]")).astype(np.int64) + 1
    dom = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    return (y.astype(np.int64) + 1970) * 10000 + month * 100 + dom


# ---------------------------------------------------------------- names


def surname_weights(boost: dict[str, float]) -> tuple[list[str], np.ndarray]:
    """Surnames and drawing probabilities: national weights plus the county's local clans."""
    weights = dict(SURNAMES)
    for name, extra in boost.items():
        weights[name] = weights.get(name, 0.0) + extra
    names = list(weights)
    p = np.array([weights[n] for n in names])
    return names, p / p.sum()


def draw_surnames(
    rng: np.random.Generator, n: int, table: tuple[list[str], np.ndarray]
) -> np.ndarray:
    """Indices into ``table[0]``."""
    return rng.choice(len(table[0]), size=n, p=table[1])


_GIVEN_KEYS = sorted(GIVEN_NAMES)
GIVEN_ALL = pl.Series("given", [g for key in _GIVEN_KEYS for g in GIVEN_NAMES[key]])
_GIVEN_OFFSET = dict(
    zip(_GIVEN_KEYS, np.cumsum([0] + [len(GIVEN_NAMES[k]) for k in _GIVEN_KEYS])[:-1], strict=True)
)


def _zipf(n: int) -> np.ndarray:
    w = 1.0 / (np.arange(n) + 4.0)
    return w / w.sum()


def draw_given(rng: np.random.Generator, birth_year: np.ndarray, sex: np.ndarray) -> pl.Series:
    """Given names fitting each person's generation and sex."""
    bucket = np.searchsorted(np.asarray(GENERATIONS), birth_year, side="right")
    out = np.zeros(len(birth_year), dtype=np.int64)
    for key in _GIVEN_KEYS:
        sel = np.flatnonzero((bucket == key[0]) & (sex == key[1]))
        names = GIVEN_NAMES[key]
        out[sel] = _GIVEN_OFFSET[key] + rng.choice(len(names), size=len(sel), p=_zipf(len(names)))
    return GIVEN_ALL.gather(out)


def draw_uyghur(rng: np.random.Generator, sex: np.ndarray) -> list[str]:
    return [
        UYGHUR_GIVEN[int(s)][int(rng.integers(len(UYGHUR_GIVEN[int(s)])))] for s in sex.tolist()
    ]


# ---------------------------------------------------------------- ID numbers


def id_bodies(
    rng: np.random.Generator, region: np.ndarray, birth: np.ndarray, sex: np.ndarray
) -> np.ndarray:
    """Unique 17-digit ID bodies (int64): region, birth date, order (odd = male).

    Persons sharing region, birth date and sex get consecutive order numbers from a random
    start (wrapping within 1-499), so the numbers differ without a retry loop.
    """
    stem = region.astype(np.int64) * 10**11 + ymd(birth) * 1000
    male = (sex == 1).astype(np.int64)
    group = stem * 2 + male
    order = np.lexsort((rng.random(len(group)), group))
    g = group[order]
    starts = np.r_[0, np.flatnonzero(np.diff(g)) + 1]
    sizes = np.diff(np.r_[starts, len(g)])
    if len(sizes) and sizes.max() > 499:
        raise ValueError(
            "more than 499 persons share a region, birth date and sex: "
            "the order code cannot make their ID numbers unique"
        )
    rank = np.arange(len(g)) - np.repeat(starts, sizes)
    first = np.repeat(rng.integers(0, 499, size=len(starts)), sizes)
    k = np.empty(len(g), dtype=np.int64)
    k[order] = (first + rank) % 499 + 1
    return stem + 2 * k + male


def check_chars(body: np.ndarray) -> np.ndarray:
    """GB 11643 check character of each 17-digit body."""
    total = np.zeros(len(body), dtype=np.int64)
    for i, w in enumerate(WEIGHTS):
        total += (body // 10 ** (16 - i)) % 10 * w
    return np.asarray(list(CHECK_CHARS))[total % 11]


def id_strings(body: np.ndarray) -> pl.Series:
    """18-character ID numbers from bodies."""
    return pl.Series(body).cast(pl.String) + pl.Series(check_chars(body))
