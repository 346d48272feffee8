"""``renkou tasks export``: open findings → one workbook per township; findings become ``sent``.

The workbooks are written first, then — in one transaction — the export and every assignment
(finding, file, sheet, row, deadline, check code) are recorded and the findings set to ``sent``.
If recording fails, the written files are removed, so a file either exists and is recorded or
does not exist. Each export is appended to the audit log (operator, time, file hashes, counts).
With the office's outbox key (``RENKOU_OUTBOX_KEY_FILE``, :mod:`linkage.keys`) each workbook
leaves as an AES-256 zip of the same name (:mod:`linkage.sealed`); ``tasks import`` opens a
returned package with the same key.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from linkage import keys, tables
from linkage.audit import AuditLog, file_sha256
from linkage.casework import set_status
from linkage.catalog import FINDING_TYPES, type_labels
from linkage.sealed import seal
from linkage.settings import TaskSettings
from linkage.store import Store
from linkage.tasks.tasklist import task_rows
from linkage.tasks.workbook import SheetSpec, file_name, sheet_name, write_workbook
from linkage.tasks.workdays import deadline

log = logging.getLogger(__name__)

NO_TOWNSHIP = "未定乡镇"
NO_VILLAGE = "未定村（社区）"


@dataclass(frozen=True)
class ExportedFile:
    township: str
    path: Path  # the workbook, or its AES package (.zip) under the outbox key
    file_hash: str  # of the workbook (what its assignments record)
    tasks: int
    sheets: int
    package_hash: str | None = None


@dataclass
class ExportReport:
    export_id: str
    sent_on: dt.date
    files: list[ExportedFile] = field(default_factory=list)

    @property
    def tasks(self) -> int:
        return sum(f.tasks for f in self.files)


def _export_id(now: dt.datetime) -> str:
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def pending_findings(store: Store, township: str | None = None) -> pl.DataFrame:
    """Findings still ``open`` (never sent, or reopened on new evidence), in export order."""
    tables.ensure(store.con, "tasks")
    fieldwork = ", ".join(f"'{k}'" for k, t in FINDING_TYPES.items() if t.fieldwork)
    where, params = f"status = 'open' AND finding_type IN ({fieldwork})", []
    if township is not None:
        where += " AND coalesce(township, ?) = ?"
        params = [NO_TOWNSHIP, township]
    return store.frame(
        f"""
        SELECT finding_id, finding_type, source, source_record_id, role, person_id,
               other_person_id, field, base_value, source_value, match_probability,
               coalesce(township, '{NO_TOWNSHIP}') AS township,
               coalesce(village, '{NO_VILLAGE}') AS village, suggested_action,
               cancellation_reason, priority, evidence
        FROM findings WHERE {where}
        ORDER BY township, village, finding_type, finding_id
    """,
        params,
    )


def task_deadline(
    cfg: TaskSettings, finding_type: str, priority: str | None, sent_on: dt.date
) -> tuple[dt.date, int, str]:
    """(due date, days, unit) of a task sent on ``sent_on``: the tighter of the limit of its
    priority (``[deadlines] high``/``ordinary`` in ``[deadlines] unit``) and its type's own
    (``[deadlines.finding_type]``, else the catalog's default, in the type's unit).

    Example: a ``moved_out`` case (7 working days) of priority ``high`` (15) is due in 7.
    """
    limits = [(cfg.high_days if priority == "high" else cfg.ordinary_days, cfg.unit)]
    kind = FINDING_TYPES.get(finding_type)
    own = kind.deadline if kind else None
    if finding_type in cfg.type_days:
        limits.append((cfg.type_days[finding_type], own.unit if own else cfg.unit))
    elif own is not None:
        limits.append((own.days, own.unit))
    return min((deadline(sent_on, days, unit), days, unit) for days, unit in limits)


def _with_deadlines(tasks: pl.DataFrame, sent_on: dt.date, cfg: TaskSettings) -> pl.DataFrame:
    due = [
        task_deadline(cfg, t, p, sent_on)
        for t, p in tasks.select("finding_type", "priority").rows()
    ]
    return tasks.with_columns(
        pl.Series("deadline", [d[0] for d in due], dtype=pl.Date),
        pl.Series("deadline_days", [d[1] for d in due], dtype=pl.Int32),
        pl.Series("deadline_unit", [d[2] for d in due], dtype=pl.String),
        pl.Series("check_code", [secrets.token_hex(4).upper() for _ in due], dtype=pl.String),
    )


def _sheets(tasks: pl.DataFrame, layout: str) -> list[SheetSpec]:
    taken: set[str] = set()
    if layout == "finding_type":
        keys = [t for t in type_labels() if t in set(tasks["finding_type"])]
        keys += sorted(set(tasks["finding_type"]) - set(keys))
        return [
            SheetSpec(
                sheet_name(type_labels().get(k, k), taken),
                type_labels().get(k, k),
                tasks.filter(pl.col("finding_type") == k),
            )
            for k in keys
        ]
    return [
        SheetSpec(sheet_name(v, taken), v, tasks.filter(pl.col("village") == v))
        for v in tasks["village"].unique(maintain_order=True)
    ]


def export_tasks(
    store: Store,
    out_dir: Path,
    *,
    operator: str,
    sent_on: dt.date | None = None,
    township: str | None = None,
    cfg: TaskSettings | None = None,
) -> ExportReport:
    """Write the workbooks of every open finding (of one township, if given) into ``out_dir``."""
    cfg = cfg or store.settings.tasks
    now = dt.datetime.now()
    sent_on = sent_on or now.date()
    report = ExportReport(_export_id(now), sent_on)
    findings = pending_findings(store, township)
    if findings.is_empty():
        log.info("tasks export: no open findings to send")
        return report
    tasks = _with_deadlines(task_rows(store, findings), sent_on, cfg)
    out_dir.mkdir(parents=True, exist_ok=True)
    county = store.settings.county_name
    key = keys.key("outbox", store.home)
    written: list[Path] = []
    assignments = []
    try:
        for (town,), part in tasks.group_by("township", maintain_order=True):
            path = out_dir / file_name(str(town), report.export_id)
            sheets = _sheets(part, cfg.sheets)
            positions = write_workbook(
                path,
                township=str(town),
                county=county,
                export_id=report.export_id,
                sent_on=sent_on,
                sheets=sheets,
                paper=cfg.paper,
                password=cfg.password,
                village_column=cfg.sheets != "village",
            )
            written.append(path)
            digest = file_sha256(path)
            exported = ExportedFile(str(town), path, digest, part.height, len(sheets))
            if key is not None:
                package = path.with_suffix(".zip")
                written.append(package)
                seal(path.read_bytes(), path.name, package, key)
                path.unlink()
                exported = replace(exported, path=package, package_hash=file_sha256(package))
            report.files.append(exported)
            assignments.append(
                pl.DataFrame(
                    positions,
                    schema={"finding_id": pl.String, "sheet": pl.String, "row": pl.Int32},
                    orient="row",
                ).with_columns(pl.lit(path.name).alias("file"), pl.lit(digest).alias("file_hash"))
            )
        placed = pl.concat(assignments).join(tasks, on="finding_id")
        _record(store, report, placed, out_dir, operator, cfg)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    AuditLog.for_home(store.home).append(
        "tasks.export",
        details={
            "export_id": report.export_id,
            "sent_on": sent_on.isoformat(),
            "tasks": report.tasks,
            "files": [
                {
                    "file": f.path.name,
                    "sha256": f.file_hash,
                    "package_sha256": f.package_hash,
                    "township": f.township,
                    "tasks": f.tasks,
                }
                for f in report.files
            ],
        },
    )
    log.info(
        "tasks export %s: %d tasks in %d files", report.export_id, report.tasks, len(report.files)
    )
    return report


def _record(
    store: Store,
    report: ExportReport,
    placed: pl.DataFrame,
    out_dir: Path,
    operator: str,
    cfg: TaskSettings,
) -> None:
    rows = placed.select(
        "finding_id",
        pl.lit(report.export_id).alias("export_id"),
        "finding_type",
        "priority",
        "township",
        "village",
        "file",
        "file_hash",
        "sheet",
        "row",
        "check_code",
        pl.lit(report.sent_on).alias("sent_on"),
        "deadline",
        "deadline_days",
        "deadline_unit",
    )
    with store.transaction():
        store.con.execute(
            f"INSERT INTO {tables.TASK_EXPORTS} VALUES (?, current_timestamp, ?, ?, ?, ?, ?)",
            [
                report.export_id,
                report.sent_on,
                operator,
                str(out_dir),
                len(report.files),
                report.tasks,
            ],
        )
        store.append(tables.TASK_ASSIGNMENTS, rows)
        set_status(
            store,
            rows["finding_id"].to_list(),
            "sent",
            note=f"sent in task export {report.export_id}",
        )
