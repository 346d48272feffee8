"""Source rows → person-level records by role, standardised for comparison.

A marriage record yields a husband and a wife; a birth certificate a child, a mother and a
father; every other source one ``person``. Each role record carries the same standardised
columns (``linkage.standardise.person_frame``) so that one set of comparisons serves all.
"""

from __future__ import annotations

import logging

import polars as pl

from linkage.catalog import SOURCES
from linkage.standardise import PERSON_COLUMNS, person_frame
from linkage.store import Store
from linkage.tables import PERSON_TABLE, source_table

log = logging.getLogger(__name__)


def role_frame(source: str, rows: pl.DataFrame) -> pl.DataFrame:
    """One frame of unstandardised person columns for every role of ``source``."""
    parts = []
    for role, mapping in SOURCES[source].roles.items():
        exprs = [
            pl.lit(source).alias("source"),
            pl.lit(role).alias("role"),
            pl.col("_load_id").alias("load_id"),
        ]
        for target, origin in mapping.items():
            if isinstance(origin, tuple):
                exprs.append(pl.lit(origin[1]).alias(target))
            else:
                exprs.append(pl.col(origin).alias(target))
        part = rows.select(exprs)
        if role == "father":  # an empty father is no person
            part = part.filter(pl.col("name").is_not_null() | pl.col("id_number").is_not_null())
        parts.append(part)
    return pl.concat(parts, how="diagonal_relaxed")


def refresh_person_records(store: Store, sources: set[str] | None = None) -> int:
    """(Re)build the person records of ``sources`` (None: every loaded source; an empty set:
    nothing, as on a night when no delivery changed anything). Returns rows written.

    Person records written by an older release, which lack a column this one standardises,
    are all rebuilt: the link stage compares every column of every record."""
    if store.has_table(PERSON_TABLE):
        have = set(store.frame(f"SELECT * FROM {PERSON_TABLE} LIMIT 0").columns)
        if set(PERSON_COLUMNS) - have:
            log.info("person records of an older release: standardising every source again")
            sources = None
    if sources is None:
        sources = {s for s in SOURCES if store.has_table(source_table(s))}
    written = 0
    for source in sorted(sources):
        if not store.has_table(source_table(source)):
            continue
        rows = store.table(source_table(source))
        roles = role_frame(source, rows)
        # which delivery each record version came from: incremental linking keys on it
        versions = roles.select(
            pl.concat_str("source", "record_id", "role", separator="|").alias("rec_key"),
            pl.col("load_id"),
        )
        records = person_frame(roles.drop("load_id")).join(versions, on="rec_key", how="left")
        if store.has_table(PERSON_TABLE):
            store.con.execute(f"DELETE FROM {PERSON_TABLE} WHERE source = ?", [source])
        store.append(PERSON_TABLE, records)
        written += records.height
        log.info("person records for %s: %d", source, records.height)
    return written
