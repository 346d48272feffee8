"""The children no register counts (issue 20), on a hand-made county delivered through the
real contracts: a child known only to the school roll; a child with a certificate, an
immunisation record and a school place (one case, three pieces of evidence); a guardian ID
that is the father's (not taken as the mother's; a 黑户 child of his household); twins at one
school (two cases); a child whose guardian's ID is from another county (a 协查, not a local
case); and the birth database coverage they make."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest

from linkage.findings import derive_findings
from linkage.ingest.load import ingest_inbox
from linkage.persons import PERSON_TABLE, refresh_person_records
from linkage.report.quality import birth_coverage
from linkage.store import Store
from tests.conftest import Renkou, write_csv
from tests.findings.test_rules import _id, person
from tests.headers import BC_HEADER, HUKOU_HEADER, POP_HEADER, SCHOOL_HEADER, VAC_HEADER

#: 贵州省贵阳市南明区: a family registered there, living here
GZ = "520102"
AS_OF = dt.date(2026, 10, 31)

FATHER_A, MOTHER_A = _id("19900101", "011"), _id("19920202", "022")
MOTHER_B = _id("19900303", "024")
FATHER_C = _id("19880404", "031")
MOTHER_D = _id("19910505", "026")
GUARDIAN_E = _id("19930606", "042", GZ)

BASE = [
    person("P1", "王军", "男", "19900101", "011", household="HA"),
    person("P2", "李娟", "女", "19920202", "022", household="HA"),
    person("P3", "赵丽", "女", "19900303", "024", household="HB"),
    person("P4", "孙强", "男", "19880404", "031", household="HC"),
    person("P5", "周敏", "女", "19910505", "026", household="HD"),
    person("P6", "周乐", "男", "20170707", "013", household="HD", marital="未婚"),
    # a couple whose wife's base row stayed in her parents' household
    person("P7", "钱芳", "女", "19940808", "046", household="HF1"),
    person("P8", "郑刚", "男", "19930909", "055", household="HF2"),
]


def _vac(record: str, name: str, sex: str, born: str, mother: str, guardian: str) -> list[str]:
    return [record, name, sex, born, "", mother, guardian, "", "灵溪镇卫生院", born]


def _pupil(
    record: str, name: str, sex: str, born: str, guardian: str, guardian_id: str, pid: str = ""
) -> list[str]:
    return [record, name, sex, born, pid, guardian, guardian_id, "", "灵溪镇中心完全小学", "三年级"]


@pytest.fixture
def county(tmp_path: Path) -> Store:
    inbox = tmp_path / "inbox"
    write_csv(inbox / "population" / "base.csv", POP_HEADER, BASE)
    hukou = [
        [f"H{i}", name, "", sex, id_number, "", "汉族", hh, "户主", "", "农业", "正常", "", ""]
        for i, (name, sex, id_number, hh) in enumerate(
            [
                ("王军", "男", FATHER_A, "HA"),
                ("李娟", "女", MOTHER_A, "HA"),
                ("赵丽", "女", MOTHER_B, "HB"),
                ("孙强", "男", FATHER_C, "HC"),
                ("周敏", "女", MOTHER_D, "HD"),
                ("周乐", "男", _id("20170707", "013"), "HD"),
                ("孙二", "男", "", "HC"),  # 户籍 knows this child; the base does not
            ],
            start=1,
        )
    ]
    hukou[-1][5] = "2020-02-02"
    write_csv(inbox / "hukou" / "hukou.csv", HUKOU_HEADER, hukou)
    write_csv(
        inbox / "birth_certificate" / "bc.csv",
        BC_HEADER,
        [
            ["B1", "", "男", "2022-05-01", "县医院", "李娟", MOTHER_A, "王军", "", ""],
            ["B9", "", "女", "2025-01-10", "县医院", "钱芳", "", "郑刚", "", ""],
        ],
    )
    write_csv(
        inbox / "vaccination" / "vac.csv",
        VAC_HEADER,
        [
            _vac("V1", "王小明", "男", "2022-05-01", "李娟", MOTHER_A),  # = B1, S1
            _vac("V3", "", "女", "2021-01-01", "吴外", FATHER_C),  # the father's ID
            _vac("V4", "孙二", "男", "2020-02-02", "吴外", FATHER_C),  # in 户籍
            _vac("V7", "", "男", "2024-01-01", "外地妈", GUARDIAN_E),  # from 贵州
            _vac("V9", "郑小雨", "女", "2025-01-10", "钱芳", _id("19930909", "055")),  # = B9
        ],
        encoding="gb18030",
    )
    write_csv(
        inbox / "school" / "school.csv",
        SCHOOL_HEADER,
        [
            _pupil("S1", "王小明", "男", "2022-05-01", "王军", FATHER_A),  # = B1, V1
            _pupil("S2", "陈一", "女", "2018-09-01", "赵丽", MOTHER_B),  # school only
            _pupil("S5", "周大", "男", "2019-06-06", "周敏", MOTHER_D),  # twins
            _pupil("S6", "周二", "男", "2019-06-06", "周敏", MOTHER_D),
            _pupil("S8", "周乐", "男", "2017-07-07", "周敏", MOTHER_D, _id("20170707", "013")),
        ],
    )
    store = Store(tmp_path / "home")
    report = ingest_inbox(store, inbox)
    assert all(f.status == "loaded" for f in report.files), report.files
    refresh_person_records(store)
    linked = {
        ("birth_certificate", "B1", "mother"): "P2",
        ("birth_certificate", "B1", "father"): "P1",
        ("birth_certificate", "B9", "mother"): "P7",
        ("birth_certificate", "B9", "father"): "P8",
        ("vaccination", "V9", "guardian"): "P8",  # the mother's name linked nobody here
        ("vaccination", "V1", "mother"): "P2",
        ("vaccination", "V1", "guardian"): "P2",
        ("vaccination", "V3", "guardian"): "P4",
        ("vaccination", "V4", "guardian"): "P4",
        ("school", "S1", "guardian"): "P1",
        ("school", "S2", "guardian"): "P3",
        ("school", "S5", "guardian"): "P5",
        ("school", "S6", "guardian"): "P5",
        ("school", "S8", "guardian"): "P5",
        ("school", "S8", "person"): "P6",
        **{("hukou", f"H{i}", "person"): f"P{i}" for i in range(1, 7)},
    }
    records = store.frame(
        f"SELECT source, record_id AS source_record_id, role FROM {PERSON_TABLE} "
        f"WHERE source <> 'population'"
    )
    links = records.with_columns(
        pl.struct("source", "source_record_id", "role")
        .map_elements(
            lambda k: linked.get((k["source"], k["source_record_id"], k["role"])),
            return_dtype=pl.String,
        )
        .alias("person_id")
    ).with_columns(
        pl.when(pl.col("person_id").is_not_null()).then(0.999).alias("match_probability"),
        pl.lit("name: exact; id_number: exact").alias("explanation"),
    )
    store.replace_table("links", links)
    return store


def _cases(found: pl.DataFrame, kind: str) -> dict[str, dict[str, object]]:
    rows = found.filter(pl.col("finding_type") == kind).iter_rows(named=True)
    return {f"{r['source']}|{r['source_record_id']}": r for r in rows}


def test_a_guardian_id_counts_as_the_mothers_only_when_it_can_be(county: Store) -> None:
    """The father's ID (sex digit 男) is no evidence for the mother; the mother's is."""
    roles = county.frame(
        f"SELECT record_id, role, id_number FROM {PERSON_TABLE} WHERE source = 'vaccination' "
        f"AND role IN ('mother', 'guardian') ORDER BY record_id, role"
    )
    ids = {(r, role): n for r, role, n in roles.iter_rows()}
    assert ids[("V1", "mother")] == MOTHER_A  # the guardian is the mother
    assert ids[("V3", "mother")] is None  # the guardian is the father
    assert ids[("V3", "guardian")] == FATHER_C  # … and his ID is his


def test_one_child_one_case_whatever_records_show_it(county: Store) -> None:
    found = derive_findings(county, "links", None)
    births = _cases(found, "unregistered_birth")
    # certificate, immunisation record and school place: one case, the certificate's
    assert set(births) == {
        "birth_certificate|B1",
        "birth_certificate|B9",
        "school|S2",
        "school|S5",
        "school|S6",
    }
    shown = json.loads(str(births["birth_certificate|B1"]["evidence"]))["shown_by"]
    assert shown == ["birth_certificate|B1", "vaccination|V1", "school|S1"]
    assert births["birth_certificate|B1"]["other_person_id"] == "P2"
    # the father's household and the mother's are one family: one child, not two
    shown = json.loads(str(births["birth_certificate|B9"]["evidence"]))["shown_by"]
    assert shown == ["birth_certificate|B9", "vaccination|V9"]
    assert "vaccination|V9" not in _cases(found, "unregistered_person")
    # known only to the school roll, the guardian its mother
    assert births["school|S2"]["other_person_id"] == "P3"
    # twins at one school: two children, two cases
    assert births["school|S5"]["case_key"] != births["school|S6"]["case_key"]


def test_a_child_of_the_fathers_household_whom_no_register_knows(county: Store) -> None:
    """V3: the guardian is the father, the mother no base person, 户籍 does not know the child:
    a 黑户 child to 补录 (and 落户 with 公安). V4: 户籍 knows the child: the 户籍 record's case,
    not a second one."""
    found = derive_findings(county, "links", None)
    persons = _cases(found, "unregistered_person")
    assert "vaccination|V3" in persons and "vaccination|V4" not in persons
    assert persons["vaccination|V3"]["other_person_id"] == "P4"
    assert json.loads(str(persons["vaccination|V3"]["evidence"]))["unregistered_in_hukou"]
    assert "hukou|H7" in persons  # 孙二, 户籍's own case
    assert "vaccination|V3" not in _cases(found, "unregistered_birth")


def test_a_family_from_another_county_is_queried_there(county: Store) -> None:
    found = derive_findings(county, "links", None)
    queries = found.filter(
        (pl.col("finding_type") == "cross_county_query") & (pl.col("source") == "vaccination")
    )
    assert queries.select("source_record_id", "role", "destination").rows() == [
        ("V7", "guardian", GZ)
    ]
    local = found.filter(
        pl.col("finding_type").is_in(["unregistered_birth", "unregistered_person"])
        & (pl.col("source_record_id") == "V7")
    )
    assert local.is_empty()
    # a guardian of a county family (V3's father is linked) is never queried
    assert not (queries["source_record_id"] == "V3").any()


def test_birth_database_coverage_counts_each_child_once(county: Store) -> None:
    """Children 0-10 known to a source: 周乐 (S8, in the base), 王小明 (three records), 陈一,
    the twins, V3's and V4's children, 郑小雨 (two records) = 8, one in the base; V7's family
    is not the county's."""
    county_row = birth_coverage(county, as_of=AS_OF).row(0, named=True)
    assert (county_row["children"], county_row["in_base"]) == (8, 1)
    assert county_row["rate"] == pytest.approx(1 / 8)
    towns = birth_coverage(county, as_of=AS_OF, by_township=True)
    assert towns["township"].to_list() == ["灵溪镇"]
    # a child older than ten is no longer counted
    older = birth_coverage(county, as_of=dt.date(2028, 7, 8)).row(0, named=True)
    assert (older["children"], older["in_base"]) == (7, 0)


@pytest.mark.parametrize(
    ("source", "headers"),
    [("vaccination", VAC_HEADER), ("school", SCHOOL_HEADER)],
)
def test_renkou_contracts_documents_the_columns(
    renkou: Renkou, source: str, headers: list[str]
) -> None:
    result = renkou("contracts", source)
    assert result.code == 0, result.err
    for header in headers:
        assert header in result.out
    assert "guardian_id_number" in result.out
