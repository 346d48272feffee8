"""Dates as departments type them, the lunar-birthday alternatives, and month/day swaps.

Accepted text forms: ``2021-03-05``, ``2021-3-5``, ``2021/3/5``, ``2021.03.05``,
``2021年3月5日`` (also ``号`` for ``日``), ``20210305``, Chinese numerals
(``二〇二一年三月五日``, ``二零零五年十二月三十一日``, ``廿``/``卅`` for 20/30 and ``元月``/``正月``
for January), any of those followed by a time (``2021-03-05 00:00:00``, ``2021-03-05T08:30``,
``2021年3月5日 下午3时20分``, ``2021-03-05 下午 03:20``; the time is checked for shape and
dropped), full-width digits, and a 5-digit number as an Excel serial day (``44260`` →
2021-03-05; Excel's 1900 system, so serials 10000..99999 cover 1927..2173). Integers and
floats such as ``20210305`` or ``44260.0`` parse through their text, and ``Date``/``Datetime``
columns pass straight through. Plausible years: 1880..2100.

Example:
    >>> df = pl.DataFrame({"d": ["2021年3月5日", "44260", "1850-01-01", "昨天", None]})
    >>> standardise_dates(df, "d", "day").select("day", "day_status").rows()  # doctest: +SKIP
    [(date(2021, 3, 5), 'ok'), (date(2021, 3, 5), 'ok'), (None, 'out_of_range'),
     (None, 'unparseable'), (None, 'missing')]
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import TypeVar

import polars as pl
from borax.calendars.lunardate import MAX_LUNAR_YEAR, MIN_LUNAR_YEAR, LCalendars, LunarDate

from linkage.standardise._distinct import map_distinct
from linkage.standardise._text import empty_to_null, fold_width_expr

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

STATUSES = ("ok", "missing", "unparseable", "out_of_range")
MIN_YEAR, MAX_YEAR = 1880, 2100

_HALF_DAY = r"(?:上午|下午|中午|晚上|早上|凌晨|[AaPp]\.?[Mm]\.?)"
_CLOCK = r"\d{1,2}(?::\d{2}(?::\d{2})?(?:\.\d+)?|[时点](?:\d{1,2}分(?:\d{1,2}秒)?)?|:\d{2}分?)"
# A time after the date, preceded by white space or T (日 is followed by a space after
# normalisation, see _normalised): ``08:30``, ``下午 03:20``, ``下午3时20分``, ``3:20 PM``.
_TIME = (
    rf"(?:(?:\s+|T){_HALF_DAY}?\s*{_CLOCK}(?:\s*{_HALF_DAY})?"
    r"(?:Z|[+-]\d{2}:?\d{2})?)?"
)
# One regex for both shapes, rewritten to ``Y-M-D`` in a single replace: the groups of the
# alternative that did not match are empty. Chrono's %m/%d accept one digit.
_SEPARATED = r"(?P<y>\d{4})\s*[-/.年]\s*(?P<m>\d{1,2})\s*[-/.月]\s*(?P<d>\d{1,2})\s*[日号]?" + _TIME
_COMPACT = r"(?P<y2>\d{4})(?P<m2>\d{2})(?P<d2>\d{2})(?:\.0+)?"
_YMD = f"^(?:{_SEPARATED}|{_COMPACT})$"
_YMD_REPLACEMENT = "${y}${y2}-${m}${m2}-${d}${d2}"

#: Chinese digits (〇 also as the circles ○ ◯ that input methods offer) → ASCII digits.
_CN_DIGITS = {
    **dict(zip("〇零一二三四五六七八九", "00123456789", strict=True)),
    "○": "0",
    "◯": "0",
    "元月": "1月",
    "正月": "1月",
}
# 十 / 廿 / 卅 after the digits are ASCII: 1十2 → 12, 3十 → 30, 十5 → 15, 十 → 10, 廿3 → 23.
_CN_TENS = (
    (r"(\d)十(\d)", "${1}${2}"),
    (r"(\d)十", "${1}0"),
    (r"十(\d)", "1${1}"),
    ("十", "10"),
    (r"廿(\d)", "2${1}"),
    ("廿", "20"),
    (r"卅(\d)", "3${1}"),
    ("卅", "30"),
)
_SERIAL = r"^(\d{5})(?:\.\d+)?$"
_EXCEL_EPOCH = dt.date(1899, 12, 30)  # serial 1 = 1900-01-01, with Excel's 1900 leap-day bug


def _date_text(expr: pl.Expr) -> pl.Expr:
    return empty_to_null(fold_width_expr(expr).str.strip_chars())


def _normalised(text: pl.Expr) -> pl.Expr:
    """Chinese numerals → ASCII digits, and a space after 日/号 so a time may follow it."""
    digits = text.str.replace_many(list(_CN_DIGITS), list(_CN_DIGITS.values()))
    for pattern, replacement in _CN_TENS:
        digits = digits.str.replace_all(pattern, replacement)
    return digits.str.replace(r"(\d)\s*([日号])\s*", "${1}${2} ").str.strip_chars()


def _parse_unbounded(text: pl.Expr) -> pl.Expr:
    """Date from cleaned text, any year; null when no format matches or the day is invalid."""
    iso = _normalised(text).str.replace(_YMD, _YMD_REPLACEMENT)
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


@cache
def _lunar_months() -> pl.DataFrame:
    """One row per lunar month 1900..2100: year, month, leap, solar date of day 1, length.

    From borax (checked against sxtwl for every month 1900..2030 in the tests; lunardate is
    one day off for whole months such as 1933-06, 1954-11 and 1978-08).
    """
    rows = []
    for year in range(MIN_LUNAR_YEAR, MAX_LUNAR_YEAR + 1):
        leap_month = LCalendars.leap_month(year)
        for month in range(1, 13):
            for leap in (0, 1) if month == leap_month else (0,):
                first = LunarDate(year, month, 1, leap).to_solar_date()
                rows.append((year, month, bool(leap), first, LCalendars.ndays(year, month, leap)))
    schema = {
        "year": pl.Int32,
        "month": pl.Int8,
        "leap": pl.Boolean,
        "first": pl.Date,
        "days": pl.Int8,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def lunar_to_solar(day: dt.date, *, leap: bool = False) -> dt.date | None:
    """The solar date of ``day`` read as a lunar date; None if there is no such day.

    ``leap=True`` reads the month as the leap month (闰月) of that number, which exists in
    about one year in three and only for one month of it. Lunar years 1900..2100.

    Example:
        >>> lunar_to_solar(dt.date(1950, 8, 15))
        datetime.date(1950, 9, 26)
        >>> lunar_to_solar(dt.date(2020, 4, 8), leap=True)  # 闰四月初八
        datetime.date(2020, 5, 30)
    """
    try:
        return LunarDate(day.year, day.month, day.day, int(leap)).to_solar_date()
    except ValueError:  # day 30 of a 29-day month, no such leap month, outside 1900..2100
        return None


def _lunar_batch(dates: pl.Series, *, leap: bool) -> pl.Series:
    months = _lunar_months().filter(pl.col("leap") == leap).drop("leap")
    frame = dates.to_frame("date").with_columns(
        year=pl.col("date").dt.year().cast(pl.Int32),
        month=pl.col("date").dt.month().cast(pl.Int8),
        day=pl.col("date").dt.day().cast(pl.Int8),
    )
    joined = frame.join(months, on=["year", "month"], how="left", maintain_order="left")
    solar = pl.col("first") + pl.duration(days=pl.col("day").cast(pl.Int64) - 1)
    return joined.select(pl.when(pl.col("day") <= pl.col("days")).then(solar)).to_series()


def lunar_alternative_expr(date: pl.Expr, *, leap: bool = False) -> pl.Expr:
    """If ``date`` were a lunar birthday written as Gregorian, the solar date it stands for.

    ``leap=True``: the same, reading the month as that year's leap month (null in the other
    months and years). Computed once per distinct date (a base has ~40k distinct birth dates)
    with one join against the table of lunar months, and mapped back.
    """
    return map_distinct(date, lambda dates: _lunar_batch(dates, leap=leap), pl.Date())


def add_lunar_alternative(frame: FrameT, col: str, out: str | None = None) -> FrameT:
    """Add ``{out}_lunar_alt`` and ``{out}_lunar_leap_alt`` for the ``pl.Date`` column ``col``.

    ``out`` defaults to ``col``. The second is the leap-month reading (闰月), null unless the
    year has a leap month of that number.
    """
    out = out or col
    return frame.with_columns(
        lunar_alternative_expr(pl.col(col)).alias(f"{out}_lunar_alt"),
        lunar_alternative_expr(pl.col(col), leap=True).alias(f"{out}_lunar_leap_alt"),
    )


# ---------------------------------------------------------------- comparison helpers


def swap_month_day(date: pl.Expr) -> pl.Expr:
    """The date with month and day swapped; null when that is no date or the same date."""
    day, month = date.dt.day(), date.dt.month()
    # pl.date raises on an invalid month even in a masked branch, so clip before masking
    swapped = pl.date(date.dt.year(), day.clip(1, 12), month)
    return pl.when((day <= 12) & (day != month)).then(swapped)
