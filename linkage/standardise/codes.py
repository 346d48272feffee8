"""Coded attributes: sex, marital status, ethnicity, person / hukou status, hukou type.

Each vocabulary is a module-level tuple of canonical values (contracts import them) plus a
map from every accepted spelling or code to its canonical value. Lookups are made on text that
is width-folded, stripped of white space and lower-cased, so ``Ｍ``, `` m `` and ``M`` agree.
:func:`standardise_code` gives the value and a status: ``ok``, ``missing`` (empty, or a code
that means "not stated", such as sex 0/9) or ``unknown_value`` (anything else; value null).

Example:
    >>> df = pl.DataFrame({"xb": ["1", "女性", "9", "x"]})
    >>> standardise_sex(df, "xb").rows()  # doctest: +SKIP
    [('1', '男', 'ok'), ('女性', '女', 'ok'), ('9', None, 'missing'), ('x', None, 'unknown_value')]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

import opencc
import polars as pl

from linkage.standardise._distinct import map_distinct
from linkage.standardise._text import clean_text_expr, fold_width

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

CODE_STATUSES = ("ok", "missing", "unknown_value")

#: Spellings that mean "no value" in every vocabulary.
MISSING_TOKENS = ("无", "不详", "未知", "未说明", "null", "none", "nan", "-", "--", "/", "—")

# ---------------------------------------------------------------- vocabularies

#: Sex, GB/T 2261.1 (1 男, 2 女; 0 未知, 9 未说明 are missing).
SEXES = ("男", "女")
SEX_MAP: dict[str, str] = {
    "男": "男",
    "女": "女",
    "1": "男",
    "2": "女",
    "m": "男",
    "f": "女",
    "男性": "男",
    "女性": "女",
    "male": "男",
    "female": "女",
}
SEX_MISSING = ("0", "9", "未知的性别", "未说明的性别")

#: Marital status, GB/T 2261.2: 10 未婚, 20 已婚 (21 初婚, 22 再婚, 23 复婚), 30 丧偶, 40 离婚.
#: 已婚 is kept for records that do not say which marriage. The one-digit codes are the older
#: GB 4766 form (1 未婚, 2 已婚, 3 丧偶, 4 离婚) still found in old exports.
MARITAL_STATUSES = ("未婚", "初婚", "再婚", "复婚", "离婚", "丧偶", "已婚")
MARITAL_MAP: dict[str, str] = {
    **{word: word for word in MARITAL_STATUSES},
    "10": "未婚",
    "20": "已婚",
    "21": "初婚",
    "22": "再婚",
    "23": "复婚",
    "30": "丧偶",
    "40": "离婚",
    "1": "未婚",
    "2": "已婚",
    "3": "丧偶",
    "4": "离婚",
    "有配偶": "已婚",
    "离异": "离婚",
}
MARITAL_MISSING = ("90", "9", "未说明的婚姻状况")

#: The 56 ethnicities in GB 3304 order: code ``f"{i + 1:02d}"`` is ``ETHNICITIES[i]``.
ETHNICITIES = (
    "汉族",
    "蒙古族",
    "回族",
    "藏族",
    "维吾尔族",
    "苗族",
    "彝族",
    "壮族",
    "布依族",
    "朝鲜族",
    "满族",
    "侗族",
    "瑶族",
    "白族",
    "土家族",
    "哈尼族",
    "哈萨克族",
    "傣族",
    "黎族",
    "傈僳族",
    "佤族",
    "畲族",
    "高山族",
    "拉祜族",
    "水族",
    "东乡族",
    "纳西族",
    "景颇族",
    "柯尔克孜族",
    "土族",
    "达斡尔族",
    "仫佬族",
    "羌族",
    "布朗族",
    "撒拉族",
    "毛南族",
    "仡佬族",
    "锡伯族",
    "阿昌族",
    "普米族",
    "塔吉克族",
    "怒族",
    "乌孜别克族",
    "俄罗斯族",
    "鄂温克族",
    "德昂族",
    "保安族",
    "裕固族",
    "京族",
    "塔塔尔族",
    "独龙族",
    "鄂伦春族",
    "赫哲族",
    "门巴族",
    "珞巴族",
    "基诺族",
)
#: GB 3304 codes 97 (其他) and 98, outside the 56.
ETHNICITY_OTHERS = ("其他未识别民族", "外国血统中国籍人士")
ETHNICITY_VALUES = ETHNICITIES + ETHNICITY_OTHERS

#: Names in use before a renaming, common variants and mistypings → the GB 3304 name.
ETHNICITY_OLD_NAMES: dict[str, str] = {
    "僮族": "壮族",  # renamed 1965
    "僮": "壮族",
    "崩龙族": "德昂族",  # renamed 1985
    "崩龙": "德昂族",
    "毛难族": "毛南族",  # renamed 1986
    "毛难": "毛南族",
    "卡佤族": "佤族",  # 佧佤 / 卡佤 until 1962
    "卡佤": "佤族",
    "佧佤族": "佤族",
    "佧佤": "佤族",
    "仲家族": "布依族",  # 仲家 until 1953
    "仲家": "布依族",
    "布衣族": "布依族",
    "布衣": "布依族",
    "布伊族": "布依族",
    "布伊": "布依族",
    "布夷族": "布依族",
    "布依": "布依族",
    "畬族": "畲族",  # U+756C, the look-alike of 畲 (U+7572)
    "畬": "畲族",
    "彞族": "彝族",
    "夷族": "彝族",
    "傜族": "瑶族",
    "乌兹别克族": "乌孜别克族",
    "乌兹别克": "乌孜别克族",
    "柯尔克兹族": "柯尔克孜族",
    "达呼尔族": "达斡尔族",
    "维族": "维吾尔族",
    "蒙族": "蒙古族",
    "朝族": "朝鲜族",
    "穿青人": "其他未识别民族",  # 贵州's unrecognised group, registered as 其他
}

#: Codes and words for GB 3304's 97 and 98. 99 is not in GB 3304 but many systems use it
#: for 其他 / 未识别 (not for "not stated"), so it is read as 97 rather than as missing.
ETHNICITY_OTHER_SPELLINGS: dict[str, str] = {
    "97": "其他未识别民族",
    "99": "其他未识别民族",
    "其他": "其他未识别民族",
    "其它": "其他未识别民族",
    "其他民族": "其他未识别民族",
    "其它民族": "其他未识别民族",
    "未识别民族": "其他未识别民族",
    "未识别": "其他未识别民族",
    "其他未识别": "其他未识别民族",
    "98": "外国血统中国籍人士",
    "外国血统": "外国血统中国籍人士",
    "外国血统中国籍": "外国血统中国籍人士",
    "外国人入籍": "外国血统中国籍人士",
    "入籍": "外国血统中国籍人士",
}


def _with_traditional(mapping: Mapping[str, str]) -> dict[str, str]:
    """``mapping`` plus the traditional-script form of each key (OpenCC s2t, s2tw, s2hk)."""
    out = dict(mapping)
    for config in ("s2t", "s2tw", "s2hk"):
        converter = opencc.OpenCC(config)
        for key, value in mapping.items():
            out.setdefault(converter.convert(key), value)
    return out


#: Every accepted spelling or code → one of :data:`ETHNICITY_VALUES`: the names with and
#: without 族, codes ``01``..``56`` and ``1``..``56``, :data:`ETHNICITY_OLD_NAMES`,
#: :data:`ETHNICITY_OTHER_SPELLINGS`, and the traditional-script form of each (漢族, 維吾爾族).
ETHNICITY_MAP: dict[str, str] = _with_traditional(
    {
        **{name: name for name in ETHNICITY_VALUES},
        **{name.removesuffix("族"): name for name in ETHNICITIES},  # 汉 → 汉族, 土家 → 土家族
        **{f"{i + 1:02d}": name for i, name in enumerate(ETHNICITIES)},
        **{str(i + 1): name for i, name in enumerate(ETHNICITIES)},
        **ETHNICITY_OLD_NAMES,
        **ETHNICITY_OTHER_SPELLINGS,
    }
)

#: Status of a person in the population base.
PERSON_STATUSES = ("正常", "死亡注销", "迁出注销", "重复注销", "错误注销")
PERSON_STATUS_MAP: dict[str, str] = {
    **{word: word for word in PERSON_STATUSES},
    "死亡": "死亡注销",
    "迁出": "迁出注销",
    "重复": "重复注销",
    "错误": "错误注销",
    "注销(死亡)": "死亡注销",
    "注销(迁出)": "迁出注销",
}

#: Status of a 户籍 registration.
HUKOU_STATUSES = ("正常", "死亡注销", "迁出注销")
HUKOU_STATUS_MAP: dict[str, str] = {
    k: v for k, v in PERSON_STATUS_MAP.items() if v in HUKOU_STATUSES
}

#: 户口性质.
HUKOU_TYPES = ("农业", "非农业", "居民")
HUKOU_TYPE_MAP: dict[str, str] = {
    **{word: word for word in HUKOU_TYPES},
    **{f"{word}户口": word for word in HUKOU_TYPES},
    "农业户": "农业",
    "非农业户": "非农业",
    "城镇": "非农业",
    "城镇户口": "非农业",
    "居民户": "居民",
    "统一居民户口": "居民",
    "城乡统一居民户口": "居民",
}

#: Canonical column name → (map, extra missing tokens), for code that standardises by name.
CODE_MAPS: dict[str, tuple[Mapping[str, str], tuple[str, ...]]] = {
    "sex": (SEX_MAP, SEX_MISSING),
    "marital_status": (MARITAL_MAP, MARITAL_MISSING),
    "ethnicity": (ETHNICITY_MAP, ()),
    "status": (PERSON_STATUS_MAP, ()),
    "hukou_status": (HUKOU_STATUS_MAP, ()),
    "hukou_type": (HUKOU_TYPE_MAP, ()),
}

# ---------------------------------------------------------------- generic


def _fold_keys(keys: Iterable[str]) -> list[str]:
    return ["".join(fold_width(k).split()).lower() for k in keys]


_CODED_DTYPE = pl.Struct({"value": pl.String, "status": pl.String})


def _coded(values: pl.Series, vocab_map: Mapping[str, str], missing: Iterable[str]) -> pl.Series:
    """Struct of canonical value and status, row for row."""
    lookup = dict(zip(_fold_keys(vocab_map), vocab_map.values(), strict=True))
    missing_keys = _fold_keys((*MISSING_TOKENS, *missing))
    frame = values.to_frame("raw").select(key=clean_text_expr(pl.col("raw")).str.to_lowercase())
    key = pl.col("key")
    value = key.replace_strict(lookup, default=None, return_dtype=pl.String)
    status = (
        pl.when(value.is_not_null())
        .then(pl.lit("ok"))
        .when(key.is_null() | key.is_in(missing_keys))
        .then(pl.lit("missing"))
        .otherwise(pl.lit("unknown_value"))
    )
    return frame.select(pl.struct(value=value, status=status)).to_series()


def _coded_expr(expr: pl.Expr, vocab_map: Mapping[str, str], missing: Iterable[str]) -> pl.Expr:
    missing = tuple(missing)
    return map_distinct(expr, lambda values: _coded(values, vocab_map, missing), _CODED_DTYPE)


def map_code_expr(expr: pl.Expr, vocab_map: Mapping[str, str]) -> pl.Expr:
    """Canonical value of ``expr`` through ``vocab_map``; null when missing or unknown."""
    return _coded_expr(expr, vocab_map, ()).struct.field("value")


def standardise_code(
    frame: FrameT,
    col: str,
    vocab_map: Mapping[str, str],
    out: str,
    *,
    missing: Iterable[str] = (),
) -> FrameT:
    """Add ``{out}`` (canonical value or null) and ``{out}_status`` (:data:`CODE_STATUSES`).

    Args:
        frame: polars (lazy) frame.
        col: the delivered column.
        vocab_map: accepted spelling or code → canonical value; keys are matched after width
            folding, white-space removal and lower-casing.
        out: name of the value column.
        missing: spellings meaning "not stated" on top of :data:`MISSING_TOKENS`.
    """
    tmp = f"__{out}_coded"
    frame = frame.with_columns(_coded_expr(pl.col(col), vocab_map, missing).alias(tmp))
    return frame.with_columns(
        pl.col(tmp).struct.field("value").alias(out),
        pl.col(tmp).struct.field("status").alias(f"{out}_status"),
    ).drop(tmp)


# ---------------------------------------------------------------- per vocabulary


def sex_expr(expr: pl.Expr) -> pl.Expr:
    """男 / 女 / null from 男, 女, 1, 2, M, F, 男性, 女性 (GB/T 2261.1)."""
    return map_code_expr(expr, SEX_MAP)


def marital_status_expr(expr: pl.Expr) -> pl.Expr:
    """One of :data:`MARITAL_STATUSES` or null, from GB/T 2261.2 codes or words."""
    return map_code_expr(expr, MARITAL_MAP)


def ethnicity_expr(expr: pl.Expr) -> pl.Expr:
    """One of :data:`ETHNICITY_VALUES` or null (汉 → 汉族, 15 → 土家族, 僮族 → 壮族, 漢族 → 汉族,
    99 / 其他 → 其他未识别民族)."""
    return map_code_expr(expr, ETHNICITY_MAP)


def person_status_expr(expr: pl.Expr) -> pl.Expr:
    """One of :data:`PERSON_STATUSES` or null (死亡 注销 → 死亡注销)."""
    return map_code_expr(expr, PERSON_STATUS_MAP)


def hukou_status_expr(expr: pl.Expr) -> pl.Expr:
    """One of :data:`HUKOU_STATUSES` or null."""
    return map_code_expr(expr, HUKOU_STATUS_MAP)


def hukou_type_expr(expr: pl.Expr) -> pl.Expr:
    """One of :data:`HUKOU_TYPES` or null (农业户口 → 农业)."""
    return map_code_expr(expr, HUKOU_TYPE_MAP)


def standardise_sex(frame: FrameT, col: str, out: str = "sex") -> FrameT:
    """Add ``{out}`` (男/女/null) and ``{out}_status``; 0, 9, 未知 count as missing."""
    return standardise_code(frame, col, SEX_MAP, out, missing=SEX_MISSING)
