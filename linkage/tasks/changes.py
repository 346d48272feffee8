"""``renkou tasks changes``: confirmed findings → the 变更清单 the base operator applies.

One row per change, of four kinds:

- 注销 (cancellation) with the fixed reason: 人口死亡登记, 重复人口注销, 移交外省管理,
  错误信息注销 — the finding's ``cancellation_reason``;
- 补登 (a birth to register) and 补录 (a registered person missing from the base);
- 更正 (an attribute correction): field, old value, new value.

Findings answered 已处理 are confirmed but need no change (the township already did it).
A finding goes into one list only (``change_list_entries``) unless ``include_listed``. The
corrected value is written in full — the operator must type it — while the ID column that
identifies the person stays masked. Every cell is written as text, neutralised
(:func:`linkage.cells.neutralise`): a corrected name like ``=1+1`` is never a live formula.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import xlsxwriter

from linkage import tables
from linkage.audit import AuditLog, file_sha256
from linkage.catalog import FINDING_TYPES
from linkage.cells import neutral, neutralise
from linkage.store import Store
from linkage.tasks.tasklist import task_rows

log = logging.getLogger(__name__)

#: the kinds of change, in the order the list groups them
GROUPS = {"注销": 0, "移交": 1, "补录": 2, "补登": 3, "更正": 4}
#: the only reasons a person may be cancelled for (plan 000), in that order
REASONS = {"人口死亡登记": 0, "重复人口注销": 1, "移交外省管理": 2, "错误信息注销": 3}
#: header → column width
COLUMNS = {
    "序号": 5,
    "变更类型": 7,
    "注销原因": 12,
    "人员编号": 11,
    "姓名": 12,
    "身份证号": 19,
    "乡镇(街道)": 9,
    "村(社区)": 9,
    "变更项目": 9,
    "原值": 14,
    "新值": 24,
    "依据": 26,
    "任务编号": 17.5,
    "核查人": 8,
    "核查日期": 10.5,
    "核查说明": 18,
    "办理情况": 10,
}


@dataclass(frozen=True)
class ChangeList:
    path: Path | None
    rows: int
    by_type: dict[str, int]


def confirmed_changes(store: Store, *, include_listed: bool = False) -> pl.DataFrame:
    """Confirmed findings that need a change in the base, with their latest answer."""
    tables.ensure(store.con, "tasks")
    listed = (
        ""
        if include_listed
        else (f"AND f.finding_id NOT IN (SELECT finding_id FROM {tables.CHANGE_LIST_ENTRIES})")
    )
    return store.frame(f"""
        SELECT f.finding_id, f.finding_type, f.source, f.source_record_id, f.role,
               f.person_id, f.other_person_id, f.field, f.base_value, f.source_value,
               f.match_probability, f.township, f.village, f.suggested_action,
               f.cancellation_reason, f.priority, f.evidence,
               l.result, l.verifier, l.verified_on, r.note
        FROM findings f
        LEFT JOIN {tables.LABELS} l USING (finding_id)
        LEFT JOIN (SELECT finding_id, note FROM {tables.TASK_RESULTS}
                   QUALIFY row_number() OVER (PARTITION BY finding_id
                                              ORDER BY imported_at DESC) = 1) r
          USING (finding_id)
        WHERE f.status = 'confirmed' AND coalesce(l.result, '') <> '已处理' {listed}
        ORDER BY f.township, f.village, f.finding_type, f.finding_id
    """)


def _change(task: dict[str, object]) -> dict[str, object] | None:
    """One change-list row: who, on what evidence, and the change its finding type makes
    (None when a confirmed case changes nothing in the base)."""
    change = FINDING_TYPES[str(task["finding_type"])].change_row(task)
    if change is None:
        return None
    return {
        "人员编号": task.get("person_id") or "",
        "姓名": task["姓名"],
        "身份证号": task["身份证号"],
        "依据": task["线索来源及内容"],
        **change,
    }


def change_rows(store: Store, *, include_listed: bool = False) -> pl.DataFrame:
    """The 变更清单 as a frame: one row per change, Chinese headers (:data:`COLUMNS`)."""
    confirmed = confirmed_changes(store, include_listed=include_listed)
    if confirmed.is_empty():
        return pl.DataFrame(
            schema={
                "finding_id": pl.String,
                "finding_type": pl.String,
                **{c: pl.String for c in COLUMNS},
            }
        )
    rows = []
    for task in task_rows(store, confirmed).iter_rows(named=True):
        change = _change(task)
        if change is None:
            continue
        rows.append(
            {
                "finding_id": task["finding_id"],
                "finding_type": task["finding_type"],
                "序号": "",
                "注销原因": "",
                "原值": "",
                "新值": "",
                **change,
                "乡镇(街道)": task.get("township") or "",
                "村(社区)": task.get("village") or "",
                "任务编号": task["finding_id"],
                "核查人": task.get("verifier") or "",
                "核查日期": task["verified_on"].isoformat() if task.get("verified_on") else "",
                "核查说明": task.get("note") or "",
                "办理情况": "",
            }
        )
    if not rows:
        return pl.DataFrame(
            schema={
                "finding_id": pl.String,
                "finding_type": pl.String,
                **{c: pl.String for c in COLUMNS},
            }
        )
    frame = pl.DataFrame(rows)
    cancels = frame.filter(pl.col("变更类型") == "注销")
    if not cancels["注销原因"].is_in(list(REASONS)).all():  # a finding type declared wrongly
        raise ValueError("a cancellation without one of the four fixed reasons")
    # grouped as the operator types them in: by kind of change, cancellations by reason
    grouped = frame.sort(
        pl.col("变更类型").replace_strict(GROUPS, default=len(GROUPS), return_dtype=pl.Int32),
        pl.col("注销原因").replace_strict(REASONS, default=len(REASONS), return_dtype=pl.Int32),
        "乡镇(街道)",
        "村(社区)",
        "finding_id",
    ).with_columns(pl.int_range(1, pl.len() + 1).cast(pl.String).alias("序号"))
    return grouped.select("finding_id", "finding_type", *COLUMNS)


def write_changes(
    store: Store, out: Path, *, operator: str, include_listed: bool = False
) -> ChangeList:
    """Write the 变更清单 workbook, record what it lists, audit it."""
    frame = change_rows(store, include_listed=include_listed)
    by_type = dict(frame.group_by("变更类型").len().sort("变更类型").iter_rows())
    if frame.is_empty():
        log.info("tasks changes: nothing confirmed to change")
        return ChangeList(None, 0, {})
    out.parent.mkdir(parents=True, exist_ok=True)
    _write_xlsx(out, frame, store.settings.county_name)
    digest = file_sha256(out)
    entries = frame.select(
        "finding_id",
        pl.col("变更类型").alias("change_type"),
        pl.lit(out.name).alias("file"),
        pl.lit(digest).alias("file_hash"),
        pl.lit(dt.datetime.now()).alias("listed_at"),
        pl.lit(operator).alias("operator"),
    )
    try:
        with store.transaction():
            store.append(tables.CHANGE_LIST_ENTRIES, entries)
    except BaseException:
        out.unlink(missing_ok=True)
        raise
    AuditLog.for_home(store.home).append(
        "tasks.changes",
        details={"file": out.name, "sha256": digest, "rows": frame.height, "by_type": by_type},
    )
    log.info("tasks changes: %d rows %s", frame.height, by_type)
    return ChangeList(out, frame.height, by_type)


def _write_xlsx(path: Path, frame: pl.DataFrame, county: str) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False, "in_memory": True})
    ws = book.add_worksheet("变更清单")
    title = book.add_format(
        {
            "font_name": "SimHei",
            "font_size": 15,
            "bold": True,
            "align": "center",
            "valign": "vcenter",
        }
    )
    base = {
        "font_name": "SimSun",
        "font_size": 10,
        "valign": "vcenter",
        "text_wrap": True,
        "border": 1,
    }
    head = book.add_format({**base, "bold": True, "align": "center", "bg_color": "#D9D9D9"})
    body = book.add_format(base)
    headers = list(COLUMNS)
    ws.merge_range(
        0,
        0,
        0,
        len(headers) - 1,
        neutral(
            f"{county}全员人口库变更清单（入户核实确认）  "
            f"生成日期 {dt.date.today().isoformat()}  共 {frame.height} 条"
        ),
        title,
    )
    ws.set_row(0, 28)
    ws.write_row(1, 0, headers, head)
    for col, header in enumerate(headers):
        ws.set_column(col, col, COLUMNS[header])
    cells = neutralise(frame.select(pl.col(h).cast(pl.String).fill_null("") for h in headers))
    for r, row in enumerate(cells.iter_rows(), start=2):
        for col, value in enumerate(row):
            ws.write_string(r, col, value, body)
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, 1 + frame.height, len(headers) - 1)
    ws.set_landscape()
    ws.set_paper(9)
    ws.set_margins(left=0.3, right=0.3, top=0.5, bottom=0.6)
    ws.repeat_rows(0, 1)
    ws.fit_to_pages(1, 0)
    ws.set_footer("&L&9经办人：&C&9第 &P 页，共 &N 页&R&9复核人：")
    book.close()
