"""Incoming 协查: other counties' queries answered from the base, and answers to ours.

``renkou exchange import FILE…`` tells the two kinds apart by name:

- ``协查_<发起县>_<本县>_<YYYYMM>`` (``.csv`` or ``.xlsx``): queries to answer. Validated by
  :class:`data_contracts.exchange.ExchangeQuery` like any delivery: a bad row is reported
  with file, row and fix and refused, the good rows are kept; a row addressed to another
  county, from another county than the file's name says, or repeating a 协查编号 is refused.
  A query already received is not received again.
- ``协查反馈_<答复县>_<本县>_<YYYYMM>``: answers to our queries. Each closes the query it names
  (an unknown 协查编号 is refused), and the ``cross_county_query`` finding with it:
  ``confirmed`` when the county of registration has the person, ``rejected`` when it has not.
  需入户核实 is recorded as an interim answer (their visit is under way); the query stays open.

Problems name the file, the row and the column, never a cell's value (a 协查编号 or a county
code may be a person's ID or name typed into the wrong column). A file addressed to another
county is refused whole; a file imported twice (same SHA-256)
changes nothing. A cell the sending renkou wrote as text against formula injection (a leading
``'`` before ``=``, ``+``, ``-``, ``@``, a tab, CR or quote) is read as the value it was
(:func:`linkage.cells.restore`), so a name goes and comes back identical.

Each query received is matched against the base (every row, cancelled ones too) with the
linkage machinery: the exact cascade, then the saved 户籍 model (the query's columns are a
户籍 record's: name, sex, ID, birth date, address) with the 户籍 source's thresholds
(:func:`linkage.link.run.score_records`). A link is answered 本县有此人, or 已注销 with the
person's status when the base row is cancelled; no candidate, and no 户籍 record by ID or name
and birth date, is 本县无此人 with the explanation the plan requires; a doubtful candidate is
需入户核实 and becomes a township task (``incoming_query``), whose answer completes the reply.
A valid ID that a base row carries is never answered 本县无此人: that row is the answer.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_contracts._base import ROW, Contract
from data_contracts.exchange import ExchangeAnswer, ExchangeQuery
from linkage import archive, tables
from linkage.audit import AuditLog
from linkage.casework import set_status
from linkage.cells import restore
from linkage.errors import FileProblem, RenkouError
from linkage.exchange.files import exchange_key, write_all_or_nothing
from linkage.ingest.load import map_headers, type_columns
from linkage.ingest.readers import file_hash, read_any
from linkage.ingest.validate import clean_cells, validate
from linkage.sealed import contents
from linkage.store import Store
from linkage.tasks.reader import Problem

log = logging.getLogger(__name__)

QUERY_NAME = re.compile(r"^协查_(\d{6})_(\d{6})_(\d{6})$")
ANSWER_NAME = re.compile(r"^协查反馈_(\d{6})_(\d{6})_(\d{6})$")
#: conclusions that settle a query (需入户核实 does not)
DEFINITE = ("本县有此人", "本县无此人", "已注销")
FOUND, NOT_FOUND, CANCELLED, VISIT = "本县有此人", "本县无此人", "已注销", "需入户核实"
#: the explanation sent with 本县无此人 (plan 004: 确实查找不到的…说明理由)
VISITED_NOT_FOUND = "入户核实：比对之人并非所问之人，本县无此人"
NOT_FOUND_NOTE = "本县人口库及公安户籍均无此人（按姓名、性别、身份证号、出生日期比对）"
QUERY_SOURCE = "exchange"  # person records of received queries, scored and never stored


@dataclass
class FileOutcome:
    file: str
    kind: str  # query, answer, unknown
    status: str  # imported, already_imported, refused
    counterpart: str | None = None
    rows_read: int = 0
    accepted: int = 0
    unchanged: int = 0
    refused: int = 0
    sha256: str | None = None


@dataclass
class ExchangeImport:
    files: list[FileOutcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: received queries concluded tonight, by conclusion
    concluded: dict[str, int] = field(default_factory=dict)
    #: our queries answered by the files, by conclusion
    closed: dict[str, int] = field(default_factory=dict)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


def import_exchange(
    store: Store, files: list[Path], *, operator: str, today: dt.date | None = None
) -> ExchangeImport:
    """Import query and answer files; conclude every query received and not yet concluded."""
    tables.ensure(store.con, "exchange")
    today = today or dt.date.today()
    report = ExchangeImport()
    with tempfile.TemporaryDirectory(prefix="renkou-exchange-") as unpacked:
        for path in files:
            for inner in _opened(store, path, Path(unpacked), report):
                report.files.append(_import_file(store, inner, operator, report.problems, report))
    if store.scalar(f"SELECT count(*) FROM {tables.EXCHANGE_RECEIVED} WHERE conclusion IS NULL"):
        try:
            report.concluded = conclude_received(store)
        except RenkouError as err:  # the queries are kept; a later import concludes them
            report.problems.append(
                Problem("(queries received)", None, None, "not_matched", str(err))
            )
    AuditLog.for_home(store.home).append(
        "exchange.import",
        details={
            "files": [
                {
                    "file": f.file,
                    "sha256": f.sha256,
                    "kind": f.kind,
                    "status": f.status,
                    "accepted": f.accepted,
                }
                for f in report.files
            ],
            "concluded": report.concluded,
            "closed": report.closed,
        },
    )
    return report


def _opened(store: Store, path: Path, into: Path, report: ExchangeImport) -> list[Path]:
    """The files to read: ``path`` itself, or what its encrypted package holds."""
    try:
        return contents(path, store.home, into, "exchange")
    except FileProblem as problem:
        report.problems.append(
            Problem(path.name, None, None, "file_refused", f"{problem.problem}. Fix: {problem.fix}")
        )
        report.files.append(FileOutcome(path.name, "package", "refused"))
        return []


def _import_file(
    store: Store, path: Path, operator: str, problems: list[Problem], report: ExchangeImport
) -> FileOutcome:
    county = store.settings.county_code
    name = path.name
    query, answer = QUERY_NAME.match(path.stem), ANSWER_NAME.match(path.stem)
    named = query or answer
    kind = "query" if query else "answer" if answer else "unknown"
    outcome = FileOutcome(name, kind, "refused")

    def refuse(message: str) -> FileOutcome:
        problems.append(Problem(name, None, None, "file_refused", message))
        log.warning("exchange import: %s refused", name)
        return outcome

    if named is None:
        return refuse(
            "the name says neither a query nor an answer file. Fix: name it "
            "协查_<发起县代码>_<目标县代码>_<YYYYMM>.csv (queries) or "
            "协查反馈_<答复县代码>_<发起县代码>_<YYYYMM>.csv (answers), as sent"
        )
    counterpart, addressee, cycle = named.groups()
    outcome.counterpart = counterpart
    if addressee != county:
        return refuse(
            f"addressed to county {addressee}, and this is {county}. Fix: send it on to "
            f"{addressee}; this county imports only files addressed to it"
        )
    digest = outcome.sha256 = file_hash(path)
    if store.scalar(f"SELECT count(*) FROM {tables.EXCHANGE_FILES} WHERE file_hash = ?", [digest]):
        outcome.status = "already_imported"
        return outcome
    contract: type[Contract] = ExchangeQuery if query else ExchangeAnswer
    try:
        raw, _ = read_any(path)
        frame = map_headers(contract, restore(raw), name)
    except FileProblem as problem:
        return refuse(f"{problem.problem}. Fix: {problem.fix}")
    frame = (
        clean_cells(frame).with_row_index(ROW, offset=2).with_columns(pl.col(ROW).cast(pl.Int64))
    )
    outcome.rows_read = frame.height
    checked = validate(contract, frame)
    for row, reasons in checked.quarantined.select(ROW, "reasons").iter_rows():
        problems.append(
            Problem(name, None, row, "bad_row", f"{reasons}. Fix: correct the cell and resend")
        )
    kept, refused = (_check_queries if query else _check_answers)(
        store, type_columns(contract, checked.kept), counterpart
    )
    for row, message in refused:
        problems.append(Problem(name, None, row, "refused_row", message))
    outcome.refused = checked.quarantined.height + len(refused)
    archive.keep(store, "exchange", path, digest)  # HOME/archive/exchange/…/<file_hash>
    with store.transaction():
        if query:
            outcome.accepted, outcome.unchanged = _receive(store, kept, name, cycle)
        else:
            outcome.accepted, outcome.unchanged = _apply_answers(
                store, kept, name, counterpart, report.closed
            )
        store.con.execute(
            f"INSERT INTO {tables.EXCHANGE_FILES} VALUES "
            "(?, ?, ?, ?, ?, current_timestamp, ?, ?, ?, ?, ?, 'imported')",
            [
                digest,
                name,
                kind,
                counterpart,
                cycle,
                operator,
                outcome.rows_read,
                outcome.accepted,
                outcome.unchanged,
                outcome.refused,
            ],
        )
    outcome.status = "imported"
    log.info(
        "exchange import %s: %d rows, %d accepted, %d unchanged, %d refused",
        kind,
        outcome.rows_read,
        outcome.accepted,
        outcome.unchanged,
        outcome.refused,
    )
    return outcome


def _repeats(frame: pl.DataFrame) -> list[tuple[int, str]]:
    first = frame.group_by("query_id").agg(pl.col(ROW).min().alias("first"))
    dup = frame.join(first, on="query_id").filter(pl.col(ROW) != pl.col("first"))
    return [
        (row, f"协查编号 repeats row {first_row}. Fix: one row per query; this row is not read")
        for row, first_row in dup.select(ROW, "first").iter_rows()
    ]


def _without(frame: pl.DataFrame, refused: list[tuple[int, str]]) -> pl.DataFrame:
    """``frame`` without the rows refused."""
    bad = pl.DataFrame({ROW: [r for r, _ in refused]}, schema={ROW: pl.Int64})
    return frame.join(bad, on=ROW, how="anti")


def _check_queries(
    store: Store, frame: pl.DataFrame, counterpart: str
) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    county = store.settings.county_code
    refused = _repeats(frame)
    for row, to, sender in frame.select(ROW, "to_county", "from_county").iter_rows():
        if to != county:
            refused.append(
                (
                    row,
                    f"目标地代码 is not this county's code ({county}). Fix: send the row on to "
                    "the county its 目标地代码 names; this county answers rows addressed to it",
                )
            )
        elif sender != counterpart:
            refused.append(
                (
                    row,
                    f"发起地代码 differs from the asking county of the file's name "
                    f"({counterpart}). "
                    "Fix: one file per asking county, named after it",
                )
            )
    return _without(frame, refused), refused


def _check_answers(
    store: Store, frame: pl.DataFrame, counterpart: str
) -> tuple[pl.DataFrame, list[tuple[int, str]]]:
    refused = _repeats(frame)
    sent = set(
        store.frame(
            f"SELECT query_id FROM {tables.EXCHANGE_QUERIES} WHERE to_county = ?", [counterpart]
        )["query_id"].to_list()
    )
    for row, query in frame.select(ROW, "query_id").iter_rows():
        if query not in sent:
            refused.append(
                (
                    row,
                    f"协查编号 names no query this county sent to {counterpart}. "
                    "Fix: answer with the 协查编号 exactly as received",
                )
            )
    return _without(frame, refused), refused


def _receive(store: Store, frame: pl.DataFrame, file: str, cycle: str) -> tuple[int, int]:
    """Store queries not received before; returns (new, already received)."""
    if frame.is_empty():
        return 0, 0
    rows = frame.select(
        "from_county",
        "query_id",
        pl.lit(cycle).alias("cycle"),
        pl.lit(file).alias("file"),
        pl.lit(dt.datetime.now()).alias("received_at"),
        "query_type",
        "urgency",
        "sent_on",
        "due_on",
        "name",
        "sex",
        "id_number",
        "birth_date",
        "hukou_address",
        "current_address",
        "event_date",
        "reason",
    )
    store.con.register("tmp_renkou_received", rows)
    try:
        new = int(
            store.scalar(f"""
                SELECT count(*) FROM tmp_renkou_received r
                WHERE NOT EXISTS (SELECT 1 FROM {tables.EXCHANGE_RECEIVED} x
                                  WHERE x.from_county = r.from_county
                                    AND x.query_id = r.query_id)""")
        )
        store.con.execute(
            f"INSERT INTO {tables.EXCHANGE_RECEIVED} BY NAME "
            "SELECT * FROM tmp_renkou_received ON CONFLICT DO NOTHING"
        )
    finally:
        store.con.unregister("tmp_renkou_received")
    return new, rows.height - new


def _apply_answers(
    store: Store, frame: pl.DataFrame, file: str, counterpart: str, closed: dict[str, int]
) -> tuple[int, int]:
    """Record answers to our queries; close the findings of definite ones."""
    if frame.is_empty():
        return 0, 0
    known = store.frame(
        f"SELECT query_id, finding_id, conclusion FROM {tables.EXCHANGE_QUERIES} "
        "WHERE to_county = ?",
        [counterpart],
    )
    rows = frame.join(known.rename({"conclusion": "before"}), on="query_id")
    changed = rows.filter(pl.col("before").is_null() | (pl.col("before") != pl.col("conclusion")))
    for r in changed.iter_rows(named=True):
        definite = r["conclusion"] in DEFINITE
        store.con.execute(
            f"""UPDATE {tables.EXCHANGE_QUERIES} SET conclusion = ?, person_status = ?,
                    note = ?, answered_on = ?, answered_by = ?, answer_file = ?, status = ?
                WHERE query_id = ?""",
            [
                r["conclusion"],
                r["status"],
                r["note"],
                r["answered_on"] if definite else None,
                r["answered_by"],
                file,
                "answered" if definite else "visiting",
                r["query_id"],
            ],
        )
        if definite:
            status = "rejected" if r["conclusion"] == NOT_FOUND else "confirmed"
            set_status(store, [r["finding_id"]], status, note=f"协查反馈 {r['conclusion']}")
        closed[r["conclusion"]] = closed.get(r["conclusion"], 0) + 1
    return changed.height, rows.height - changed.height


# ------------------------------------------------------------------------ concluding


def conclude_received(store: Store) -> dict[str, int]:
    """Match every received query without a conclusion against the base; returns counts."""
    from linkage.link import model as models
    from linkage.link.run import REJECTED, score_records
    from linkage.persons import PERSON_TABLE
    from linkage.standardise import person_frame

    saved = models.saved_model(store.home, "hukou")
    if saved is None or not store.has_table(PERSON_TABLE):
        raise RenkouError(
            "no saved 户籍 model to match the queries with. Fix: run a night first "
            "(renkou run): it trains and saves the models"
        )
    pending = store.frame(f"""
        SELECT from_county || '|' || query_id AS record_id, name, sex, id_number,
               CAST(birth_date AS VARCHAR) AS birth_date,
               coalesce(hukou_address, current_address) AS address
        FROM {tables.EXCHANGE_RECEIVED} WHERE conclusion IS NULL
    """)
    records = person_frame(pending.with_columns(source=pl.lit(QUERY_SOURCE), role=pl.lit("person")))
    columns = store.frame(f"SELECT * FROM {PERSON_TABLE} LIMIT 0").columns
    table, base, clusters = "tmp_renkou_xq", "tmp_renkou_xq_base", "tmp_renkou_xq_clusters"
    # the columns of person records (a version column the queries lack stays empty)
    store.replace_table(
        table,
        records.with_columns(
            pl.lit(None, pl.Int32).alias(c) for c in columns if c not in records.columns
        ).select(columns),
    )
    store.con.execute(
        f"CREATE OR REPLACE VIEW {base} AS SELECT * FROM {PERSON_TABLE} WHERE source = 'population'"
    )
    store.con.execute(
        f"CREATE OR REPLACE TABLE {clusters} AS "
        + (
            "SELECT person_id, cluster_id FROM base_clusters"
            if store.has_table("base_clusters")
            else "SELECT NULL::VARCHAR AS person_id, NULL::VARCHAR AS cluster_id WHERE false"
        )
    )
    store.replace_table(
        REJECTED,
        pl.DataFrame(
            schema={c: pl.String for c in ("source", "source_record_id", "role", "person_id")}
        ),
    )
    try:
        decided = score_records(
            store, table, base, clusters, store.settings.source("hukou"), saved[1]
        )
    finally:
        for name in (table, clusters):
            store.drop(name)
        store.con.execute(f"DROP VIEW IF EXISTS {base}")
    return _conclude(store, records, decided)


def _conclude(store: Store, records: pl.DataFrame, decided: pl.DataFrame) -> dict[str, int]:
    from linkage.findings.base import in_hukou
    from linkage.persons import PERSON_TABLE

    decisions = records.select(
        pl.col("record_id").alias("source_record_id"),
        "id_number",
        "id_status",
        "name_key",
        "birth_date",
    ).join(
        decided.select(
            "source_record_id",
            "person_id",
            "decision",
            "decided_by",
            pl.col("match_probability").cast(pl.Float64),
        ),
        on="source_record_id",
        how="left",
    )
    store.con.register("tmp_renkou_xq_decided", decisions)
    try:
        frame = store.frame(f"""
            WITH d AS (
                SELECT d.*,
                       -- the base row carrying a valid ID is the answer whatever the model says
                       (SELECT min(b.record_id) FROM {PERSON_TABLE} b
                        WHERE b.source = 'population' AND b.id_number = d.id_number
                          AND d.id_status IN ('valid', 'upgraded_15')) AS by_id
                FROM tmp_renkou_xq_decided d
            ),
            chosen AS (
                SELECT source_record_id, match_probability,
                       CASE WHEN decision = 'link' THEN person_id
                            WHEN by_id IS NOT NULL THEN by_id
                            WHEN decision = 'clerical' THEN person_id END AS person_id,
                       CASE WHEN decision = 'link' THEN coalesce(decided_by, 'model')
                            WHEN by_id IS NOT NULL THEN 'id'
                            WHEN decision = 'clerical' THEN 'clerical'
                            ELSE 'none' END AS decided_by,
                       {in_hukou(store, "d")} AS in_hukou
                FROM d
            )
            SELECT c.*, p.status AS person_status, p.hukou_address
            FROM chosen c
            LEFT JOIN src_population p ON p.person_id = c.person_id
        """)
    finally:
        store.con.unregister("tmp_renkou_xq_decided")
    frame = frame.with_columns(
        pl.when(pl.col("decided_by") == "clerical")
        .then(pl.lit(VISIT))
        .when(pl.col("person_id").is_null() & pl.col("in_hukou"))
        .then(pl.lit(FOUND))
        .when(pl.col("person_id").is_null())
        .then(pl.lit(NOT_FOUND))
        .when(pl.col("person_status") == "正常")
        .then(pl.lit(FOUND))
        .otherwise(pl.lit(CANCELLED))
        .alias("conclusion")
    ).with_columns(
        pl.when(pl.col("conclusion") == NOT_FOUND)
        .then(pl.lit(NOT_FOUND_NOTE))
        .when(pl.col("person_id").is_null())
        .then(pl.lit("公安户籍有此人，人口库未录入"))
        .when(pl.col("conclusion") == VISIT)
        .then(pl.lit("比对存疑，已安排入户核实"))
        .alias("note")
    )
    store.con.register("tmp_renkou_xq_concluded", frame)
    try:
        store.con.execute(f"""
            UPDATE {tables.EXCHANGE_RECEIVED} x SET
                conclusion = c.conclusion, person_id = c.person_id,
                person_status = c.person_status, found_hukou_address = c.hukou_address,
                note = c.note, decided_by = c.decided_by,
                match_probability = c.match_probability, concluded_at = current_timestamp
            FROM tmp_renkou_xq_concluded c
            WHERE x.from_county || '|' || x.query_id = c.source_record_id
        """)
    finally:
        store.con.unregister("tmp_renkou_xq_concluded")
    counts = dict(frame.group_by("conclusion").len().iter_rows())
    log.info("exchange: received queries concluded: %s", counts)
    return {str(k): int(v) for k, v in counts.items()}


# ------------------------------------------------------------------------ answering

#: the answer file's columns: canonical name → header (docs/interfaces.md section 4)
ANSWER_HEADERS = {
    "query_id": "协查编号",
    "conclusion": "核查结论",
    "person_status": "人员状态",
    "found_hukou_address": "户籍地址",
    "note": "核查说明",
    "answered_on": "反馈日期",
    "answered_by": "反馈单位",
}


@dataclass(frozen=True)
class AnswerFile:
    to_county: str
    path: Path
    answers: int  # every answer of the cycle to that county
    new: int  # of them, new or changed since the last file
    sha256: str


def answer_file_name(county: str, asking: str, cycle: str) -> str:
    return f"协查反馈_{county}_{asking}_{cycle}.csv"


def resolve_visits(store: Store) -> int:
    """Township answers to ``incoming_query`` tasks complete their queries' conclusions:
    属实 → the base person's (本县有此人, or 已注销 with the status), 不属实 → 本县无此人."""
    if not store.has_table(tables.FINDINGS):
        return 0
    visited = f"""
        FROM {tables.FINDINGS} f JOIN src_population p ON p.person_id = f.person_id
        WHERE f.finding_type = 'incoming_query' AND f.status IN ('confirmed', 'rejected')
          AND f.source_record_id = x.from_county || '|' || x.query_id
          AND x.conclusion = '{VISIT}'"""
    n = int(
        store.scalar(
            f"SELECT count(*) FROM {tables.EXCHANGE_RECEIVED} x WHERE EXISTS (SELECT 1 {visited})"
        )
    )
    if n:
        store.con.execute(f"""
            UPDATE {tables.EXCHANGE_RECEIVED} x SET
                conclusion = CASE WHEN f.status = 'rejected' THEN '{NOT_FOUND}'
                                  WHEN p.status = '正常' THEN '{FOUND}' ELSE '{CANCELLED}' END,
                person_status = CASE WHEN f.status = 'confirmed' THEN p.status END,
                found_hukou_address = CASE WHEN f.status = 'confirmed' THEN p.hukou_address END,
                person_id = CASE WHEN f.status = 'confirmed' THEN p.person_id END,
                note = CASE WHEN f.status = 'rejected' THEN '{VISITED_NOT_FOUND}'
                            ELSE '入户核实属实' END,
                decided_by = 'visit', concluded_at = current_timestamp
            {visited}
        """)
    return n


def export_answers(
    store: Store, out_dir: Path, *, operator: str, answered_on: dt.date | None = None
) -> list[AnswerFile]:
    """Write the answer files of every asking county and cycle with a new or changed answer;
    record what was sent. 需入户核实 goes out as an interim answer; the final one follows."""
    tables.ensure(store.con, "exchange")
    answered_on = answered_on or dt.date.today()
    resolve_visits(store)
    county, county_name = store.settings.county_code, store.settings.county_name
    due = store.frame(f"""
        SELECT DISTINCT from_county, cycle FROM {tables.EXCHANGE_RECEIVED}
        WHERE conclusion IS NOT NULL AND answer_sent IS DISTINCT FROM conclusion
        ORDER BY 1, 2
    """)
    if due.is_empty():
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[Path, pl.DataFrame] = {}
    counts: dict[Path, tuple[str, str, int]] = {}
    for asking, cycle in due.iter_rows():
        rows = store.frame(
            f"""
            SELECT query_id, conclusion, person_status, found_hukou_address, note,
                   coalesce(answered_on, $day) AS answered_on, $by AS answered_by,
                   answer_sent IS DISTINCT FROM conclusion AS changed
            FROM {tables.EXCHANGE_RECEIVED}
            WHERE from_county = $asking AND cycle = $cycle AND conclusion IS NOT NULL
            ORDER BY query_id
            """,
            {"day": answered_on, "by": county_name, "asking": asking, "cycle": cycle},
        )
        path = out_dir / answer_file_name(county, asking, cycle)
        files[path] = rows.select(list(ANSWER_HEADERS)).rename(ANSWER_HEADERS)
        counts[path] = (asking, cycle, int(rows["changed"].sum()))

    key = exchange_key(store.home)
    final = {path: path.with_suffix(".zip") if key else path for path in files}

    def record(hashes: dict[Path, str]) -> None:
        with store.transaction():
            for path, (asking, cycle, _) in counts.items():
                store.con.execute(
                    f"""UPDATE {tables.EXCHANGE_RECEIVED} SET
                            answered_on = CASE WHEN answer_sent IS DISTINCT FROM conclusion
                                                AND conclusion <> '{VISIT}'
                                               THEN ? ELSE answered_on END,
                            answer_sent = conclusion, answer_file = ?
                        WHERE from_county = ? AND cycle = ? AND conclusion IS NOT NULL""",
                    [answered_on, final[path].name, asking, cycle],
                )

    hashes = write_all_or_nothing(files, record, key)
    written = [
        AnswerFile(asking, final[path], files[path].height, new, hashes[final[path]])
        for path, (asking, _, new) in counts.items()
    ]
    AuditLog.for_home(store.home).append(
        "exchange.answers",
        details={
            "answered_on": answered_on.isoformat(),
            "files": [
                {"file": f.path.name, "sha256": f.sha256, "to_county": f.to_county, "new": f.new}
                for f in written
            ],
        },
    )
    log.info("exchange answers: %d files", len(written))
    return written


def received_status(store: Store, as_of: dt.date) -> pl.DataFrame:
    """Per cycle and asking county: received, answered (a definite answer sent), visiting,
    waiting (nothing sent yet), and the feedback rate: definite answers sent by the cycle's
    answer day (``as_of`` while that is ahead) over queries received."""
    tables.ensure(store.con, "exchange")
    cfg = store.settings.exchange
    frame = store.frame(
        f"""
        SELECT cycle, from_county, count(*) AS received,
               count(*) FILTER (WHERE answer_sent IN {DEFINITE}) AS answered,
               count(*) FILTER (WHERE conclusion = '{VISIT}') AS visiting,
               count(*) FILTER (WHERE answer_sent IS NULL) AS waiting,
               count(*) FILTER (WHERE answer_sent IN {DEFINITE} AND answered_on <= due_on)
                   AS in_time,
               count(*) FILTER (WHERE answer_sent IN {DEFINITE} AND answered_on <= least(
                   $as_of, make_date(CAST(substr(cycle, 1, 4) AS INTEGER),
                                     CAST(substr(cycle, 5, 2) AS INTEGER), $answer_day)))
                   AS by_answer_day
        FROM {tables.EXCHANGE_RECEIVED} GROUP BY ALL ORDER BY cycle, from_county
        """,
        {"as_of": as_of, "answer_day": cfg.answer_day},
    )
    return frame.with_columns(
        (pl.col("by_answer_day") / pl.col("received")).alias("feedback_rate")
    ).with_columns((pl.col("feedback_rate") >= cfg.target_rate).alias("meets_target"))
