"""通报: the assessment figures of every township against the targets, ranked, for a period.

Plan 000 asks for 每周通报清理工作进度 and ranks the townships (前六名 rewarded; those who miss
the deadline or the targets named). ``renkou bulletin [--period week|month|quarter] [--date D]
--out DIR`` writes one printable workbook (A4 landscape, Chinese headings) and, where
LibreOffice is installed, its PDF:

- the figures of ``linkage.report.quality.assessment`` per township and for the county, each
  against its target (below target in red);
- the ranking: fewest targets missed first, then the higher lowest figure;
- progress since the last bulletin of the same period (the figures of each bulletin are kept
  in ``bulletins``);
- the townships below each target by name, and the overdue township tasks.

The numbers are ``renkou figures``'s: a test holds the bulletin, the JSON and the report equal.
Figures are numbers in the workbook; text (township names among it) is written as text,
neutralised (:func:`linkage.cells.neutral`), never a live formula.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from linkage import tables
from linkage.audit import AuditLog, file_sha256
from linkage.cells import neutral
from linkage.errors import RenkouError
from linkage.report.quality import (
    ASSESSED,
    COVERAGE_TARGET,
    NOT_MEASURABLE,
    QUALITY_TARGET,
    assessment,
)
from linkage.store import Store
from linkage.tables import BULLETINS

log = logging.getLogger(__name__)

PERIODS = ("week", "month", "quarter")
#: figure → (heading, target or None)
FIGURES = {
    "coverage": ("户籍覆盖率", COVERAGE_TARGET),
    "birth_coverage": ("出生人口覆盖率", COVERAGE_TARGET),
    "matching_rate": ("人口匹配率", COVERAGE_TARGET),
    "completeness": ("基本项完整率", QUALITY_TARGET),
    "consistency": ("逻辑符合率", QUALITY_TARGET),
    "accuracy": ("主要项准确率", QUALITY_TARGET),
    "timeliness": ("更新及时率", QUALITY_TARGET),
    "feedback_rate": ("核查反馈率", None),  # the tasks' target, from tasks.toml
    "on_time_feedback_rate": ("按期反馈率", None),
    "confirmed_rate": ("属实率", None),
}


@dataclass(frozen=True)
class Bulletin:
    workbook: Path
    pdf: Path | None
    title: str
    ranking: pl.DataFrame  # township, rank, missed, figures…
    below: dict[str, list[str]]  # figure → townships below its target


def period_of(kind: str, day: dt.date) -> tuple[dt.date, str]:
    """(first day, title) of the ``kind`` period ending on ``day`` (to date)."""
    if kind == "week":
        start = day - dt.timedelta(days=day.weekday())
        return start, f"{day.year}年第{day.isocalendar().week}周"
    if kind == "month":
        return day.replace(day=1), f"{day.year}年{day.month}月"
    if kind == "quarter":
        quarter = (day.month - 1) // 3
        return dt.date(day.year, 3 * quarter + 1, 1), f"{day.year}年第{quarter + 1}季度"
    raise RenkouError(f"period {kind!r}. Fix: one of {', '.join(PERIODS)}")


def _targets(store: Store) -> dict[str, float | None]:
    targets = {f: t for f, (_, t) in FIGURES.items()}
    targets["feedback_rate"] = store.settings.tasks.target_rate
    return targets


def _below(value: float | None, target: float | None) -> bool:
    """Whether a measured figure misses its target (no value or no target: it does not)."""
    return value is not None and target is not None and value < target


def _ranking(
    towns: dict[str, dict[str, float | None]], targets: dict[str, float | None]
) -> pl.DataFrame:
    rows = []
    for town, values in towns.items():
        missed = sum(1 for f, t in targets.items() if _below(values.get(f), t))
        measured = [v for f, v in values.items() if v is not None and targets.get(f) is not None]
        rows.append(
            {
                "township": town,
                "missed": missed,
                "lowest": min(measured, default=None),
                **{f: values.get(f) for f in ASSESSED},
            }
        )
    frame = pl.DataFrame(
        rows,
        schema={
            "township": pl.String,
            "missed": pl.Int64,
            "lowest": pl.Float64,
            **dict.fromkeys(ASSESSED, pl.Float64),
        },
    )
    frame = frame.sort(
        ["missed", "lowest", "township"], descending=[False, True, False], nulls_last=True
    )
    return frame.with_columns(pl.int_range(1, pl.len() + 1).alias("rank"))


def write_bulletin(
    store: Store,
    out_dir: Path,
    *,
    operator: str,
    period: str = "month",
    day: dt.date | None = None,
    pdf: bool = True,
) -> Bulletin:
    """Write the bulletin of the ``period`` to date ending on ``day`` (default today)."""
    day = day or dt.date.today()
    start, span = period_of(period, day)
    figures = assessment(store, as_of=day)
    targets = _targets(store)
    towns: dict[str, dict[str, float | None]] = figures["townships"]
    ranking = _ranking(towns, targets)
    below = {
        f: [town for town in ranking["township"] if _below(towns[town].get(f), target)]
        for f, target in targets.items()
    }
    previous = _previous(store, period, day)
    county_name = store.settings.county_name
    title = f"{county_name}全员人口信息清理工作{span}通报"
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{county_name}_通报_{period}_{day:%Y%m%d}.xlsx"
    _workbook(
        path,
        title,
        start,
        day,
        figures["county"],
        ranking,
        targets,
        below,
        previous,
        _overdue(store, day),
    )
    _remember(store, period, day, figures)
    written = None
    if pdf:
        from linkage.office import office, to_pdf

        if office() is not None:
            (written,) = to_pdf([path], out_dir)
    AuditLog.for_home(store.home).append(
        "report.bulletin",
        details={
            "file": path.name,
            "sha256": file_sha256(path),
            "period": period,
            "as_of": day.isoformat(),
            "pdf": written.name if written else None,
        },
    )
    log.info("bulletin %s: %d townships", period, ranking.height)
    return Bulletin(path, written, title, ranking, {f: t for f, t in below.items() if t})


def _previous(store: Store, period: str, day: dt.date) -> dict[tuple[str, str], float | None]:
    """The figures of the last bulletin of ``period`` before ``day``: (township, figure) →
    value (township ``合计`` for the county)."""
    if not store.has_table(BULLETINS):
        return {}
    frame = store.frame(
        f"""SELECT township, figure, value FROM {BULLETINS}
            WHERE period = ? AND issued_on = (SELECT max(issued_on) FROM {BULLETINS}
                                              WHERE period = ? AND issued_on < ?)""",
        [period, period, day],
    )
    return {(t, f): v for t, f, v in frame.iter_rows()}


def _remember(store: Store, period: str, day: dt.date, figures: dict) -> None:
    rows = [("合计", f, v) for f, v in figures["county"].items()]
    rows += [(t, f, v) for t, values in figures["townships"].items() for f, v in values.items()]
    frame = pl.DataFrame(
        rows, schema={"township": pl.String, "figure": pl.String, "value": pl.Float64}, orient="row"
    )
    with store.transaction():
        tables.ensure(store.con, "report")
        store.con.execute(
            f"DELETE FROM {BULLETINS} WHERE period = ? AND issued_on = ?", [period, day]
        )
        store.append(
            BULLETINS,
            frame.select(
                pl.lit(day).alias("issued_on"),
                pl.lit(period).alias("period"),
                "township",
                "figure",
                "value",
                pl.lit(dt.datetime.now()).alias("written_at"),
            ),
        )


def _overdue(store: Store, day: dt.date) -> dict[str, int]:
    if not store.has_table(tables.TASK_ASSIGNMENTS):
        return {}
    from linkage.tasks.progress import township_progress

    frame = township_progress(store, day, store.settings.tasks.target_rate)
    return {str(t): int(n or 0) for t, n in frame.select("township", "overdue").iter_rows()}


def _workbook(
    path: Path,
    title: str,
    start: dt.date,
    day: dt.date,
    county: dict[str, float | None],
    ranking: pl.DataFrame,
    targets: dict[str, float | None],
    below: dict[str, list[str]],
    previous: dict[tuple[str, str], float | None],
    overdue: dict[str, int],
) -> None:
    book = xlsxwriter.Workbook(str(path), {"strings_to_formulas": False})
    fmt = {
        "title": book.add_format({"bold": True, "font_size": 16, "align": "center"}),
        "note": book.add_format({"font_size": 10}),
        "head": book.add_format(
            {
                "bold": True,
                "border": 1,
                "align": "center",
                "valign": "vcenter",
                "text_wrap": True,
                "bg_color": "#E8EEF7",
            }
        ),
        "text": book.add_format({"border": 1}),
        "int": book.add_format({"border": 1, "align": "center"}),
        "pct": book.add_format({"border": 1, "num_format": "0.0%"}),
        "bad": book.add_format(
            {"border": 1, "num_format": "0.0%", "font_color": "#C00000", "bold": True}
        ),
        "delta": book.add_format({"border": 1, "num_format": "+0.0%;-0.0%;0.0%"}),
    }
    sheet = book.add_worksheet("通报")
    sheet.set_landscape()
    sheet.set_paper(9)  # A4
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(3)
    width = 3 + len(ASSESSED) + 1
    sheet.merge_range(0, 0, 0, width - 1, neutral(title), fmt["title"])
    sheet.write(
        1,
        0,
        f"统计期间：{start:%Y年%m月%d日}至{day:%Y年%m月%d日}；"
        "红色为未达目标；排名按未达标项数（少者在前）、最低一项（高者在前）",
        fmt["note"],
    )
    heads = ["排名", "乡镇（街道）", "未达标项"] + [FIGURES[f][0] for f in ASSESSED] + ["逾期任务"]
    for col, head in enumerate(heads):
        sheet.write(3, col, head, fmt["head"])
    sheet.write(4, 1, "目标", fmt["text"])
    for col, f in enumerate(ASSESSED, start=3):
        target = targets.get(f)
        sheet.write(4, col, f"≥{target:.0%}" if target else "—", fmt["int"])
    row = 5
    sheet.write(row, 0, "", fmt["text"])
    sheet.write(row, 1, "全县", fmt["text"])
    sheet.write(row, 2, "", fmt["text"])
    for col, f in enumerate(ASSESSED, start=3):
        _rate_cell(sheet, row, col, county.get(f), targets.get(f), fmt)
    sheet.write(row, width - 1, overdue.get("合计", 0), fmt["int"])
    for r in ranking.iter_rows(named=True):
        row += 1
        sheet.write(row, 0, r["rank"], fmt["int"])
        sheet.write_string(row, 1, neutral(r["township"]), fmt["text"])
        sheet.write(row, 2, r["missed"], fmt["int"])
        for col, f in enumerate(ASSESSED, start=3):
            _rate_cell(sheet, row, col, r[f], targets.get(f), fmt)
        sheet.write(row, width - 1, overdue.get(r["township"], 0), fmt["int"])
    row += 2
    sheet.merge_range(row, 0, row, width - 1, "未达目标的乡镇（街道）", fmt["head"])
    for f, towns in below.items():
        if towns:
            row += 1
            said = f"{FIGURES[f][0]}未达{targets[f]:.0%}：{'、'.join(towns)}"
            sheet.write_string(row, 0, neutral(said), fmt["note"])
    if not any(below.values()):
        row += 1
        sheet.write(row, 0, "各乡镇（街道）均达到目标", fmt["note"])
    row += 2
    sheet.write(
        row,
        0,
        f"完整率按底库所载10项计；{'、'.join(NOT_MEASURABLE)}等{len(NOT_MEASURABLE)}项底库未载，"
        "无法计算",
        fmt["note"],
    )
    sheet.set_column(0, 0, 6)
    sheet.set_column(1, 1, 14)
    sheet.set_column(2, width - 1, 10)
    # progress since the last bulletin of the period
    changes = book.add_worksheet("较上期")
    changes.set_landscape()
    changes.set_paper(9)
    changes.fit_to_pages(1, 0)
    changes.write_string(0, 0, neutral(f"{title}：较上期变化"), fmt["title"])
    if not previous:
        changes.write(2, 0, "首期通报，无上期可比", fmt["note"])
    else:
        for col, head in enumerate(["乡镇（街道）"] + [FIGURES[f][0] for f in ASSESSED]):
            changes.write(2, col, head, fmt["head"])
        for i, town in enumerate(["合计", *ranking["township"].to_list()], start=3):
            values = (
                county
                if town == "合计"
                else dict(ranking.filter(pl.col("township") == town).row(0, named=True))
            )
            changes.write_string(i, 0, neutral("全县" if town == "合计" else town), fmt["text"])
            for col, f in enumerate(ASSESSED, start=1):
                now, before = values.get(f), previous.get((town, f))
                if now is None or before is None:
                    changes.write(i, col, "—", fmt["int"])
                else:
                    changes.write_number(i, col, now - before, fmt["delta"])
        changes.set_column(0, 0, 14)
        changes.set_column(1, len(ASSESSED), 10)
    book.close()


def _rate_cell(
    sheet: Any, row: int, col: int, value: float | None, target: float | None, fmt: dict
) -> None:
    if value is None:
        sheet.write(row, col, "—", fmt["int"])
        return
    sheet.write_number(row, col, value, fmt["bad" if _below(value, target) else "pct"])
