"""Findings on hand-made cases, including the traps: a non-resident's death, a mother from
another county, twins, an already-cancelled person, formatting-only differences, and a
finding rejected last run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from linkage.casework import merge, open_findings, set_status
from linkage.catalog import FINDING_TYPES
from linkage.findings import derive_findings
from linkage.findings.base import TaskContext
from linkage.ingest.load import ingest_inbox
from linkage.persons import refresh_person_records
from linkage.standardise.ids import check_char
from linkage.store import Store
from tests.conftest import write_csv
from tests.headers import BC_HEADER, DEATH_HEADER, HUKOU_HEADER, MAR_HEADER, POP_HEADER


def _id(birth: str, order: str, region: str = "433127") -> str:
    body = region + birth + order
    return body + check_char(body)


#: 广东省广州市天河区 and 湖南省长沙市芙蓉区: IDs of spouses from another province and from
#: another county of the county's own province
GD, HN = "440106", "430102"


def _typo(number: str) -> str:
    """The same number with its 10th digit changed: the check character no longer fits."""
    return number[:9] + str((int(number[9]) + 1) % 10) + number[10:]


def person(
    pid: str,
    name: str,
    sex: str,
    birth: str,
    order: str,
    *,
    status: str = "正常",
    household: str = "H1",
    marital: str = "初婚",
    ethnicity: str = "汉族",
    id_number: str | None = None,
) -> list[str]:
    return [
        pid,
        name,
        sex,
        id_number if id_number is not None else _id(birth, order),
        birth,
        ethnicity,
        household,
        "户主",
        marital,
        "农业",
        "永顺县灵溪镇猛必村三组",
        "",
        "灵溪镇",
        "猛必村",
        status,
        "2026-01-01",
    ]


BASE = [
    person("P01", "张伟", "男", "19400101", "011"),
    person("P02", "李强", "男", "19410101", "013", status="死亡注销"),
    person("P04", "王芳", "女", "19420202", "022"),
    person("P05", "赵丽", "女", "19950303", "024", household="H5"),
    person("P06", "钱敏", "女", "19960404", "026", household="H6"),
    person("P07", "孙红", "女", "19970505", "028", household="H7"),
    person("P07a", "周子涵", "女", "20260601", "020", household="H7", marital="未婚"),
    person("P08", "吴刚", "男", "19980606", "031", marital="未婚"),
    person("P09", "郑秀英", "女", "19500707", "042", household="H9"),
    person("P10", "郑秀英", "女", "19500707", "042", household="H9", id_number=""),
    person("P11", "冯军", "男", "19800808", "051"),
    person("P03", "陈建国", "男", "19601010", "071", ethnicity="土家族"),
    # IDs the base holds wrongly: the old 15-digit number, one digit mistyped
    person("P12", "何平", "男", "19700303", "035", id_number="433127700303035"),
    person("P13", "罗兰", "女", "19850505", "044", id_number=_typo(_id("19850505", "044"))),
    # no 户籍 record: nobody behind it; registered in another county of 湖南; a bride from
    # 广东 whose 户口 has not moved in (exempt)
    person("P14", "吕无名", "男", "19770707", "057"),
    person("P15", "施外县", "男", "19880808", "073", id_number="430104198808080734"),
    person("P16", "韩粤", "女", "19900909", "082", id_number="440305199009090825"),
    # brides of the county: of a 广东 groom neither in the base nor in 户籍 (婚嫁外省?), of one
    # the base holds (婚入), of one whose 户口 moved in, of a groom from 湖南, and of a 广东
    # groom divorced since
    person("P17", "黄婷", "女", "19930303", "062"),
    person("P18", "曾雪", "女", "19940404", "064"),
    person("P19", "梁生", "男", "19920101", "015", id_number=_id("19920101", "015", GD)),
    person("P20", "谢娟", "女", "19920202", "066"),
    person("P21", "邓琳", "女", "19910101", "068"),
    person("P22", "唐敏", "女", "19890909", "084"),
]


@pytest.fixture
def county(tmp_path: Path) -> Store:
    inbox = tmp_path / "inbox"
    write_csv(inbox / "population" / "base.csv", POP_HEADER, BASE)
    write_csv(
        inbox / "death" / "deaths.csv",
        DEATH_HEADER,
        [
            ["D1", "张伟", "男", _id("19400101", "011"), "1940-01-01", "2026-03-05", "", "火化"],
            ["D2", "李强", "男", _id("19410101", "013"), "1941-01-01", "2026-02-01", "", "火化"],
            ["D3", "外地人", "男", "", "1930-01-01", "2026-02-02", "", "火化"],
            ["D4", "王芳", "女", "", "1942-02-02", "2026-04-01", "", "火化"],
            ["D5", "王芳", "女", _id("19420202", "022"), "", "2026-04-01", "", "死亡医学证明"],
            # non-residents placed by their address alone: another county, and this one
            [
                "D6",
                "过路人",
                "男",
                "",
                "1950-01-01",
                "2026-03-03",
                "贵州省遵义市汇川区人民路5号",
                "火化",
            ],
            ["D7", "无名氏", "男", "", "1960-01-01", "2026-03-04", "湖南省永顺县灵溪镇", "火化"],
        ],
    )
    write_csv(
        inbox / "birth_certificate" / "bc.csv",
        BC_HEADER,
        [
            ["B1", "", "男", "2026-05-01", "县医院", "赵丽", _id("19950303", "024"), "", "", ""],
            ["B2", "", "女", "2026-05-02", "县医院", "外地母", "", "", "", ""],
            ["B3", "", "男", "2026-05-03", "县医院", "钱敏", _id("19960404", "026"), "", "", ""],
            ["B4", "", "女", "2026-05-03", "县医院", "钱敏", _id("19960404", "026"), "", "", ""],
            [
                "B5",
                "周子涵",
                "女",
                "2026-06-01",
                "县医院",
                "孙红",
                _id("19970505", "028"),
                "",
                "",
                "",
            ],
            ["B6", "", "男", "2026-06-01", "县医院", "孙红", _id("19970505", "028"), "", "", ""],
        ],
    )
    write_csv(
        inbox / "hukou" / "hukou.csv",
        HUKOU_HEADER,
        [
            # ethnicity really differs → conflict; name differs only in width/traditional form
            [
                "H1",
                "張　偉",
                "",
                "1",
                _id("19400101", "011"),
                "1940/1/1",
                "苗族",
                "H1",
                "户主",
                "",
                "农业",
                "正常",
                "",
                "",
            ],
            # 15-digit ID and other date format of the same person: no conflict
            [
                "H2",
                "陈建国",
                "",
                "男",
                "433127601010071",
                "1960年10月10日",
                "土家族",
                "H1",
                "户主",
                "",
                "农业",
                "正常",
                "",
                "",
            ],
            [
                "H3",
                "冯军",
                "",
                "男",
                _id("19800808", "051"),
                "1980-08-08",
                "汉族",
                "H1",
                "户主",
                "",
                "农业",
                "迁出注销",
                "2026-03-01",
                "浙江省杭州市西湖区",
            ],
            [
                "H4",
                "新来人",
                "",
                "男",
                _id("19900101", "091"),
                "1990-01-01",
                "汉族",
                "H1",
                "户主",
                "",
                "农业",
                "正常",
                "",
                "",
            ],
            # 公安's own death cancellations: P04 also has death records, P08 has none,
            # P02 is already cancelled in the base
            _hukou_death("H5", "王芳", "女", ("19420202", "022"), "2026-04-05"),
            _hukou_death("H6", "吴刚", "男", ("19980606", "031"), "2026-06-30"),
            _hukou_death("H7", "李强", "男", ("19410101", "013"), "2026-02-03"),
            # 公安 holds the valid 18-digit number of a base ID missing, 15-digit, mistyped
            _hukou_alive("H8", "郑秀英", "女", ("19500707", "042"), "H9"),
            _hukou_alive("H9", "何平", "男", ("19700303", "035")),
            _hukou_alive("H10", "罗兰", "女", ("19850505", "044")),
            # moves within 湖南 (the county's province) written three ways, two of one
            # household to one county (整户移交), and one that cannot be placed: transfers,
            # not cancellations
            _hukou_moved("H11", "赵丽", "女", ("19950303", "024"), "湘西州龙山县民安街道"),
            _hukou_moved("H12", "钱敏", "女", ("19960404", "026"), "长沙市岳麓区麓山南路1号"),
            _hukou_moved(
                "H13", "孙红", "女", ("19970505", "028"), "湖南省湘西土家族苗族自治州龙山县"
            ),
            _hukou_moved("H14", "郑秀英", "女", ("19500707", "042"), "外地"),
            # 户口性质: 公安 has unified it as 居民, the base still says 农业
            [*_hukou_alive("H15", "黄婷", "女", ("19930303", "062"))[:10], "居民", "正常", "", ""],
            _hukou_alive("H16", "曾雪", "女", ("19940404", "064")),
            _hukou_alive("H17", "谢娟", "女", ("19920202", "066")),
            _hukou_alive("H18", "陈广", "男", ("19900303", "017", GD)),
            _hukou_alive("H19", "邓琳", "女", ("19910101", "068")),
            _hukou_alive("H20", "唐敏", "女", ("19890909", "084")),
        ],
    )
    write_csv(
        inbox / "marriage" / "m.csv",
        MAR_HEADER,
        [
            [
                "M1",
                "结婚",
                "2026-05-20",
                "吴刚",
                _id("19980606", "031"),
                "1998-06-06",
                "外地女",
                "",
                "1999-01-01",
                "永顺县民政局",
            ],
            _wedding("M2", "林粤", ("19910101", "013", GD), "黄婷", ("19930303", "062")),
            _wedding("M3", "梁生", ("19920101", "015", GD), "曾雪", ("19940404", "064")),
            _wedding("M4", "陈广", ("19900303", "017", GD), "谢娟", ("19920202", "066")),
            _wedding("M5", "刘湘", ("19900505", "019", HN), "邓琳", ("19910101", "068")),
            _wedding(
                "M6", "周粤", ("19880808", "011", GD), "唐敏", ("19890909", "084"), "2025-01-01"
            ),
            _wedding(
                "M7",
                "周粤",
                ("19880808", "011", GD),
                "唐敏",
                ("19890909", "084"),
                "2026-02-01",
                "离婚",
            ),
        ],
    )
    store = Store(tmp_path / "home")
    report = ingest_inbox(store, inbox)
    assert all(f.status == "loaded" for f in report.files), report.files
    refresh_person_records(store)
    links = pl.DataFrame(
        [
            ("death", "D1", "person", "P01", 0.999),
            ("death", "D2", "person", "P02", 0.999),
            ("death", "D3", "person", None, None),
            ("death", "D4", "person", "P04", 0.97),
            ("death", "D5", "person", "P04", 1.0),
            ("death", "D6", "person", None, None),
            ("death", "D7", "person", None, None),
            ("birth_certificate", "B1", "mother", "P05", 1.0),
            ("birth_certificate", "B1", "child", None, None),
            ("birth_certificate", "B2", "mother", None, None),
            ("birth_certificate", "B2", "child", None, None),
            ("birth_certificate", "B3", "mother", "P06", 1.0),
            ("birth_certificate", "B3", "child", None, None),
            ("birth_certificate", "B4", "mother", "P06", 1.0),
            ("birth_certificate", "B4", "child", None, None),
            ("birth_certificate", "B5", "mother", "P07", 1.0),
            ("birth_certificate", "B5", "child", "P07a", 0.99),
            ("birth_certificate", "B6", "mother", "P07", 1.0),
            ("birth_certificate", "B6", "child", None, None),
            ("hukou", "H1", "person", "P01", 1.0),
            ("hukou", "H2", "person", "P03", 1.0),
            ("hukou", "H3", "person", "P11", 1.0),
            ("hukou", "H4", "person", None, None),
            ("hukou", "H5", "person", "P04", 1.0),
            ("hukou", "H6", "person", "P08", 1.0),
            ("hukou", "H7", "person", "P02", 1.0),
            ("hukou", "H8", "person", "P10", 1.0),
            ("hukou", "H9", "person", "P12", 1.0),
            ("hukou", "H10", "person", "P13", 1.0),
            ("hukou", "H11", "person", "P05", 1.0),
            ("hukou", "H12", "person", "P06", 1.0),
            ("hukou", "H13", "person", "P07", 1.0),
            ("hukou", "H14", "person", "P09", 1.0),
            ("marriage", "M1", "husband", "P08", 1.0),
            ("marriage", "M1", "wife", None, None),
            *[("hukou", f"H{15 + i}", "person", pid, 1.0) for i, pid in enumerate(_HUKOU_PIDS)],
            ("marriage", "M2", "husband", None, None),
            ("marriage", "M2", "wife", "P17", 1.0),
            ("marriage", "M3", "husband", "P19", 1.0),
            ("marriage", "M3", "wife", "P18", 1.0),
            ("marriage", "M4", "husband", None, None),
            ("marriage", "M4", "wife", "P20", 1.0),
            ("marriage", "M5", "husband", None, None),
            ("marriage", "M5", "wife", "P21", 1.0),
            ("marriage", "M6", "husband", None, None),
            ("marriage", "M6", "wife", "P22", 1.0),
            ("marriage", "M7", "husband", None, None),
            ("marriage", "M7", "wife", "P22", 1.0),
        ],
        schema=["source", "source_record_id", "role", "person_id", "match_probability"],
        orient="row",
    ).with_columns(explanation=pl.lit("name: exact; id_number: exact"))
    store.replace_table("links", links)
    store.replace_table(
        "dedupe_pairs",
        pl.DataFrame(
            {"person_id_l": ["P09"], "person_id_r": ["P10"], "match_probability": [0.999]}
        ),
    )
    return store


#: the base persons of 户籍 records H15… (H18, the groom whose 户口 moved in, has none)
_HUKOU_PIDS = ("P17", "P18", "P20", None, "P21", "P22")


def _wedding(
    record: str,
    husband: str,
    his: tuple[str, ...],
    wife: str,
    hers: tuple[str, ...],
    on: str = "2026-04-10",
    kind: str = "结婚",
) -> list[str]:
    """A registration (结婚 or 离婚) of the county's 民政局."""
    born = [f"{b[0][:4]}-{b[0][4:6]}-{b[0][6:]}" for b in (his, hers)]
    return [
        record,
        kind,
        on,
        husband,
        _id(*his),
        born[0],
        wife,
        _id(*hers),
        born[1],
        "永顺县民政局",
    ]


def _hukou_death(
    record: str, name: str, sex: str, born: tuple[str, ...], cancelled: str
) -> list[str]:
    birth = f"{born[0][:4]}-{born[0][4:6]}-{born[0][6:]}"
    return [
        record,
        name,
        "",
        sex,
        _id(*born),
        birth,
        "汉族",
        "H9",
        "户主",
        "",
        "农业",
        "死亡注销",
        cancelled,
        "",
    ]


def _hukou_alive(
    record: str, name: str, sex: str, born: tuple[str, ...], household: str = "H1"
) -> list[str]:
    row = _hukou_death(record, name, sex, born, "")
    return [*row[:7], household, *row[8:11], "正常", "", ""]


def _hukou_moved(
    record: str, name: str, sex: str, born: tuple[str, str], moved_to: str
) -> list[str]:
    row = _hukou_death(record, name, sex, born, "2026-05-01")
    return [*row[:11], "迁出注销", "2026-05-01", moved_to]


def _keys(found: pl.DataFrame, kind: str, *cols: str) -> list[tuple]:
    return sorted(found.filter(pl.col("finding_type") == kind).select(cols).iter_rows())


def test_each_finding_type_and_its_traps(county: Store) -> None:
    found = derive_findings(county, "links", "dedupe_pairs")
    # P02 is already cancelled (by a death record and by 公安); D3 is a non-resident: neither
    # is a finding. P08 is told only by 公安's 死亡注销.
    assert _keys(found, "suspected_death", "person_id", "source", "source_record_id") == [
        ("P01", "death", "D1"),
        ("P04", "death", "D4"),
        ("P08", "hukou", "H6"),
    ]
    p04 = found.filter(
        (pl.col("finding_type") == "suspected_death") & (pl.col("person_id") == "P04")
    ).row(0, named=True)
    assert json.loads(p04["evidence"])["records"] == ["D4", "D5"]  # both records cited
    assert json.loads(p04["evidence"])["hukou_records"] == ["H5"]  # and 公安's cancellation
    p08 = found.filter(
        (pl.col("finding_type") == "suspected_death") & (pl.col("person_id") == "P08")
    ).row(0, named=True)
    assert json.loads(p08["evidence"])["hukou_dates"] == ["2026-06-30"]
    assert json.loads(p04["evidence"])["reasons"][0] == "name: exact; id_number: exact"
    assert p04["priority"] == "high"
    assert p04["suggested_action"] == "人口死亡登记"
    # B2's mother is from elsewhere; twins B3/B4 both unregistered; of B5/B6 one is registered
    assert _keys(found, "unregistered_birth", "source_record_id") == [
        ("B1",),
        ("B3",),
        ("B4",),
        ("B6",),
    ]
    # width, traditional form, date format and the 15-digit ID are formatting only
    assert _keys(
        found, "attribute_conflict", "person_id", "field", "base_value", "source_value"
    ) == [
        ("P01", "ethnicity", "汉族", "苗族"),
        ("P08", "marital_status", "未婚", "已婚"),
        ("P10", "id_number", None, _id("19500707", "042")),
        ("P12", "id_number", "433127700303035", _id("19700303", "035")),
        ("P13", "id_number", _typo(_id("19850505", "044")), _id("19850505", "044")),
        ("P17", "hukou_type", "农业", "居民"),
        ("P22", "marital_status", "初婚", "离婚"),
    ]
    dup = found.filter(pl.col("finding_type") == "duplicate_person").row(0, named=True)
    assert (dup["person_id"], dup["other_person_id"]) == ("P10", "P09")  # keep the valid ID
    # 浙江 is another province: cancelled as 移交外省管理; moves within 湖南 are handed over
    assert _keys(found, "moved_out", "person_id", "cancellation_reason", "destination") == [
        ("P11", "移交外省管理", None)
    ]
    moved = found.filter(pl.col("finding_type") == "moved_out").row(0, named=True)
    assert json.loads(moved["evidence"])["moved_to"] == "浙江省杭州市西湖区"
    assert _keys(found, "transfer", "person_id", "cancellation_reason", "destination") == [
        ("P05", None, "433130"),
        ("P06", None, "430104"),
        ("P07", None, "433130"),
        ("P09", None, None),  # not placed: the task asks where, nothing is guessed
    ]
    members = {
        r["person_id"]: json.loads(r["evidence"])["household_members"]
        for r in found.filter(pl.col("finding_type") == "transfer").iter_rows(named=True)
    }
    assert members == {"P05": ["P05", "P07"], "P07": ["P05", "P07"], "P06": ["P06"], "P09": ["P09"]}
    # 婚嫁外省 is a clue: only P17's groom is from another province and neither here nor in
    # 户籍 (P18's is in the base, P20's 户口 moved in, P21's is from 湖南, P22 divorced)
    assert _keys(found, "married_out", "person_id", "source_record_id", "suggested_action") == [
        ("P17", "M2", "核实婚后居住地")
    ]
    assert _keys(found, "unregistered_person", "source_record_id") == [("H18",), ("H4",)]
    # no 户籍 record confirms them (P09/P10 are duplicates, P02 is cancelled, P16 exempt)
    unverified = {
        r["person_id"]: json.loads(r["evidence"])["looks_like"]
        for r in found.filter(pl.col("finding_type") == "unverified_person").iter_rows(named=True)
    }
    assert unverified == {"P07a": "newborn", "P14": "no_trace", "P15": "elsewhere"}
    # records of people in neither the base nor 户籍 are queried where they are registered:
    # by the ID's address code, else nowhere yet (M4's groom is in 户籍: not queried)
    assert _keys(
        found, "cross_county_query", "source", "source_record_id", "role", "destination"
    ) == [
        ("birth_certificate", "B2", "mother", None),
        ("death", "D3", "person", None),
        ("death", "D6", "person", "520303"),
        ("death", "D7", "person", None),  # the county itself is no county to query
        ("marriage", "M1", "wife", None),
        ("marriage", "M2", "husband", GD),
        ("marriage", "M5", "husband", HN),
        ("marriage", "M6", "husband", GD),
        ("marriage", "M7", "husband", GD),
    ]
    # every case for the townships says whose it is
    fieldwork = [k for k, t in FINDING_TYPES.items() if t.fieldwork]
    assert found.filter(pl.col("finding_type").is_in(fieldwork))["township"].null_count() == 0


def test_ids_stable_and_rejections_respected(county: Store) -> None:
    merge(county, derive_findings(county, "links", "dedupe_pairs"), run_id="night-1")
    first = open_findings(county)
    death = first.filter(
        (pl.col("finding_type") == "suspected_death") & (pl.col("person_id") == "P01")
    )["finding_id"][0]
    set_status(county, [death], "rejected", note="township: the person is alive")
    merge(county, derive_findings(county, "links", "dedupe_pairs"), run_id="night-2")
    second = open_findings(county)
    assert set(second["finding_id"]) == set(first["finding_id"])  # stable ids
    assert second.filter(pl.col("finding_id") == death)["status"][0] == "rejected"
    # new evidence: a second death record for the same person reopens the case
    county.con.execute(
        "INSERT INTO links VALUES ('death', 'D3', 'person', 'P01', 0.99, 'name: pinyin exact')"
    )
    county.con.execute("DELETE FROM links WHERE source_record_id = 'D3' AND person_id IS NULL")
    county.con.execute(
        "UPDATE person_records SET event_date = DATE '2026-02-02' "
        "WHERE source = 'death' AND record_id = 'D3'"
    )
    merge(county, derive_findings(county, "links", "dedupe_pairs"), run_id="night-3")
    third = open_findings(county)
    assert third.filter(pl.col("finding_id") == death)["status"][0] == "open"


def test_case_resolved_in_the_base_closes_by_itself(county: Store) -> None:
    merge(county, derive_findings(county, "links", "dedupe_pairs"), run_id="night-1")
    county.con.execute(
        "UPDATE person_records SET status = '迁出注销' "
        "WHERE source = 'population' AND record_id = 'P11'"
    )
    outcome = merge(county, derive_findings(county, "links", "dedupe_pairs"), run_id="night-2")
    assert outcome["closed"] == 1
    assert (
        "P11"
        not in open_findings(county)
        .filter(pl.col("finding_type") == "moved_out")["person_id"]
        .to_list()
    )


def _cases(county: Store, kind: str) -> dict[str, dict[str, Any]]:
    """Tonight's candidate findings of ``kind``, by person."""
    found = derive_findings(county, "links", "dedupe_pairs")
    return {
        r["person_id"]: r
        for r in found.filter(pl.col("finding_type") == kind).iter_rows(named=True)
    }


def _context(src: dict[tuple[str, str], dict[str, Any]]) -> TaskContext:
    """What a task list would know: only the given source rows, IDs and labels as they are."""
    return TaskContext(base={}, src=src, persons={}, explain=lambda _: "", mask=str, source_zh=str)


def test_the_clue_of_a_death_says_who_told_it(county: Store) -> None:
    deaths = _cases(county, "suspected_death")
    ctx = _context(
        {
            ("death", "D4"): {"origin": "火化", "death_date": "2026-04-01"},
            ("death", "D5"): {"origin": "死亡医学证明", "death_date": "2026-04-01"},
        }
    )
    kind = FINDING_TYPES["suspected_death"]
    assert kind.clue(deaths["P04"], ctx) == (
        "殡葬记录 2026-04-01 火化；死亡医学证明 2026-04-01 死亡；公安户籍 2026-04-05 死亡注销"
    )
    assert kind.clue(deaths["P08"], ctx) == "公安户籍 2026-06-30 死亡注销"


def test_an_id_conflict_shows_what_differs_once_both_numbers_are_masked(county: Store) -> None:
    from linkage.findings.attribute_conflict import id_difference
    from linkage.settings import load_settings
    from linkage.tasks.tasklist import mask_ids

    right = _id("19850505", "044")
    assert id_difference(None, right) == "人口库无身份证号"
    assert id_difference("433127850505044", right) == "人口库为15位旧号"
    assert id_difference(_typo(right), right) == "第10位不同"
    assert id_difference(right[:7] + right[8] + right[7] + right[9:], right) == "第8、9位不同"

    settings = load_settings()
    ctx = TaskContext(
        base={},
        src={},
        persons={},
        explain=lambda _: "",
        mask=lambda v: mask_ids([v], settings)[0] or "",
        source_zh=lambda s: "公安户籍",
    )
    found = derive_findings(county, "links", "dedupe_pairs")
    clues = {
        r["person_id"]: FINDING_TYPES["attribute_conflict"].clue(r, ctx)
        for r in found.filter(pl.col("field") == "id_number").iter_rows(named=True)
    }
    # masked alike (first 6 and last 4 kept), the words still tell them apart
    assert mask_ids([_typo(right)], settings) == mask_ids([right], settings)
    assert clues["P13"].endswith("（第10位不同）；人口库：433127********0447")
    assert "（人口库无身份证号）" in clues["P10"] and "人口库：（无）" in clues["P10"]
    assert "（人口库为15位旧号）" in clues["P12"]
    assert _id("19850505", "044") not in "".join(clues.values())  # no whole number shown


def test_a_transfer_names_where_it_goes_or_asks(county: Store) -> None:
    moves = _cases(county, "transfer")
    ctx = _context(
        {
            ("hukou", "H11"): {"change_date": "2026-05-01", "moved_to": "湘西州龙山县民安街道"},
            ("hukou", "H14"): {"change_date": "2026-05-01", "moved_to": "外地"},
        }
    )
    kind = FINDING_TYPES["transfer"]
    assert kind.clue(moves["P05"], ctx) == (
        "公安户籍 2026-05-01 迁出注销，迁往湘西州龙山县民安街道（湖南省湘西土家族苗族自治州龙山县）"
        "；整户移交（户号 H9，同户2人）"
    )
    assert kind.clue(moves["P09"], ctx).endswith("迁往地无法确定，请核实现户籍地")
    change = kind.change_row(moves["P05"])
    assert (change["变更类型"], change["新值"]) == (
        "移交",
        "湖南省湘西土家族苗族自治州龙山县 433130；整户移交（户号 H9，同户2人）",
    )
    assert "注销原因" not in change  # a transfer cancels nobody


def test_no_unverified_person_unless_the_register_is_whole(
    county: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "hukou.toml").write_text("[delivery]\nsnapshot = false\n", "utf-8")
    monkeypatch.setenv("RENKOU_CONFIG", str(tmp_path))
    found = derive_findings(county, "links", "dedupe_pairs")
    assert found.filter(pl.col("finding_type") == "unverified_person").is_empty()
    # and the night's summary says why
    from linkage import pipeline
    from linkage.run_summary import findings_counts

    merged = pipeline.findings(county, "night-1")
    (note,) = merged.notes
    assert "no unverified_person" in note and "snapshot" in note
    assert findings_counts(county, merged.outcome, merged.notes)["notes"] == [note]


def test_a_confirmed_false_entry_is_cancelled_with_its_births(county: Store) -> None:
    kind = FINDING_TYPES["unverified_person"]
    rows = _cases(county, "unverified_person")
    false_entry = {**rows["P14"], "线索来源及内容": "公安户籍库中无此人"}
    false_entry["evidence"] = json.dumps({"looks_like": "no_trace", "births": ["P99"]})
    change = kind.change_row(false_entry)
    assert change is not None
    assert (change["变更类型"], change["注销原因"]) == ("注销", "错误信息注销")
    assert change["依据"].endswith("相关联的出生信息一并删除：P99")
    assert kind.change_row(rows["P07a"]) is None  # a newborn without 户口: nothing to cancel
    assert kind.change_row(rows["P15"]) is None  # registered elsewhere: told, not cancelled


def test_a_marriage_to_another_province_asks_where_the_couple_lives(county: Store) -> None:
    kind = FINDING_TYPES["married_out"]
    (case,) = _cases(county, "married_out").values()
    assert kind.clue(case, _context({})) == (
        "婚姻登记 2026-04-10 结婚，配偶身份证号属广东省广州市天河区，配偶不在本县人口库，户口未迁入"
    )
    assert case["cancellation_reason"] == "移交外省管理"
    assert "仍在本县居住的不注销" in kind.action_zh  # a clue: only a confirmed answer cancels
    change = kind.change_row(case)
    assert change is not None
    assert (change["变更类型"], change["注销原因"], change["新值"]) == (
        "注销",
        "移交外省管理",
        "迁出注销",
    )
