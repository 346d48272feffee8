"""Options every stage task shares: retries on transient I/O, no persisted results."""

from __future__ import annotations

from typing import Any

from prefect.cache_policies import NO_CACHE

from linkage.runs import StageFailed


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Retry only what can pass by itself: a database file locked by someone else, a network
    share that hiccupped. A bad file or a bug fails at once (a retry would fail the same)."""
    err = state.data
    return isinstance(err, StageFailed) and err.transient


#: keyword arguments of ``@task`` for a stage (retries are safe: every stage is atomic)
STAGE: dict[str, Any] = {
    "retries": 2,
    "retry_delay_seconds": [30, 120],
    "retry_condition_fn": retry_transient,
    "persist_result": False,  # results are counts, but nothing of a run is written by Prefect
    "cache_policy": NO_CACHE,  # a stage must run every time it is called
}
