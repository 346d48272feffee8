"""The night's outputs: township task lists and the report, when their modules are installed.

Each is atomic by itself (workbooks written and recorded together; a report page) and runs
after the night's data is committed, so a failure here does not roll the night back.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prefect import flow, get_run_logger, task

from flows.options import STAGE
from linkage import pipeline
from linkage.operators import current_account
from linkage.runs import new_run_id, office_guard, reported
from linkage.store import Store

OUTBOX = "outbox"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


@task(name="task-lists", **STAGE)
def export_task_lists(home: str, run_id: str) -> dict[str, Any]:
    """Open findings not yet sent → one workbook per township in ``HOME/outbox/<run>/``."""
    folder = Path(home) / OUTBOX / run_id
    with reported("tasks", home, run_id), Store(home) as store:
        report = pipeline.task_lists(store, folder, operator=current_account())
    get_run_logger().info("task lists: %d tasks in %d workbooks", report.tasks, len(report.files))
    return {
        "tasks": report.tasks,
        "files": len(report.files),
        "folder": str(folder) if report.files else None,
    }


@task(name="report", **STAGE)
def write_report(home: str, run_id: str) -> dict[str, Any]:
    """The night's report page, ``HOME/reports/report-<run>.html`` (and ``latest.html``)."""
    with reported("report", home, run_id), Store(home) as store:
        path = pipeline.report(store, run_id)
    get_run_logger().info("report written")
    return {"report": str(path)}


def output_stages() -> list[tuple[str, Callable[..., dict[str, Any]]]]:
    """(stage, task) of every output whose module is installed, in order."""
    candidates = [
        ("tasks", "linkage.tasks.export", export_task_lists),
        ("report", "linkage.report.build", write_report),
    ]
    return [(stage, fn) for stage, module, fn in candidates if _installed(module)]


@flow(name="renkou-outputs", persist_result=False)
def outputs(home: str = "var") -> dict[str, Any]:
    """Only the outputs (task lists, report) of the current state (refused while a night works
    on ``home`` or after one died half-written: :func:`linkage.runs.office_guard`)."""
    run_id = new_run_id()
    with office_guard(home):
        return {stage: fn(home, run_id) for stage, fn in output_stages()}
