"""``renkou tasks import``: read returned workbooks, check every row, apply the good ones.

Each row is checked against what was sent (``task_assignments``): the 任务编号 must be a task
that was sent, its hidden 校验码 must be the one sent with it (an edited id is caught), and it
must belong to the township the file was sent to (the very-hidden ``_renkou`` sheet says which).
The answer must be one of 属实 / 不属实 / 无法核实 / 已处理. Problems are collected — file, sheet
and Excel row, what is wrong, how to fix — never raised one by one; good rows are applied:

- the finding's status follows the answer (:data:`linkage.tasks.workbook.RESULTS`);
- the answer is appended to ``task_results`` and becomes the finding's **label** (``labels``);
- the file's SHA-256 goes into the ``task_imports`` ledger: the same file again changes
  nothing, and a corrected file re-applies only rows whose answer changed.

Messages carry task ids, townships and positions, never a cell's text: a name typed into the
wrong column must not reach a log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from linkage import archive, tables
from linkage.audit import AuditLog, file_sha256
from linkage.casework import set_status
from linkage.errors import FileProblem
from linkage.labels import LABEL_SCHEMA, row_hashes
from linkage.sealed import contents
from linkage.store import Store
from linkage.tasks.reader import Problem, Returned, ReturnedRow, parse_day, read_returned
from linkage.tasks.workbook import META_SHEET, RESULTS

__all__ = ["FileOutcome", "ImportReport", "Problem", "import_file", "import_returns"]

log = logging.getLogger(__name__)

_TASK_ID = re.compile(r"^F[0-9A-F]{15}$")
_ANSWERABLE = ("sent", "confirmed", "rejected", "needs_more_info")
#: an answer that must say why (plan 004: 查无此人的须注明原因)
UNVERIFIABLE = "无法核实"
#: a row that may be applied: the row, its assignment, its 核查日期
_Good = tuple[ReturnedRow, dict[str, Any], dt.date | None]


@dataclass
class FileOutcome:
    file: str
    file_hash: str
    status: str  # applied, already_imported, unreadable
    township: str | None = None
    export_id: str | None = None
    rows_read: int = 0
    applied: int = 0
    unchanged: int = 0
    pending: int = 0
    rejected: int = 0


@dataclass
class ImportReport:
    files: list[FileOutcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def counts(self) -> dict[str, int]:
        keys = ("rows_read", "applied", "unchanged", "pending", "rejected")
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}


# ------------------------------------------------------------------------ checking


def _known(
    store: Store, ids: list[str]
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
    """Assignments and findings of the task ids in a file."""
    frame = pl.DataFrame({"id": sorted(set(ids))}, schema={"id": pl.String})
    store.con.register("tmp_renkou_import_ids", frame)
    try:
        assigned = store.frame(f"""
            SELECT finding_id, export_id, township, check_code, sent_on
            FROM {tables.TASK_ASSIGNMENTS}
            WHERE finding_id IN (SELECT id FROM tmp_renkou_import_ids) ORDER BY sent_on, export_id
        """)
        findings = store.frame("""
            SELECT finding_id, finding_type, status, person_id, other_person_id, source,
                   source_record_id, role, evidence, match_probability FROM findings
            WHERE finding_id IN (SELECT id FROM tmp_renkou_import_ids)
        """)
    finally:
        store.con.unregister("tmp_renkou_import_ids")
    by_id: dict[str, list[dict[str, Any]]] = {}
    for a in assigned.iter_rows(named=True):
        by_id.setdefault(a["finding_id"], []).append(a)
    return by_id, {f["finding_id"]: f for f in findings.iter_rows(named=True)}


def _check(
    file: str,
    returned: Returned,
    assigned: dict[str, list[dict[str, Any]]],
    findings: dict[str, dict[str, Any]],
    today: dt.date,
    problems: list[Problem],
) -> tuple[list[_Good], int]:
    """Rows that may be applied (with their assignment and date), and the count pending."""
    good: list[_Good] = []
    seen: dict[str, int] = {}
    pending = 0

    def bad(
        r: ReturnedRow, code: str, message: str, task: str | None = None, severity: str = "error"
    ) -> None:
        problems.append(Problem(file, r.sheet, r.row, code, message, severity, task))

    for r in returned.rows:
        tid = r.task_id.upper() if r.task_id else None
        if tid is None:
            bad(
                r,
                "no_task_id",
                "任务编号 is empty but the row is filled in. Fix: answer on the "
                "row of the task as exported; do not add rows",
            )
            continue
        if not _TASK_ID.match(tid):
            bad(
                r,
                "unknown_task",
                "任务编号 is not a task id of renkou (edited?). Fix: restore "
                "the id from the exported file",
            )
            continue
        if tid in seen:
            bad(
                r,
                "duplicate_row",
                f"task answered twice (first on row {seen[tid]}). Fix: keep one row per task",
                tid,
            )
            continue
        seen[tid] = r.row
        candidates = assigned.get(tid, [])
        matched = [a for a in candidates if a["check_code"] == (r.check or "").upper()]
        if not candidates:
            if tid in findings:
                bad(
                    r,
                    "not_sent",
                    "this task was never sent in a task list. Fix: answer only "
                    "tasks of the exported lists",
                    tid,
                )
            else:
                bad(
                    r,
                    "unknown_task",
                    "任务编号 is not a known task (edited?). Fix: restore the "
                    "id from the exported file",
                    tid,
                )
            continue
        if not matched:
            bad(
                r,
                "tampered",
                "任务编号 and the hidden 校验码 do not belong together: the id "
                "was edited or the row copied from elsewhere. Fix: restore the row from the "
                "exported file",
                tid,
            )
            continue
        assignment = matched[-1]
        latest = candidates[-1]
        if assignment is not latest:
            bad(
                r,
                "superseded",
                f"the task was sent again in batch {latest['export_id']} "
                f"(new evidence); this older answer is not applied. Fix: answer it in the "
                f"newer list",
                tid,
            )
            continue
        if assignment["township"] != returned.township:
            bad(
                r,
                "other_township",
                f"task belongs to {assignment['township']}, not to "
                f"{returned.township} whose file this is. Fix: {assignment['township']} "
                f"answers it in its own file",
                tid,
            )
            continue
        finding = findings.get(tid)
        if finding is None or finding["status"] not in _ANSWERABLE:
            state = finding["status"] if finding else "deleted"
            bad(
                r,
                "not_answerable",
                f"the finding is {state} since the list was sent (the "
                "base was corrected or new evidence reopened it); answer not applied",
                tid,
            )
            continue
        if r.result is None:
            pending += 1
            bad(
                r,
                "blank_result",
                "核查结果 is empty: the task counts as not returned. Fix: "
                "choose 属实/不属实/无法核实/已处理",
                tid,
                severity="warning",
            )
            continue
        result = r.result.replace(" ", "")
        if result not in RESULTS:
            bad(
                r,
                "invalid_result",
                "核查结果 is not one of 属实/不属实/无法核实/已处理. Fix: "
                "choose from the drop-down",
                tid,
            )
            continue
        if result == UNVERIFIABLE and not (r.note or "").strip():
            bad(
                r,
                "unverifiable_without_note",
                "核查结果 is 无法核实 but 核查说明 is empty: the plan asks why a person cannot be "
                "found. Fix: write the reason in 核查说明 (e.g. 人户分离，联系不上)",
                tid,
            )
            continue
        day, ok = parse_day(r.verified_on)
        if not ok:
            bad(r, "bad_date", "核查日期 is not a date. Fix: write it as 2025-10-09", tid)
            continue
        if day is not None and day > today:
            bad(
                r,
                "future_date",
                f"核查日期 is after today ({today.isoformat()}). Fix: the day of the visit",
                tid,
            )
            continue
        if day is None:
            bad(r, "missing_date", "核查日期 is empty; applied without a date", tid, "warning")
        if r.verifier is None:
            bad(
                r, "missing_verifier", "核查人 is empty; applied without a verifier", tid, "warning"
            )
        good.append(
            (
                ReturnedRow(r.sheet, r.row, tid, r.check, result, r.note, r.verifier, day),
                assignment,
                day,
            )
        )
    return good, pending


# ------------------------------------------------------------------------ applying


def _apply(
    store: Store, file: str, import_id: str, good: list[_Good], findings: dict[str, dict[str, Any]]
) -> tuple[int, int]:
    """Apply answers whose content is new. Returns (applied, unchanged)."""
    current = {
        r["finding_id"]: r
        for r in store.frame(
            f"SELECT finding_id, result, note, verifier, verified_on FROM {tables.TASK_RESULTS} "
            f"QUALIFY row_number() OVER (PARTITION BY finding_id ORDER BY imported_at DESC, "
            f"import_id DESC) = 1"
        ).iter_rows(named=True)
    }
    fresh = []
    for r, assignment, day in good:
        now = (r.result, r.note, r.verifier, day)
        before = current.get(r.task_id or "")
        if (
            before
            and (before["result"], before["note"], before["verifier"], before["verified_on"]) == now
        ):
            continue
        fresh.append((r, assignment, day))
    if not fresh:
        return 0, len(good)
    results = pl.DataFrame(
        [
            {
                "finding_id": r.task_id,
                "export_id": a["export_id"],
                "import_id": import_id,
                "file": file,
                "sheet": r.sheet,
                "row": r.row,
                "result": r.result,
                "status": RESULTS[r.result or ""],
                "note": r.note,
                "verifier": r.verifier,
                "verified_on": day,
            }
            for r, a, day in fresh
        ],
        schema={
            "finding_id": pl.String,
            "export_id": pl.String,
            "import_id": pl.String,
            "file": pl.String,
            "sheet": pl.String,
            "row": pl.Int32,
            "result": pl.String,
            "status": pl.String,
            "note": pl.String,
            "verifier": pl.String,
            "verified_on": pl.Date,
        },
    )
    facts = [findings[r.task_id or ""] for r, _, _ in fresh]
    hashes = row_hashes(
        store,
        [
            (f["source"], f["source_record_id"])
            for f in facts
            if f.get("source") and f.get("source_record_id")
        ],
    )
    labels = pl.DataFrame(
        [
            {
                "finding_id": f["finding_id"],
                "finding_type": f["finding_type"],
                "person_id": f["person_id"],
                "other_person_id": f["other_person_id"],
                "source": f["source"],
                "source_record_id": f["source_record_id"],
                "role": f["role"],
                "records": json.dumps(_evidence_records(f)),
                "source_row_hash": hashes.get((f["source"], f["source_record_id"])),
                "match_probability": f["match_probability"],
                "result": r.result,
                "status": RESULTS[r.result or ""],
                "verifier": r.verifier,
                "verified_on": day,
                "import_id": import_id,
            }
            for f, (r, _, day) in zip(facts, fresh, strict=True)
        ],
        schema=LABEL_SCHEMA,
    ).with_columns(labelled_at=pl.lit(dt.datetime.now()))
    store.append(tables.TASK_RESULTS, results.with_columns(imported_at=pl.lit(dt.datetime.now())))
    store.con.register("tmp_renkou_labels", labels)
    try:
        store.con.execute(
            f"DELETE FROM {tables.LABELS} WHERE finding_id IN "
            f"(SELECT finding_id FROM tmp_renkou_labels)"
        )
        store.con.execute(f"INSERT INTO {tables.LABELS} BY NAME SELECT * FROM tmp_renkou_labels")
    finally:
        store.con.unregister("tmp_renkou_labels")
    for status in sorted(set(results["status"])):
        ids = results.filter(pl.col("status") == status)["finding_id"].to_list()
        set_status(store, ids, status, note=f"township feedback, import {import_id}")
    return len(fresh), len(good) - len(fresh)


def _evidence_records(finding: dict[str, Any]) -> list[str]:
    try:
        listed = json.loads(finding.get("evidence") or "{}").get("records")
    except (ValueError, AttributeError):
        listed = None
    if isinstance(listed, list) and listed:
        return [str(x) for x in listed]
    return [finding["source_record_id"]] if finding.get("source_record_id") else []


def import_file(
    store: Store,
    path: Path,
    *,
    operator: str,
    today: dt.date,
    problems: list[Problem],
    township: str | None = None,
) -> FileOutcome:
    """Check and apply one returned workbook (its own transaction); with ``township``, a
    workbook of another township is refused whole (a township operator's import)."""
    tables.ensure(store.con, "tasks")
    digest = file_sha256(path)
    done = store.scalar(
        f"SELECT min(imported_at)::VARCHAR FROM {tables.TASK_IMPORTS} "
        f"WHERE file_hash = ? AND status = 'applied'",
        [digest],
    )
    if done is not None:
        problems.append(
            Problem(
                path.name,
                None,
                None,
                "already_imported",
                f"this exact file was imported on {str(done)[:19]}; nothing changed",
                "warning",
            )
        )
        return FileOutcome(path.name, digest, "already_imported")
    returned = read_returned(path)
    problems.extend(returned.problems)
    if returned.export_id is None:
        return FileOutcome(path.name, digest, "unreadable")
    # batch and township are cells of the _renkou sheet: named (and recorded) only once known
    outcome = FileOutcome(path.name, digest, "applied", rows_read=len(returned.rows))
    if not store.scalar(
        f"SELECT count(*) FROM {tables.TASK_EXPORTS} WHERE export_id = ?", [returned.export_id]
    ):
        problems.append(
            Problem(
                path.name,
                None,
                None,
                "unknown_export",
                f"the batch of its {META_SHEET} sheet was not exported from this database. "
                "Fix: import it where it was exported; do not edit that sheet",
            )
        )
        outcome.status = "unreadable"
        return outcome
    outcome.export_id = returned.export_id
    sent_to = store.frame(
        f"SELECT DISTINCT township FROM {tables.TASK_ASSIGNMENTS} WHERE export_id = ?",
        [returned.export_id],
    )["township"]
    if returned.township not in sent_to.to_list():
        problems.append(
            Problem(
                path.name,
                None,
                None,
                "unknown_township",
                f"the township of its {META_SHEET} sheet is none that batch "
                f"{returned.export_id} was sent to. Fix: import the file as exported; do not "
                "edit that sheet",
            )
        )
        outcome.status = "refused"
        return outcome
    outcome.township = returned.township
    if township is not None and returned.township != township:
        problems.append(
            Problem(
                path.name,
                None,
                None,
                "other_township",
                f"this workbook is not {township}'s task list, and the operator imports for "
                f"{township} only. Fix: the county office imports it",
            )
        )
        outcome.status = "refused"
        return outcome
    before = len(problems)
    assigned, findings = _known(store, [r.task_id.upper() for r in returned.rows if r.task_id])
    good, outcome.pending = _check(path.name, returned, assigned, findings, today, problems)
    outcome.rejected = sum(1 for p in problems[before:] if p.severity == "error")
    import_id = f"I{dt.datetime.now():%Y%m%d%H%M%S%f}"
    archive.keep(store, "tasks", path, digest)  # HOME/archive/tasks/…/<file_hash>, read-only
    with store.transaction():
        outcome.applied, outcome.unchanged = _apply(store, path.name, import_id, good, findings)
        store.con.execute(
            f"INSERT INTO {tables.TASK_IMPORTS} VALUES (?, ?, ?, ?, ?, current_timestamp, ?, "
            f"?, ?, ?, ?, ?, 'applied')",
            [
                import_id,
                path.name,
                digest,
                returned.export_id,
                returned.township,
                operator,
                outcome.rows_read,
                outcome.applied,
                outcome.unchanged,
                outcome.pending,
                outcome.rejected,
            ],
        )
    return outcome


def _opened(store: Store, path: Path, into: Path, problems: list[Problem]) -> list[Path]:
    """The workbooks of ``path``: itself, or what its AES package holds."""
    try:
        return contents(path, store.home, into, "outbox")
    except FileProblem as problem:
        problems.append(
            Problem(path.name, None, None, "package", f"{problem.problem}. Fix: {problem.fix}")
        )
        return []


def import_returns(
    store: Store,
    paths: list[Path],
    *,
    operator: str,
    today: dt.date | None = None,
    township: str | None = None,
) -> ImportReport:
    """Import returned workbooks (only ``township``'s, when given); a ``.zip`` is an AES
    package of the outbox, opened with the outbox key. Every call is one audit entry."""
    today = today or dt.date.today()
    report = ImportReport()
    with tempfile.TemporaryDirectory(prefix="renkou-returns-") as unpacked:
        for path in paths:
            for workbook in _opened(store, path, Path(unpacked), report.problems):
                report.files.append(
                    import_file(
                        store,
                        workbook,
                        operator=operator,
                        today=today,
                        problems=report.problems,
                        township=township,
                    )
                )
    AuditLog.for_home(store.home).append(
        "tasks.import",
        details={
            "files": [
                {
                    "file": f.file,
                    "sha256": f.file_hash,
                    "status": f.status,
                    "township": f.township,
                    "export_id": f.export_id,
                    "rows_read": f.rows_read,
                    "applied": f.applied,
                    "unchanged": f.unchanged,
                    "pending": f.pending,
                    "rejected": f.rejected,
                }
                for f in report.files
            ],
            "errors": len(report.errors),
            "warnings": len(report.problems) - len(report.errors),
        },
    )
    log.info(
        "tasks import: %d files, %s, %d problems",
        len(report.files),
        report.counts(),
        len(report.problems),
    )
    return report
