"""Task lists: export → a township fills them in (with mistakes) → import; masking, no personal
data in logs or console, idempotent re-import, cross-township rows rejected."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from linkage.cli import app
from linkage.operators import current_account
from linkage.store import Store
from linkage.tasks.returns import import_returns
from linkage.tasks.workbook import CHECK, META_SHEET
from tests.tasks.fixture import (
    DAY,
    F_BIRTH,
    F_CONFLICT,
    F_DEATH,
    F_DEATH_ALIVE,
    F_DUP,
    F_ID_CONFLICT,
    F_MOVED,
    F_UNREG,
    IDS,
    LX,
    NAMES,
    SC,
    TODAY,
    copy_home,
    export_all,
    fill,
    fill_with_mistakes,
    header_columns,
    ident,
    task_positions,
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(copy_home(tmp_path / "home")) as s:
        yield s


def _statuses(store: Store) -> dict[str, str]:
    return dict(store.frame("SELECT finding_id, status FROM findings").iter_rows())


def test_export_writes_one_protected_printable_workbook_per_township(
    store: Store, tmp_path: Path
) -> None:
    files = export_all(store, tmp_path / "out")
    assert set(files) == {LX, SC}
    assert set(_statuses(store).values()) == {"sent"}
    book = openpyxl.load_workbook(files[LX])
    assert book[META_SHEET].sheet_state == "veryHidden"
    assert {"猛必村", "司城村", "填写说明"} <= set(book.sheetnames)
    ws = book["猛必村"]
    assert LX in ws["A1"].value and "2025-10-28" in ws["A1"].value  # township and deadline
    header, cols = header_columns(ws)
    assert header == 3
    assert ws.print_title_rows == "$1:$3"
    assert ws.page_setup.orientation == "landscape"
    assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text
    assert ws.protection.sheet
    assert ws.column_dimensions[openpyxl.utils.get_column_letter(cols[CHECK])].hidden
    first = header + 1
    assert ws.cell(first, cols["任务编号"]).protection.locked
    for column in ("核查结果", "核查说明", "核查人", "核查日期"):
        assert not ws.cell(first, cols[column]).protection.locked
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert lists and lists[0].formula1 == '"属实,不属实,无法核实,已处理"'
    assignments = store.frame(
        'SELECT finding_id, township, file, sheet, "row" FROM task_assignments'
    )
    assert assignments.height == 8
    positions = task_positions(files[LX])
    for fid, town, file, sheet, row in assignments.iter_rows():
        if town == LX:
            assert file == files[LX].name and positions[fid] == (sheet, row)


def test_workbook_content_in_chinese_with_masked_ids(store: Store, tmp_path: Path) -> None:
    files = export_all(store, tmp_path / "out")
    rows = {}
    for path in files.values():
        for ws in openpyxl.load_workbook(path).worksheets:
            if ws.sheet_state != "visible" or ws.title == "填写说明":
                continue
            header, cols = header_columns(ws)
            for r in range(header + 1, ws.max_row + 1):
                rows[ws.cell(r, cols["任务编号"]).value] = {
                    h: ws.cell(r, c).value for h, c in cols.items()
                }
    death = rows[F_DEATH]
    assert death["核查类型"] == "疑似死亡未注销"
    assert death["姓名"] == "张伟"
    assert (
        death["身份证号"]
        == ident("19400101", "011")[:6] + "********" + ident("19400101", "011")[-4:]
    )
    assert death["线索来源及内容"] == "殡葬记录 2025-09-05 火化；死亡医学证明 2025-09-04 死亡"
    assert death["系统判断依据"] == "姓名同音、出生日期一致"
    assert death["截止日期"] == "2025-10-28"  # high priority: 15 working days across 国庆
    # out of the province: the priority's 30 working days (the 7 are a transfer's)
    assert rows[F_MOVED]["截止日期"] == "2025-11-18"
    assert rows[F_MOVED]["核查类型"] == "迁出外省未注销"
    assert rows[F_MOVED]["线索来源及内容"] == "公安户籍 2025-08-01 迁出注销，迁往广东省深圳市南山区"
    assert rows[F_CONFLICT]["截止日期"] == "2025-11-18"  # ordinary: 30 working days
    assert rows[F_BIRTH]["核查类型"] == "出生未登记"
    assert rows[F_UNREG]["核查类型"] == "户籍人口未入库"
    assert rows[F_DUP]["核查类型"] == "疑似重复登记"
    assert rows[F_CONFLICT]["核查类型"] == "信息不一致"
    assert rows[F_ID_CONFLICT]["系统判断依据"].startswith("姓名一致、身份证号错一位")
    # no full ID anywhere in the workbooks, not even inside the clue of an ID conflict
    text = "\n".join(str(v) for r in rows.values() for v in r.values())
    assert not any(number in text for number in IDS)
    assert "433127********0933" in rows[F_ID_CONFLICT]["线索来源及内容"]


def test_round_trip_applies_valid_rows_and_reports_every_mistake(
    store: Store, tmp_path: Path
) -> None:
    files = export_all(store, tmp_path / "out")
    positions = task_positions(files[LX])
    fill_with_mistakes(files)
    report = import_returns(store, [files[LX], files[SC]], operator="tester", today=TODAY)

    statuses = _statuses(store)
    assert statuses == {
        F_DEATH: "confirmed",
        F_DEATH_ALIVE: "rejected",
        F_CONFLICT: "sent",
        F_BIRTH: "sent",
        F_UNREG: "needs_more_info",
        F_ID_CONFLICT: "sent",  # its row was tampered with
        F_MOVED: "confirmed",
        F_DUP: "confirmed",
    }
    problems = {(p.code, p.file, p.sheet, p.row) for p in report.problems}
    lx = files[LX].name
    sheet, row = positions[F_CONFLICT]
    assert ("invalid_result", lx, sheet, row) in problems
    sheet, row = positions[F_BIRTH]
    assert ("blank_result", lx, sheet, row) in problems
    sheet, row = positions[F_ID_CONFLICT]
    assert ("tampered", lx, sheet, row) in problems
    foreign = [p for p in report.problems if p.code == "other_township"]
    assert len(foreign) == 1 and foreign[0].file == lx and foreign[0].sheet == "猛必村"
    assert foreign[0].row == max(r for s, r in positions.values() if s == "猛必村") + 1
    assert SC in foreign[0].message and LX in foreign[0].message
    assert {p.code for p in report.errors} == {"invalid_result", "tampered", "other_township"}
    for p in report.problems:
        assert p.describe().count(p.file) == 1 and (p.sheet is None or p.sheet in p.describe())
    by_file = {f.file: f for f in report.files}
    assert (by_file[lx].applied, by_file[lx].pending, by_file[lx].rejected) == (3, 1, 3)
    assert by_file[files[SC].name].applied == 2

    labels = store.frame(
        "SELECT finding_id, finding_type, person_id, source, "
        "source_record_id, role, result, verifier, verified_on FROM labels "
        "ORDER BY finding_id"
    )
    expected = pl.DataFrame(
        [
            (
                F_DEATH,
                "suspected_death",
                "P01",
                "death",
                "D1",
                "person",
                "属实",
                "王丽",
                dt.date(2025, 10, 9),
            ),
            (
                F_DEATH_ALIVE,
                "suspected_death",
                "P07",
                "death",
                "D3",
                "person",
                "不属实",
                "王丽",
                dt.date(2025, 10, 10),
            ),
            (
                F_UNREG,
                "unregistered_person",
                None,
                "hukou",
                "H8",
                "person",
                "无法核实",
                "李四",
                dt.date(2025, 10, 11),
            ),
            (
                F_MOVED,
                "moved_out",
                "P03",
                "hukou",
                "H3",
                "person",
                "属实",
                "赵五",
                dt.date(2025, 10, 10),
            ),
            (
                F_DUP,
                "duplicate_person",
                "P06",
                "population",
                "P06",
                "person",
                "已处理",
                "赵五",
                dt.date(2025, 10, 10),
            ),
        ],
        schema=labels.schema,
        orient="row",
    ).sort("finding_id")
    assert labels.equals(expected)


def test_reimport_is_idempotent_and_a_corrected_file_applies_only_the_fix(
    store: Store, tmp_path: Path
) -> None:
    files = export_all(store, tmp_path / "out")
    fill_with_mistakes(files)
    import_returns(store, [files[LX], files[SC]], operator="tester", today=TODAY)
    tables = ["findings", "labels", "task_results", "task_imports"]
    before = {t: store.table(t) for t in tables}

    again = import_returns(store, [files[LX], files[SC]], operator="tester", today=TODAY)
    assert [f.status for f in again.files] == ["already_imported", "already_imported"]
    for t in tables:
        assert store.table(t).equals(before[t]), t

    fill(files[LX], {F_CONFLICT: {"核查结果": "属实", "核查日期": "2025-10-12"}})
    fixed = import_returns(store, [files[LX]], operator="tester", today=TODAY)
    outcome = fixed.files[0]
    assert (outcome.status, outcome.applied, outcome.unchanged) == ("applied", 1, 3)
    assert _statuses(store)[F_CONFLICT] == "confirmed"


def test_unverifiable_needs_a_reason(store: Store, tmp_path: Path) -> None:
    # plan 004: a person who cannot be found is reported with the reason
    files = export_all(store, tmp_path / "out")
    answer = {"核查结果": "无法核实", "核查人": "赵五", "核查日期": "2025-10-10"}
    fill(files[SC], {F_MOVED: answer})
    report = import_returns(store, [files[SC]], operator="t", today=TODAY)
    (problem,) = [p for p in report.errors if p.finding_id == F_MOVED]
    assert problem.code == "unverifiable_without_note"
    sheet, row = task_positions(files[SC])[F_MOVED]
    assert (problem.file, problem.sheet, problem.row) == (files[SC].name, sheet, row)
    assert "Fix: write the reason in 核查说明" in problem.describe()
    assert _statuses(store)[F_MOVED] == "sent"  # not applied
    fill(files[SC], {F_MOVED: {**answer, "核查说明": "人户分离，联系不上"}})
    again = import_returns(store, [files[SC]], operator="t", today=TODAY)
    assert [p for p in again.errors if p.finding_id == F_MOVED] == []
    assert _statuses(store)[F_MOVED] == "needs_more_info"


def test_file_level_problems(store: Store, tmp_path: Path) -> None:
    files = export_all(store, tmp_path / "out")
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"not a workbook")
    copied = tmp_path / "copied.xlsx"
    book = openpyxl.Workbook()
    book.active.append(["任务编号", "核查结果"])
    book.active.append([F_DEATH, "属实"])
    book.save(copied)
    book = openpyxl.load_workbook(files[SC])
    book["首车社区"].cell(3, 2).value = "编号"  # the 任务编号 header renamed: no task sheet
    book.save(files[SC])
    report = import_returns(store, [junk, copied, files[SC]], operator="t", today=TODAY)
    assert [p.code for p in report.problems] == ["unreadable", "not_a_task_file"]
    assert [f.status for f in report.files] == ["unreadable", "unreadable", "applied"]
    assert report.files[2].rows_read == 0
    assert set(_statuses(store).values()) == {"sent"}


def test_unknown_and_unsent_tasks(store: Store, tmp_path: Path) -> None:
    files = export_all(store, tmp_path / "out")
    store.con.execute("DELETE FROM task_assignments WHERE finding_id = ?", [F_DUP])
    fill(
        files[SC],
        {F_DUP: {"核查结果": "属实"}, F_MOVED: {"核查结果": "属实"}},
        edit_ids={F_MOVED: "F0000000000000000"},
    )
    report = import_returns(store, [files[SC]], operator="t", today=TODAY)
    codes = {p.finding_id: p.code for p in report.errors}
    assert codes[F_DUP] == "not_sent"
    assert [p.code for p in report.errors if p.finding_id is None] == ["unknown_task"]


def test_no_names_or_ids_in_logs_or_console(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    home = str(store.home)
    store.close()
    out = tmp_path / "out"
    result = runner.invoke(
        app,
        [
            "--home",
            home,
            "-v",
            "tasks",
            "export",
            "--out",
            str(out),
            "--date",
            DAY.isoformat(),
        ],
    )
    assert result.exit_code == 0, result.output
    files = {p.name.split("_")[0]: p for p in out.glob("*.xlsx")}
    fill_with_mistakes(files)
    imported = runner.invoke(
        app,
        [
            "--home",
            home,
            "-v",
            "tasks",
            "import",
            str(files[LX]),
            str(files[SC]),
        ],
    )
    assert imported.exit_code == 1  # rows with errors
    assert "row" in imported.output and files[LX].name in imported.output
    status = runner.invoke(app, ["--home", home, "tasks", "status", "--as-of", "2025-12-01"])
    assert status.exit_code == 0 and F_BIRTH in status.output
    changes = runner.invoke(
        app,
        [
            "--home",
            home,
            "tasks",
            "changes",
            "--out",
            str(tmp_path / "changes.xlsx"),
        ],
    )
    assert changes.exit_code == 0, changes.output
    seen = caplog.text + result.output + imported.output + status.output + changes.output
    assert "tasks export" in caplog.text  # the logs did run
    for secret in NAMES + IDS + [i[:6] + "********" + i[-4:] for i in IDS] + ["王丽", "赵五"]:
        assert secret not in seen


def test_a_returned_workbook_s_cells_are_named_by_position_never_quoted(
    store: Store, tmp_path: Path
) -> None:
    """A header cell, an answer and the batch sheet overwritten with a person's data: the
    problems say where and what was expected, and quote none of it (issue 16)."""
    person, number = "欧阳雪梅", ident("19561103", "264")
    files = export_all(store, tmp_path / "out")
    book = openpyxl.load_workbook(files[SC])
    ws = book["首车社区"]
    header, cols = header_columns(ws)
    ws.cell(header, cols["核查结果"]).value = number  # the header cell is now an ID
    book.save(files[SC])
    fill(files[LX], {F_DEATH: {"核查结果": "属实", "核查日期": "2099-01-01", "核查说明": person}})
    other = tmp_path / "other.xlsx"
    book = openpyxl.load_workbook(files[LX])
    for row in book[META_SHEET].iter_rows():
        if row[0].value == "township":
            row[1].value = person
    book.save(other)
    report = import_returns(store, [files[SC], files[LX], other], operator="t", today=TODAY)
    said = {p.code: p.describe() for p in report.problems}
    letter = openpyxl.utils.get_column_letter(cols["核查结果"])
    assert f"lacks 核查结果 (column {cols['核查结果']}, {letter})" in said["missing_columns"]
    assert "核查日期 is after today (2025-10-20)" in said["future_date"]
    assert "the township of its _renkou sheet is none that batch" in said["unknown_township"]
    assert [f.township for f in report.files] == [SC, LX, None]
    text = " ".join(said.values())
    assert person not in text and number not in text and "2099" not in text


def test_sheets_per_finding_type_carry_the_village_column(store: Store, tmp_path: Path) -> None:
    from linkage.tasks.export import export_tasks

    report = export_tasks(
        store,
        tmp_path / "out",
        operator="t",
        sent_on=DAY,
        township=SC,
        cfg=dataclasses.replace(store.settings.tasks, sheets="finding_type"),
    )
    assert [f.township for f in report.files] == [SC]
    book = openpyxl.load_workbook(report.files[0].path)
    assert [n for n in book.sheetnames if n not in ("填写说明", META_SHEET)] == [
        "疑似重复登记",
        "迁出外省未注销",
    ]
    header, cols = header_columns(book["迁出外省未注销"])
    assert book["迁出外省未注销"].cell(header + 1, cols["村(社区)"]).value == "首车社区"
    assert _statuses(store)[F_MOVED] == "sent" and _statuses(store)[F_DEATH] == "open"


def test_export_and_import_are_audited(store: Store, tmp_path: Path) -> None:
    from linkage.audit import AuditLog, file_sha256

    files = export_all(store, tmp_path / "out")
    hashes = {p.name: file_sha256(p) for p in files.values()}
    fill_with_mistakes(files)
    import_returns(store, [files[SC]], operator="importer", today=TODAY)
    log = AuditLog.for_home(store.home)
    entries = [e for e in log.entries() if e["action"].startswith("tasks.")]
    assert [e["action"] for e in entries] == ["tasks.export", "tasks.import"]
    # the OS account, whatever the caller says (the tables keep what it said)
    assert entries[0]["operator"] == entries[1]["operator"] == current_account()
    assert {f["file"]: f["sha256"] for f in entries[0]["details"]["files"]} == hashes
    assert entries[0]["details"]["tasks"] == 8
    assert entries[1]["details"]["files"][0]["sha256"] == file_sha256(files[SC])
    assert entries[1]["details"]["files"][0]["applied"] == 2
    assert log.verify().ok


def test_a_deadline_in_a_year_without_a_holiday_schedule_says_so(
    store: Store, tmp_path: Path
) -> None:
    from linkage.tasks.export import export_tasks
    from linkage.tasks.workdays import covers

    assert covers(2026) and not covers(2027)  # the installed chinese_calendar
    late = export_tasks(store, tmp_path / "late", operator="t", sent_on=dt.date(2026, 12, 15))
    titles = {
        ws.title: ws.cell(1, 1).value
        for f in late.files
        for ws in openpyxl.load_workbook(f.path).worksheets
        if ws.sheet_state == "visible" and ws.title != "填写说明"
    }
    assert titles and all("（2027年节假日未扣除）" in t for t in titles.values())


def test_no_such_note_when_every_holiday_is_known(store: Store, tmp_path: Path) -> None:
    files = export_all(store, tmp_path / "out")  # sent in 2025
    book = openpyxl.load_workbook(files[SC])
    title = next(
        ws.cell(1, 1).value
        for ws in book.worksheets
        if ws.sheet_state == "visible" and ws.title != "填写说明"
    )
    assert "反馈截止日期" in title and "节假日未扣除" not in title
