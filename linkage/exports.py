"""The machine-readable exports of docs/interfaces.md section 3 (CSV, UTF-8 with a BOM).

These stay inside the data office: they carry base person ids, and an attribute conflict
carries the two values that differ (a name or an ID number among them). :func:`write_csv`
is the one CSV writer of renkou (the 协查 files too): a text cell a spreadsheet would run as a
formula is written as text (:func:`linkage.cells.neutralise`).
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

import polars as pl

from linkage.casework import open_findings
from linkage.cells import neutralise
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


def write_csv(frame: pl.DataFrame, out: Path | IO[bytes]) -> None:
    """A CSV as Excel on Chinese Windows opens it: UTF-8 with a BOM (without one it reads
    the file as GBK and garbles every hanzi), no text cell a formula (OWASP's rule)."""
    if isinstance(out, Path):
        out.parent.mkdir(parents=True, exist_ok=True)
    neutralise(frame).write_csv(out, include_bom=True)


def write_links(store: Store, out: Path) -> int:
    """One row per (source record, role); extra columns after the interface's."""
    if not store.has_table(LINKS):
        raise RenkouError(f"{store.home} has no links yet. Fix: link first (renkou link)")
    frame = store.frame(f"""
        SELECT {", ".join(LINK_COLUMNS)}, decided_by, explanation, model_version
        FROM {LINKS} ORDER BY source, source_record_id, role
    """)
    write_csv(frame, out)
    _audited(store, "export.links", out, frame.height)
    return frame.height


def write_findings(store: Store, out: Path, *, township: str | None = None) -> int:
    """Every finding that is not closed (of ``township`` only, when given), interface
    columns first."""
    if not store.has_table(FINDINGS):
        raise RenkouError(f"{store.home} has no findings yet. Fix: renkou findings (after link)")
    frame = open_findings(store)
    if township is not None:
        frame = frame.filter(pl.col("township") == township)
    write_csv(frame, out)
    _audited(store, "export.findings", out, frame.height, township=township)
    return frame.height


def _audited(store: Store, action: str, out: Path, rows: int, **more: object) -> None:
    """The audit entry of a file that left the database (its hash, never its content)."""
    from linkage.audit import AuditLog, file_sha256

    details = {"file": out.name, "sha256": file_sha256(out), "rows": rows}
    details.update({k: v for k, v in more.items() if v is not None})
    AuditLog.for_home(store.home).append(action, details=details)
