"""Addresses: prefix stripping, township / village / group / house number extraction."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage.standardise.addresses import chinese_number_expr, standardise_address


def test_standardise_address_whole_frame() -> None:
    raw = [
        "湖北省恩施土家族苗族自治州来凤县翔凤镇老寨村三组 12号",
        "恩施州来凤县百福司镇舍米湖村第十二村民小组",
        "来凤县翔凤镇老寨村委会３组",
        "新市镇新市村二十一组",  # 新市 is not a city
        "湖北省荆州市沙市区解放街道办事处",  # 沙市区 is a district
        "恩施市舞阳坝街道六角亭社区居委会",
        "老寨村3组",
        "张家村村委会五组",
        "新村村2队附8号",
        "湖北利川市团堡镇",
        "某某路12号",  # a street number is no house of a 组
        "　",
        None,
    ]
    result = standardise_address(pl.DataFrame({"a": raw}), "a").drop("a")
    expected = pl.DataFrame(
        {
            "addr": [
                "翔凤镇老寨村三组12号",
                "百福司镇舍米湖村第十二村民小组",
                "翔凤镇老寨村委会3组",
                "新市镇新市村二十一组",
                "解放街道办事处",
                "舞阳坝街道六角亭社区居委会",
                "老寨村3组",
                "张家村村委会五组",
                "新村村2队附8号",
                "团堡镇",
                "某某路12号",
                None,
                None,
            ],
            "addr_township": [
                "翔凤镇",
                "百福司镇",
                "翔凤镇",
                "新市镇",
                "解放街道",
                "舞阳坝街道",
                None,
                None,
                None,
                "团堡镇",
                None,
                None,
                None,
            ],
            "addr_village": [
                "老寨村",
                "舍米湖村",
                "老寨村",
                "新市村",
                None,
                "六角亭社区",
                "老寨村",
                "张家村",
                "新村村",
                None,
                None,
                None,
                None,
            ],
            "addr_group": ["3", "12", "3", "21", None, None, "3", "5", "2", None, None, None, None],
            "addr_house": [
                "12",
                None,
                None,
                None,
                None,
                None,
                None,
                None,
                "8",
                None,
                None,
                None,
                None,
            ],
        }
    )
    assert_frame_equal(result, expected)


def test_custom_prefix_and_lazy() -> None:
    lazy = standardise_address(pl.LazyFrame({"x": ["来凤县翔凤镇老寨村"]}), "x", out="home")
    assert lazy.collect().columns == [
        "x",
        "home",
        "home_township",
        "home_village",
        "home_group",
        "home_house",
    ]


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("3", "3"),
        ("03", "3"),
        ("三", "3"),
        ("十", "10"),
        ("十二", "12"),
        ("二十", "20"),
        ("二十一", "21"),
        ("两", "2"),
        ("一〇", "10"),
        ("零三", "3"),
        ("百", None),
    ],
)
def test_chinese_numbers(text: str, number: str | None) -> None:
    result = pl.DataFrame({"t": [text]}).select(chinese_number_expr(pl.col("t"))).item()
    assert result == number
