"""Field work as the report shows it: township feedback, overdue tasks, field labels, 协查,
and the analyst's decisions on clerical pairs (``linkage.review.pairs.decision_summary``).

Reads the task tables of ``linkage.tasks`` only when they exist (``renkou tasks export`` creates
them) and computes nothing of its own: the feedback and confirmation rates are
``linkage.tasks.progress.township_progress`` and the label accuracy is
``linkage.labels.accuracy_by_type``, so the report and ``renkou tasks status`` agree.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from linkage.store import Store
from linkage.tables import EXCHANGE_QUERIES, LABELS, TASK_ASSIGNMENTS


def task_progress(store: Store, as_of: dt.date) -> tuple[pl.DataFrame | None, float]:
    """Per township (and a 合计 row): sent, withdrawn, returned, on time, pending, overdue,
    feedback and confirmation rates; None when no task list was ever sent. Also the target."""
    target = store.settings.tasks.target_rate
    if not store.has_table(TASK_ASSIGNMENTS):
        return None, target
    if not store.scalar(f"SELECT count(*) FROM {TASK_ASSIGNMENTS}"):
        return None, target
    from linkage.tasks.progress import township_progress

    return township_progress(store, as_of, target), target


def exchange_progress(
    store: Store, as_of: dt.date
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """协查 per cycle and counterpart county: (queries received, queries sent), each None when
    there is none; the same figures as ``renkou exchange status``."""
    from linkage.exchange.incoming import received_status
    from linkage.exchange.outgoing import query_status

    if not store.has_table(EXCHANGE_QUERIES):
        return None, None
    received, sent = received_status(store, as_of), query_status(store, as_of)
    return (None if received.is_empty() else received), (None if sent.is_empty() else sent)


def label_accuracy(store: Store) -> pl.DataFrame | None:
    """Field answers per finding type and match-probability band (confirmed, rejected,
    unverifiable, confirmation rate); None when no answer came back yet."""
    if not store.has_table(LABELS) or not store.scalar(f"SELECT count(*) FROM {LABELS}"):
        return None
    from linkage.labels import accuracy_by_type

    return accuracy_by_type(store)


def review_decisions(store: Store) -> pl.DataFrame | None:
    """The analyst's review per operator (pairs decided, matches, non-matches, skips,
    agreement with the model); None when no decision was imported yet."""
    from linkage.review.pairs import decision_summary

    summary = decision_summary(store)
    return None if summary.is_empty() else summary
