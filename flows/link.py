"""Link: Splink per source against the base (incremental unless asked or the base changed)."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task

from flows.options import STAGE
from linkage import pipeline
from linkage.run_summary import link_counts
from linkage.runs import new_run_id, office_guard, reported
from linkage.store import Store


@task(name="link", **STAGE)
def link_records(
    home: str, run_id: str, *, full: bool = False, retrain: bool = False
) -> dict[str, Any]:
    with reported("link", home, run_id), Store(home) as store:
        report = pipeline.link(store, full=full, retrain=retrain)
    counts = link_counts(report)
    get_run_logger().info(
        "link (%s): %d records scored, %d linked, %d for review",
        counts["mode"],
        counts["records_scored"],
        counts["links"],
        counts["clerical"],
    )
    return counts


@flow(name="renkou-link", persist_result=False)
def link(home: str = "var", full: bool = False, retrain: bool = False) -> dict[str, Any]:
    """Only the link stage (refused while a night works on ``home`` or after one died
    half-written: :func:`linkage.runs.office_guard`)."""
    with office_guard(home):
        return link_records(home, new_run_id(), full=full, retrain=retrain)
