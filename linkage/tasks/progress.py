"""``renkou tasks status``: per township, how much came back, how much is late.

A task is the latest assignment of a finding. It is *returned* when an answer to that
assignment was imported, *on time* when that import happened by the deadline, *overdue* when
not returned and the deadline has passed, and *withdrawn* when its finding closed by itself
before an answer came (the base was corrected): it needs no answer and leaves the rate's
denominator. The feedback rate, returned / (sent − withdrawn), is measured against the
province's target (configs/tasks.toml, 95 %); the confirmation rate is the share of definite
answers (属实/已处理 vs 不属实) that confirmed the lead. No names: overdue tasks are listed by
finding id, type, village and deadline.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from linkage import tables
from linkage.catalog import type_labels
from linkage.store import Store
from linkage.tasks.workdays import working_days_between

_TASKS = f"""
    WITH latest AS (
        SELECT * FROM {tables.TASK_ASSIGNMENTS}
        QUALIFY row_number() OVER (PARTITION BY finding_id ORDER BY sent_on DESC,
                                   export_id DESC) = 1
    ),
    answer AS (
        SELECT finding_id, export_id, arg_max(status, imported_at) AS status,
               min(imported_at) AS first_answer
        FROM {tables.TASK_RESULTS} GROUP BY finding_id, export_id
    )
    SELECT l.finding_id, l.finding_type, l.township, l.village, l.sent_on, l.deadline,
           a.status AS answer, a.first_answer,
           a.status IS NULL AND coalesce(f.status, 'closed') = 'closed' AS withdrawn
    FROM latest l LEFT JOIN answer a USING (finding_id, export_id)
    LEFT JOIN findings f USING (finding_id)
"""


def _overdue(as_of: dt.date) -> pl.Expr:
    return pl.col("answer").is_null() & ~pl.col("withdrawn") & (pl.col("deadline") < as_of)


def tasks_frame(store: Store) -> pl.DataFrame:
    """Every sent task with its answer (null when not returned)."""
    tables.ensure(store.con, "tasks")
    return store.frame(_TASKS)


def township_progress(store: Store, as_of: dt.date, target: float) -> pl.DataFrame:
    """One row per township (and a 合计 row): sent, returned, overdue, rates."""
    tasks = tasks_frame(store).with_columns(
        returned=pl.col("answer").is_not_null(),
        on_time=pl.col("first_answer").cast(pl.Date) <= pl.col("deadline"),
        overdue=_overdue(as_of),
        confirmed=pl.col("answer") == "confirmed",
        rejected=pl.col("answer") == "rejected",
    )
    aggs = [
        pl.len().alias("sent"),
        pl.col("withdrawn").sum(),
        pl.col("returned").sum(),
        pl.col("on_time").fill_null(False).sum(),
        pl.col("overdue").sum(),
        pl.col("confirmed").fill_null(False).sum(),
        pl.col("rejected").fill_null(False).sum(),
    ]
    per = tasks.group_by("township").agg(aggs).sort("township")
    total = tasks.select(aggs).with_columns(township=pl.lit("合计"))
    out = pl.concat([per, total.select(per.columns)]) if tasks.height else per
    return (
        out.with_columns(
            pending=pl.col("sent") - pl.col("withdrawn") - pl.col("returned") - pl.col("overdue"),
            feedback_rate=pl.col("returned") / (pl.col("sent") - pl.col("withdrawn")),
            confirmation_rate=pl.col("confirmed") / (pl.col("confirmed") + pl.col("rejected")),
        )
        .with_columns(meets_target=pl.col("feedback_rate") >= target)
        .select(
            "township",
            "sent",
            "withdrawn",
            "returned",
            "on_time",
            "pending",
            "overdue",
            "feedback_rate",
            "meets_target",
            "confirmed",
            "rejected",
            "confirmation_rate",
        )
    )


def overdue_tasks(store: Store, as_of: dt.date) -> pl.DataFrame:
    """Tasks not returned past their deadline: id, type, township, village, deadline, lateness."""
    late = tasks_frame(store).filter(_overdue(as_of))
    lateness = [working_days_between(d, as_of) for d in late["deadline"].to_list()]
    return late.select(
        "finding_id",
        pl.col("finding_type")
        .replace_strict(type_labels(), default=pl.col("finding_type"))
        .alias("核查类型"),
        "township",
        "village",
        "deadline",
        pl.Series("working_days_late", lateness, dtype=pl.Int64),
    ).sort("township", "deadline", "finding_id")
