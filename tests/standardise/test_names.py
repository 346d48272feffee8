"""Names: cleaning, keys, surname split, pinyin — on real Chinese edge cases."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage.standardise._name_tables import COMPOUND_SURNAMES
from linkage.standardise.names import (
    clean_name_expr,
    name_pinyin,
    standardise_names,
    surname_split,
)


def _clean(values: list[str | None]) -> list[str | None]:
    return (
        pl.DataFrame({"raw": values}, schema={"raw": pl.String})
        .select(clean_name_expr(pl.col("raw")))
        .to_series()
        .to_list()
    )


def _std(values: list[str | None]) -> pl.DataFrame:
    frame = pl.DataFrame({"raw": values}, schema={"raw": pl.String})
    return standardise_names(frame, "raw").drop("raw")


def test_clean_folds_width_and_removes_every_space() -> None:
    assert _clean(["张　三", "张 三", " 张三 ", "张\t三\u200b", "ＡＢ１"]) == [
        "张三",
        "张三",
        "张三",
        "张三",
        "AB1",
    ]


def test_clean_empty_is_null() -> None:
    assert _clean(["", "　 ", None, "··"]) == [None, None, None, None]


@pytest.mark.parametrize(
    "sep",
    [
        "·",
        "•",
        "・",
        ".",
        "．",
        "‧",
        "∙",
        "･",
        "-",
        "－",
        "·  ",
        "。",  # what a Chinese input method types for "."
        "｡",
        "_",
        "＿",
        "\u318d",  # ㆍ Hangul araea
        "\ua78f",  # ꞏ Latin sinological dot
        "。。",
    ],
)
def test_minority_separators_unify_to_middle_dot(sep: str) -> None:
    assert _clean([f"阿依古丽{sep}买买提"]) == ["阿依古丽·买买提"]


def test_hyphen_chain_and_non_han_hyphen() -> None:
    assert _clean(["阿-布-都-热", "A-B", "·张三·"]) == ["阿·布·都·热", "A-B", "张三"]


def test_clean_never_converts_characters() -> None:
    assert _clean(["張偉", "於立", "乾隆"]) == ["張偉", "於立", "乾隆"]


def test_standardise_names_whole_frame() -> None:
    result = _std(["張　偉", "阿依古丽•买买提", "欧阳娜娜", "单田芳", "张", None])
    expected = pl.DataFrame(
        {
            "name": ["張偉", "阿依古丽·买买提", "欧阳娜娜", "单田芳", "张", None],
            "name_key": ["张伟", "阿依古丽买买提", "欧阳娜娜", "单田芳", "张", None],
            "name_surname": ["張", None, "欧阳", "单", "张", None],
            "name_given": ["偉", "阿依古丽·买买提", "娜娜", "田芳", None, None],
            "name_py": ["zhangwei", "ayigulimaimaiti", "ouyangnana", "shantianfang", "zhang", None],
            "name_surname_py": ["zhang", None, "ouyang", "shan", "zhang", None],
            "name_given_py": ["wei", "ayigulimaimaiti", "nana", "tianfang", None, None],
            "name_snd": [
                "zhangwei",
                "ayigulimaimaiti",
                "ouyangnana",
                "shantianfang",
                "zhang",
                None,
            ],
            "name_snd_parts": [None, "ayiguli-maimaiti", None, None, None, None],
        },
        schema={
            c: pl.String
            for c in (
                "name",
                "name_key",
                "name_surname",
                "name_given",
                "name_py",
                "name_surname_py",
                "name_given_py",
                "name_snd",
                "name_snd_parts",
            )
        },
    )
    assert_frame_equal(result, expected)


def test_traditional_key_equals_simplified_but_name_is_kept() -> None:
    result = _std(["張偉", "张伟", "歐陽娜娜", "欧阳娜娜"])
    assert result["name"].to_list() == ["張偉", "张伟", "歐陽娜娜", "欧阳娜娜"]
    assert result["name_key"].to_list() == ["张伟", "张伟", "欧阳娜娜", "欧阳娜娜"]
    assert result["name_surname"].to_list() == ["張", "张", "歐陽", "欧阳"]


def test_yu_surnames_stay_distinct() -> None:
    result = _std(["於立", "于立"])
    assert result["name"].to_list() == ["於立", "于立"]
    assert result["name_key"].to_list() == ["於立", "于立"]
    assert result["name_py"].to_list() == ["yuli", "yuli"]


def test_minority_names_share_key_whatever_the_separator() -> None:
    variants = [
        "阿依古丽·买买提",
        "阿依古丽•买买提",
        "阿依古丽・买买提",
        "阿依古丽.买买提",
        "阿依古丽．买买提",
        "阿依古丽买买提",
    ]
    result = _std(variants)
    assert result["name_key"].unique().to_list() == ["阿依古丽买买提"]
    assert result["name_py"].unique().to_list() == ["ayigulimaimaiti"]
    assert result["name_surname"].to_list()[:5] == [None] * 5


def test_transcribed_names_read_as_names_do() -> None:
    """卜 and 都 read bu and du in a transcribed name (pypinyin: bo, dou); each part of a
    · name keeps its reading apart; a Han given name keeps pypinyin's reading in ``py``."""
    result = _std(["阿卜杜拉", "阿布都拉", "阿不都拉", "帕提古丽。艾力", "帕提古丽艾力", "王都"])
    assert result["name_snd"].to_list()[:3] == ["abudula"] * 3
    assert result["name_py"].to_list()[:3] == ["abodula", "abudoula", "abudoula"]
    assert result["name_snd_parts"].to_list()[3:5] == ["patiguli-aili", None]
    assert result["name_snd"].to_list()[3] == result["name_snd"].to_list()[4]
    assert result["name_py"].to_list()[5] == "wangdou"


def test_outside_bmp_character() -> None:
    result = _std(["𠮷田", "𠮷"])
    assert result.select(pl.col("name").str.len_chars()).to_series().to_list() == [2, 1]
    assert result["name_surname"].to_list() == ["𠮷", "𠮷"]
    assert result["name_given"].to_list() == ["田", None]
    assert result["name_key"].to_list() == ["吉田", "吉"]  # variant of 吉
    assert result["name_py"].to_list() == ["jitian", "ji"]


@pytest.mark.parametrize(
    ("name", "surname", "given"),
    [
        ("欧阳娜娜", "欧阳", "娜娜"),
        ("司马光", "司马", "光"),
        ("诸葛亮", "诸葛", "亮"),
        ("上官婉儿", "上官", "婉儿"),
        ("尉迟恭", "尉迟", "恭"),
        ("万俟卨", "万俟", "卨"),
        ("歐陽修", "歐陽", "修"),
        ("欧阳", "欧", "阳"),  # two characters: surname + given
        ("王小明", "王", "小明"),
        ("阿依古丽·买买提", None, "阿依古丽·买买提"),
        ("JOHN", None, "JOHN"),
        ("张", "张", ""),
        ("淳于琼", "淳于", "琼"),
        ("东门庆", "东门", "庆"),
        ("東門慶", "東門", "慶"),
        ("仉督某", "仉督", "某"),
        ("归海一刀", "归海", "一刀"),
        ("榖梁赤", "榖梁", "赤"),
        ("谷梁赤", "谷梁", "赤"),
        ("左丘明", "左丘", "明"),
        ("梁丘据", "梁丘", "据"),
        ("第五伦", "第五", "伦"),
        # single surnames set side by side in the 百家姓's verse, and 乐/宗 + given name
        ("闫法明", "闫", "法明"),
        ("岳帅军", "岳", "帅军"),
        ("言福生", "言", "福生"),
        ("乐正华", "乐", "正华"),
        ("宗政伟", "宗", "政伟"),
    ],
)
def test_surname_split(name: str, surname: str | None, given: str) -> None:
    assert surname_split(name) == (surname, given)


@pytest.mark.parametrize(
    ("name", "pinyin"),
    [
        ("单雄信", "shanxiongxin"),
        ("曾国藩", "zengguofan"),
        ("解缙", "xiejin"),
        ("仇英", "qiuying"),
        ("区永", "ouyong"),
        ("查良镛", "zhaliangyong"),
        ("朴正", "piaozheng"),
        ("覃斌", "qinbin"),
        ("尉迟恭", "yuchigong"),
        ("万俟卨", "moqixie"),
        ("长孙无忌", "zhangsunwuji"),
        ("吕绿", "lvlv"),  # ü as v
        ("王单", "wangdan"),  # 单 as a given-name character keeps its default reading
        ("单于丹", "chanyudan"),
        ("淳于琼", "chunyuqiong"),
        ("仉督某", "zhangdumou"),
        ("榖梁赤", "guliangchi"),
        ("谷梁赤", "guliangchi"),
        ("澹台灭明", "tantaimieming"),
        ("盖聂", "genie"),
        ("郗超", "xichao"),
        ("颉利", "xieli"),
    ],
)
def test_surname_readings(name: str, pinyin: str) -> None:
    assert name_pinyin(name) == pinyin
    assert _std([name])["name_py"].item() == pinyin


def test_homophones_share_pinyin_but_not_key() -> None:
    result = _std(["张晓蕾", "张小磊"])
    assert result["name_py"].to_list() == ["zhangxiaolei", "zhangxiaolei"]
    assert result["name_given_py"].to_list() == ["xiaolei", "xiaolei"]
    assert result["name_key"].n_unique() == 2


def test_scalar_and_vectorised_agree() -> None:
    names = [
        "欧阳娜娜",
        "歐陽修",
        "单田芳",
        "阿依古丽·买买提",
        "𠮷田",
        "张",
        "王小明",
        "於立",
        "ABC",
        "曾小磊",
        "司马",
    ]
    result = _std(names)
    assert [surname_split(n)[0] for n in names] == result["name_surname"].to_list()
    assert [name_pinyin(n) for n in names] == result["name_py"].to_list()


def test_lazy_frame_and_row_order_with_duplicates() -> None:
    names = ["张 三", "李四", None, "张三", "李四", "張三"]
    eager = _std(names)
    lazy = standardise_names(pl.LazyFrame({"raw": names}), "raw").drop("raw").collect()
    assert_frame_equal(lazy, eager)
    assert eager["name"].to_list() == ["张三", "李四", None, "张三", "李四", "張三"]
    assert eager["name_key"].to_list() == ["张三", "李四", None, "张三", "李四", "张三"]


def test_out_defaults_and_custom_prefix() -> None:
    frame = standardise_names(pl.DataFrame({"former_name": ["歐陽娜"]}), "former_name")
    assert frame.columns == [
        "former_name",
        "name",
        "name_key",
        "name_surname",
        "name_given",
        "name_py",
        "name_surname_py",
        "name_given_py",
        "name_snd",
        "name_snd_parts",
    ]
    frame = standardise_names(pl.DataFrame({"cym": ["歐陽娜"]}), "cym", out="former_name")
    assert frame["former_name_key"].item() == "欧阳娜"


#: The 复姓 of the 百家姓 (谷梁 in both spellings); 宗政 and 乐正 are left out on purpose.
BAIJIAXING_COMPOUNDS = (
    "万俟 司马 上官 欧阳 夏侯 诸葛 闻人 东方 赫连 皇甫 尉迟 公羊 澹台 公冶 濮阳 淳于 单于 "
    "太叔 申屠 公孙 仲孙 轩辕 令狐 钟离 宇文 长孙 慕容 鲜于 闾丘 司徒 司空 亓官 司寇 仉督 "
    "子车 颛孙 端木 巫马 公西 漆雕 壤驷 公良 拓跋 夹谷 宰父 谷梁 榖梁 段干 百里 东郭 南门 "
    "呼延 归海 羊舌 微生 梁丘 左丘 东门 西门 南宫 第五"
).split()


def test_every_baijiaxing_compound_surname_is_known() -> None:
    names = [f"{surname}文" for surname in BAIJIAXING_COMPOUNDS]
    result = _std(names)
    assert result["name_surname"].to_list() == BAIJIAXING_COMPOUNDS
    assert [surname_split(name)[0] for name in names] == BAIJIAXING_COMPOUNDS
    readings = result["name_surname_py"].to_list()
    assert all(reading and reading.isascii() and reading.isalpha() for reading in readings)
    assert dict(zip(BAIJIAXING_COMPOUNDS, readings, strict=True)) == {
        surname: COMPOUND_SURNAMES[surname] for surname in BAIJIAXING_COMPOUNDS
    }
