"""Ingest: every inbox file → its source table (one transaction), then the person records of
the sources that changed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.options import STAGE
from linkage import pipeline
from linkage.run_summary import ingest_counts
from linkage.runs import new_run_id, office_guard, reported
from linkage.store import Store


@task(name="ingest", **STAGE)
def load_inbox(home: str, inbox: str, run_id: str, *, full: bool = False) -> dict[str, Any]:
    """Load the inbox; file problems are reported in the counts, not raised."""
    with reported("ingest", home, run_id), Store(home) as store:
        done = pipeline.ingest(store, Path(inbox), run_id=run_id, full=full)
    counts = ingest_counts(done.report, done.person_records)
    get_run_logger().info(
        "ingest: %d files (%d rejected), %d rows new, %d quarantined",
        counts["files"],
        counts["files_rejected"],
        counts["rows_loaded"],
        counts["rows_quarantined"],
    )
    return counts


@flow(name="renkou-ingest", persist_result=False)
def ingest(inbox: str, home: str = "var") -> dict[str, Any]:
    """Only the ingest stage (no snapshot: it is one transaction by itself). Refused while a
    night works on ``home`` or after one died half-written (:func:`linkage.runs.office_guard`)."""
    with office_guard(home):
        return load_inbox(home, inbox, new_run_id())
