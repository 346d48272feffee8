"""Findings: links → candidate findings → merged into the case list (one transaction)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from flows.options import STAGE
from linkage import pipeline
from linkage.run_summary import findings_counts
from linkage.runs import new_run_id, office_guard, reported
from linkage.store import Store


@task(name="findings", **STAGE)
def merge_findings(home: str, run_id: str) -> dict[str, Any]:
    with reported("findings", home, run_id), Store(home) as store:
        merged = pipeline.findings(store, run_id)
        counts = findings_counts(store, merged.outcome, merged.notes)
    get_run_logger().info(
        "findings: %d not closed (%d new tonight)", counts["open"], counts["merge"].get("new", 0)
    )
    return counts


@flow(name="renkou-findings", persist_result=False)
def findings(home: str = "var") -> dict[str, Any]:
    """Only the findings stage (refused while a night works on ``home`` or after one died
    half-written, as the office's commands are: :func:`linkage.runs.office_guard`)."""
    with office_guard(home):
        return merge_findings(home, new_run_id())
