"""Real departmental layouts (issue 17): title rows, two-row merged headers, footers, several
sheets, legacy .xls, Excel's "Unicode text", broken lines that spoil a row and not the file,
and a month without a single record."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
from pathlib import Path

import pytest

from linkage.ingest.load import IngestReport, ingest_inbox
from linkage.standardise.ids import check_char
from linkage.store import Store
from tests.conftest import write_csv
from tests.headers import BC_HEADER, DEATH_HEADER, POP_HEADER

NAMES = ["欧阳雪梅", "覃建军", "彭桂英", "向秀兰"]


def _id(birth: str, order: str) -> str:
    body = "433127" + birth + order
    return body + check_char(body)


def _deaths() -> list[list[str]]:
    return [
        [f"D{i}", n, "女", _id("19561103", f"{i}64"), "1956-11-03", f"2026-10-0{i}", "灵溪镇"]
        + ["火化"]
        for i, n in enumerate(NAMES, start=1)
    ]


def _inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    person = ["P1", "张伟", "男", _id("19800101", "011"), "1980-01-01", "汉族", "H1", "户主"]
    person += ["初婚", "农业", "永顺县灵溪镇", "", "灵溪镇", "猛必村", "正常", "2026-01-01"]
    write_csv(inbox / "population" / "pop.csv", POP_HEADER, [person])
    return inbox


def _ingest(tmp_path: Path, inbox: Path) -> tuple[IngestReport, Store]:
    store = Store(tmp_path / "home")
    return ingest_inbox(store, inbox), store


def _said(report: IngestReport, store: Store) -> str:
    """Everything the ingest told: report problems, file messages, the ledger."""
    ledger = " ".join(store.frame("SELECT message FROM load_ledger")["message"].fill_null(""))
    return " ".join([*report.problems, *(f.message for f in report.files), ledger])


def _assert_no_person(text: str) -> None:
    for row in _deaths():
        for value in (row[1], row[3]):
            assert value not in text


def test_title_rows_footer_and_second_sheet_of_an_excel_export(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """说明 sheet first; then a merged title row, a blank row, the header on row 3, the
    people, a 合计 row and a 制表人 row: the people load with their spreadsheet rows."""
    import openpyxl

    inbox = _inbox(tmp_path)
    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "说明"
    notes["A1"] = "本表由民政局导出，按月报送"
    sheet = book.create_sheet("死亡名单")
    sheet["A1"] = "XX县2026年10月死亡人员名单"
    sheet.merge_cells("A1:H1")
    sheet.append([])
    sheet.append(DEATH_HEADER)
    rows = _deaths()
    rows[2][5] = "去年冬天"  # row 6: no date → quarantined, with its spreadsheet row
    for row in rows:
        sheet.append(row)
    sheet.append(["合计", "4人"])
    sheet.append([])
    sheet.append(["制表人：", "", "", "审核人："])
    (inbox / "death").mkdir(parents=True)
    book.save(inbox / "death" / "2026年10月.xlsx")
    caplog.set_level(logging.DEBUG)
    report, store = _ingest(tmp_path, inbox)
    with store:
        death = next(f for f in report.files if f.source == "death")
        assert (death.status, death.rows_in, death.rows_loaded) == ("loaded", 4, 3)
        assert store.frame("SELECT _row FROM src_death ORDER BY _row")["_row"].to_list() == [
            4,
            5,
            7,
        ]
        quarantined = store.frame('SELECT "row", reasons FROM quarantine').rows()
        assert [r[0] for r in quarantined] == [6]
        assert "死亡日期" in quarantined[0][1]
        said = _said(report, store)
    assert "sheet 2 ('死亡名单') was read" in said
    assert "the column names of 死亡/殡葬记录 are on row 3: rows 1 to 2 above it" in said
    assert "reading stopped at row 8: it starts the footer (合计)" in said
    _assert_no_person(said + caplog.text)


def test_two_row_merged_header_is_flattened(tmp_path: Path) -> None:
    """母亲/父亲 group labels merged over 姓名 and 身份证件号码, under a title row."""
    import openpyxl

    inbox = _inbox(tmp_path)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["永顺县2026年10月出生医学证明签发登记"])
    sheet.merge_cells("A1:J1")
    top = BC_HEADER[:5] + ["母亲", None, "父亲", None, "家庭住址"]
    bottom = [None] * 5 + ["姓名", "身份证件号码", "姓名", "身份证件号码", None]
    sheet.append(top)
    sheet.append(bottom)
    for column in "ABCDEJ":
        sheet.merge_cells(f"{column}2:{column}3")
    sheet.merge_cells("F2:G2")
    sheet.merge_cells("H2:I2")
    mother, father = _id("19950203", "024"), _id("19930405", "031")
    sheet.append(["BC1", "", "男", "2026-10-02", "县医院", "彭桂英", mother, "覃建军", father])
    sheet.cell(row=4, column=10, value="灵溪镇")
    (inbox / "birth_certificate").mkdir(parents=True)
    book.save(inbox / "birth_certificate" / "出生.xlsx")
    report, store = _ingest(tmp_path, inbox)
    with store:
        births = next(f for f in report.files if f.source == "birth_certificate")
        assert (births.status, births.rows_loaded) == ("loaded", 1)
        row = store.frame(
            "SELECT _row, mother_name, mother_id_number, father_name, father_id_number, address "
            "FROM src_birth_certificate"
        ).rows()
        said = _said(report, store)
    assert row == [(4, "彭桂英", mother, "覃建军", father, "灵溪镇")]
    assert "rows 2 and 3 are a two-row header, read as one" in said


def _write_xls(path: Path, rows: list[list[str]]) -> None:
    """A legacy .xls: with xlwt (the dev extra), else LibreOffice from an .xlsx."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import xlwt  # type: ignore[import-untyped]
    except ImportError:
        import openpyxl

        soffice = shutil.which("soffice")
        if soffice is None:
            pytest.skip("neither xlwt nor LibreOffice (soffice) to write an .xls")
        book = openpyxl.Workbook()
        for row in rows:
            book.active.append(row)
        book.save(path.with_suffix(".xlsx"))
        subprocess.run(
            [soffice, "--headless", "--convert-to", "xls", "--outdir", str(path.parent)]
            + [str(path.with_suffix(".xlsx"))],
            check=True,
            capture_output=True,
            timeout=120,
        )
        path.with_suffix(".xlsx").unlink()
        return
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            sheet.write(i, j, value)
    book.save(str(path))


def test_legacy_xls_is_read(tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    _write_xls(
        inbox / "death" / "old.xls",
        [["XX县2026年10月死亡人员名单"], [], DEATH_HEADER, *_deaths()],
    )
    report, store = _ingest(tmp_path, inbox)
    with store:
        death = next(f for f in report.files if f.source == "death")
        assert (death.status, death.rows_loaded) == ("loaded", 4)
        assert death.message.startswith("xls")
        rows = store.frame("SELECT _row, name FROM src_death ORDER BY _row").rows()
    assert rows == [(4, NAMES[0]), (5, NAMES[1]), (6, NAMES[2]), (7, NAMES[3])]


def test_excel_unicode_text_utf16_tab_separated(tmp_path: Path) -> None:
    """Excel's 另存为 → Unicode 文本: UTF-16 LE with BOM FF FE, tab-separated, CRLF."""
    inbox = _inbox(tmp_path)
    text = "\r\n".join("\t".join(r) for r in [DEATH_HEADER, *_deaths()]) + "\r\n"
    path = inbox / "death" / "unicode.txt"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    report, store = _ingest(tmp_path, inbox)
    with store:
        death = next(f for f in report.files if f.source == "death")
        assert (death.status, death.rows_loaded, death.rows_quarantined) == ("loaded", 4, 0)
        assert death.message.startswith("utf-16, tab-separated")
        rows = store.frame("SELECT _row, name FROM src_death ORDER BY _row").rows()
    assert rows == [(2, NAMES[0]), (3, NAMES[1]), (4, NAMES[2]), (5, NAMES[3])]


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8"])
def test_broken_lines_are_quarantined_with_their_line_and_the_rest_loads(
    tmp_path: Path, encoding: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A line with a field too many, one with bad bytes, one cut short: three quarantined
    rows naming their line; the other lines load with their line numbers."""
    inbox = _inbox(tmp_path)
    lines = [",".join(DEATH_HEADER).encode(encoding)]
    rows = _deaths() + [
        ["D5", "田景明", "男", "", "", "2026-10-05", "首车镇", "火化"],
        ["D6", "黄天云", "男", "", "", "2026-10-06", "首车镇", "火化"],
    ]
    for i, row in enumerate(rows):
        line = ",".join(row).encode(encoding)
        if i == 1:  # line 3: an unquoted comma inside the address
            line = ",".join(row[:6] + ["灵溪镇,猛必村"] + row[7:]).encode(encoding)
        if i == 2:  # line 4: bytes that are no character
            line = line.replace(NAMES[2].encode(encoding), NAMES[2].encode(encoding)[:3] + b"\xff")
        if i == 3:  # line 5: cut short
            line = ",".join(row[:4]).encode(encoding)
        lines.append(line)
    lines.insert(6, b"")  # a blank line 7: not a row; D6 is line 8
    path = inbox / "death" / "broken.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    caplog.set_level(logging.DEBUG)
    report, store = _ingest(tmp_path, inbox)
    with store:
        death = next(f for f in report.files if f.source == "death")
        assert (death.status, death.rows_in, death.rows_loaded, death.rows_quarantined) == (
            "loaded",
            6,
            3,
            3,
        )
        loaded = store.frame("SELECT _row, record_id FROM src_death ORDER BY _row").rows()
        assert loaded == [(2, "D1"), (6, "D5"), (8, "D6")]
        quarantined = store.frame(
            'SELECT file, "row", record_key, reasons, raw FROM quarantine ORDER BY "row"'
        ).rows()
        said = _said(report, store)
    assert [(q[0], q[1], q[2]) for q in quarantined] == [
        ("broken.csv", 3, "D2"),
        ("broken.csv", 4, "D3"),
        ("broken.csv", 5, "D4"),
    ]
    assert quarantined[0][3].startswith("line 3 has 9 fields where the header has 8")
    assert quarantined[1][3].startswith(f"line 4 is not valid {encoding.upper()} text")
    assert quarantined[2][3].startswith("line 5 has 4 fields where the header has 8")
    raw = json.loads(quarantined[0][4])  # nothing lost: the line is kept, by column
    assert (raw["record_id"], raw["name"], len(raw["_fields"])) == ("D2", NAMES[1], 9)
    reasons = " ".join(q[3] for q in quarantined)
    assert "offset" not in reasons + said
    _assert_no_person(reasons + said + caplog.text)


@pytest.mark.parametrize("padded", [True, False], ids=["excel_csv", "hand_made"])
def test_csv_with_title_rows_and_footer(tmp_path: Path, padded: bool) -> None:
    """An Excel sheet with a title saved as CSV (the title padded with commas to the width of
    the table, read line by line in one go) or a hand-made one (read record by record, with a
    quoted field holding a comma)."""
    inbox = _inbox(tmp_path)
    pad = "," * (len(DEATH_HEADER) - 1) if padded else ""
    rows = _deaths()
    if not padded:
        rows[0][6] = '"灵溪镇,猛必村"'
    lines = [f"XX县2026年10月死亡人员名单{pad}", pad, ",".join(DEATH_HEADER)]
    lines += [",".join(r) for r in rows] + [f"合计{pad}", f"制表人：{pad}"]
    path = inbox / "death" / "title.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes("\r\n".join(lines).encode("gb18030") + b"\r\n")
    report, store = _ingest(tmp_path, inbox)
    with store:
        death = next(f for f in report.files if f.source == "death")
        assert (death.status, death.rows_loaded, death.rows_quarantined) == ("loaded", 4, 0)
        loaded = store.frame("SELECT _row, address FROM src_death ORDER BY _row").rows()
        said = _said(report, store)
    assert [r[0] for r in loaded] == [4, 5, 6, 7]
    assert loaded[0][1] == ("灵溪镇" if padded else "灵溪镇,猛必村")
    assert "the column names of 死亡/殡葬记录 are on line 3: lines 1 to 2 above it" in said
    assert "reading stopped at line 8: it starts the footer (合计)" in said
    _assert_no_person(said)


def test_header_only_file_is_an_empty_delivery(tmp_path: Path) -> None:
    """A month without a death: the header alone loads as 0 rows, not a rejection."""
    inbox = _inbox(tmp_path)
    write_csv(inbox / "death" / "2026年11月.csv", DEATH_HEADER, [])
    report, store = _ingest(tmp_path, inbox)
    with store:
        death = next(f for f in report.files if f.source == "death")
        assert (death.status, death.rows_in, death.rows_loaded) == ("loaded", 0, 0)
        status = store.frame("SELECT status FROM load_ledger WHERE source = 'death'")
    assert status["status"].to_list() == ["loaded"]
    assert "no data rows: loaded as an empty delivery (0 rows)" in death.message


def test_a_file_of_blank_lines_is_refused_with_a_reason(tmp_path: Path) -> None:
    inbox = _inbox(tmp_path)
    (inbox / "death").mkdir(parents=True)
    (inbox / "death" / "blank.csv").write_bytes(b",,,\r\n\r\n,,,\r\n")
    report, store = _ingest(tmp_path, inbox)
    store.close()
    death = next(f for f in report.files if f.source == "death")
    assert (death.status, death.message.split(". Fix")[0]) == (
        "rejected",
        "the file holds no table: every row is blank",
    )


def test_a_person_above_the_header_is_not_skipped_as_a_title(tmp_path: Path) -> None:
    """Only title and blank rows are skipped: a data row above the header keeps the file
    refused, as before (deleting a person is the department's call)."""
    inbox = _inbox(tmp_path)
    person = _deaths()[0]
    write_csv(inbox / "death" / "person_first.csv", person, [DEATH_HEADER, *_deaths()[1:]])
    report, store = _ingest(tmp_path, inbox)
    with store:
        death = next(f for f in report.files if f.source == "death")
    assert death.status == "rejected"
    assert "row 2 holds the column names of 死亡/殡葬记录" in death.message
    _assert_no_person(death.message)
