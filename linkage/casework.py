"""The persistent ``findings`` table: stable ids, and statuses that later runs respect.

A finding's id is derived from its type and case key, so the same case keeps its id night after
night. Life cycle: ``open`` → ``sent`` (task list exported) → ``confirmed`` / ``rejected`` /
``needs_more_info`` (township feedback). Each night's candidates are merged in:

- a new case opens;
- a rejected case stays rejected unless its evidence changed (a new record, a new value), in
  which case it reopens;
- a case that no longer arises (the base was corrected) closes by itself, whatever its status
  except rejected; when the department withdrew its record since (``linkage.ingest.withdraw``)
  the note says so (``撤回 by the department``).
"""

from __future__ import annotations

import hashlib
import logging

import polars as pl

from linkage import tables
from linkage.findings import COLUMNS
from linkage.store import Store
from linkage.tables import FINDINGS

log = logging.getLogger(__name__)

STATUSES = ("open", "sent", "confirmed", "rejected", "needs_more_info", "closed")


def finding_id(finding_type: str, case_key: str) -> str:
    """Stable id of a case: the same type and case key give the same id on every run."""
    return "F" + hashlib.sha256(f"{finding_type}|{case_key}".encode()).hexdigest()[:15].upper()


def _with_ids(candidates: pl.DataFrame) -> pl.DataFrame:
    ids = [finding_id(t, k) for t, k in candidates.select("finding_type", "case_key").iter_rows()]
    evidence_key = pl.concat_str(
        [
            pl.col("evidence")
            .str.json_path_match("$.records")
            .fill_null(pl.col("source_record_id")),
            pl.col("source_value"),
        ],
        separator="|",
        ignore_nulls=True,
    )
    return candidates.with_columns(
        pl.Series("finding_id", ids, dtype=pl.String), evidence_key.alias("evidence_key")
    )


def merge(store: Store, candidates: pl.DataFrame, run_id: str) -> dict[str, int]:
    """Merge tonight's candidates into ``findings``. Returns counts per outcome."""
    tables.ensure(store.con, "findings")
    cand = _with_ids(candidates.select(COLUMNS)).unique("finding_id", keep="first")
    store.con.register("tmp_renkou_candidates", cand)
    try:
        counts = store.frame(f"""
            SELECT
              count(*) FILTER (WHERE f.finding_id IS NULL) AS new,
              count(*) FILTER (WHERE f.status = 'rejected' AND f.evidence_key
                               IS DISTINCT FROM c.evidence_key) AS reopened_new_evidence,
              count(*) FILTER (WHERE f.status = 'rejected' AND f.evidence_key
                               IS NOT DISTINCT FROM c.evidence_key) AS still_rejected,
              count(*) FILTER (WHERE f.status = 'closed') AS reopened_came_back
            FROM tmp_renkou_candidates c LEFT JOIN {FINDINGS} f USING (finding_id)
        """).row(0, named=True)
        closed = store.frame(f"""
            SELECT count(*) AS n FROM {FINDINGS} f
            WHERE f.status NOT IN ('rejected', 'closed')
              AND f.finding_id NOT IN (SELECT finding_id FROM tmp_renkou_candidates)
        """)["n"][0]
        # One rebuild instead of UPDATE … FROM: DuckDB's UPDATE of ~60,000 rows of a keyed
        # table took minutes at a million persons; a full outer join takes a second.
        data = ",\n".join(
            f"CASE WHEN c.finding_id IS NULL THEN f.{col} ELSE c.{col} END AS {col}"
            for col in [*COLUMNS, "evidence_key"]
        )
        closed_note = _closed_note(store)
        reopened_evidence = (
            "f.status = 'rejected' AND f.evidence_key IS DISTINCT FROM c.evidence_key"
        )
        store.con.execute(
            f"""
            CREATE OR REPLACE TEMP TABLE tmp_renkou_findings AS
            SELECT coalesce(c.finding_id, f.finding_id) AS finding_id, {data},
                   CASE WHEN c.finding_id IS NULL THEN
                            CASE WHEN f.status IN ('rejected', 'closed') THEN f.status
                                 ELSE 'closed' END
                        WHEN f.finding_id IS NULL THEN 'open'
                        WHEN f.status = 'closed' THEN 'open'
                        WHEN {reopened_evidence} THEN 'open'
                        ELSE f.status END AS status,
                   CASE WHEN c.finding_id IS NULL THEN
                            CASE WHEN f.status IN ('rejected', 'closed') THEN f.status_note
                                 ELSE {closed_note}
                            END
                        WHEN f.finding_id IS NULL THEN NULL
                        WHEN {reopened_evidence} THEN 'reopened: new evidence after rejection'
                        WHEN f.status = 'closed' THEN 'reopened: the case arose again'
                        ELSE f.status_note END AS status_note,
                   coalesce(f.first_seen_run, $run) AS first_seen_run,
                   CASE WHEN c.finding_id IS NULL THEN f.last_seen_run ELSE $run END
                       AS last_seen_run,
                   coalesce(f.created_at, current_timestamp) AS created_at,
                   CASE WHEN c.finding_id IS NULL AND f.status IN ('rejected', 'closed')
                        THEN f.updated_at ELSE current_timestamp END AS updated_at
            FROM {FINDINGS} f FULL OUTER JOIN tmp_renkou_candidates c USING (finding_id)
        """,
            {"run": run_id},
        )
        store.con.execute(f"DELETE FROM {FINDINGS}")
        store.con.execute(f"INSERT INTO {FINDINGS} BY NAME SELECT * FROM tmp_renkou_findings")
        store.con.execute("DROP TABLE tmp_renkou_findings")
    finally:
        store.con.unregister("tmp_renkou_candidates")
    result = {**counts, "closed": int(closed)}
    log.info("findings merged: %s", result)
    return result


def _closed_note(store: Store) -> str:
    """The SQL of the note of a case that no longer arises: withdrawn by its department (its
    source record, or for the base its person, withdrawn since the case was last seen), or
    resolved in the base."""
    resolved = "'closed: the case no longer arises (resolved in the base)'"
    if not store.has_table(tables.WITHDRAWALS):
        return resolved
    from linkage.ingest.withdraw import CLOSED_NOTE

    return f"""CASE WHEN EXISTS (
                 SELECT 1 FROM {tables.WITHDRAWALS} w
                 WHERE w.withdrawn_at >= coalesce(f.updated_at, TIMESTAMP '1900-01-01')
                   AND ((w.source = f.source AND w.record_id = f.source_record_id)
                        OR (w.source = 'population'
                            AND w.record_id IN (f.person_id, f.other_person_id))))
               THEN '{CLOSED_NOTE}' ELSE {resolved} END"""


def set_status(store: Store, finding_ids: list[str], status: str, note: str | None = None) -> int:
    """Change the status of findings (task export, township feedback). Returns rows changed."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    if not finding_ids:
        return 0
    tables.ensure(store.con, "findings")
    frame = pl.DataFrame({"finding_id": finding_ids})
    store.con.register("tmp_renkou_ids", frame)
    try:
        before = store.frame(
            f"SELECT count(*) AS n FROM {FINDINGS} WHERE finding_id IN "
            f"(SELECT finding_id FROM tmp_renkou_ids) AND status <> ?",
            [status],
        )["n"][0]
        store.con.execute(
            f"UPDATE {FINDINGS} SET status = ?, status_note = coalesce(?, status_note), "
            f"updated_at = current_timestamp WHERE finding_id IN "
            f"(SELECT finding_id FROM tmp_renkou_ids) AND status <> ?",
            [status, note, status],
        )
    finally:
        store.con.unregister("tmp_renkou_ids")
    return int(before)


def open_findings(store: Store) -> pl.DataFrame:
    """Every finding not closed, in the export layout (docs/interfaces.md columns first)."""
    if not store.has_table(FINDINGS):
        return pl.DataFrame(schema={"finding_id": pl.String, **{c: pl.String for c in COLUMNS}})
    return store.frame(f"""
        SELECT finding_id, finding_type, source, source_record_id, role, person_id,
               other_person_id, field, base_value, source_value, match_probability, township,
               village, suggested_action, status, cancellation_reason, priority, evidence,
               destination, case_key, first_seen_run, last_seen_run
        FROM {FINDINGS} WHERE status <> 'closed' ORDER BY finding_type, township, finding_id
    """)
