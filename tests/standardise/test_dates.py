"""Dates: every delivered format, statuses, lunar alternative, month/day swap."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sxtwl
from polars.testing import assert_frame_equal

from linkage.standardise.dates import (
    _lunar_months,
    add_lunar_alternative,
    lunar_alternative_expr,
    lunar_to_solar,
    parse_date_expr,
    standardise_dates,
    swap_month_day,
)

MARCH_5 = dt.date(2021, 3, 5)


@pytest.mark.parametrize(
    "text",
    [
        "2021-03-05",
        "2021/3/5",
        "20210305",
        "2021.03.05",
        "2021年3月5日",
        "2021-3-5",
        "2021-03-05 00:00:00",
        "2021-03-05T08:30:00",
        "2021/03/05 8:30",
        "２０２１－０３－０５",
        " 2021 年 3 月 5 日 ",
        "2021.3.5",
        "44260",
        "44260.0",
        "20210305.0",
        "2021年03月05号",
        "2021年3月5号",
        "二〇二一年三月五日",
        "二零二一年三月五日",
        "二○二一年三月五日",  # U+25CB, what input methods offer for 〇
        "二〇二一年三月五号",
        "2021年3月5日 下午3时20分",
        "2021年3月5日下午3时20分",
        "2021年3月5日 上午9点",
        "2021年3月5日 15时",
        "2021-03-05 下午 03:20",
        "2021-03-05 上午08:30:15",
        "2021/3/5 3:20 PM",
        "二〇二一年三月五日 下午三时二十分",
    ],
)
def test_every_format(text: str) -> None:
    result = standardise_dates(pl.DataFrame({"d": [text]}), "d", "day")
    assert result.row(0) == (text, MARCH_5, "ok")


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("一九九〇年一月一日", dt.date(1990, 1, 1)),
        ("1990年01月01号", dt.date(1990, 1, 1)),
        ("二〇〇五年十二月三十一日", dt.date(2005, 12, 31)),
        ("二零零五年十二月三十一日", dt.date(2005, 12, 31)),
        ("一九八八年十月十日", dt.date(1988, 10, 10)),
        ("一九八八年十一月二十日", dt.date(1988, 11, 20)),
        ("一九八八年二月廿九日", dt.date(1988, 2, 29)),
        ("一九八八年二月廿日", dt.date(1988, 2, 20)),
        ("一九八八年三月卅日", dt.date(1988, 3, 30)),
        ("一九八八年三月卅一日", dt.date(1988, 3, 31)),
        ("一九八八年元月十五日", dt.date(1988, 1, 15)),
        ("１９８８年十月十日", dt.date(1988, 10, 10)),
    ],
)
def test_chinese_numerals(text: str, day: dt.date) -> None:
    assert standardise_dates(pl.DataFrame({"d": [text]}), "d", "x").row(0) == (text, day, "ok")


@pytest.mark.parametrize(
    "text",
    [
        "二〇二一年十三月五日",
        "二〇二一年二月三十日",
        "2021-03-0512:30",  # no separator between date and time
        "2021年3月5日 下午好",
        "二〇二一年",
    ],
)
def test_near_misses_stay_unparseable(text: str) -> None:
    result = standardise_dates(pl.DataFrame({"d": [text]}), "d", "x")
    assert result.row(0) == (text, None, "unparseable")


def test_statuses_whole_frame() -> None:
    values = [
        "2021-03-05",
        None,
        "",
        "  ",
        "昨天",
        "2021-02-30",
        "2021-13-01",
        "2021-03",
        "1850-01-01",
        "2150-01-01",
    ]
    result = standardise_dates(pl.DataFrame({"d": values}), "d", "day").drop("d")
    expected = pl.DataFrame(
        {
            "day": [MARCH_5] + [None] * 9,
            "day_status": [
                "ok",
                "missing",
                "missing",
                "missing",
                "unparseable",
                "unparseable",
                "unparseable",
                "unparseable",
                "out_of_range",
                "out_of_range",
            ],
        },
        schema={"day": pl.Date, "day_status": pl.String},
    )
    assert_frame_equal(result, expected)


@pytest.mark.parametrize(
    "series",
    [
        pl.Series("d", [MARCH_5, None], dtype=pl.Date),
        pl.Series("d", [dt.datetime(2021, 3, 5, 10, 30), None], dtype=pl.Datetime("us")),
        pl.Series("d", [20210305, None], dtype=pl.Int64),
        pl.Series("d", [44260, None], dtype=pl.Int64),  # Excel serial day
    ],
)
def test_typed_inputs(series: pl.Series) -> None:
    result = standardise_dates(series.to_frame(), "d")
    assert result.rows() == [(MARCH_5, "ok"), (None, "missing")]


def test_parse_date_expr_matches_standardise_dates() -> None:
    frame = pl.DataFrame({"d": ["2021/3/5", "1850-01-01", "x", None]})
    parsed = frame.select(parse_date_expr(pl.col("d"))).to_series()
    assert parsed.to_list() == [MARCH_5, None, None, None]


def test_lazy_frame() -> None:
    lazy = standardise_dates(pl.LazyFrame({"d": ["2021年3月5日"]}), "d")
    assert lazy.collect().rows() == [(MARCH_5, "ok")]


def test_lunar_birthday_known_case() -> None:
    # lunar 1950-08-15 (中秋) was 1950-09-26
    assert lunar_to_solar(dt.date(1950, 8, 15)) == dt.date(1950, 9, 26)


def _reference(year: int, month: int, day: int, leap: bool) -> dt.date:
    """Solar date of a lunar date by sxtwl (astronomical, independent of borax's tables)."""
    solar = sxtwl.fromLunar(year, month, day, leap)
    return dt.date(solar.getSolarYear(), solar.getSolarMonth(), solar.getSolarDay())


def _reference_months() -> list[tuple[int, int, bool, int]]:
    """(year, month, leap, days) of every lunar month 1900..2030, by sxtwl."""
    months = []
    for year in range(1900, 2031):
        leap_month = sxtwl.getRunMonth(year)  # 0: no leap month that year
        for month in range(1, 13):
            for leap in (False, True) if month == leap_month else (False,):
                # sxtwl rolls day 30 of a 29-day month over to the next month's day 1
                thirtieth = sxtwl.fromLunar(year, month, 30, leap)
                days = 30 if thirtieth.getLunarDay() == 30 else 29
                months.append((year, month, leap, days))
    return months


def test_every_lunar_month_1900_2030_agrees_with_sxtwl() -> None:
    """Day 1 and the last day of every lunar month, leap months included, both code paths."""
    reference = _reference_months()
    table = {(y, m, leap): (first, days) for y, m, leap, first, days in _lunar_months().iter_rows()}
    assert {k for k in table if k[0] <= 2030} == {(y, m, leap) for y, m, leap, _ in reference}
    assert sum(leap for _, _, leap, _ in reference) == 48  # leap months 1900..2030
    written, expected_plain, expected_leap = [], [], []
    for year, month, leap, days in reference:
        first, last = _reference(year, month, 1, leap), _reference(year, month, days, leap)
        assert table[(year, month, leap)] == (first, days), (year, month, leap)
        for day, solar in ((1, first), (days, last), (30, None)):
            if day == 30 and days == 30:
                continue
            try:
                as_written = dt.date(year, month, day)
            except ValueError:  # lunar 2-29 / 2-30 cannot be written as a Gregorian date
                continue
            assert lunar_to_solar(as_written, leap=leap) == solar, (year, month, day, leap)
            written.append(as_written)
            (expected_leap if leap else expected_plain).append((as_written, solar))
    frame = pl.DataFrame({"d": written}).unique(maintain_order=True)
    result = add_lunar_alternative(frame, "d")
    plain = dict(zip(result["d"], result["d_lunar_alt"], strict=True))
    leap_alt = dict(zip(result["d"], result["d_lunar_leap_alt"], strict=True))
    assert [plain[d] for d, _ in expected_plain] == [solar for _, solar in expected_plain]
    assert [leap_alt[d] for d, _ in expected_leap] == [solar for _, solar in expected_leap]
    assert len(expected_plain) > 2500 and len(expected_leap) > 80


@pytest.mark.parametrize(
    ("lunar", "solar"),
    [
        ((1933, 6, 1), dt.date(1933, 7, 23)),  # lunardate says 07-22
        ((1954, 11, 1), dt.date(1954, 11, 25)),  # lunardate says 11-26
        ((1978, 8, 1), dt.date(1978, 9, 3)),  # lunardate says 09-02
        ((1954, 11, 30), dt.date(1954, 12, 24)),  # lunardate has no 30th
    ],
)
def test_months_where_lunardate_is_a_day_off(lunar: tuple[int, int, int], solar: dt.date) -> None:
    assert lunar_to_solar(dt.date(*lunar)) == solar == _reference(*lunar, False)


def test_lunar_alternative_column() -> None:
    days = [
        dt.date(1950, 8, 15),
        dt.date(1984, 12, 30),
        dt.date(1962, 1, 1),
        dt.date(2004, 1, 30),  # lunar 2004-01 has 29 days
        dt.date(1890, 5, 5),  # before 1900
        None,
        dt.date(1950, 8, 15),
        dt.date(2020, 4, 8),  # 2020 has a leap fourth month (闰四月)
        dt.date(2020, 5, 8),
    ]
    result = add_lunar_alternative(pl.DataFrame({"birth": days}), "birth")
    assert result["birth_lunar_alt"].to_list() == [
        _reference(1950, 8, 15, False),
        dt.date(1985, 2, 19),  # lands in the next Gregorian year
        _reference(1962, 1, 1, False),
        None,
        None,
        None,
        dt.date(1950, 9, 26),
        dt.date(2020, 4, 30),
        dt.date(2020, 6, 28),
    ]
    assert result["birth_lunar_leap_alt"].to_list() == [None] * 7 + [
        dt.date(2020, 5, 30),
        None,
    ]
    lazy = pl.LazyFrame({"b": days}).select(lunar_alternative_expr(pl.col("b"), leap=True))
    assert lazy.collect().to_series().to_list() == result["birth_lunar_leap_alt"].to_list()


def test_leap_month_only_where_the_year_has_one() -> None:
    assert lunar_to_solar(dt.date(2020, 4, 8), leap=True) == _reference(2020, 4, 8, True)
    assert lunar_to_solar(dt.date(2020, 5, 8), leap=True) is None
    assert lunar_to_solar(dt.date(2021, 4, 8), leap=True) is None  # 2021: no leap month


def test_swap_month_day() -> None:
    days = [
        dt.date(2021, 3, 5),
        dt.date(2021, 3, 3),
        dt.date(2021, 3, 25),
        dt.date(2021, 12, 1),
        None,
    ]
    result = pl.DataFrame({"d": days}).select(swap_month_day(pl.col("d"))).to_series()
    assert result.to_list() == [dt.date(2021, 5, 3), None, None, dt.date(2021, 1, 12), None]
