"""Spreadsheet (formula) injection: hostile source values reach every CSV and workbook as text.

A small county whose base, deaths and 户籍 carry ``=HYPERLINK(…)``, ``=1+1``, ``+1``,
``@SUM(A1)`` and ``-2+3`` (as names, addresses, a township, a village, a person id, a household
number) goes through the real ingest and every export: links and findings CSV, the township
task workbooks (answered, read back), the 变更清单, the 通报, and the 协查 files both ways
between two counties. Each file is opened with a real reader (openpyxl, the csv module): no
cell is a formula, no text cell starts with a formula sign unescaped, numbers stay numbers,
and the values read back by renkou (exchange files, returned workbooks) are the values sent.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
import pytest

from linkage import pipeline
from linkage.casework import merge
from linkage.exchange.incoming import FOUND, export_answers, import_exchange
from linkage.exchange.outgoing import export_queries
from linkage.exports import write_findings, write_links
from linkage.findings import derive_findings
from linkage.report.bulletin import write_bulletin
from linkage.settings import init_home
from linkage.standardise.ids import check_char
from linkage.store import Store
from linkage.tasks.changes import write_changes
from linkage.tasks.export import export_tasks
from linkage.tasks.returns import import_returns
from tests.conftest import write_csv
from tests.headers import DEATH_HEADER, HUKOU_HEADER, POP_HEADER
from tests.tasks.fixture import fill, task_positions

LINK = '=HYPERLINK("http://x","点我")'
SUM, PLUS, AT, MINUS = "=1+1", "+1", "@SUM(A1)", "-2+3"
HOSTILE = (LINK, SUM, PLUS, AT, MINUS)
LX = "灵溪镇"
TOWN, VILLAGE, PERSON = MINUS, AT, "@P02"  # a township, a village and a person id
SENT, ANSWERED = dt.date(2026, 6, 10), dt.date(2026, 6, 24)
DAY, TODAY = dt.date(2025, 9, 30), dt.date(2025, 10, 20)


def _live(text: str) -> bool:
    """A text cell Excel, WPS or LibreOffice would run as a formula (OWASP: it starts with
    ``=``, ``+``, ``-``, ``@``, tab or CR); a plain negative number is a number, not one."""
    return text.startswith(("=", "+", "-", "@", "\t", "\r")) and not re.fullmatch(
        r"-\d+(\.\d+)?", text
    )


def _ident(region: str, birth: str, order: str) -> str:
    body = region + birth + order
    return body + check_char(body)


P01_ID = _ident("433127", "19400101", "011")
P02_ID = _ident("433127", "19500304", "022")


def _person(
    pid: str, name: str, number: str, birth: str, town: str, village: str, **kw: str
) -> list[str]:
    """A base row (POP_HEADER); ``sex``, ``household`` and ``address`` may be given."""
    return [
        pid,
        name,
        kw.get("sex", "男"),
        number,
        birth,
        "汉族",
        kw.get("household", "H" + pid[-1]),
        "户主",
        "初婚",
        "农业",
        kw.get("address", f"湖南省湘西州永顺县{town}{village}"),
        "",
        town,
        village,
        "正常",
        "2025-01-01",
    ]


def _county(root: Path) -> Store:
    """County 433127 (the shipped settings): a hostile base, a death, two 户籍 records."""
    inbox = root / "inbox"
    write_csv(
        inbox / "population" / "base.csv",
        POP_HEADER,
        [
            _person("P01", LINK, P01_ID, "19400101", LX, "猛必村", address=SUM),
            _person(PERSON, "單秀英", P02_ID, "19500304", TOWN, VILLAGE, sex="女", address=PLUS),
            _person("P03", "王芳", _ident("433127", "19950303", "024"), "19950303", LX, "司城村"),
        ],
    )
    write_csv(
        inbox / "death" / "deaths.csv",
        DEATH_HEADER,
        [["D1", LINK, "男", P01_ID, "1940-01-01", "2025-09-05", SUM, "火化"]],
    )
    write_csv(
        inbox / "hukou" / "hukou.csv",
        HUKOU_HEADER,
        [
            # the base's 單秀英 with another household number and birth date: conflicts
            [
                "H2",
                "單秀英",
                "",
                "女",
                P02_ID,
                "1950-03-05",
                "汉族",
                AT + "2",
                "户主",
                PLUS,
                "农业",
                "正常",
                "",
                "",
            ],
            # someone the base lacks: 补录
            [
                "H8",
                AT,
                "",
                "男",
                _ident("433127", "19900101", "031"),
                "1990-01-01",
                "汉族",
                "H8",
                "户主",
                f"永顺县{LX}司城村{MINUS}",
                "农业",
                "正常",
                "",
                "",
            ],
        ],
    )
    store = Store(root / "home")
    pipeline.ingest(store, inbox, run_id="night-1", full=True)
    links = pl.DataFrame(
        [
            ("death", "D1", "person", "P01", 0.999, 9.5),
            ("hukou", "H2", "person", PERSON, 0.99, 7.0),
            ("hukou", "H8", "person", None, 0.01, -3.25),  # a negative weight stays a number
        ],
        schema={
            "source": pl.String,
            "source_record_id": pl.String,
            "role": pl.String,
            "person_id": pl.String,
            "match_probability": pl.Float64,
            "match_weight": pl.Float64,
        },
        orient="row",
    ).with_columns(
        explanation=pl.lit(SUM),
        decided_by=pl.lit("model"),
        model_version=pl.lit("test"),
    )
    store.replace_table("links", links)
    merge(store, derive_findings(store, "links", None), run_id="night-1")
    return store


def _asking_county(root: Path) -> Store:
    """County 440106: P01 of 433127 died in its hospital (a query to send there)."""
    home = root / "a"
    init_home(home, county_code="440106", county_name="天河区")
    inbox = root / "a-inbox"
    write_csv(
        inbox / "population" / "base.csv",
        POP_HEADER,
        [
            _person(
                "T1",
                "林天河",
                _ident("440106", "19800101", "011"),
                "19800101",
                "天河南街道",
                "一社区",
            )
        ],
    )
    write_csv(
        inbox / "death" / "deaths.csv",
        DEATH_HEADER,
        [["D1", LINK, "男", P01_ID, "1940-01-01", "2026-05-01", SUM, "火化"]],
    )
    store = Store(home)
    pipeline.ingest(store, inbox, run_id="night-1", full=True)
    store.replace_table(
        "links",
        pl.DataFrame(
            [("death", "D1", "person", None, None, "")],
            schema={
                "source": pl.String,
                "source_record_id": pl.String,
                "role": pl.String,
                "person_id": pl.String,
                "match_probability": pl.Float64,
                "explanation": pl.String,
            },
            orient="row",
        ),
    )
    merge(store, derive_findings(store, "links", None), run_id="night-1")
    return store


# ------------------------------------------------------------------------ readers


def _csv_cells(path: Path) -> list[dict[str, str]]:
    """Every row of a written CSV, by header; fails on a live cell."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        for header, value in row.items():
            assert not _live(value), f"{path.name}: {header} is a live formula"
    return rows


def _xlsx_cells(path: Path) -> list[Any]:
    """Every cell value of every sheet (very hidden ones too); fails on a formula cell or a
    text cell starting with a formula sign."""
    book = openpyxl.load_workbook(path)
    values = []
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                where = f"{path.name}!{ws.title}!{cell.coordinate}"
                assert cell.data_type != "f", f"{where} is a formula"
                if isinstance(cell.value, str):
                    assert not _live(cell.value), f"{where} starts with a formula sign"
                values.append(cell.value)
    return values


def _texts(values: list[Any]) -> str:
    return "\n".join(v for v in values if isinstance(v, str))


# ------------------------------------------------------------------------ the test


def test_hostile_values_arrive_as_text_in_every_csv_and_workbook(tmp_path: Path) -> None:
    g = _county(tmp_path / "g")
    try:
        _exports_of(g, tmp_path)
        _exchange(g, tmp_path)
    finally:
        g.close()


def _exports_of(g: Store, tmp_path: Path) -> None:
    # links and findings CSV
    write_links(g, tmp_path / "links.csv")
    links = _csv_cells(tmp_path / "links.csv")
    assert {r["person_id"] for r in links} >= {"P01", "'" + PERSON}
    assert {r["explanation"] for r in links} == {"'" + SUM}
    assert sorted(float(r["match_weight"]) for r in links) == [-3.25, 7.0, 9.5]  # numbers
    write_findings(g, tmp_path / "findings.csv")
    findings = _csv_cells(tmp_path / "findings.csv")
    cells = {v for r in findings for v in r.values()}
    assert {"'" + PERSON, "'" + TOWN, "'" + VILLAGE, "'" + AT + "2"} <= cells
    assert all(float(r["match_probability"]) >= 0 for r in findings if r["match_probability"])

    # the township task workbooks: text written as text, 序号 numbers, read back as sent
    report = export_tasks(g, tmp_path / "tasks", operator="t", sent_on=DAY)
    files = {f.township: f.path for f in report.files}
    assert set(files) >= {LX, TOWN}
    shown = ""
    for path in files.values():
        shown += _texts(_xlsx_cells(path))
        book = openpyxl.load_workbook(path)
        for ws in book.worksheets:
            if (
                ws.sheet_state == "visible"
                and ws["A4"].value is not None
                and ws.title != "填写说明"
            ):
                assert isinstance(ws["A4"].value, int)  # 序号 stays a number
    for value in (LINK, SUM, PLUS, AT, TOWN):
        assert "'" + value in shown
    # a township answers every task (its note and name hostile too) and returns the file
    for path in files.values():
        fill(
            path,
            {
                task: {"核查结果": "属实", "核查说明": AT, "核查人": PLUS, "核查日期": DAY}
                for task in task_positions(path)
            },
        )
    back = import_returns(g, list(files.values()), operator="t", today=TODAY)
    assert back.errors == []  # the batch sheet's township read back as sent ("-2+3")
    assert sum(f.applied for f in back.files) == report.tasks

    # the 变更清单
    changes = write_changes(g, tmp_path / "变更清单.xlsx", operator="t")
    assert changes.path is not None and changes.rows >= 2
    listed = _texts(_xlsx_cells(changes.path))
    for value in (LINK, PERSON, TOWN, VILLAGE, AT + "2", AT, PLUS):
        assert "'" + value in listed

    # the 通报: the hostile township as text, its figures numbers
    bulletin = write_bulletin(g, tmp_path / "bulletin", operator="t", day=TODAY, pdf=False)
    _xlsx_cells(bulletin.workbook)
    sheet = openpyxl.load_workbook(bulletin.workbook)["通报"]
    (row,) = [r for r in sheet.iter_rows(min_row=6) if r[1].value == "'" + TOWN]
    assert isinstance(row[0].value, int) and isinstance(row[2].value, int)
    assert any(isinstance(c.value, float) for c in row[3:])


def _exchange(g: Store, tmp_path: Path) -> None:
    """A query about P01 from county 440106 and G's answer: safe files, identical values."""
    a = _asking_county(tmp_path)
    try:
        sent = export_queries(a, tmp_path / "a-out", operator="a", sent_on=SENT)
        (query_file,) = [f.path for f in sent.files]
        (query,) = _csv_cells(query_file)
        assert (query["姓名"], query["现住地址"]) == ("'" + LINK, "'" + SUM)

        got = import_exchange(g, [query_file], operator="g", today=ANSWERED)
        assert got.files[0].accepted == 1
        (received,) = g.frame("SELECT name, current_address FROM exchange_received").rows()
        assert received == (LINK, SUM)  # as A's base holds them
        # G's conclusion (no model here to match with): found, with a hostile note
        g.con.execute(
            "UPDATE exchange_received SET conclusion = ?, person_status = '正常', "
            "found_hukou_address = ?, note = ?",
            [FOUND, SUM, MINUS],
        )
        (answer_file,) = [
            f.path
            for f in export_answers(g, tmp_path / "g-out", operator="g", answered_on=ANSWERED)
        ]
        (answer,) = _csv_cells(answer_file)
        assert (answer["户籍地址"], answer["核查说明"]) == ("'" + SUM, "'" + MINUS)

        closed = import_exchange(a, [answer_file], operator="a", today=ANSWERED)
        assert closed.errors == [] and closed.closed == {FOUND: 1}
        assert a.frame("SELECT note FROM exchange_queries").item() == MINUS
    finally:
        a.close()


@pytest.mark.parametrize("value", [*HOSTILE, "'" + SUM, "'", "-3", "-0.5", "\tx", "张伟", ""])
def test_what_is_neutralised_reads_back_identical(value: str) -> None:
    from linkage.cells import neutral, neutralise, restore, restored

    frame = pl.DataFrame({"text": [value, None], "number": [-1.5, 2.0]})
    written = neutralise(frame)
    assert written["number"].to_list() == [-1.5, 2.0]
    assert written["text"][0] == neutral(value) and not _live(neutral(value))
    assert restore(written).equals(frame) and restored(neutral(value)) == value
