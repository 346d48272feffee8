"""Dates: every delivered format, statuses, lunar alternative, month/day swap."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from lunardate import LunarDate
from polars.testing import assert_frame_equal

from linkage.standardise.dates import (
    add_lunar_alternative,
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
    ],
)
def test_every_format(text: str) -> None:
    result = standardise_dates(pl.DataFrame({"d": [text]}), "d", "day")
    assert result.row(0) == (text, MARCH_5, "ok")


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


def test_lunar_alternative_column_agrees_with_lunardate() -> None:
    days = [
        dt.date(1950, 8, 15),
        dt.date(1984, 12, 30),
        dt.date(1962, 1, 1),
        dt.date(2004, 1, 30),  # lunar 2004-01 has 29 days
        dt.date(1890, 5, 5),  # before lunardate's range
        None,
        dt.date(1950, 8, 15),
    ]
    result = add_lunar_alternative(pl.DataFrame({"birth": days}), "birth")
    expected = [
        LunarDate(1950, 8, 15).to_solar_date(),
        LunarDate(1984, 12, 30).to_solar_date(),  # lands in the next Gregorian year
        LunarDate(1962, 1, 1).to_solar_date(),
        None,
        None,
        None,
        dt.date(1950, 9, 26),
    ]
    assert result["birth_lunar_alt"].to_list() == expected
    assert expected[1] == dt.date(1985, 2, 19)


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
