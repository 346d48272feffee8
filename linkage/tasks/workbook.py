"""The task workbook of one township: printable, protected, and readable back.

Layout of every task sheet (rows as Excel numbers them):

1. title: township, what the list is, the feedback deadline(s);
2. export date, batch, how to fill in;
3. column headers (:data:`HEADERS`), repeated on every printed page;
4. … one task per row.

The sheet is protected: only the fill-in columns (:data:`FILL_COLUMNS`) are unlocked, and
核查结果 has a drop-down of :data:`RESULTS`. A hidden 校验码 column holds a random code per task
(stored in ``task_assignments``), so an edited 任务编号 is caught on import even if someone lifts
the protection. A very-hidden sheet ``_renkou`` names the export batch and the township.

Every text cell is written as text (``write_string``, formulas off) and neutralised
(:func:`linkage.cells.neutral`): a name like ``=HYPERLINK(…)`` is never live, in Excel, in
WPS, or in a CSV someone saves the sheet as.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from linkage.cells import neutral
from linkage.tasks.workdays import uncovered_years

#: 核查结果 → finding status (linkage.casework.STATUSES)
RESULTS = {
    "属实": "confirmed",
    "不属实": "rejected",
    "无法核实": "needs_more_info",
    "已处理": "confirmed",
}

META_SHEET = "_renkou"
FORMAT_VERSION = "1"
TASK_ID = "任务编号"
CHECK = "校验码"
VILLAGE = "村(社区)"
FILL_COLUMNS = ["核查结果", "核查说明", "核查人", "核查日期"]
#: header → (column width in Excel units; a hanzi takes about two, source column in the frame)
HEADERS: dict[str, tuple[float, str | None]] = {
    "序号": (4.5, None),
    TASK_ID: (15, "finding_id"),
    "核查类型": (9, "核查类型"),
    VILLAGE: (9, "village"),
    "姓名": (10, "姓名"),
    "身份证号": (18, "身份证号"),
    "户籍地址": (18, "户籍地址"),
    "线索来源及内容": (22, "线索来源及内容"),
    "系统判断依据": (18, "系统判断依据"),
    "建议处理": (16, "建议处理"),
    "截止日期": (10.5, "deadline"),
    "核查结果": (9, None),
    "核查说明": (16, None),
    "核查人": (8, None),
    "核查日期": (10.5, None),
    CHECK: (10, "check_code"),
}
_FIRST_DATA_ROW = 3  # 0-based: title, subtitle, header
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_BAD_FILE_CHARS = re.compile(r'[\\/:*?"<>|\s]')

INSTRUCTIONS = [
    "填写说明",
    "1. 每条任务请入户核实后，在“核查结果”列的下拉框中选择：属实 / 不属实 / 无法核实 / 已处理。",
    "   属实：线索情况属实，需按“建议处理”办理；",
    "   不属实：线索不符合实际（例如本人健在、未迁出、不是同一人）；",
    "   无法核实：经入户仍无法确认，请在“核查说明”写明原因；",
    "   已处理：情况属实且已在人口库中办理完毕。",
    "2. “核查说明”写明核实经过或正确信息；“核查人”填写姓名；“核查日期”按 2025-10-09 格式填写。",
    "3. 请勿修改“任务编号”等灰色列，不要增删行列或复制其他乡镇的任务；",
    "   文件名保持不变，按期报回县人口信息办。",
    "4. 截止日期按工作日计算（已扣除法定节假日，含调休上班日）。",
    "5. 本表含个人信息，仅用于入户核实，请妥善保管，用后销毁纸质件。",
]


@dataclass(frozen=True)
class SheetSpec:
    name: str
    label: str  # what the title says this sheet holds (a village or a finding type)
    tasks: pl.DataFrame  # task rows with finding_id, village, deadline, check_code + Chinese


def sheet_name(label: str, taken: set[str]) -> str:
    """A valid, unique Excel sheet name (≤ 31 characters, no ``[]:*?/\\``)."""
    base = _BAD_SHEET_CHARS.sub("_", label).strip("'") or "任务"
    base = base[:28]
    name, n = base, 2
    while name.lower() in taken or name == META_SHEET:
        name = f"{base}({n})"
        n += 1
    taken.add(name.lower())
    return name


def file_name(township: str, export_id: str) -> str:
    return f"{_BAD_FILE_CHARS.sub('_', township) or '未定乡镇'}_核查任务_{export_id}.xlsx"


def _width(text: str) -> float:
    """Display width in Excel units: a hanzi or full-width sign counts two."""
    return sum(2.0 if ord(ch) > 0x2E7F else 1.1 for ch in text)


def _lines(values: list[str], widths: list[float]) -> int:
    return max(
        [1]
        + [math.ceil(_width(v) / max(w - 1, 1)) for v, w in zip(values, widths, strict=True) if v]
    )


def _deadline_text(deadlines: list[dt.date], sent_on: dt.date, working: bool) -> str:
    """The title's deadline; it says so when a working-day count could not skip a year's
    holidays (the calendar package does not know them yet) rather than pretend it did."""
    first, last = min(deadlines), max(deadlines)
    if first == last:
        text = f"反馈截止日期：{first.isoformat()}"
    else:
        text = f"反馈截止日期：{first.isoformat()} 至 {last.isoformat()}（逐条见“截止日期”列）"
    missing = uncovered_years(sent_on, last) if working else []
    if missing:
        text += f"（{'、'.join(str(y) for y in missing)}年节假日未扣除）"
    return text


def write_workbook(
    path: Path,
    *,
    township: str,
    county: str,
    export_id: str,
    sent_on: dt.date,
    sheets: list[SheetSpec],
    paper: int = 9,
    password: str = "",
    village_column: bool = True,
) -> list[tuple[str, str, int]]:
    """Write one township's workbook. Returns ``(finding_id, sheet, excel_row)`` per task.

    ``village_column`` off when every sheet is one village (its title names it): on A4
    landscape every column costs font size.
    """
    book = xlsxwriter.Workbook(
        str(path), {"strings_to_numbers": False, "strings_to_formulas": False, "in_memory": True}
    )
    book.set_properties(
        {
            "title": f"{township}人口信息入户核查任务",
            "author": county,
            "comments": f"renkou export {export_id}",
        }
    )
    base = {
        "font_name": "SimSun",
        "font_size": 10,
        "valign": "vcenter",
        "text_wrap": True,
        "border": 1,
    }
    f_title = book.add_format(
        {
            "font_name": "SimHei",
            "font_size": 15,
            "bold": True,
            "align": "center",
            "valign": "vcenter",
        }
    )
    f_sub = book.add_format({"font_name": "SimSun", "font_size": 10, "valign": "vcenter"})
    f_head = book.add_format({**base, "bold": True, "align": "center", "bg_color": "#D9D9D9"})
    f_body = book.add_format(base)
    f_center = book.add_format({**base, "align": "center"})
    f_id = book.add_format({**base, "font_name": "Consolas", "font_size": 8, "bg_color": "#F2F2F2"})
    f_fill = book.add_format({**base, "locked": False, "bg_color": "#FFF9E0"})
    f_fill_date = book.add_format(
        {
            **base,
            "locked": False,
            "bg_color": "#FFF9E0",
            "num_format": "yyyy-mm-dd",
            "align": "center",
        }
    )
    headers = [h for h in HEADERS if village_column or h != VILLAGE]
    widths = [HEADERS[h][0] for h in headers]
    last_visible = headers.index(CHECK) - 1
    positions: list[tuple[str, str, int]] = []
    for spec in sheets:
        ws = book.add_worksheet(spec.name)
        deadlines = [d for d in spec.tasks["deadline"].to_list() if d is not None]
        working = (
            "deadline_unit" not in spec.tasks.columns
            or (spec.tasks["deadline_unit"] == "working").any()
        )
        ws.merge_range(
            0,
            0,
            0,
            last_visible,
            neutral(
                f"{township}（{spec.label}）人口信息入户核查任务清单    "
                f"{_deadline_text(deadlines, sent_on, working)}"
            ),
            f_title,
        )
        ws.set_row(0, 30)
        ws.merge_range(
            1,
            0,
            1,
            last_visible,
            neutral(
                f"{county}人口信息办  导出日期 {sent_on.isoformat()}  批次 {export_id}  "
                f"共 {spec.tasks.height} 条    核查结果请从下拉框选择：属实 / 不属实 / "
                f"无法核实 / 已处理；灰色列请勿修改。"
            ),
            f_sub,
        )
        ws.write_row(2, 0, headers, f_head)
        for col, width in enumerate(widths):
            ws.set_column(col, col, width, None, {"hidden": headers[col] == CHECK})
        for i, task in enumerate(spec.tasks.iter_rows(named=True)):
            r = _FIRST_DATA_ROW + i
            values: list[str] = []
            for col, header in enumerate(headers):
                source = HEADERS[header][1]
                value: Any = i + 1 if header == "序号" else task.get(source) if source else None
                if isinstance(value, dt.date):
                    value = value.isoformat()
                text = "" if value is None else neutral(str(value))
                values.append(text)
                if header in FILL_COLUMNS:
                    ws.write_blank(r, col, None, f_fill_date if header == "核查日期" else f_fill)
                elif header in (TASK_ID, CHECK):
                    ws.write_string(r, col, text, f_id)
                elif header in ("序号",):
                    ws.write_number(r, col, i + 1, f_center)
                elif header in ("截止日期", "核查类型"):
                    ws.write_string(r, col, text, f_center)
                else:
                    ws.write_string(r, col, text, f_body)
            ws.set_row(r, 14 * _lines(values[: last_visible + 1], widths[: last_visible + 1]) + 4)
            positions.append((task["finding_id"], spec.name, r + 1))
        last = _FIRST_DATA_ROW + max(spec.tasks.height, 1) - 1
        result_col = headers.index("核查结果")
        ws.data_validation(
            _FIRST_DATA_ROW,
            result_col,
            last,
            result_col,
            {
                "validate": "list",
                "source": list(RESULTS),
                "input_title": "核查结果",
                "input_message": "请选择：属实/不属实/无法核实/已处理",
                "error_title": "核查结果无效",
                "error_message": "只能选择：属实、不属实、无法核实、已处理",
            },
        )
        date_col = headers.index("核查日期")
        ws.data_validation(
            _FIRST_DATA_ROW,
            date_col,
            last,
            date_col,
            {
                "validate": "date",
                "criteria": "between",
                "minimum": dt.date(2000, 1, 1),
                "maximum": dt.date(2100, 12, 31),
                "error_type": "warning",
                "input_title": "核查日期",
                "input_message": "格式如 2025-10-09",
                "error_title": "日期格式",
                "error_message": "请按 2025-10-09 的格式填写日期",
            },
        )
        ws.freeze_panes(_FIRST_DATA_ROW, 0)
        ws.set_landscape()
        ws.set_paper(paper)
        ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.6)
        ws.center_horizontally()
        ws.repeat_rows(0, _FIRST_DATA_ROW - 1)
        ws.print_area(0, 0, last, last_visible)
        ws.fit_to_pages(1, 0)
        ws.set_header(f"&L&9{township} {spec.label}&R&9批次 {export_id}")
        ws.set_footer(
            "&L&9核查人（签字）：&C&9第 &P 页，共 &N 页&R&9导出日期 " + sent_on.isoformat()
        )
        ws.protect(
            password,
            {
                "format_columns": True,
                "format_rows": True,
                "select_locked_cells": True,
                "select_unlocked_cells": True,
            },
        )
    _instructions(book, f_sub)
    meta = book.add_worksheet(META_SHEET)
    for r, (key, value) in enumerate(
        [
            ("export_id", export_id),
            ("township", township),
            ("sent_on", sent_on.isoformat()),
            ("format_version", FORMAT_VERSION),
        ]
    ):
        meta.write_string(r, 0, key)
        meta.write_string(r, 1, neutral(value))
    meta.very_hidden()
    book.close()
    return positions


def _instructions(book: xlsxwriter.Workbook, fmt: Any) -> None:
    ws = book.add_worksheet("填写说明")
    ws.set_column(0, 0, 120)
    big = book.add_format({"font_name": "SimHei", "font_size": 13, "bold": True})
    for r, line in enumerate(INSTRUCTIONS):
        ws.write_string(r, 0, line, big if r == 0 else fmt)
    ws.set_landscape()
    ws.fit_to_pages(1, 1)
    ws.protect()
