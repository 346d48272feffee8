"""The machine-readable exports of docs/interfaces.md section 3 (CSV, UTF-8, header).

These stay inside the data office (they carry base person ids, not names or ID numbers).
"""

from __future__ import annotations

from pathlib import Path

from linkage.casework import open_findings
from linkage.store import Store

LINK_COLUMNS = [
    "source",
    "source_record_id",
    "role",
    "person_id",
    "match_probability",
    "match_weight",
]


def write_links(store: Store, out: Path) -> int:
    """One row per (source record, role); extra columns after the interface's."""
    frame = (
        store.frame(f"""
        SELECT {", ".join(LINK_COLUMNS)}, decided_by, explanation, model_version
        FROM links ORDER BY source, source_record_id, role
    """)
        if store.has_table("links")
        else None
    )
    if frame is None:
        raise FileNotFoundError("no links yet: run `renkou link` first")
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(out)
    return frame.height


def write_findings(store: Store, out: Path) -> int:
    """Every finding that is not closed, interface columns first."""
    frame = open_findings(store)
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(out)
    return frame.height
