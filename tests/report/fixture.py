"""A ten-person base with known quality problems, for tests/test_report*.py.

Built through the real ingest (``src_population``, ``src_hukou``, ``person_records``) with a
hand-made ``links`` table, so every figure of ``linkage.report.quality`` can be worked out by
hand (see the comments on each row). Reference date: ``AS_OF``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from linkage import pipeline
from linkage.standardise.ids import check_char
from linkage.store import Store
from tests.conftest import write_csv
from tests.headers import HUKOU_HEADER, POP_HEADER

AS_OF = dt.date(2026, 6, 30)
LX, SC = "灵溪镇", "首车镇"


def ident(birth: str, order: str) -> str:
    body = "433127" + birth + order
    return body + check_char(body)


def bad_check(number: str) -> str:
    """The same number with a wrong check character."""
    wrong = "0" if number[-1] != "0" else "1"
    return number[:17] + wrong


def _person(
    pid: str,
    name: str,
    sex: str,
    id_number: str,
    birth: str,
    household: str,
    relation: str,
    marital: str,
    township: str,
    *,
    ethnicity: str = "汉族",
    hukou_type: str = "农业",
    current: str = "现住本村",
    status: str = "正常",
) -> list[str]:
    return [
        pid,
        name,
        sex,
        id_number,
        birth,
        ethnicity,
        household,
        relation,
        marital,
        hukou_type,
        f"湖南省湘西州永顺县{township}某村",
        current,
        township,
        "某村",
        status,
        "2026-01-01",
    ]


BASE = [
    # H1: a family; the daughter P04 is only 8 years younger than the mother (gap rule fails)
    _person("P01", "张伟", "男", ident("19600101", "011"), "1960-01-01", "H1", "户主", "初婚", LX),
    _person("P02", "王芳", "女", ident("19620202", "022"), "1962-02-02", "H1", "配偶", "初婚", LX),
    _person("P03", "张强", "男", ident("19900303", "031"), "1990-03-03", "H1", "子", "未婚", LX),
    _person("P04", "张丽", "女", ident("19700404", "042"), "1970-04-04", "H1", "女", "未婚", LX),
    # H2: a married couple under the legal age (marital and spouse rules fail for both); their
    # "son" is older than they are, and his ID says 1980 where the base says 1981
    _person("P05", "李明", "男", ident("20100101", "051"), "2010-01-01", "H2", "户主", "初婚", SC),
    _person("P06", "赵敏", "女", ident("20080808", "062"), "2008-08-08", "H2", "配偶", "已婚", SC),
    _person("P07", "李小", "男", ident("19800101", "071"), "1981-01-01", "H2", "子", "未婚", SC),
    # H3: no ID, no ethnicity, no hukou type, no current address
    _person(
        "P08",
        "陈某",
        "女",
        "",
        "1950-05-05",
        "H3",
        "户主",
        "丧偶",
        SC,
        ethnicity="",
        hukou_type="",
        current="",
    ),
    # cancelled: not counted anywhere
    _person(
        "P09",
        "孙某",
        "男",
        ident("19450101", "093"),
        "1945-01-01",
        "H9",
        "户主",
        "丧偶",
        SC,
        status="死亡注销",
    ),
    # ID says 男 (odd order digit), base says 女; relation "无" is no value
    _person("P10", "周某", "女", ident("19850505", "091"), "1985-05-05", "H4", "无", "未婚", LX),
    # a wrong check character: present but not valid
    _person(
        "P11",
        "吴某",
        "男",
        bad_check(ident("19700707", "111")),
        "1970-07-07",
        "H5",
        "户主",
        "离婚",
        LX,
    ),
]
HUKOU = [
    [
        "K1",
        "张伟",
        "",
        "男",
        ident("19600101", "011"),
        "1960-01-01",
        "汉族",
        "H1",
        "户主",
        "永顺县灵溪镇某村",
        "农业",
        "正常",
        "",
        "",
    ],
    [
        "K2",
        "刘洋",
        "",
        "男",
        ident("19900101", "031"),
        "1990-01-01",
        "汉族",
        "H8",
        "户主",
        "永顺县首车镇某村",
        "农业",
        "正常",
        "",
        "",
    ],
    [
        "K3",
        "阿依古丽·买买提",
        "",
        "女",
        ident("19900505", "044"),
        "1990-05-05",
        "维吾尔族",
        "H3",
        "户主",
        "永顺县首车镇某村",
        "居民",
        "迁出注销",
        "2025-08-01",
        "广东省深圳市",
    ],
]
LINKS = [
    ("hukou", "K1", "person", "P01", 1.0, None, "exact", None, "v0001"),
    ("hukou", "K2", "person", None, None, None, None, None, "v0001"),
    ("hukou", "K3", "person", "P08", 0.97, 6.2, "model", "name: different", "v0001"),
]
LINK_SCHEMA = {
    "source": pl.String,
    "source_record_id": pl.String,
    "role": pl.String,
    "person_id": pl.String,
    "match_probability": pl.Float64,
    "match_weight": pl.Float64,
    "decided_by": pl.String,
    "explanation": pl.String,
    "model_version": pl.String,
}


def build_home(root: Path) -> Path:
    """Ingest the base and the 户籍 file, write ``links``. Returns the home folder."""
    inbox = root / "inbox"
    write_csv(inbox / "population" / "base.csv", POP_HEADER, BASE)
    write_csv(inbox / "hukou" / "hukou.csv", HUKOU_HEADER, HUKOU)
    home = root / "home"
    with Store(home) as store:
        pipeline.ingest(store, inbox, run_id="run-1", full=True)
        store.replace_table("links", pl.DataFrame(LINKS, schema=LINK_SCHEMA, orient="row"))
    return home
