"""The stages of a night, each written once: ingest, link, findings, task lists, report.

The CLI, the Prefect flows (``flows/``), the tests and the benchmarks call these functions;
none of them repeats a stage's body. Each takes an open :class:`~linkage.store.Store` and
returns a typed result; each is atomic by itself (a transaction, or an atomic publish), so a
failed stage leaves the database as the previous stage left it. The night as a whole (one
rollback point, the run record, the lock) is ``linkage.runs.Night``.

Example::

    with Store(home) as store:
        ingested = pipeline.ingest(store, Path("inbox"))
        pipeline.link(store)
        pipeline.findings(store, run_id="manual")
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from linkage.audit import AuditLog
from linkage.casework import merge
from linkage.findings import derive_findings
from linkage.ingest.load import IngestReport, ingest_inbox
from linkage.link import LinkReport, link_all
from linkage.persons import refresh_person_records
from linkage.store import Store
from linkage.tables import CLERICAL, DEDUPE_PAIRS, LINKS

if TYPE_CHECKING:
    from linkage.tasks.export import ExportReport


@dataclass(frozen=True)
class Ingested:
    """What ingest did: the files (``report``), the person records rebuilt, and the seconds
    of its two halves (``load``: read, validate, load; ``person_records``: standardise)."""

    report: IngestReport
    person_records: int
    seconds: dict[str, float]

    @property
    def rejected_files(self) -> int:
        """Files refused whole (their good neighbours were still loaded)."""
        return sum(1 for f in self.report.files if f.status == "rejected")


@dataclass(frozen=True)
class Merged:
    """What the findings stage did: the merge outcome (new, reopened, closed, …) by count,
    and why a rule could not judge tonight (``notes``, for the night's summary)."""

    outcome: dict[str, int]
    notes: list[str]


def ingest(store: Store, inbox: Path, *, run_id: str | None = None, full: bool = False) -> Ingested:
    """Every inbox file into its source table, then the person records of the sources that
    changed (all of them with ``full``)."""
    start = time.perf_counter()
    last_load = store.scalar("SELECT coalesce(max(load_id), 0) FROM load_ledger")
    report = ingest_inbox(store, inbox, run_id=run_id)
    loaded = time.perf_counter()
    with store.transaction():
        records = refresh_person_records(store, None if full else report.changed_sources)
    seconds = {"load": loaded - start, "person_records": time.perf_counter() - loaded}
    files = store.frame(
        "SELECT source, file, file_hash AS sha256, status, rows_in, rows_loaded, rows_updated, "
        "rows_quarantined FROM load_ledger WHERE load_id > ? ORDER BY load_id",
        [last_load],
    )
    AuditLog.for_home(store.home).append(
        "ingest", details={"run_id": run_id, "files": files.to_dicts()}
    )
    return Ingested(report, records, seconds)


def link(store: Store, *, full: bool = False, retrain: bool = False) -> LinkReport:
    """Link every source to the base (incremental unless ``full``, the base changed or a model
    is new). Never inside a transaction: it publishes its tables atomically itself. Training
    new model versions is an audit entry."""
    report = link_all(store, retrain=retrain, full=full)
    if report.trained:
        AuditLog.for_home(store.home).append(
            "link.retrain",
            details={"trained": list(report.trained), "models": dict(report.models)},
        )
    return report


def findings(store: Store, run_id: str, *, today: dt.date | None = None) -> Merged:
    """Derive tonight's candidate findings from the links (judged on ``today``, default the
    clock's) and merge them into the case list, in one transaction."""
    from linkage.catalog import FINDING_TYPES

    with store.transaction():
        candidates = derive_findings(store, LINKS, DEDUPE_PAIRS, clerical=CLERICAL, today=today)
        outcome = merge(store, candidates, run_id)
    notes = [n for kind in FINDING_TYPES.values() if (n := kind.not_raised(store))]
    return Merged(outcome, notes)


def task_lists(store: Store, folder: Path, *, operator: str) -> ExportReport:
    """Open findings not yet sent → one workbook per township in ``folder``."""
    from linkage.tasks.export import export_tasks  # the Excel package, only when asked for

    return export_tasks(store, folder, operator=operator)


def report(store: Store, run_id: str | None = None) -> Path:
    """The night's report page (``HOME/reports/report-<run>.html`` and ``latest.html``)."""
    from linkage.report.build import nightly_report

    return nightly_report(store, run_id)
