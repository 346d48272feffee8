"""A tiny two-township county with findings, for the task tests (tests/test_tasks*.py).

Built once per session through the real ingest (``src_*``, ``person_records``), a hand-made
``links`` table and ``linkage.casework.merge`` of hand-made candidates; each test gets a copy
of the home folder. Also: how a township fills in a returned workbook (openpyxl, like Excel).
"""

from __future__ import annotations

import atexit
import datetime as dt
import functools
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl

from linkage import pipeline
from linkage.casework import finding_id, merge
from linkage.findings import COLUMNS
from linkage.standardise.ids import check_char
from linkage.store import Store
from tests.conftest import write_csv
from tests.headers import BC_HEADER, DEATH_HEADER, HUKOU_HEADER, POP_HEADER

LX, SC = "灵溪镇", "首车镇"


def ident(birth: str, order: str) -> str:
    body = "433127" + birth + order
    return body + check_char(body)


#: person_id → (name, sex, birth yyyymmdd, order, township, village, household)
PEOPLE = {
    "P01": ("张伟", "男", "19400101", "011", LX, "猛必村", "H1"),
    "P02": ("單秀英", "女", "19500304", "022", LX, "猛必村", "H2"),
    "P03": ("阿依古丽·买买提", "女", "19900505", "044", SC, "首车社区", "H3"),
    "P04": ("王芳", "女", "19950303", "024", LX, "司城村", "H4"),
    "P05": ("李明", "男", "19800808", "051", SC, "首车社区", "H5"),
    "P06": ("李明", "男", "19800808", "051", SC, "首车社区", "H5"),
    "P07": ("𠮷祥", "男", "19600101", "071", LX, "猛必村", "H7"),
    "P09": ("陈建国", "男", "19601010", "093", LX, "猛必村", "H9"),
}
NAMES = sorted({p[0] for p in PEOPLE.values()} | {"刘洋", "阿依古丽", "买买提"})
IDS = sorted(
    {ident(p[2], p[3]) for p in PEOPLE.values()}
    | {ident("19900101", "031"), ident("19601010", "095")}
)


def _inbox(inbox: Path) -> None:
    rows = []
    for pid, (name, sex, birth, order, town, village, household) in PEOPLE.items():
        number = "" if pid == "P06" else ident(birth, order)
        rows.append(
            [
                pid,
                name,
                sex,
                number,
                birth,
                "汉族",
                household,
                "户主",
                "初婚",
                "农业",
                f"湖南省湘西州永顺县{town}{village}{household[-1]}组",
                "",
                town,
                village,
                "正常",
                "2026-01-01",
            ]
        )
    write_csv(inbox / "population" / "base.csv", POP_HEADER, rows)
    write_csv(
        inbox / "death" / "deaths.csv",
        DEATH_HEADER,
        [
            ["D1", "张伟", "男", "", "1940-01-01", "2025-09-05", "灵溪镇猛必村", "火化"],
            ["D2", "张伟", "男", ident("19400101", "011"), "", "2025-09-04", "", "死亡医学证明"],
            ["D3", "𠮷祥", "男", "", "1960-01-01", "2025-09-10", "灵溪镇猛必村", "火化"],
        ],
    )
    write_csv(
        inbox / "hukou" / "hukou.csv",
        HUKOU_HEADER,
        [
            [
                "H2",
                "單秀英",
                "",
                "女",
                ident("19500304", "022"),
                "1950-03-05",
                "汉族",
                "H2",
                "户主",
                "永顺县灵溪镇猛必村二组",
                "农业",
                "正常",
                "",
                "",
            ],
            [
                "H3",
                "阿依古丽·买买提",
                "",
                "女",
                ident("19900505", "044"),
                "1990-05-05",
                "汉族",
                "H3",
                "户主",
                "永顺县首车镇首车社区",
                "居民",
                "迁出注销",
                "2025-08-01",
                "广东省深圳市南山区",
            ],
            [
                "H8",
                "刘洋",
                "",
                "男",
                ident("19900101", "031"),
                "1990-01-01",
                "汉族",
                "H8",
                "户主",
                "永顺县灵溪镇司城村五组",
                "农业",
                "正常",
                "",
                "",
            ],
            [
                "H9",
                "陈建国",
                "",
                "男",
                ident("19601010", "095"),
                "1960-10-10",
                "汉族",
                "H9",
                "户主",
                "永顺县灵溪镇猛必村九组",
                "农业",
                "正常",
                "",
                "",
            ],
        ],
    )
    write_csv(
        inbox / "birth_certificate" / "bc.csv",
        BC_HEADER,
        [
            [
                "B1",
                "",
                "男",
                "2025-08-20",
                "县人民医院",
                "王芳",
                ident("19950303", "024"),
                "",
                "",
                "灵溪镇司城村",
            ],
        ],
    )


LINKS = [
    (
        "death",
        "D1",
        "person",
        "P01",
        0.999,
        "name: pinyin exact; id_number: null; birth_date: exact",
    ),
    ("death", "D2", "person", "P01", 0.9999, "id_number: exact; name: exact key"),
    (
        "death",
        "D3",
        "person",
        "P07",
        0.97,
        "name: Same name (姓名相同); "
        "birth_date: Same birth date (出生日期相同); "
        "address: Same township and village (同乡镇同村)",
    ),
    (
        "hukou",
        "H2",
        "person",
        "P02",
        0.99,
        "name: exact; id_number: exact; birth_date: one digit; sex: exact",
    ),
    ("hukou", "H3", "person", "P03", 0.9999, "id_number: exact; name: exact key"),
    ("hukou", "H9", "person", "P09", 0.98, "name: exact; id_number: one edit; birth_date: exact"),
    ("hukou", "H8", "person", None, None, None),
    ("birth_certificate", "B1", "mother", "P04", 0.995, "name: exact; id_number: exact"),
    ("birth_certificate", "B1", "child", None, None, None),
]


def _candidate(**values: Any) -> dict[str, Any]:
    return {c: values.get(c) for c in COLUMNS}


CANDIDATES = [
    _candidate(
        finding_type="suspected_death",
        case_key="P01",
        source="death",
        source_record_id="D1",
        role="person",
        person_id="P01",
        match_probability=0.9999,
        township=LX,
        village="猛必村",
        suggested_action="人口死亡登记",
        cancellation_reason="人口死亡登记",
        priority="high",
        evidence=json.dumps({"records": ["D1", "D2"], "death_dates": ["2025-09-05", "2025-09-04"]}),
    ),
    _candidate(
        finding_type="suspected_death",
        case_key="P07",
        source="death",
        source_record_id="D3",
        role="person",
        person_id="P07",
        match_probability=0.97,
        township=LX,
        village="猛必村",
        suggested_action="人口死亡登记",
        cancellation_reason="人口死亡登记",
        priority="normal",
        evidence=json.dumps({"records": ["D3"], "death_dates": ["2025-09-10"]}),
    ),
    _candidate(
        finding_type="attribute_conflict",
        case_key="P02|birth_date",
        source="hukou",
        source_record_id="H2",
        role="person",
        person_id="P02",
        field="birth_date",
        base_value="1950-03-04",
        source_value="1950-03-05",
        match_probability=0.99,
        township=LX,
        village="猛必村",
        suggested_action="属性更正",
        priority="normal",
    ),
    _candidate(
        finding_type="attribute_conflict",
        case_key="P09|id_number",
        source="hukou",
        source_record_id="H9",
        role="person",
        person_id="P09",
        field="id_number",
        base_value=ident("19601010", "093"),
        source_value=ident("19601010", "095"),
        match_probability=0.98,
        township=LX,
        village="猛必村",
        suggested_action="属性更正",
        priority="normal",
    ),
    _candidate(
        finding_type="unregistered_birth",
        case_key="birth_certificate|B1",
        source="birth_certificate",
        source_record_id="B1",
        role="child",
        other_person_id="P04",
        match_probability=0.995,
        township=LX,
        village="司城村",
        suggested_action="补登出生",
        priority="high",
        evidence=json.dumps({"birth_date": "2025-08-20", "sex": "男", "mother": "P04"}),
    ),
    _candidate(
        finding_type="unregistered_person",
        case_key="hukou|H8",
        source="hukou",
        source_record_id="H8",
        role="person",
        township=LX,
        village="司城村",
        suggested_action="补录人口",
        priority="normal",
        evidence=json.dumps({"household_id": "H8"}),
    ),
    _candidate(
        finding_type="moved_out",
        case_key="P03",
        source="hukou",
        source_record_id="H3",
        role="person",
        person_id="P03",
        match_probability=0.9999,
        township=SC,
        village="首车社区",
        suggested_action="移交外省管理",
        cancellation_reason="移交外省管理",
        priority="normal",
        evidence=json.dumps({"moved_to": "广东省深圳市南山区", "change_date": "2025-08-01"}),
    ),
    _candidate(
        finding_type="duplicate_person",
        case_key="P05|P06",
        source="population",
        source_record_id="P06",
        role="person",
        person_id="P06",
        other_person_id="P05",
        match_probability=0.99,
        township=SC,
        village="首车社区",
        suggested_action="重复人口注销",
        cancellation_reason="重复人口注销",
        priority="normal",
        evidence=json.dumps({"keep": "P05"}),
    ),
]


def fid(finding_type: str, case_key: str) -> str:
    return finding_id(finding_type, case_key)


F_DEATH = fid("suspected_death", "P01")
F_DEATH_ALIVE = fid("suspected_death", "P07")
F_CONFLICT = fid("attribute_conflict", "P02|birth_date")
F_ID_CONFLICT = fid("attribute_conflict", "P09|id_number")
F_BIRTH = fid("unregistered_birth", "birth_certificate|B1")
F_UNREG = fid("unregistered_person", "hukou|H8")
F_MOVED = fid("moved_out", "P03")
F_DUP = fid("duplicate_person", "P05|P06")


def candidates_frame() -> pl.DataFrame:
    schema = {c: pl.Float64 if c == "match_probability" else pl.String for c in COLUMNS}
    return pl.DataFrame(CANDIDATES, schema=schema)


def build_home(root: Path) -> Path:
    """Ingest the inbox, write ``links``, merge the findings. Returns the home folder."""
    _inbox(root / "inbox")
    home = root / "home"
    with Store(home) as store:
        pipeline.ingest(store, root / "inbox", full=True)
        store.replace_table(
            "links",
            pl.DataFrame(
                LINKS,
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
        merge(store, candidates_frame(), "run-1")
    return home


@functools.cache
def template_home() -> Path:
    """Built once per test process; each test works on a copy (:func:`copy_home`)."""
    root = Path(tempfile.mkdtemp(prefix="renkou-tasks-"))
    atexit.register(shutil.rmtree, root, True)
    return build_home(root)


def copy_home(dest: Path) -> Path:
    shutil.copytree(template_home(), dest)
    return dest


# ---------------------------------------------------------------- a township fills it in


def header_columns(ws: Any) -> tuple[int, dict[str, int]]:
    for r in range(1, 11):
        values = [ws.cell(r, c).value for c in range(1, ws.max_column + 1)]
        if "任务编号" in values:
            return r, {v: i + 1 for i, v in enumerate(values) if v}
    raise AssertionError("no header row")


def task_positions(path: Path) -> dict[str, tuple[str, int]]:
    """task id → (sheet, Excel row) in an exported workbook."""
    book = openpyxl.load_workbook(path)
    out = {}
    for ws in book.worksheets:
        if ws.sheet_state != "visible":
            continue
        try:
            header, cols = header_columns(ws)
        except AssertionError:
            continue
        for r in range(header + 1, ws.max_row + 1):
            value = ws.cell(r, cols["任务编号"]).value
            if value:
                out[value] = (ws.title, r)
    return out


def fill(
    path: Path,
    answers: dict[str, dict[str, Any]],
    *,
    edit_ids: dict[str, str] | None = None,
    extra_rows: list[dict[str, Any]] | None = None,
    sheet: str | None = None,
) -> None:
    """Answer tasks by id ({"核查结果": …}); rewrite ids; append foreign rows to ``sheet``."""
    book = openpyxl.load_workbook(path)
    for ws, cols, r in _task_rows(book):
        tid = ws.cell(r, cols["任务编号"]).value
        for column, value in answers.get(tid, {}).items():
            ws.cell(r, cols[column]).value = value
        if edit_ids and tid in edit_ids:
            ws.cell(r, cols["任务编号"]).value = edit_ids[tid]
    if extra_rows and sheet:
        ws = book[sheet]
        _, cols = header_columns(ws)
        for row in extra_rows:
            r = ws.max_row + 1
            for column, value in row.items():
                ws.cell(r, cols[column]).value = value
    book.save(path)


def read_row(path: Path, task: str) -> dict[str, Any]:
    """The cells of one task row by header (for copying a row into another file)."""
    for ws, cols, r in _task_rows(openpyxl.load_workbook(path)):
        if ws.cell(r, cols["任务编号"]).value == task:
            return {h: ws.cell(r, c).value for h, c in cols.items()}
    raise AssertionError(f"{task} not in {path.name}")


def _task_rows(book: Any) -> Iterator[tuple[Any, dict[str, int], int]]:
    """(sheet, column by header, row number) of every task row of a task-list workbook."""
    for ws in book.worksheets:
        try:
            header, cols = header_columns(ws)
        except AssertionError:  # a sheet without a task table (the instructions)
            continue
        for r in range(header + 1, ws.max_row + 1):
            yield ws, cols, r


DAY = dt.date(2025, 9, 30)  # a Tuesday; 国庆 follows
TODAY = dt.date(2025, 10, 20)


def export_all(store: Store, out: Path) -> dict[str, Path]:
    """Export every open finding on :data:`DAY`; township → workbook."""
    from linkage.tasks.export import export_tasks

    report = export_tasks(store, out, operator="tester", sent_on=DAY)
    return {f.township: f.path for f in report.files}


def fill_with_mistakes(files: dict[str, Path]) -> None:
    """Answers as townships give them, mistakes included (see the comments)."""
    lx, sc = files[LX], files[SC]
    foreign = read_row(sc, F_MOVED)  # a 首车镇 row pasted into 灵溪镇's file
    foreign.update({"核查结果": "属实", "核查人": "张三", "核查日期": dt.datetime(2025, 10, 9)})
    fill(
        lx,
        {
            F_DEATH: {
                "核查结果": "属实",
                "核查说明": "家属确认已火化",
                "核查人": "王丽",
                "核查日期": dt.datetime(2025, 10, 9),
            },
            F_DEATH_ALIVE: {
                "核查结果": "不属实",
                "核查说明": "本人健在",
                "核查人": "王丽",
                "核查日期": "2025.10.10",
            },
            F_CONFLICT: {"核查结果": "是", "核查人": "王丽"},  # not a valid answer
            F_BIRTH: {"核查说明": "家中无人"},  # result left blank
            F_UNREG: {
                "核查结果": "无法核实",
                "核查说明": "外出务工",
                "核查人": "李四",
                "核查日期": "2025年10月11日",
            },
            F_ID_CONFLICT: {"核查结果": "属实", "核查人": "王丽", "核查日期": "2025-10-09"},
        },
        edit_ids={F_ID_CONFLICT: F_DUP},  # someone "corrected" the task id
        extra_rows=[foreign],
        sheet="猛必村",
    )
    fill(
        sc,
        {
            F_MOVED: {"核查结果": "属实", "核查人": "赵五", "核查日期": dt.datetime(2025, 10, 10)},
            F_DUP: {"核查结果": "已处理", "核查人": "赵五", "核查日期": dt.datetime(2025, 10, 10)},
        },
    )


@functools.cache
def answered_template() -> Path:
    """The county after one export (on :data:`DAY`) and the townships' first answers (with
    their mistakes), built once per test process: ``home/`` and ``out/`` under the result."""
    from linkage.tasks.returns import import_returns

    root = Path(tempfile.mkdtemp(prefix="renkou-answered-"))
    atexit.register(shutil.rmtree, root, True)
    shutil.copytree(template_home(), root / "home")
    with Store(root / "home") as store:
        files = export_all(store, root / "out")
        fill_with_mistakes(files)
        import_returns(store, [files[LX], files[SC]], operator="t", today=TODAY)
    return root


def copy_answered(dest: Path) -> tuple[Path, dict[str, Path]]:
    """A copy of :func:`answered_template`: (home, township → returned workbook)."""
    shutil.copytree(answered_template(), dest)
    files = {p.name.split("_")[0]: p for p in (dest / "out").glob("*.xlsx")}
    return dest / "home", files
