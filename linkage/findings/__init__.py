"""Links → findings: one module per finding type (docs/interfaces.md, docs/rules.md).

Each module holds one :class:`~linkage.findings.base.FindingType`: its SQL rule over a links
table (the system's ``links`` or the exact-ID baseline's) and everything said and done about
its cases. ``linkage.catalog.FINDING_TYPES`` lists them; :func:`derive_findings` runs every
rule whose sources are delivered. ``linkage.casework`` merges the candidates into the
persistent ``findings`` table and keeps their statuses.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from linkage.findings.base import COLUMNS, FindingType, Links
from linkage.store import Store

__all__ = ["COLUMNS", "FindingType", "Links", "derive_findings"]


def derive_findings(
    store: Store,
    links: str,
    dedupe_pairs: str | None,
    *,
    clerical: str | None = None,
    today: dt.date | None = None,
) -> pl.DataFrame:
    """Every candidate finding from ``links`` (and the base dedupe pairs and the clerical
    pairs, when given), judged on ``today`` (default: the clock's)."""
    from linkage.catalog import FINDING_TYPES  # the catalog imports this package's modules

    tables = Links(links, dedupe_pairs, clerical, today)
    parts = [
        frame
        for kind in FINDING_TYPES.values()
        if kind.applies(store, tables)
        for frame in kind.rules(store, tables)
    ]
    if not parts:
        return pl.DataFrame(schema={c: pl.String for c in COLUMNS}).with_columns(
            pl.col("match_probability").cast(pl.Float64)
        )
    return pl.concat(parts)
