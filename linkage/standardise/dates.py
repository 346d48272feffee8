"""Dates as departments type them, the lunar-birthday alternative, and month/day swaps.

Accepted text forms: ``2021-03-05``, ``2021-3-5``, ``2021/3/5``, ``2021.03.05``,
``2021年3月5日``, ``20210305``, any of those followed by a time (``2021-03-05 00:00:00``,
``2021-03-05T08:30``), full-width digits, and a 5-digit number as an Excel serial day
(``44260`` → 2021-03-05; Excel's 1900 system, so serials 10000..99999 cover 1927..2173).
Integers and floats such as ``20210305`` or ``44260.0`` parse through their text, and
``Date``/``Datetime`` columns pass straight through. Plausible years: 1880..2100.

Example:
    >>> df = pl.DataFrame({"d": ["2021年3月5日", "44260", "1850-01-01", "昨天", None]})
    >>> standardise_dates(df, "d", "day").select("day", "day_status").rows()  # doctest: +SKIP
    [(date(2021, 3, 5), 'ok'), (date(2021, 3, 5), 'ok'), (None, 'out_of_range'),
     (None, 'unparseable'), (None, 'missing')]
"""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

import polars as pl
from lunardate import LunarDate

from linkage.standardise._distinct import map_distinct
from linkage.standardise._text import empty_to_null, fold_width_expr

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

STATUSES = ("ok", "missing", "unparseable", "out_of_range")
MIN_YEAR, MAX_YEAR = 1880, 2100

_TIME = r"(?:(?:\s+|T)\d{1,2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?)?"
# One regex for both shapes, rewritten to ``Y-M-D`` in a single replace: the groups of the
# alternative that did not match are empty. Chrono's %m/%d accept one digit.
_SEPARATED = r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*日?" + _TIME
_COMPACT = r"(?P<y2>\d{4})(?P<m2>\d{2})(?P<d2>\d{2})(?:\.0+)?"
_YMD = f"^(?:{_SEPARATED}|{_COMPACT})$"
_YMD_REPLACEMENT = "${y}${y2}-${m}${m2}-${d}${d2}"
_SERIAL = r"^(\d{5})(?:\.\d+)?$"
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01, with Excel's 1900 leap-day bug


def _date_text(expr: pl.Expr) -> pl.Expr:
    return empty_to_null(fold_width_expr(expr).str.strip_chars())


def _parse_unbounded(text: pl.Expr) -> pl.Expr:
    """Date from cleaned text, any year; null when no format matches or the day is invalid."""
    iso = text.str.replace(_YMD, _YMD_REPLACEMENT)
    serial = text.str.extract(_SERIAL, 1).cast(pl.Int32)
    from_serial = pl.lit(_EXCEL_EPOCH) + pl.duration(days=serial)
    return pl.coalesce(iso.str.to_date("%Y-%m-%d", strict=False), from_serial.cast(pl.Date))


def _in_range(date: pl.Expr) -> pl.Expr:
    return date.dt.year().is_between(MIN_YEAR, MAX_YEAR)


_PARSED_DTYPE = pl.Struct({"date": pl.Date, "status": pl.String})


def _parsed(values: pl.Series) -> pl.Series:
    """Struct of parsed date and status, row for row."""
    if values.dtype == pl.Date or isinstance(values.dtype, pl.Datetime):
        frame = pl.DataFrame({"text": values.cast(pl.String), "date": values.cast(pl.Date)})
    else:
        frame = values.to_frame("raw").select(text=_date_text(pl.col("raw")))
        frame = frame.with_columns(date=_parse_unbounded(pl.col("text")))
    date = pl.col("date")
    status = (
        pl.when(pl.col("text").is_null())
        .then(pl.lit("missing"))
        .when(date.is_null())
        .then(pl.lit("unparseable"))
        .when(~_in_range(date))
        .then(pl.lit("out_of_range"))
        .otherwise(pl.lit("ok"))
    )
    bounded = pl.when(_in_range(date)).then(date)
    return frame.select(pl.struct(date=bounded, status=status)).to_series()


def parse_date_expr(expr: pl.Expr) -> pl.Expr:
    """Parsed ``pl.Date``; null when missing, unparseable or outside 1880..2100.

    Any input dtype: text, integers, ``Date``/``Datetime``. Parsed once per distinct value.
    """
    return map_distinct(expr, _parsed, _PARSED_DTYPE).struct.field("date")


def standardise_dates(frame: FrameT, col: str, out: str | None = None) -> FrameT:
    """Add ``{out}`` (``pl.Date`` or null) and ``{out}_status`` (one of :data:`STATUSES`).

    ``out`` defaults to ``col`` (the column is replaced by its parsed form).
    """
    out = out or col
    tmp = f"__{out}_parsed"
    frame = frame.with_columns(map_distinct(pl.col(col), _parsed, _PARSED_DTYPE).alias(tmp))
    return frame.with_columns(
        pl.col(tmp).struct.field("date").alias(out),
        pl.col(tmp).struct.field("status").alias(f"{out}_status"),
    ).drop(tmp)


# ---------------------------------------------------------------- lunar birthdays


def lunar_to_solar(day: dt.date) -> dt.date | None:
    """The solar date of ``day`` read as a lunar date (non-leap month); None if no such day.

    Example:
        >>> lunar_to_solar(dt.date(1950, 8, 15))
        datetime.date(1950, 9, 26)
    """
    try:
        return LunarDate(day.year, day.month, day.day).to_solar_date()
    except ValueError:  # day 30 of a 29-day month, or outside lunardate's 1900..2099
        return None


def _lunar_batch(dates: pl.Series) -> pl.Series:
    solar = [None if d is None else lunar_to_solar(d) for d in dates.to_list()]
    return pl.Series(dates.name, solar, dtype=pl.Date)


def lunar_alternative_expr(date: pl.Expr) -> pl.Expr:
    """If ``date`` were a lunar birthday written as Gregorian, the solar date it stands for.

    Computed once per distinct date (a base has ~40k distinct birth dates) and mapped back.
    """
    return map_distinct(date, _lunar_batch, pl.Date())


def add_lunar_alternative(frame: FrameT, col: str, out: str | None = None) -> FrameT:
    """Add ``{out}_lunar_alt`` (``out`` defaults to ``col``) for the ``pl.Date`` column ``col``."""
    return frame.with_columns(lunar_alternative_expr(pl.col(col)).alias(f"{out or col}_lunar_alt"))


# ---------------------------------------------------------------- comparison helpers


def swap_month_day(date: pl.Expr) -> pl.Expr:
    """The date with month and day swapped; null when that is no date or the same date."""
    day, month = date.dt.day(), date.dt.month()
    # pl.date raises on an invalid month even in a masked branch, so clip before masking
    swapped = pl.date(date.dt.year(), day.clip(1, 12), month)
    return pl.when((day <= 12) & (day != month)).then(swapped)
