"""Tables of the township task cycle (export → household visit → import → labels, changes).

``task_exports``        one row per ``renkou tasks export`` run
``task_assignments``    which finding went into which file, sheet and row, when, with what
                        deadline and check code (a finding re-sent later has one row per export)
``task_imports``        the import ledger: one row per returned file (by SHA-256), so a file
                        imported twice changes nothing the second time
``task_results``        every applied answer, append-only (file, sheet, row kept)
``labels``              the current answer per finding, with the pair it speaks about: the
                        training and evaluation labels of the linkage
``change_list_entries`` which confirmed finding went into which 变更清单 file
"""

from __future__ import annotations

from linkage.store import Store

EXPORTS = "task_exports"
ASSIGNMENTS = "task_assignments"
IMPORTS = "task_imports"
RESULTS = "task_results"
LABELS = "labels"
CHANGES = "change_list_entries"

_DDL = f"""
CREATE TABLE IF NOT EXISTS {EXPORTS} (
    export_id VARCHAR PRIMARY KEY, exported_at TIMESTAMP, sent_on DATE, operator VARCHAR,
    out_dir VARCHAR, files INTEGER, tasks INTEGER
);
CREATE TABLE IF NOT EXISTS {ASSIGNMENTS} (
    finding_id VARCHAR NOT NULL, export_id VARCHAR NOT NULL, finding_type VARCHAR,
    priority VARCHAR, township VARCHAR, village VARCHAR, file VARCHAR, file_hash VARCHAR,
    sheet VARCHAR, "row" INTEGER, check_code VARCHAR, sent_on DATE, deadline DATE,
    deadline_days INTEGER, deadline_unit VARCHAR
);
CREATE TABLE IF NOT EXISTS {IMPORTS} (
    import_id VARCHAR, file VARCHAR, file_hash VARCHAR, export_id VARCHAR, township VARCHAR,
    imported_at TIMESTAMP, operator VARCHAR, rows_read INTEGER, applied INTEGER,
    unchanged INTEGER, pending INTEGER, rejected INTEGER, status VARCHAR
);
CREATE TABLE IF NOT EXISTS {RESULTS} (
    finding_id VARCHAR, export_id VARCHAR, import_id VARCHAR, file VARCHAR, sheet VARCHAR,
    "row" INTEGER, result VARCHAR, status VARCHAR, note VARCHAR, verifier VARCHAR,
    verified_on DATE, imported_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS {LABELS} (
    finding_id VARCHAR, finding_type VARCHAR, person_id VARCHAR, other_person_id VARCHAR,
    source VARCHAR, source_record_id VARCHAR, role VARCHAR, records VARCHAR,
    source_row_hash VARCHAR, match_probability DOUBLE, result VARCHAR, status VARCHAR,
    verifier VARCHAR, verified_on DATE, import_id VARCHAR, labelled_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS {CHANGES} (
    finding_id VARCHAR, change_type VARCHAR, file VARCHAR, file_hash VARCHAR,
    listed_at TIMESTAMP, operator VARCHAR
);
"""


def ensure_schema(store: Store) -> None:
    """Create the task tables (and ``findings``) when missing."""
    from linkage.casework import _CREATE

    store.con.execute(_CREATE)
    store.con.execute(_DDL)
