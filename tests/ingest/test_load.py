"""Ingest: every format and encoding, bad files beside good ones, idempotent re-ingest."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from linkage.ingest.load import ingest_inbox
from linkage.persons import refresh_person_records
from linkage.standardise.ids import check_char
from linkage.store import Store
from tests.conftest import write_csv, write_parquet, write_xlsx
from tests.headers import DEATH_HEADER, POP_HEADER


def _id(birth: str, order: str) -> str:
    body = "433127" + birth + order
    return body + check_char(body)


def _pop_rows() -> list[list[str]]:
    return [
        [
            "P001",
            "张　伟",
            "男",
            _id("19800101", "011"),
            "1980-01-01",
            "汉族",
            "H1",
            "户主",
            "初婚",
            "农业",
            "湖南省湘西州永顺县灵溪镇猛必村三组12号",
            "",
            "灵溪镇",
            "猛必村",
            "正常",
            "2026-01-01",
        ],
        [
            "P002",
            "單秀英",
            "2",
            _id("19820304", "022"),
            "1982年3月4日",
            "土家",
            "H1",
            "配偶",
            "20",
            "农业",
            "永顺县灵溪镇猛必村三组12号",
            "",
            "灵溪镇",
            "猛必村",
            "正常",
            "2026/1/1",
        ],
        [
            "P003",
            "阿依古丽•买买提",
            "F",
            _id("19900505", "044").lower(),
            "19900505",
            "维吾尔族",
            "H2",
            "户主",
            "未婚",
            "居民",
            "永顺县首车镇首车社区",
            "",
            "首车镇",
            "首车社区",
            "正常",
            "20260101",
        ],
    ]


def _death_rows() -> list[list[str]]:
    return [["D001", "张伟", "男", "", "1980.01.01", "2026年3月5日", "灵溪镇猛必村", "火化"]]


@pytest.mark.parametrize("fmt", ["utf-8", "utf-8-sig", "gb18030", "xlsx", "parquet"])
def test_each_format_and_encoding_loads_the_same(tmp_path: Path, fmt: str) -> None:
    inbox = tmp_path / "inbox"
    path = inbox / "population" / f"pop.{ {'xlsx': 'xlsx', 'parquet': 'parquet'}.get(fmt, 'csv') }"
    if fmt == "xlsx":
        write_xlsx(path, POP_HEADER, _pop_rows())
    elif fmt == "parquet":
        write_parquet(path, POP_HEADER, _pop_rows())
    else:
        write_csv(path, POP_HEADER, _pop_rows(), encoding=fmt)
    with Store(tmp_path / "home") as store:
        report = ingest_inbox(store, inbox)
        assert [f.status for f in report.files] == ["loaded"]
        assert report.files[0].rows_loaded == 3
        rows = store.frame(
            "SELECT person_id, name, sex, birth_date::VARCHAR AS bd, ethnicity, "
            "marital_status FROM src_population ORDER BY person_id"
        ).rows()
    assert rows == [
        ("P001", "张　伟", "男", "1980-01-01", "汉族", "初婚"),
        ("P002", "單秀英", "女", "1982-03-04", "土家族", "已婚"),
        ("P003", "阿依古丽•买买提", "女", "1990-05-05", "维吾尔族", "未婚"),
    ]


def test_bad_files_are_rejected_and_good_ones_still_load(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_csv(inbox / "population" / "pop.csv", POP_HEADER, _pop_rows())
    write_csv(inbox / "death" / "a_good.csv", DEATH_HEADER, _death_rows(), encoding="gb18030")
    write_csv(
        inbox / "death" / "b_no_death_date.csv",
        [h for h in DEATH_HEADER if h != "死亡日期"],
        [["D9", "王五", "", "", "", "", ""]],
    )
    (inbox / "death" / "c_binary.csv").write_bytes(b"\xff\xfe\xff\x00garbage\xff")
    (inbox / "death" / "d_empty.csv").write_bytes(b"")
    write_csv(inbox / "death" / "e_header_only.csv", DEATH_HEADER, [])
    write_csv(inbox / "weather" / "x.csv", ["a"], [["1"]])
    with Store(tmp_path / "home") as store:
        report = ingest_inbox(store, inbox)
        status = {f.file: (f.status, f.message) for f in report.files}
        assert status["a_good.csv"][0] == "loaded"
        assert "missing required column(s) 死亡日期" in status["b_no_death_date.csv"][1]
        assert "not readable as UTF-8 or GB18030" in status["c_binary.csv"][1]
        assert "empty" in status["d_empty.csv"][1]
        assert "no data rows" in status["e_header_only.csv"][1]
        assert any("weather/" in p and "unknown source folder" in p for p in report.problems)
        ledger = store.frame("SELECT file, status FROM load_ledger ORDER BY file").rows()
        assert ("b_no_death_date.csv", "rejected") in ledger
        assert store.frame("SELECT count(*) AS n FROM src_death")["n"][0] == 1


def test_reingest_is_idempotent_and_later_files_update(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_csv(inbox / "population" / "pop.csv", POP_HEADER, _pop_rows())
    write_csv(inbox / "death" / "d1.csv", DEATH_HEADER, _death_rows())
    with Store(tmp_path / "home") as store:
        first = ingest_inbox(store, inbox)
        refresh_person_records(store, first.changed_sources)
        again = ingest_inbox(store, inbox)
        assert {f.status for f in again.files} == {"already_loaded"}
        assert store.frame("SELECT count(*) AS n FROM src_population")["n"][0] == 3
        # a later delivery repeating one death and correcting another row
        rows = _death_rows() + [["D002", "李四", "女", "", "", "2026-04-01", "", "死亡医学证明"]]
        write_csv(inbox / "death" / "d2.csv", DEATH_HEADER, rows)
        changed = _death_rows()[0][:]
        changed[5] = "2026-03-06"
        write_csv(inbox / "death" / "d3.csv", DEATH_HEADER, [changed])
        third = ingest_inbox(store, inbox)
        by_file = {f.file: f for f in third.files}
        assert (by_file["d2.csv"].rows_loaded, by_file["d2.csv"].rows_unchanged) == (1, 1)
        assert by_file["d3.csv"].rows_updated == 1
        deaths = store.frame(
            "SELECT record_id, death_date::VARCHAR AS d FROM src_death ORDER BY record_id"
        ).rows()
        assert deaths == [("D001", "2026-03-06"), ("D002", "2026-04-01")]


def test_quarantine_names_file_row_and_reason_and_logs_hold_no_personal_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = tmp_path / "inbox"
    rows = _pop_rows()
    rows[1][14] = "活着"  # status outside the vocabulary
    rows[2][0] = ""  # no person_id
    write_csv(inbox / "population" / "pop.csv", POP_HEADER, rows)
    caplog.set_level(logging.DEBUG)
    with Store(tmp_path / "home") as store:
        report = ingest_inbox(store, inbox)
        assert report.files[0].rows_quarantined == 2
        quarantined = store.frame('SELECT file, "row", reasons, raw FROM quarantine ORDER BY "row"')
    assert quarantined["file"].to_list() == ["pop.csv", "pop.csv"]
    assert quarantined["row"].to_list() == [3, 4]  # spreadsheet rows: header is row 1
    assert "人员状态 (status)" in quarantined["reasons"][0]
    assert "單秀英" in quarantined["raw"][0]  # nothing lost: the raw row is kept
    for row in _pop_rows():
        for value in (row[1], row[3]):
            assert value not in caplog.text


def test_header_problems_name_columns_by_position_and_quote_no_cell(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A missing, overwritten or misplaced header row: the rejection says which columns and
    what was expected, and quotes none of the person in row 1 (issue 16)."""
    person = ["D1", "欧阳雪梅", "女", _id("19561103", "264"), "1956-11-03", "2026-03-01"]
    person += ["永顺县灵溪镇欧阳巷八号", "火化"]
    inbox = tmp_path / "inbox"
    write_csv(inbox / "population" / "pop.csv", POP_HEADER, _pop_rows())
    write_csv(inbox / "death" / "a_no_header.csv", person, [person])
    overwritten = DEATH_HEADER[:3] + person[3:]  # 死亡日期 and the columns after it are data
    write_csv(inbox / "death" / "b_overwritten.csv", overwritten, [person])
    write_xlsx(inbox / "death" / "c_title_row.xlsx", person, [DEATH_HEADER, person])
    one_unknown = [h if h != "死亡日期" else "欧阳雪梅" for h in DEATH_HEADER]
    write_csv(inbox / "death" / "d_one_cell.csv", one_unknown, [person])
    caplog.set_level(logging.DEBUG)
    with Store(tmp_path / "home") as store:
        report = ingest_inbox(store, inbox)
        ledger = " ".join(store.frame("SELECT message FROM load_ledger")["message"])
    said = {f.file: f.message for f in report.files if f.status == "rejected"}
    assert said["a_no_header.csv"].startswith(
        "columns 1 to 8 of the header row are not column names of 死亡/殡葬记录 (expected: "
        "记录编号, 姓名, 性别, 公民身份号码, 出生日期, 死亡日期, 生前住址, 数据来源); the file "
        "looks like it has no header row. Fix: add the header row"
    )
    assert said["b_overwritten.csv"].startswith(
        "missing required column(s) 死亡日期; columns 4 to 8 of the header row are not column "
        "names of 死亡/殡葬记录"
    )
    assert said["c_title_row.xlsx"].startswith(
        "row 2 holds the column names of 死亡/殡葬记录, not row 1: the row above it is not the "
        "header row. Fix: delete that row"
    )
    assert "column 6 of the header row is not a column name" in said["d_one_cell.csv"]
    for secret in [person[1], *person[3:7], "19561103"]:
        assert secret not in " ".join(said.values()) + ledger + caplog.text
