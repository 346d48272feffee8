"""Figures across runs: the ``report_snapshots`` table, and the ``runs`` table when it exists.

Every report stores the figures it showed, one row per figure and scope::

    report_snapshots(run_id, created_at, figure, scope, value)

``figure`` is a key such as ``coverage`` or ``link_rate``; ``scope`` is ``county``, a township,
a ``source/role`` or a finding type. A run's snapshot replaces any earlier snapshot of the same
run (re-building a report does not make a run its own predecessor). "Change since the previous
run" compares with the newest snapshot of another run; with none, the report says so. The
trend charts read the same table, so both work whether or not a ``runs`` table exists.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from linkage import tables
from linkage.store import Store
from linkage.tables import REPORT_SNAPSHOTS, RUNS

SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "run_id": pl.String,
    "created_at": pl.Datetime("us"),
    "figure": pl.String,
    "scope": pl.String,
    "value": pl.Float64,
}


def save_snapshot(
    store: Store, run_id: str, figures: pl.DataFrame, created_at: dt.datetime
) -> None:
    """Store ``figures`` (columns figure, scope, value) as the snapshot of ``run_id``."""
    rows = figures.select(
        pl.lit(run_id).alias("run_id"),
        pl.lit(created_at).cast(pl.Datetime("us")).alias("created_at"),
        pl.col("figure").cast(pl.String),
        pl.col("scope").cast(pl.String),
        pl.col("value").cast(pl.Float64),
    )
    with store.transaction():
        tables.ensure(store.con, "report")
        store.con.execute(f"DELETE FROM {REPORT_SNAPSHOTS} WHERE run_id = ?", [run_id])
        store.append(REPORT_SNAPSHOTS, rows)


def previous_snapshot(store: Store, run_id: str) -> tuple[str | None, pl.DataFrame]:
    """The newest snapshot of a run other than ``run_id``: (its run id, figure/scope/value)."""
    empty = pl.DataFrame(schema={"figure": pl.String, "scope": pl.String, "value": pl.Float64})
    if not store.has_table(REPORT_SNAPSHOTS):
        return None, empty
    prev = store.scalar(
        f"SELECT run_id FROM {REPORT_SNAPSHOTS} WHERE run_id <> ? ORDER BY created_at DESC LIMIT 1",
        [run_id],
    )
    if prev is None:
        return None, empty
    return str(prev), store.frame(
        f"SELECT figure, scope, value FROM {REPORT_SNAPSHOTS} WHERE run_id = ? "
        "ORDER BY figure, scope",
        [prev],
    )


def changes(current: pl.DataFrame, previous: pl.DataFrame) -> pl.DataFrame:
    """Figure by figure: ``previous``, ``current``, ``change`` (null where either is missing)."""
    joined = current.select("figure", "scope", pl.col("value").alias("current")).join(
        previous.select("figure", "scope", pl.col("value").alias("previous")),
        on=["figure", "scope"],
        how="full",
        coalesce=True,
    )
    return (
        joined.with_columns((pl.col("current") - pl.col("previous")).alias("change"))
        .select("figure", "scope", "previous", "current", "change")
        .sort("figure", "scope")
    )


def trend(store: Store, figures: list[str], scope: str = "county", limit: int = 60) -> pl.DataFrame:
    """The last ``limit`` snapshots of ``figures`` at ``scope``: run_id, created_at, figure,
    value, oldest first."""
    if not store.has_table(REPORT_SNAPSHOTS) or not figures:
        return pl.DataFrame(
            schema={k: SCHEMA[k] for k in ("run_id", "created_at", "figure", "value")}
        )
    marks = ", ".join("?" for _ in figures)
    return store.frame(
        f"""
        WITH last_runs AS (SELECT run_id, max(created_at) AS last_at FROM {REPORT_SNAPSHOTS}
                           GROUP BY run_id ORDER BY last_at DESC LIMIT {int(limit)})
        SELECT s.run_id, s.created_at, s.figure, s.value FROM {REPORT_SNAPSHOTS} s
        JOIN last_runs USING (run_id)
        WHERE s.figure IN ({marks}) AND s.scope = ?
        ORDER BY s.created_at, s.figure
    """,
        [*figures, scope],
    )


def recent_runs(store: Store, limit: int = 10) -> pl.DataFrame | None:
    """The newest rows of the ``runs`` table (built by the nightly flow), or None without one.

    Shown as delivered: whatever counts the flow records. Ordered by the first of
    ``started_at``, ``finished_at``, ``created_at``, ``run_id`` the table has.
    """
    if not store.has_table(RUNS):
        return None
    columns = store.frame(f"SELECT * FROM {RUNS} LIMIT 0").columns
    order = next(
        (c for c in ("started_at", "finished_at", "created_at", "run_id") if c in columns), None
    )
    order_sql = f'ORDER BY "{order}" DESC' if order else ""
    return store.frame(f"SELECT * FROM {RUNS} {order_sql} LIMIT {int(limit)}")


def latest_run_id(store: Store) -> str | None:
    """The ``run_id`` of the newest row of ``runs``, if that table exists and has one."""
    runs = recent_runs(store, limit=1)
    if runs is None or runs.is_empty() or "run_id" not in runs.columns:
        return None
    value = runs["run_id"][0]
    return None if value is None else str(value)
