"""What happened tonight: files and rows loaded, quarantine, links, findings. Counts only.

*Tonight's ingest* is the set of ``load_ledger`` rows of the newest ingest: all rows carrying
the ``run_id`` of the newest row, or, when ingest ran without a run id (``renkou ingest``), all
rows sharing its ``loaded_at`` (one ingest is one transaction, so one timestamp). A file skipped
because the same content was loaded before gets no ledger row and is not counted.
"""

from __future__ import annotations

import polars as pl

from linkage.store import Store
from linkage.tables import source_table

CLOSED = "closed"
_LEDGER_COUNTS = (
    "rows_in",
    "rows_loaded",
    "rows_updated",
    "rows_unchanged",
    "rows_quarantined",
    "rows_with_issues",
)


def tonight_load_ids(store: Store) -> pl.DataFrame:
    """``load_id`` of every ledger row of tonight's ingest (see the module docstring)."""
    return store.frame(_tonight_sql() + " ORDER BY l.load_id")


def ingest_time(store: Store) -> str | None:
    """When tonight's ingest ran (ISO text), or None when nothing was ever ingested."""
    value = store.scalar("SELECT max(loaded_at) FROM load_ledger")
    return None if value is None else str(value)[:19]


def files_per_source(store: Store) -> pl.DataFrame:
    """Per source, tonight: ``files`` (ledger rows), ``files_rejected`` and the row counts of
    the ledger summed (in, new, updated, unchanged, quarantined, with issues), plus
    ``records_now``: rows in ``src_<source>`` after the ingest."""
    sums = ", ".join(f"sum({c})::BIGINT AS {c}" for c in _LEDGER_COUNTS)
    frame = store.frame(f"""
        SELECT source, count(*) AS files,
               count(*) FILTER (WHERE status = 'rejected') AS files_rejected, {sums}
        FROM load_ledger WHERE load_id IN ({_tonight_sql()})
        GROUP BY source ORDER BY source
    """)
    now = [
        int(store.scalar(f'SELECT count(*) FROM "{source_table(s)}"') or 0)
        if store.has_table(source_table(s))
        else 0
        for s in frame["source"].to_list()
    ]
    return frame.with_columns(
        pl.col("files").cast(pl.Int64),
        pl.col("files_rejected").cast(pl.Int64),
        pl.Series("records_now", now, dtype=pl.Int64),
    )


def _tonight_sql() -> str:
    return """
        WITH newest AS (SELECT run_id, loaded_at FROM load_ledger
                        ORDER BY loaded_at DESC, load_id DESC LIMIT 1)
        SELECT l.load_id FROM load_ledger l, newest n
        WHERE (n.run_id IS NOT NULL AND l.run_id = n.run_id)
           OR (n.run_id IS NULL AND l.run_id IS NULL AND l.loaded_at = n.loaded_at)"""


def quarantine_reasons(store: Store) -> pl.DataFrame:
    """Tonight's quarantined rows per source and reason. A row failing two rules counts under
    both reasons, so the rows of this table can sum to more than the quarantined rows."""
    return store.frame(f"""
        SELECT source, trim(reason) AS reason, count(*) AS rows
        FROM (SELECT source, unnest(string_split(reasons, '; ')) AS reason FROM quarantine
              WHERE load_id IN ({_tonight_sql()}))
        GROUP BY ALL ORDER BY rows DESC, source, reason
    """).with_columns(pl.col("rows").cast(pl.Int64))


def link_rates(store: Store) -> pl.DataFrame:
    """Per source and role: ``records`` (rows of ``links``), ``linked`` (person_id set) split by
    how (``exact`` cascade, ``model``, ``newborn``), ``clerical`` (rows of ``clerical``) and
    ``link_rate`` = linked / records."""
    schema = {
        "source": pl.String,
        "role": pl.String,
        "records": pl.Int64,
        "linked": pl.Int64,
        "exact": pl.Int64,
        "model": pl.Int64,
        "newborn": pl.Int64,
        "clerical": pl.Int64,
        "link_rate": pl.Float64,
    }
    if not store.has_table("links"):
        return pl.DataFrame(schema=schema)
    clerical = (
        "(SELECT source, role, count(*) AS n FROM clerical GROUP BY ALL)"
        if store.has_table("clerical")
        else "(SELECT NULL AS source, NULL AS role, 0 AS n WHERE false)"
    )
    # links written by hand (tests, the baseline) may lack decided_by: counted as neither
    how = (
        "l.decided_by"
        if "decided_by" in store.frame("SELECT * FROM links LIMIT 0").columns
        else "NULL"
    )
    frame = store.frame(f"""
        SELECT l.source, l.role, count(*) AS records, count(l.person_id) AS linked,
               count(l.person_id) FILTER (WHERE {how} = 'exact') AS exact,
               count(l.person_id) FILTER (WHERE {how} = 'model') AS model,
               count(l.person_id) FILTER (WHERE {how} = 'newborn') AS newborn,
               coalesce(any_value(c.n), 0) AS clerical
        FROM links l LEFT JOIN {clerical} c ON c.source = l.source AND c.role = l.role
        GROUP BY l.source, l.role ORDER BY l.source, l.role
    """)
    return (
        frame.with_columns(
            pl.col(c).cast(pl.Int64)
            for c in ("records", "linked", "exact", "model", "newborn", "clerical")
        )
        .with_columns((pl.col("linked") / pl.col("records")).alias("link_rate"))
        .select(list(schema))
    )


def findings_by_type_township(store: Store) -> pl.DataFrame:
    """Findings not closed, per ``finding_type`` and ``township`` (null → （未知乡镇）)."""
    if not store.has_table("findings"):
        return pl.DataFrame(
            schema={"finding_type": pl.String, "township": pl.String, "findings": pl.Int64}
        )
    return store.frame(
        """
        SELECT finding_type, coalesce(township, '（未知乡镇）') AS township,
               count(*) AS findings
        FROM findings WHERE status <> ? GROUP BY ALL ORDER BY finding_type, township
    """,
        [CLOSED],
    ).with_columns(pl.col("findings").cast(pl.Int64))


def findings_by_status(store: Store) -> pl.DataFrame:
    """Every finding (closed ones too) per ``finding_type`` and ``status``."""
    if not store.has_table("findings"):
        return pl.DataFrame(
            schema={"finding_type": pl.String, "status": pl.String, "findings": pl.Int64}
        )
    return store.frame("""
        SELECT finding_type, status, count(*) AS findings FROM findings
        GROUP BY ALL ORDER BY finding_type, status
    """).with_columns(pl.col("findings").cast(pl.Int64))
