"""Rural addresses: cleaning, stripping the province/city/county prefix, township, village,
group (组) and house number (号).

A county's addresses mostly read ``[省][市/州][县/区]乡镇 村 组 …``; only the part below the
county tells two addresses in the same county apart, and the township and village say who must
verify a finding. Everything is vectorised regex.

Example:
    >>> df = pl.DataFrame({"a": ["湖北省恩施土家族苗族自治州来凤县翔凤镇老寨村三组 12号"]})
    >>> standardise_address(df, "a").row(0)[1:]  # doctest: +SKIP
    ('翔凤镇老寨村三组12号', '翔凤镇', '老寨村', '3', '12')
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

from linkage.standardise._distinct import map_distinct
from linkage.standardise._text import clean_text_expr, empty_to_null

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

ADDRESS_FIELDS = ("township", "village", "group", "house")

_PROVINCES = (
    "北京|天津|上海|重庆|河北|山西|内蒙古|辽宁|吉林|黑龙江|江苏|浙江|安徽|福建|江西|山东|河南"
    "|湖北|湖南|广东|广西|海南|四川|贵州|云南|西藏|陕西|甘肃|青海|宁夏|新疆|台湾|香港|澳门"
)
_PROVINCE = rf"^(?:{_PROVINCES})(?:省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)"
# A prefix level is stripped only when the next character does not continue a lower-level
# name: 新市镇 is a township, not the city 新市 + 镇; 沙市区 is not 沙 + 市.
_NOT_CONTINUING = "[^镇乡村场区县街道]"
# Lazy bodies stop at the first suffix that fits; 州 and 市 may sit inside a name (荆州市,
# 通州区, 沙市区), the other level characters may not.
_NAME_BODY = "[^省盟县区旗镇乡村街道路号组]"
_CITY = rf"^{_NAME_BODY}{{2,10}}?(?:自治州|地区|盟|市|州)({_NOT_CONTINUING})"
_COUNTY = rf"^{_NAME_BODY}{{1,10}}?(?:自治县|自治旗|县|区|市|旗)({_NOT_CONTINUING})"

_TOWNSHIP = r"^([^省县镇乡组号]{1,10}?(?:镇|乡|街道办事处|街道|街办|办事处))"
# 村{1,2}: 新村村 is a village name; 张家村村委会 is 张家村's committee.
_VILLAGE = (
    r"^([^省县镇乡组号]{1,12}?"
    r"(?:村{1,2}(?:民委员会|委会)?|社区(?:居民委员会|居委会)?|居民委员会|居委会))"
)
_NUMERALS = "0-9一二三四五六七八九十〇零两"
_GROUP = rf"第?([{_NUMERALS}]{{1,4}})(?:村民小组|小组|组|队|社)"
# the house number after the group (三组12号, 5组附18号): a rural address's last part
_HOUSE = rf"(?:村民小组|小组|组|队|社)(?:附|之)?([{_NUMERALS}]{{1,5}})号"

_CN_DIGITS = ["〇", "零", "一", "二", "两", "三", "四", "五", "六", "七", "八", "九"]
_AR_DIGITS = ["0", "0", "1", "2", "2", "3", "4", "5", "6", "7", "8", "9"]


def clean_address_expr(expr: pl.Expr) -> pl.Expr:
    """Width folded, every white space removed, empty → null."""
    return clean_text_expr(expr)


def strip_admin_prefix_expr(cleaned: pl.Expr) -> pl.Expr:
    """Remove a leading province, prefecture (市/州/地区/盟) and county (县/区/市/旗)."""
    return (
        cleaned.str.replace(_PROVINCE, "").str.replace(_CITY, "${1}").str.replace(_COUNTY, "${1}")
    )


def chinese_number_expr(expr: pl.Expr) -> pl.Expr:
    """Small numbers written in digits or Chinese numerals (三, 十二, 二十, 一〇) → ``"3"``.

    Leading zeros go (``03`` → ``3``); anything else, or above 99 in Chinese, → null.
    """
    digits = (
        expr.str.replace_many(_CN_DIGITS, _AR_DIGITS)
        .str.replace(r"^十$", "10")
        .str.replace(r"^十(\d)$", "1${1}")
        .str.replace(r"^(\d)十$", "${1}0")
        .str.replace(r"^(\d)十(\d)$", "${1}${2}")
    )
    return digits.cast(pl.Int64, strict=False).cast(pl.String)


def _normalise_village(village: pl.Expr) -> pl.Expr:
    return village.str.replace(r"村?(?:村民委员会|村委会)$", "村").str.replace(
        r"(?:社区)?(?:居民委员会|居委会)$", "社区"
    )


_PARTS_DTYPE = pl.Struct({field: pl.String for field in ("address", *ADDRESS_FIELDS)})


def _address_parts(raw: pl.Series) -> pl.Series:
    """Struct of cleaned address, township, village and group, row for row."""
    frame = raw.to_frame("raw").select(
        address=strip_admin_prefix_expr(clean_address_expr(pl.col("raw")))
    )
    frame = frame.with_columns(township=pl.col("address").str.extract(_TOWNSHIP, 1))
    frame = frame.with_columns(
        rest=pl.col("address").str.slice(pl.col("township").str.len_chars().fill_null(0))
    )
    frame = frame.with_columns(village=pl.col("rest").str.extract(_VILLAGE, 1))
    frame = frame.with_columns(
        rest=pl.col("rest").str.slice(pl.col("village").str.len_chars().fill_null(0))
    )
    return frame.select(
        pl.struct(
            address=empty_to_null(pl.col("address")),
            township=pl.col("township").str.replace(r"(?:街道办事处|街办|办事处)$", "街道"),
            village=_normalise_village(pl.col("village")),
            group=chinese_number_expr(pl.col("rest").str.extract(_GROUP, 1)),
            house=chinese_number_expr(pl.col("rest").str.extract(_HOUSE, 1)),
        )
    ).to_series()


def standardise_address(frame: FrameT, col: str, out: str = "addr") -> FrameT:
    """Add ``{out}`` and ``{out}_township``, ``{out}_village``, ``{out}_group``.

    ``{out}`` is the cleaned address without the province/city/county prefix.
    ``{out}_township`` ends in 镇, 乡 or 街道 (街道办事处 → 街道), ``{out}_village`` in 村 or
    社区 (…村委会 → …村, …居委会 → …社区), and ``{out}_group`` is the 组/队/社 number as text
    (三组 → ``"3"``), ``{out}_house`` the house number after it (12号 → ``"12"``). A part the
    address does not have is null. Computed once per distinct
    delivered value.
    """
    tmp = f"__{out}_parts"
    frame = frame.with_columns(map_distinct(pl.col(col), _address_parts, _PARTS_DTYPE).alias(tmp))
    return frame.with_columns(
        pl.col(tmp).struct.field("address").alias(out),
        *(pl.col(tmp).struct.field(field).alias(f"{out}_{field}") for field in ADDRESS_FIELDS),
    ).drop(tmp)
