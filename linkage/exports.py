"""The machine-readable exports of docs/interfaces.md section 3 (CSV, UTF-8 with a BOM).

These stay inside the data office: they carry base person ids, and an attribute conflict
carries the two values that differ (a name or an ID number among them).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from linkage.casework import open_findings
from linkage.errors import RenkouError
from linkage.store import Store
from linkage.tables import FINDINGS, LINKS

LINK_COLUMNS = [
    "source",
    "source_record_id",
    "role",
    "person_id",
    "match_probability",
    "match_weight",
]


def write_csv(frame: pl.DataFrame, out: Path) -> None:
    """A CSV as Excel on Chinese Windows opens it: UTF-8 with a BOM (without one it reads
    the file as GBK and garbles every hanzi)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(out, include_bom=True)


def write_links(store: Store, out: Path) -> int:
    """One row per (source record, role); extra columns after the interface's."""
    if not store.has_table(LINKS):
        raise RenkouError(f"{store.home} has no links yet. Fix: link first (renkou link)")
    frame = store.frame(f"""
        SELECT {", ".join(LINK_COLUMNS)}, decided_by, explanation, model_version
        FROM {LINKS} ORDER BY source, source_record_id, role
    """)
    write_csv(frame, out)
    return frame.height


def write_findings(store: Store, out: Path) -> int:
    """Every finding that is not closed, interface columns first."""
    if not store.has_table(FINDINGS):
        raise RenkouError(f"{store.home} has no findings yet. Fix: renkou findings (after link)")
    frame = open_findings(store)
    write_csv(frame, out)
    return frame.height
