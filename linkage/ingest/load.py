"""``renkou ingest``: every inbox file → contract → typed source table, idempotently.

Per file: hash → (already loaded? skip) → read → map headers → validate → type → upsert into
``src_<source>`` keyed by the contract's record key. A record delivered again with the same
content changes nothing; with new content it replaces the old version (the later delivery
wins), and the replaced row is kept in ``record_versions`` (``linkage.ingest.history``). Every
file gets a ledger row, and its original a read-only copy (``linkage.archive``). File-level
problems reject that file only. The whole ingest is one transaction: a crash leaves the
database as it was.

Withdrawals (``linkage.ingest.withdraw``, docs/deliveries.md): rows flagged 撤回 withdraw their
record, and the one new file of a ``[delivery] snapshot`` source withdraws the records it
leaves out (refused whole above ``max_withdraw_share`` until confirmed).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import polars as pl

from data_contracts import CONTRACTS, Contract
from data_contracts._base import ROW, column_meta
from linkage import archive
from linkage.errors import FileProblem, RenkouError
from linkage.ingest import withdraw
from linkage.ingest.headers import header_problem, match_headers, missing_column_warnings
from linkage.ingest.history import keep_superseded
from linkage.ingest.id_cells import null_ids_stored_as_numbers
from linkage.ingest.readers import SUFFIXES, file_hash, read_delivery, row_problems
from linkage.ingest.validate import clean_cells, validate
from linkage.standardise import codes, dates
from linkage.store import Store
from linkage.tables import source_table

log = logging.getLogger(__name__)

META = ("_row", "_file", "_load_id", "_row_hash")


@dataclass
class FileResult:
    source: str
    file: str
    status: str  # loaded, rejected, already_loaded
    message: str = ""
    rows_in: int = 0
    rows_quarantined: int = 0
    rows_loaded: int = 0
    rows_updated: int = 0
    rows_unchanged: int = 0
    rows_with_issues: int = 0
    rows_withdrawn: int = 0
    #: file-level warnings of a loaded file (missing columns, IDs stored as numbers); also in
    #: ``message`` (the ledger) and in the report's problems
    warnings: list[str] = field(default_factory=list)


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # folder-level problems

    @property
    def changed_sources(self) -> set[str]:
        return {f.source for f in self.files if f.rows_loaded or f.rows_updated or f.rows_withdrawn}

    def totals(self) -> dict[str, int]:
        keys = (
            "rows_in",
            "rows_quarantined",
            "rows_loaded",
            "rows_updated",
            "rows_unchanged",
            "rows_with_issues",
            "rows_withdrawn",
        )
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}


def type_columns(contract: type[Contract], frame: pl.DataFrame) -> pl.DataFrame:
    """Typed form of validated text: dates → Date, codes → canonical words, ints → Int64.

    The delivered text of every typed column is kept beside it as ``<col>__raw``.
    """
    exprs: list[pl.Expr] = []
    for name, column in contract.data_columns().items():
        meta = column_meta(column)
        kind = meta["kind"]
        col = pl.col(name)
        if kind == "date":
            exprs += [dates.parse_date_expr(col).alias(name), col.alias(f"{name}__raw")]
        elif kind == "code":
            exprs += [
                codes.map_code_expr(col, meta["mapping"]).alias(name),
                col.alias(f"{name}__raw"),
            ]
        elif kind == "int":
            exprs += [col.str.strip_chars().cast(pl.Int64, strict=False).alias(name)]
        else:
            exprs.append(col)
    return frame.select(ROW, *exprs)


def map_headers(
    contract: type[Contract],
    frame: pl.DataFrame,
    file: str,
    *,
    warnings: list[str] | None = None,
) -> pl.DataFrame:
    """Header cells → canonical names, every accepted name of a column counting
    (``linkage.ingest.headers.canonical_column``). A missing required column rejects the
    file (``FileProblem``); a missing optional column becomes null, and ``warnings`` gets a
    sentence per such column (and per column named twice), cells named by position only."""
    match = match_headers(contract, frame.columns)
    found, required = match.found(), contract.required()
    missing_required = [
        h for h, c in contract.headers().items() if c in required and c not in found
    ]
    if missing_required:  # said by position: the header row may be a person's data row
        raise header_problem(contract, frame, file, missing_required)
    if warnings is not None:
        warnings += match.warnings + missing_column_warnings(contract, match)
    renamed = frame.select([pl.col(h).alias(c) for h, c in match.columns.items()])
    absent = [c for c in contract.data_columns() if c not in renamed.columns]
    return renamed.with_columns(pl.lit(None, pl.String).alias(c) for c in absent).select(
        list(contract.data_columns())
    )


def _upsert(
    store: Store, contract: type[Contract], typed: pl.DataFrame, *, file: str, load_id: int
) -> tuple[int, int, int]:
    """Insert new records, replace changed ones, skip unchanged. Returns (new, updated, same)."""
    table, key = source_table(contract.source), contract.record_key
    # within one file a repeated record: the last row wins
    typed = typed.unique(subset=[key], keep="last", maintain_order=True)
    data_cols = [c for c in typed.columns if c != ROW]
    staged = typed.with_columns(pl.lit(file).alias("_file"), pl.lit(load_id).alias("_load_id"))
    con = store.con
    con.register("__renkou_stage", staged)
    try:
        # separators as chr(): DuckDB 1.4's parser ends a string literal at a NUL byte
        hash_sql = (
            "md5(concat_ws(chr(31), "
            + ", ".join(f'coalesce(CAST("{c}" AS VARCHAR), chr(0))' for c in data_cols)
            + "))"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE tmp_renkou_stage AS "
            f"SELECT *, {hash_sql} AS _row_hash FROM __renkou_stage"
        )
    finally:
        con.unregister("__renkou_stage")
    if not store.has_table(table):
        con.execute(f'CREATE TABLE "{table}" AS SELECT * FROM tmp_renkou_stage LIMIT 0')
    counts = con.sql(f"""
        SELECT count(*) FILTER (WHERE t."{key}" IS NULL),
               count(*) FILTER (WHERE t."{key}" IS NOT NULL AND t._row_hash <> s._row_hash),
               count(*) FILTER (WHERE t._row_hash = s._row_hash)
        FROM tmp_renkou_stage s LEFT JOIN "{table}" t ON t."{key}" = s."{key}"
    """).fetchall()[0]
    # the rows about to be replaced become history first (same transaction)
    keep_superseded(con, contract.source, key, "tmp_renkou_stage", data_cols)
    con.execute(f"""
        DELETE FROM "{table}" WHERE "{key}" IN (
            SELECT s."{key}" FROM tmp_renkou_stage s JOIN "{table}" t USING ("{key}")
            WHERE t._row_hash <> s._row_hash)
    """)
    con.execute(f"""
        INSERT INTO "{table}" BY NAME
        SELECT * FROM tmp_renkou_stage s
        WHERE NOT EXISTS (SELECT 1 FROM "{table}" t WHERE t."{key}" = s."{key}")
    """)
    con.execute("DROP TABLE tmp_renkou_stage")
    return int(counts[0]), int(counts[1]), int(counts[2])


def ingest_file(
    store: Store,
    contract: type[Contract],
    path: Path,
    *,
    run_id: str | None = None,
    snapshot: bool = False,
) -> FileResult:
    """Load one file. File-level problems come back as a ``rejected`` result, not an exception.

    ``snapshot``: the file is its source's whole register (``linkage.ingest.withdraw``)."""
    source, name = contract.source, path.name
    digest = file_hash(path)
    seen = store.scalar(
        "SELECT count(*) FROM load_ledger WHERE source = ? AND file_hash = ? AND status = 'loaded'",
        [source, digest],
    )
    if seen:
        return FileResult(source, name, "already_loaded", "same content loaded before")
    load_id = store.next_load_id()
    try:
        archive.keep(store, "inbox", path, digest)  # the original, before anything reads it
        delivery = read_delivery(path, contract)  # [layouts] the table found in the file
        raw, how = delivery.frame, delivery.how
        withdraw_flag = withdraw.flags(raw)  # [withdrawals] the 撤回 column, if delivered
        warnings: list[str] = []  # file-level, loaded anyway
        warnings += delivery.notes  # [layouts] sheet read, rows skipped, footer
        frame = map_headers(contract, raw, name, warnings=warnings)
    except FileProblem as problem:
        result = FileResult(source, name, "rejected", f"{problem.problem}. Fix: {problem.fix}")
        _ledger(store, load_id, run_id, digest, result)
        log.warning("rejected %s/%s: %s", source, name, result.message)
        return result
    # [layouts] each row keeps its row/line number in the original file (title rows skipped)
    frame = clean_cells(frame).insert_column(0, delivery.rows)
    rows_in = frame.height + len(delivery.problems)
    # ---- [withdrawals] flagged rows leave before validation; a snapshot's absent records
    frame, flagged = withdraw.split_flagged(frame, withdraw_flag, contract.record_key)
    numbers = null_ids_stored_as_numbers(contract, frame)  # IDs Excel stored as numbers
    warnings += numbers.warnings
    checked = validate(contract, numbers.frame)
    # [layouts] lines the reader could not take (ragged, undecodable) are quarantined too
    checked = replace(
        checked, quarantined=pl.concat([row_problems(delivery.problems), checked.quarantined])
    )
    issues = pl.concat(
        [checked.issues, numbers.issues.join(checked.kept.select(ROW), on=ROW, how="semi")]
    ).sort(ROW)
    typed = type_columns(contract, checked.kept)
    present = pl.concat([typed[contract.record_key], checked.quarantined["record_key"]])
    plan = withdraw.plan(
        store, contract, flagged, present, snapshot=snapshot, digest=digest, file=name
    )
    if plan.refused:
        result = FileResult(source, name, "rejected", plan.refused, rows_in=rows_in)
        _ledger(store, load_id, run_id, digest, result)
        log.warning("refused %s/%s: %s", source, name, plan.refused)
        return result
    # ---- [withdrawals] end
    new, updated, same = _upsert(store, contract, typed, file=name, load_id=load_id)
    withdrawn = withdraw.apply(
        store.con,
        contract,
        plan,
        load_id=load_id,
        file=name,
        data_columns=[c for c in typed.columns if c != ROW],
    )
    for table, part in (("quarantine", checked.quarantined), ("row_issues", issues)):
        if part.height:
            store.append(
                table,
                part.rename({ROW: "row"}).select(
                    pl.lit(load_id).alias("load_id"),
                    pl.lit(source).alias("source"),
                    pl.lit(name).alias("file"),
                    pl.all(),
                ),
            )
    result = FileResult(
        source,
        name,
        "loaded",
        "; ".join([how, *(f"warning: {w}" for w in warnings)]),
        rows_in=rows_in,
        rows_quarantined=checked.quarantined.height,
        rows_loaded=new,
        rows_updated=updated,
        rows_unchanged=same
        + (checked.kept.height - typed.unique(subset=[contract.record_key]).height),
        rows_with_issues=issues.select(ROW).n_unique(),
        warnings=warnings,
        rows_withdrawn=withdrawn,
    )
    _ledger(store, load_id, run_id, digest, result)
    for warning in warnings:
        log.warning("loaded %s/%s with a warning: %s", source, name, warning)
    log.info(
        "loaded %s/%s: %d rows in, %d new, %d updated, %d unchanged, %d quarantined, %d withdrawn",
        source,
        name,
        result.rows_in,
        new,
        updated,
        result.rows_unchanged,
        result.rows_quarantined,
        withdrawn,
    )
    return result


def _ledger(store: Store, load_id: int, run_id: str | None, digest: str, r: FileResult) -> None:
    store.con.execute(
        """INSERT INTO load_ledger (load_id, run_id, source, file, file_hash, status, message,
               rows_in, rows_quarantined, rows_loaded, rows_updated, rows_unchanged,
               rows_with_issues, rows_withdrawn)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [
            load_id,
            run_id,
            r.source,
            r.file,
            digest,
            r.status,
            r.message,
            r.rows_in,
            r.rows_quarantined,
            r.rows_loaded,
            r.rows_updated,
            r.rows_unchanged,
            r.rows_with_issues,
            r.rows_withdrawn,
        ],
    )


def check_inbox(inbox: Path) -> Path:
    """``inbox`` if it can be an inbox; a ``RenkouError`` with the fix otherwise (not a
    folder, or the folder one level above the inbox)."""
    if not inbox.is_dir():
        raise RenkouError(
            f"inbox {inbox} is not a folder. Fix: pass --inbox DIR holding "
            f"one folder per source ({', '.join(CONTRACTS)})"
        )
    nested = inbox / "inbox"
    if nested.is_dir() and not any((inbox / s).is_dir() for s in CONTRACTS):
        raise RenkouError(
            f"{inbox} holds a folder inbox/ but no source folder. Fix: point --inbox at {nested}"
        )
    return inbox


def inbox_files(inbox: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Files per known source folder, and problems (unknown folders, stray files)."""
    check_inbox(inbox)
    files: dict[str, list[Path]] = {}
    problems: list[str] = []
    for entry in sorted(inbox.iterdir()):
        if entry.name.startswith("."):
            continue
        if not entry.is_dir():
            problems.append(
                f"{entry.name}: a file directly in the inbox is ignored. "
                f"Fix: move it into its source folder ({', '.join(CONTRACTS)})"
            )
            continue
        if entry.name not in CONTRACTS:
            problems.append(
                f"{entry.name}/: unknown source folder, its files were not loaded. "
                f"Fix: rename it to one of {', '.join(CONTRACTS)}"
            )
            continue
        files[entry.name] = sorted(
            p for p in entry.iterdir() if p.is_file() and not p.name.startswith((".", "~$"))
        )
        for p in files[entry.name]:
            if p.suffix.lower() not in SUFFIXES:
                problems.append(
                    f"{entry.name}/{p.name}: unsupported file type, not loaded. "
                    f"Fix: deliver CSV (or tab-separated text), XLSX, XLS or Parquet"
                )
        files[entry.name] = [p for p in files[entry.name] if p.suffix.lower() in SUFFIXES]
    return files, problems


def ingest_inbox(store: Store, inbox: Path, *, run_id: str | None = None) -> IngestReport:
    """Load every file of every source folder of ``inbox`` in one transaction."""
    files, problems = inbox_files(inbox)
    report = IngestReport(problems=problems)
    if not files.get("population") and not store.has_table(source_table("population")):
        report.problems.append(
            "population/: no population base delivered and none loaded "
            "before. Fix: put the 全员人口库 export in inbox/population/"
        )
    with store.transaction():
        for source, paths in files.items():
            snapshot = _snapshot(store, source, paths, report)
            for path in paths:
                try:
                    report.files.append(
                        ingest_file(
                            store, CONTRACTS[source], path, run_id=run_id, snapshot=snapshot
                        )
                    )
                except Exception as err:  # unexpected: say which file (no values in a note)
                    err.add_note(f"while loading {source}/{path.name}")
                    raise
    report.problems += [f"{f.source}/{f.file}: {w}" for f in report.files for w in f.warnings]
    return report


def _snapshot(store: Store, source: str, paths: list[Path], report: IngestReport) -> bool:
    """[withdrawals] Whether this inbox's file of ``source`` is its whole register: the
    source is ``[delivery] snapshot`` and exactly one of its files is new (two cannot both be
    the whole register: then nothing is withdrawn, and a problem says so)."""
    if not paths or not store.settings.source(source).snapshot:
        return False
    new = [
        p
        for p in paths
        if not store.scalar(
            "SELECT count(*) FROM load_ledger WHERE source = ? AND file_hash = ? "
            "AND status = 'loaded'",
            [source, file_hash(p)],
        )
    ]
    if len(new) > 1:
        report.problems.append(
            f"{source}/: {len(new)} new files of a snapshot source (each its whole register): "
            "they were loaded, but no record was withdrawn. Fix: deliver the whole register "
            "as one file"
        )
        return False
    return True
