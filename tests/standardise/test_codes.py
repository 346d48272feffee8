"""Coded attributes: sex, marital status, ethnicity, statuses, hukou type."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage.standardise.codes import (
    ETHNICITIES,
    ETHNICITY_MAP,
    ETHNICITY_VALUES,
    HUKOU_TYPES,
    MARITAL_MAP,
    MARITAL_MISSING,
    MARITAL_STATUSES,
    PERSON_STATUSES,
    ethnicity_expr,
    hukou_status_expr,
    hukou_type_expr,
    marital_status_expr,
    person_status_expr,
    sex_expr,
    standardise_code,
    standardise_sex,
)


def _apply(expr_fn: object, values: list[str | None]) -> list[str | None]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.String})
    return frame.select(expr_fn(pl.col("v"))).to_series().to_list()  # type: ignore[operator]


def test_sex_values_and_statuses() -> None:
    raw = [
        "男",
        "女",
        "1",
        "2",
        "M",
        "f",
        "男性",
        "女性",
        "Ｍ",
        " 男 ",
        "0",
        "9",
        "未知",
        "",
        None,
        "X",
        "男女",
    ]
    result = standardise_sex(pl.DataFrame({"xb": raw}), "xb").drop("xb")
    expected = pl.DataFrame(
        {
            "sex": ["男", "女", "男", "女", "男", "女", "男", "女", "男", "男"] + [None] * 7,
            "sex_status": ["ok"] * 10 + ["missing"] * 5 + ["unknown_value"] * 2,
        }
    )
    assert_frame_equal(result, expected)
    assert _apply(sex_expr, raw) == expected["sex"].to_list()


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("10", "未婚"),
        ("20", "已婚"),
        ("21", "初婚"),
        ("22", "再婚"),
        ("23", "复婚"),
        ("30", "丧偶"),
        ("40", "离婚"),
        ("未婚", "未婚"),
        ("已婚", "已婚"),
        ("初婚", "初婚"),
        ("再婚", "再婚"),
        ("复婚", "复婚"),
        ("丧偶", "丧偶"),
        ("离 婚", "离婚"),
        ("离异", "离婚"),
        ("有配偶", "已婚"),
    ],
)
def test_marital_status(raw: str, canonical: str) -> None:
    assert _apply(marital_status_expr, [raw]) == [canonical]
    assert canonical in MARITAL_STATUSES


def test_marital_not_stated_is_missing() -> None:
    frame = pl.DataFrame({"hy": ["90", "未说明的婚姻状况", "同居"]})
    result = standardise_code(frame, "hy", MARITAL_MAP, "marital_status", missing=MARITAL_MISSING)
    assert result["marital_status_status"].to_list() == ["missing", "missing", "unknown_value"]


def test_ethnicity_table() -> None:
    assert len(ETHNICITIES) == 56 == len(set(ETHNICITIES))
    assert all(name.endswith("族") for name in ETHNICITIES)
    assert (ETHNICITIES[0], ETHNICITIES[14], ETHNICITIES[55]) == ("汉族", "土家族", "基诺族")


def test_ethnicity_spellings_and_codes() -> None:
    raw = ["土家", "汉", "汉族", "01", "1", "15", "56", "维吾尔", "维族", "蒙古", "苗 族", "火星族"]
    assert _apply(ethnicity_expr, raw) == [
        "土家族",
        "汉族",
        "汉族",
        "汉族",
        "汉族",
        "土家族",
        "基诺族",
        "维吾尔族",
        "维吾尔族",
        "蒙古族",
        "苗族",
        None,
    ]


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        # names before a renaming, variants, mistypings
        ("崩龙族", "德昂族"),
        ("崩龙", "德昂族"),
        ("毛难族", "毛南族"),
        ("僮族", "壮族"),
        ("卡佤族", "佤族"),
        ("佧佤族", "佤族"),
        ("仲家族", "布依族"),
        ("布衣族", "布依族"),
        ("布依", "布依族"),
        ("畬族", "畲族"),
        ("乌兹别克族", "乌孜别克族"),
        # traditional script
        ("漢族", "汉族"),
        ("漢", "汉族"),
        ("維吾爾族", "维吾尔族"),
        ("蒙古族", "蒙古族"),
        ("滿族", "满族"),
        ("傣族", "傣族"),
        ("壯族", "壮族"),
        ("朝鮮族", "朝鲜族"),
        ("納西族", "纳西族"),
        ("達斡爾族", "达斡尔族"),
        ("鄂倫春族", "鄂伦春族"),
        ("崩龍族", "德昂族"),
        ("毛難族", "毛南族"),
        # GB 3304 97 / 98, and 99 as systems use it
        ("97", "其他未识别民族"),
        ("99", "其他未识别民族"),
        ("其他", "其他未识别民族"),
        ("其它", "其他未识别民族"),
        ("未识别民族", "其他未识别民族"),
        ("穿青人", "其他未识别民族"),
        ("98", "外国血统中国籍人士"),
        ("外国血统中国籍人士", "外国血统中国籍人士"),
        ("外國血統中國籍人士", "外国血统中国籍人士"),
        ("外国人入籍", "外国血统中国籍人士"),
    ],
)
def test_ethnicity_old_traditional_and_other(raw: str, canonical: str) -> None:
    assert _apply(ethnicity_expr, [raw]) == [canonical]


def test_every_ethnicity_spelling_maps_to_a_value() -> None:
    assert set(ETHNICITY_MAP.values()) == set(ETHNICITY_VALUES)
    statuses = standardise_code(pl.DataFrame({"e": ["99", "0", "未知"]}), "e", ETHNICITY_MAP, "x")
    assert statuses["x_status"].to_list() == ["ok", "unknown_value", "missing"]


def test_person_and_hukou_status() -> None:
    raw = [
        "正常",
        "死亡 注销",
        "迁出注销",
        "重复注销",
        "错误　注销",
        "死亡",
        "注销（死亡）",
        "冻结",
    ]
    assert _apply(person_status_expr, raw) == [
        "正常",
        "死亡注销",
        "迁出注销",
        "重复注销",
        "错误注销",
        "死亡注销",
        "死亡注销",
        None,
    ]
    assert _apply(hukou_status_expr, raw) == [
        "正常",
        "死亡注销",
        "迁出注销",
        None,
        None,
        "死亡注销",
        "死亡注销",
        None,
    ]
    assert set(PERSON_STATUSES) >= {"正常", "死亡注销"}


def test_hukou_type() -> None:
    raw = ["农业", "农业户口", "非农业", "非农业户口", "居民", "居民户口", "城镇户口", "其他"]
    assert _apply(hukou_type_expr, raw) == [
        "农业",
        "农业",
        "非农业",
        "非农业",
        "居民",
        "居民",
        "非农业",
        None,
    ]
    assert HUKOU_TYPES == ("农业", "非农业", "居民")


def test_generic_code_on_lazy_frame() -> None:
    vocab = {"是": "是", "Y": "是", "否": "否", "N": "否"}
    lazy = standardise_code(pl.LazyFrame({"v": ["y", "否", "-", "也许"]}), "v", vocab, "flag")
    assert lazy.collect().drop("v").rows() == [
        ("是", "ok"),
        ("否", "ok"),
        (None, "missing"),
        (None, "unknown_value"),
    ]
