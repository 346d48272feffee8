"""Every table renkou keeps in its DuckDB file: its name here, and its definition when it is
not simply the result of a query.

Working tables of one stage start with :data:`TMP_PREFIX` and live only while the stage runs.
Definitions come in groups, created when their first writer needs them (``ensure``), so that
an absent table still means "that stage never ran" (``renkou tasks status`` before any task
list was sent, the report before any run).
"""

from __future__ import annotations

from typing import Protocol

# --------------------------------------------------------------------------- ingest
#: one row per delivered file: hash, rows in / new / updated / unchanged / quarantined
LOAD_LEDGER = "load_ledger"
#: rows that broke a contract rule: file, spreadsheet row, reasons, raw values
QUARANTINE = "quarantine"
#: rows loaded with a soft rule broken (a warning, not a quarantine)
ROW_ISSUES = "row_issues"
#: every source row as one standardised record per role (``linkage.persons``)
PERSON_TABLE = "person_records"
#: every superseded version of a source row, never overwritten (``linkage.ingest.history``)
RECORD_VERSIONS = "record_versions"
#: every record a department withdrew (撤回 flag, or absent from a snapshot delivery)
WITHDRAWALS = "withdrawals"
#: an operator's confirmation that a snapshot delivery (by SHA-256) may withdraw more than
#: ``[delivery] max_withdraw_share`` of its source
WITHDRAWAL_CONFIRMATIONS = "withdrawal_confirmations"
#: which delivery's quarantined rows went back to its department in which workbook
QUARANTINE_RETURNS = "quarantine_returns"

# --------------------------------------------------------------------------- originals
#: every file kept read-only under ``HOME/archive`` (``linkage.archive``), by kind and SHA-256
ARCHIVED_FILES = "archived_files"

# --------------------------------------------------------------------------- link
#: accepted links, one row per source record and role
LINKS = "links"
#: each record's own decision, kept between nights
LINK_DECISIONS = "link_decisions"
#: ambiguous best candidates, for the analyst's review (``renkou review``)
CLERICAL = "clerical"
#: pairs of base rows judged to be one person
DEDUPE_PAIRS = "dedupe_pairs"
#: the components of the dedupe pairs
BASE_CLUSTERS = "base_clusters"

# --------------------------------------------------------------------------- analyst review
#: every clerical pair ever seen, with the day it first was (``linkage.review``)
CLERICAL_SEEN = "clerical_seen"
#: one row per ``renkou review export`` file
REVIEW_EXPORTS = "review_exports"
#: one row per ``renkou review import`` file
REVIEW_IMPORTS = "review_imports"
#: every accepted analyst decision (match, non_match, skip), append-only
REVIEW_DECISIONS = "review_decisions"

# --------------------------------------------------------------------------- cases
#: the persistent case list (``linkage.casework``)
FINDINGS = "findings"

# --------------------------------------------------------------------------- township tasks
#: one row per ``renkou tasks export`` run
TASK_EXPORTS = "task_exports"
#: which finding went into which file, sheet and row, when, with what deadline and check code
#: (a finding re-sent later has one row per export)
TASK_ASSIGNMENTS = "task_assignments"
#: one row per returned file (by SHA-256): a file imported twice changes nothing the second time
TASK_IMPORTS = "task_imports"
#: every applied answer, append-only (file, sheet, row kept)
TASK_RESULTS = "task_results"
#: the current answer per finding, with the pair it speaks about: the linkage's labels
LABELS = "labels"
#: which confirmed finding went into which 变更清单 file
CHANGE_LIST_ENTRIES = "change_list_entries"

# --------------------------------------------------------------------------- 协查 exchange
#: every outgoing query: where it went, in which cycle and file, when it is due, its answer
EXCHANGE_QUERIES = "exchange_queries"
#: every query another county sent us, with our conclusion and when it was answered
EXCHANGE_RECEIVED = "exchange_received"
#: one row per imported exchange file (by SHA-256): a file imported twice changes nothing
EXCHANGE_FILES = "exchange_files"

# --------------------------------------------------------------------------- runs and report
#: one row per night
RUNS = "runs"
#: one row per stage of a night
RUN_STAGES = "run_stages"
#: the report's figures per run, for what changed since the last one
REPORT_SNAPSHOTS = "report_snapshots"
#: model sections of the report whose inputs are unchanged
REPORT_MODEL_CACHE = "report_model_cache"
#: base-only quality figures per base fingerprint and date
REPORT_BASE_CACHE = "report_base_figures"
#: the figures of every bulletin (通报), per township: what the next one compares with
BULLETINS = "bulletins"
AUDIT_ANCHOR = "audit_anchor"

#: prefix of every working table
TMP_PREFIX = "tmp_renkou_"


def source_table(source: str) -> str:
    """The table of one source's delivered rows (``src_death``)."""
    return f"src_{source}"


_DDL: dict[str, str] = {
    "ingest": f"""
CREATE SEQUENCE IF NOT EXISTS load_id_seq START 1;
CREATE TABLE IF NOT EXISTS {LOAD_LEDGER} (
    load_id BIGINT PRIMARY KEY,
    run_id VARCHAR,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    file_hash VARCHAR NOT NULL,
    status VARCHAR NOT NULL,          -- loaded, rejected, skipped_duplicate_file
    message VARCHAR,
    rows_in BIGINT DEFAULT 0,
    rows_quarantined BIGINT DEFAULT 0,
    rows_loaded BIGINT DEFAULT 0,     -- new records
    rows_updated BIGINT DEFAULT 0,    -- a record delivered again with changed content
    rows_unchanged BIGINT DEFAULT 0,  -- a record delivered again, same content
    rows_with_issues BIGINT DEFAULT 0,
    loaded_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS {QUARANTINE} (
    load_id BIGINT, source VARCHAR, file VARCHAR, "row" BIGINT, record_key VARCHAR,
    reasons VARCHAR, raw JSON
);
CREATE TABLE IF NOT EXISTS {ROW_ISSUES} (
    load_id BIGINT, source VARCHAR, file VARCHAR, "row" BIGINT, record_key VARCHAR,
    rule VARCHAR
);
CREATE TABLE IF NOT EXISTS {RECORD_VERSIONS} (
    source VARCHAR NOT NULL,
    record_id VARCHAR NOT NULL,       -- the contract's record key (person_id for population)
    load_id BIGINT NOT NULL,          -- the delivery that brought this version
    file VARCHAR, "row" BIGINT,       -- where it was delivered: file, spreadsheet row
    row_hash VARCHAR,
    valid_from TIMESTAMP,             -- loaded_at of load_id
    valid_to TIMESTAMP NOT NULL,      -- loaded_at of superseded_by_load
    superseded_by_load BIGINT NOT NULL,
    content JSON NOT NULL             -- the row's columns as they were (typed values, __raw text)
);
-- withdrawals (linkage.ingest.withdraw): homes from before the columns
ALTER TABLE {RECORD_VERSIONS} ADD COLUMN IF NOT EXISTS withdrawn BOOLEAN DEFAULT false;
ALTER TABLE {LOAD_LEDGER} ADD COLUMN IF NOT EXISTS rows_withdrawn BIGINT DEFAULT 0;
CREATE TABLE IF NOT EXISTS {WITHDRAWALS} (
    source VARCHAR NOT NULL,
    record_id VARCHAR NOT NULL,
    load_id BIGINT NOT NULL,          -- the delivery that withdrew it
    file VARCHAR,
    how VARCHAR NOT NULL,             -- flag (撤回 column), snapshot (absent from the register)
    withdrawn_at TIMESTAMP DEFAULT current_timestamp
);
CREATE TABLE IF NOT EXISTS {WITHDRAWAL_CONFIRMATIONS} (
    source VARCHAR NOT NULL, file VARCHAR, delivery_hash VARCHAR NOT NULL,
    records BIGINT, withdraw BIGINT,  -- the counts the refusal gave
    operator VARCHAR, confirmed_at TIMESTAMP DEFAULT current_timestamp
);
""",
    "archive": f"""
CREATE TABLE IF NOT EXISTS {ARCHIVED_FILES} (
    kind VARCHAR NOT NULL,            -- inbox, tasks, exchange
    file_hash VARCHAR NOT NULL,       -- SHA-256, as in load_ledger, task_imports, exchange_files
    path VARCHAR NOT NULL,            -- relative to the home: archive/<kind>/<YYYY>/<sha256>.<ext>
    file VARCHAR,                     -- the name it came with (first time)
    bytes BIGINT,
    archived_at TIMESTAMP DEFAULT current_timestamp,
    PRIMARY KEY (kind, file_hash)
);
""",
    "returns": f"""
CREATE TABLE IF NOT EXISTS {QUARANTINE_RETURNS} (
    source VARCHAR NOT NULL, file VARCHAR NOT NULL, load_id BIGINT,
    delivery_hash VARCHAR NOT NULL,   -- SHA-256 of the delivered file (load_ledger.file_hash)
    rows_quarantined BIGINT, rows_with_issues BIGINT,
    out_file VARCHAR, file_hash VARCHAR,  -- the workbook sent back, its SHA-256
    exported_at TIMESTAMP, operator VARCHAR
);
""",
    "review": f"""
CREATE TABLE IF NOT EXISTS {CLERICAL_SEEN} (
    pair_key VARCHAR PRIMARY KEY, source VARCHAR, source_record_id VARCHAR, role VARCHAR,
    person_id VARCHAR, first_seen DATE
);
CREATE TABLE IF NOT EXISTS {REVIEW_EXPORTS} (
    export_id VARCHAR, file VARCHAR, file_hash VARCHAR, format VARCHAR, source VARCHAR,
    pairs INTEGER, exported_at TIMESTAMP, operator VARCHAR
);
CREATE TABLE IF NOT EXISTS {REVIEW_IMPORTS} (
    import_id VARCHAR, file VARCHAR, file_hash VARCHAR, imported_at TIMESTAMP,
    operator VARCHAR, rows_read INTEGER, accepted INTEGER, refused INTEGER
);
CREATE TABLE IF NOT EXISTS {REVIEW_DECISIONS} (
    pair_key VARCHAR NOT NULL, source VARCHAR, source_record_id VARCHAR, role VARCHAR,
    person_id VARCHAR,
    decision VARCHAR NOT NULL,        -- match, non_match, skip
    match_probability DOUBLE, match_weight DOUBLE,
    source_row_hash VARCHAR,          -- the record as decided on: a changed record is new
    operator VARCHAR, decided_at TIMESTAMP, import_id VARCHAR, file VARCHAR, "row" INTEGER
);
""",
    "findings": f"""
CREATE TABLE IF NOT EXISTS {FINDINGS} (
    finding_id VARCHAR PRIMARY KEY, finding_type VARCHAR, case_key VARCHAR, source VARCHAR,
    source_record_id VARCHAR, role VARCHAR, person_id VARCHAR, other_person_id VARCHAR,
    field VARCHAR, base_value VARCHAR, source_value VARCHAR, match_probability DOUBLE,
    township VARCHAR, village VARCHAR, suggested_action VARCHAR, cancellation_reason VARCHAR,
    priority VARCHAR, evidence VARCHAR, evidence_key VARCHAR, status VARCHAR,
    status_note VARCHAR, first_seen_run VARCHAR, last_seen_run VARCHAR,
    created_at TIMESTAMP, updated_at TIMESTAMP, destination VARCHAR
);
-- homes from before the column
ALTER TABLE {FINDINGS} ADD COLUMN IF NOT EXISTS destination VARCHAR;

""",
    "tasks": f"""
CREATE TABLE IF NOT EXISTS {TASK_EXPORTS} (
    export_id VARCHAR PRIMARY KEY, exported_at TIMESTAMP, sent_on DATE, operator VARCHAR,
    out_dir VARCHAR, files INTEGER, tasks INTEGER
);
CREATE TABLE IF NOT EXISTS {TASK_ASSIGNMENTS} (
    finding_id VARCHAR NOT NULL, export_id VARCHAR NOT NULL, finding_type VARCHAR,
    priority VARCHAR, township VARCHAR, village VARCHAR, file VARCHAR, file_hash VARCHAR,
    sheet VARCHAR, "row" INTEGER, check_code VARCHAR, sent_on DATE, deadline DATE,
    deadline_days INTEGER, deadline_unit VARCHAR
);
CREATE TABLE IF NOT EXISTS {TASK_IMPORTS} (
    import_id VARCHAR, file VARCHAR, file_hash VARCHAR, export_id VARCHAR, township VARCHAR,
    imported_at TIMESTAMP, operator VARCHAR, rows_read INTEGER, applied INTEGER,
    unchanged INTEGER, pending INTEGER, rejected INTEGER, status VARCHAR
);
CREATE TABLE IF NOT EXISTS {TASK_RESULTS} (
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
CREATE TABLE IF NOT EXISTS {CHANGE_LIST_ENTRIES} (
    finding_id VARCHAR, change_type VARCHAR, file VARCHAR, file_hash VARCHAR,
    listed_at TIMESTAMP, operator VARCHAR
);
""",
    "exchange": f"""
CREATE TABLE IF NOT EXISTS {EXCHANGE_QUERIES} (
    query_id VARCHAR PRIMARY KEY, finding_id VARCHAR NOT NULL, from_county VARCHAR,
    to_county VARCHAR, query_type VARCHAR, urgency VARCHAR, cycle VARCHAR, sent_on DATE,
    due_on DATE, due_days INTEGER, due_unit VARCHAR, file VARCHAR, operator VARCHAR,
    exported_at TIMESTAMP, status VARCHAR, conclusion VARCHAR, answered_on DATE,
    answered_by VARCHAR, answer_file VARCHAR, note VARCHAR, person_status VARCHAR,
    resent_on DATE
);
CREATE TABLE IF NOT EXISTS {EXCHANGE_RECEIVED} (
    from_county VARCHAR NOT NULL, query_id VARCHAR NOT NULL, cycle VARCHAR, file VARCHAR,
    received_at TIMESTAMP, query_type VARCHAR, urgency VARCHAR, sent_on DATE, due_on DATE,
    name VARCHAR, sex VARCHAR, id_number VARCHAR, birth_date DATE, hukou_address VARCHAR,
    current_address VARCHAR, event_date DATE, reason VARCHAR,
    conclusion VARCHAR,             -- 本县有此人, 本县无此人, 已注销, 需入户核实
    person_status VARCHAR, found_hukou_address VARCHAR, person_id VARCHAR, note VARCHAR,
    decided_by VARCHAR, match_probability DOUBLE, concluded_at TIMESTAMP,
    answered_on DATE, answer_file VARCHAR, answer_sent VARCHAR,
    PRIMARY KEY (from_county, query_id)
);
CREATE TABLE IF NOT EXISTS {EXCHANGE_FILES} (
    file_hash VARCHAR PRIMARY KEY, file VARCHAR, kind VARCHAR, counterpart VARCHAR,
    cycle VARCHAR, imported_at TIMESTAMP, operator VARCHAR, rows_read INTEGER,
    accepted INTEGER, unchanged INTEGER, refused INTEGER, status VARCHAR
);
""",
    "runs": f"""
CREATE TABLE IF NOT EXISTS {RUNS} (
    run_id VARCHAR PRIMARY KEY, flow_run_id VARCHAR, started_at TIMESTAMP,
    finished_at TIMESTAMP,
    status VARCHAR,                 -- running, succeeded, partial, failed, interrupted
    mode VARCHAR, "full" BOOLEAN, retrain BOOLEAN, inbox VARCHAR,
    files BIGINT, files_rejected BIGINT, rows_loaded BIGINT, rows_updated BIGINT,
    rows_quarantined BIGINT, records_scored BIGINT, links BIGINT, clerical BIGINT,
    findings_new BIGINT, findings_open BIGINT, model_versions VARCHAR,
    snapshot_seconds DOUBLE, seconds DOUBLE, failed_stage VARCHAR, error_class VARCHAR,
    error_message VARCHAR, restored BOOLEAN, summary VARCHAR
);
CREATE TABLE IF NOT EXISTS {RUN_STAGES} (
    run_id VARCHAR, stage VARCHAR, status VARCHAR, seconds DOUBLE, counts VARCHAR
);
""",
    "report": f"""
CREATE TABLE IF NOT EXISTS {REPORT_SNAPSHOTS} (
    run_id VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL, figure VARCHAR NOT NULL,
    scope VARCHAR NOT NULL, value DOUBLE
);
CREATE TABLE IF NOT EXISTS {REPORT_MODEL_CACHE} (source VARCHAR, key VARCHAR, section VARCHAR);
CREATE TABLE IF NOT EXISTS {BULLETINS} (
    issued_on DATE, period VARCHAR, township VARCHAR, figure VARCHAR, value DOUBLE,
    written_at TIMESTAMP
);
""",
    "audit": f"""
CREATE TABLE IF NOT EXISTS {AUDIT_ANCHOR} (
    seq BIGINT, hash VARCHAR, recorded_at TIMESTAMP   -- the audit log's head, as it grew
);
""",
}
#: what a group needs besides itself
_NEEDS = {"tasks": ("findings",), "exchange": ("findings",), "returns": ("ingest",)}


class _Executes(Protocol):
    def execute(self, query: str) -> object: ...


def ensure(con: _Executes, *groups: str) -> None:
    """Create the tables of ``groups`` (``ingest``, ``archive``, ``returns``, ``findings``,
    ``tasks``, ``exchange``, ``runs``, ``report``, ``review``) that do not exist yet."""
    for group in groups:
        for needed in _NEEDS.get(group, ()):
            con.execute(_DDL[needed])
        con.execute(_DDL[group])
