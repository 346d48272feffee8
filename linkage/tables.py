"""Names of the tables renkou keeps in its DuckDB file.

Working tables of one stage start with ``tmp_renkou_`` and live only while the stage runs.
"""

from __future__ import annotations

#: every source row as one standardised record per role (``linkage.persons``)
PERSON_TABLE = "person_records"
#: accepted links, one row per source record and role (``linkage.link``)
LINKS = "links"
#: each record's own decision, kept between nights (``linkage.link``)
LINK_DECISIONS = "link_decisions"
#: pairs of base rows judged to be one person (``linkage.link``)
DEDUPE_PAIRS = "dedupe_pairs"
#: the persistent case list (``linkage.casework``)
FINDINGS = "findings"
#: prefix of every working table
TMP_PREFIX = "tmp_renkou_"


def source_table(source: str) -> str:
    """The table of one source's delivered rows (``src_death``)."""
    return f"src_{source}"
