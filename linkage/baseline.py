"""The deterministic baseline: what county offices do today, to measure renkou's gain against.

A record links to the base person with the same normalised ID number (15-digit IDs upgraded);
a record without an ID links on exact name + birth date when exactly one base person has both.
Nothing fuzzy, no newborn logic.
"""

from __future__ import annotations

import polars as pl

from linkage.persons import PERSON_TABLE
from linkage.store import Store

_BASELINE_SQL = f"""
WITH base AS (
    SELECT record_id AS person_id, id_number, name, birth_date
    FROM {PERSON_TABLE} WHERE source = 'population'
),
rec AS (
    SELECT source, record_id, role, id_number, name, birth_date
    FROM {PERSON_TABLE} WHERE source <> 'population'
),
by_id AS (
    SELECT r.source, r.record_id, r.role, min(b.person_id) AS person_id
    FROM rec r JOIN base b ON r.id_number = b.id_number
    WHERE r.id_number IS NOT NULL
    GROUP BY ALL
),
by_name AS (
    SELECT r.source, r.record_id, r.role, min(b.person_id) AS person_id
    FROM rec r JOIN base b ON r.name = b.name AND r.birth_date = b.birth_date
    WHERE r.id_number IS NULL
    GROUP BY ALL
    HAVING count(*) = 1
)
SELECT source, record_id AS source_record_id, role, person_id,
       1.0 AS match_probability, NULL::DOUBLE AS match_weight,
       'baseline: exact ' || how AS explanation
FROM (SELECT *, 'id_number' AS how FROM by_id
      UNION ALL SELECT *, 'name + birth_date' AS how FROM by_name)
"""


def baseline_links(store: Store) -> pl.DataFrame:
    """Baseline links in the links-export layout."""
    if not store.has_table(PERSON_TABLE):
        return pl.DataFrame(
            schema={c: pl.String for c in ("source", "source_record_id", "role", "person_id")}
        )
    return store.frame(_BASELINE_SQL)


_BASELINE_DEDUPE_SQL = f"""
WITH base AS (SELECT record_id, id_number, name, birth_date FROM {PERSON_TABLE}
              WHERE source = 'population')
SELECT l.record_id AS person_id_l, r.record_id AS person_id_r, 1.0 AS match_probability
FROM base l JOIN base r ON l.id_number = r.id_number AND l.record_id < r.record_id
UNION
SELECT l.record_id, r.record_id, 1.0
FROM base l JOIN base r ON l.name = r.name AND l.birth_date = r.birth_date
 AND l.record_id < r.record_id
WHERE l.id_number IS NULL AND r.id_number IS NULL
"""


def baseline_findings(store: Store, links: pl.DataFrame) -> pl.DataFrame:
    """Findings derived from the baseline links, by the same rules as the system's."""
    from linkage.findings import derive_findings

    if not store.has_table(PERSON_TABLE):
        return pl.DataFrame()
    store.con.register("tmp_renkou_baseline_links", links)
    store.con.execute(
        "CREATE OR REPLACE TEMP TABLE tmp_renkou_baseline_pairs AS " + _BASELINE_DEDUPE_SQL
    )
    try:
        return derive_findings(store, "tmp_renkou_baseline_links", "tmp_renkou_baseline_pairs")
    finally:
        store.con.unregister("tmp_renkou_baseline_links")
        store.con.execute("DROP TABLE IF EXISTS tmp_renkou_baseline_pairs")
