"""Outgoing 协查: open ``cross_county_query`` findings → one query file per county and cycle.

``renkou exchange export --out DIR`` writes ``协查_<本县代码>_<目标县代码>_<YYYYMM>.csv`` (UTF-8
with a BOM; headers of docs/interfaces.md section 4) for every destination county with queries
in the cycle, and records each new query (``exchange_queries``): its stable id, cycle, file,
send day and 反馈期限. A query is sent once: a later export of the same cycle rewrites that
county's file with every query of the cycle (the other side ignores ids it has), and a query
of an earlier cycle is not sent again. IDs are written in full (authority to authority); the
export is audited with the files' hashes. A query with no destination county waits until one
is known and is counted in the report.

Files are written under a temporary name and renamed only after the queries are recorded
(:func:`linkage.exchange.files.write_all_or_nothing`), so a failed export leaves the folder
and the store as they were.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from linkage import tables
from linkage.audit import AuditLog
from linkage.casework import set_status
from linkage.errors import RenkouError
from linkage.exchange.cycle import ORDINARY, cycle_of, due
from linkage.exchange.files import exchange_key, write_all_or_nothing
from linkage.findings.cross_county_query import delivered_addresses
from linkage.store import Store

log = logging.getLogger(__name__)

KIND = "cross_county_query"
#: the query file's columns: canonical name → header (docs/interfaces.md section 4)
QUERY_HEADERS = {
    "query_id": "协查编号",
    "from_county": "发起地代码",
    "to_county": "目标地代码",
    "query_type": "协查类型",
    "urgency": "紧急程度",
    "sent_on": "发起日期",
    "due_on": "反馈期限",
    "name": "姓名",
    "sex": "性别",
    "id_number": "公民身份号码",
    "birth_date": "出生日期",
    "hukou_address": "户籍地址",
    "current_address": "现住地址",
    "event_date": "事件日期",
    "reason": "事由",
}
#: what raised a query, as the other county reads it (事由)
REASONS = {
    "death": "在本县死亡（殡葬/死亡医学证明）",
    "birth_certificate": "在本县分娩（出生医学证明）",
    "maternity_insurance": "在本县享受生育保险待遇",
    "marriage": "在本县办理婚姻登记",
    "vaccination": "子女在本县预防接种（流动人口）",
    "school": "子女在本县就读（流动人口）",
}


def query_id(county: str, finding_id: str) -> str:
    """协查编号: stable for a case, unique for the sending county."""
    return f"XC{county}-{finding_id.removeprefix('F')}"


def file_name(from_county: str, to_county: str, cycle: str) -> str:
    return f"协查_{from_county}_{to_county}_{cycle}.csv"


@dataclass(frozen=True)
class QueryFile:
    to_county: str
    path: Path
    queries: int  # every query of the cycle to that county
    new: int  # of them, sent by this export
    sha256: str


@dataclass
class QueryExport:
    sent_on: dt.date
    cycle: str
    files: list[QueryFile] = field(default_factory=list)
    #: open queries that cannot go yet: no county is known to send them to
    no_destination: int = 0
    #: whether the files went into AES zip packages (a key was set)
    encrypted: bool = False
    #: queries sent again on request
    resent: int = 0

    @property
    def new(self) -> int:
        return sum(f.new for f in self.files)


def _queried(store: Store) -> str:
    """SQL: every query finding with the columns of its person as a query file carries them
    (the record's person, its address as delivered)."""
    return f"""
        WITH raw AS ({delivered_addresses(store)})
        SELECT f.finding_id, f.status, f.source, f.destination,
               json_extract_string(f.evidence, '$.query_type') AS query_type,
               -- a guardian known by an ID alone: sex and birth date as the ID says
               p.name, coalesce(p.sex, p.id_sex) AS sex,
               coalesce(p.id_number, p.id_raw) AS id_number,
               CAST(coalesce(p.birth_date, p.id_birth_date) AS VARCHAR) AS birth_date,
               NULL AS hukou_address,
               a.address AS current_address, CAST(p.event_date AS VARCHAR) AS event_date
        FROM {tables.FINDINGS} f
        JOIN {tables.PERSON_TABLE} p ON p.source = f.source AND p.record_id = f.source_record_id
                                    AND p.role = f.role
        LEFT JOIN raw a ON a.source = f.source AND a.record_id = f.source_record_id
        WHERE f.finding_type = '{KIND}'"""


def _new_queries(store: Store, sent_on: dt.date) -> pl.DataFrame:
    """Open queries with a destination never sent, with the person's columns."""
    cfg, county = store.settings.exchange, store.settings.county_code
    frame = store.frame(f"""
        SELECT finding_id, source, destination AS to_county, query_type, name, sex, id_number,
               birth_date, hukou_address, current_address, event_date
        FROM ({_queried(store)})
        WHERE status = 'open' AND destination IS NOT NULL
          AND finding_id NOT IN (SELECT finding_id FROM {tables.EXCHANGE_QUERIES})
        ORDER BY destination, finding_id
    """)
    if frame.is_empty():
        return frame
    dues = [due(sent_on, t or "", ORDINARY, cfg) for t in frame["query_type"]]
    return frame.with_columns(
        pl.Series("query_id", [query_id(county, f) for f in frame["finding_id"]]),
        pl.lit(county).alias("from_county"),
        pl.lit(ORDINARY).alias("urgency"),
        pl.lit(sent_on).alias("sent_on"),
        pl.Series("due_on", [d for d, _ in dues], dtype=pl.Date),
        pl.Series("due_days", [lim.days for _, lim in dues], dtype=pl.Int32),
        pl.Series("due_unit", [lim.unit for _, lim in dues]),
        pl.lit(cycle_of(sent_on, cfg.submit_day)).alias("cycle"),
    )


def _sent_rows(store: Store, where: str, params: list[object]) -> pl.DataFrame:
    """Queries sent by earlier exports (``where`` on ``q``, the sent queries), as file rows."""
    return store.frame(
        f"""
        SELECT q.query_id, q.from_county, q.to_county, q.query_type, q.urgency, q.sent_on,
               q.due_on, x.name, x.sex, x.id_number, x.birth_date, x.hukou_address,
               x.current_address, x.event_date, x.source
        FROM {tables.EXCHANGE_QUERIES} q JOIN ({_queried(store)}) x USING (finding_id)
        WHERE {where}
        ORDER BY q.query_id
        """,
        params,
    )


def export_queries(
    store: Store,
    out_dir: Path,
    *,
    operator: str,
    sent_on: dt.date | None = None,
    resend: list[str] | None = None,
) -> QueryExport:
    """Write the query files of every open query not yet sent, and of the queries named in
    ``resend`` (sent before; a county asked for them again); record and audit them.

    Raises:
        RenkouError: a query to resend was never sent.
    """
    tables.ensure(store.con, "exchange")
    sent_on = sent_on or dt.date.today()
    cfg = store.settings.exchange
    report = QueryExport(sent_on, cycle_of(sent_on, cfg.submit_day))
    report.no_destination = int(
        store.scalar(
            f"SELECT count(*) FROM {tables.FINDINGS} WHERE finding_type = '{KIND}' "
            "AND status = 'open' AND destination IS NULL"
        )
    )
    new = _new_queries(store, sent_on)
    again = _resent(store, resend or [])
    report.resent = again.height
    if new.is_empty() and again.is_empty():
        return report
    out_dir.mkdir(parents=True, exist_ok=True)
    county = store.settings.county_code
    files: dict[Path, pl.DataFrame] = {}
    counts: dict[Path, tuple[str, int]] = {}
    sent_to = {str(c) for c in new["to_county"]} | {str(c) for c in again["to_county"]}
    for to_county in sorted(sent_to):
        part = new.filter(pl.col("to_county") == to_county)
        earlier = _sent_rows(store, "q.cycle = ? AND q.to_county = ?", [report.cycle, to_county])
        asked = again.filter(
            (pl.col("to_county") == to_county) & ~pl.col("query_id").is_in(earlier["query_id"])
        )
        parts = [earlier, asked] + ([part.select(earlier.columns)] if part.height else [])
        rows = pl.concat(parts, how="vertical_relaxed")
        rows = rows.with_columns(
            (
                pl.col("source").replace_strict(REASONS, default="本县部门记录")
                + "，本县人口库及公安户籍均无此人，请核实户籍及现状"
            ).alias("reason")
        ).select(list(QUERY_HEADERS))
        path = out_dir / file_name(county, str(to_county), report.cycle)
        files[path] = rows.rename(QUERY_HEADERS)
        counts[path] = (str(to_county), part.height)
    key = exchange_key(store.home)
    report.encrypted = key is not None
    final = {path: path.with_suffix(".zip") if key else path for path in files}
    by_county = {to: final[path].name for path, (to, _) in counts.items()}
    hashes = write_all_or_nothing(
        files, lambda _: _record(store, new, again, sent_on, by_county, operator), key
    )
    report.files = [
        QueryFile(to, final[path], files[path].height, n, hashes[final[path]])
        for path, (to, n) in counts.items()
    ]
    AuditLog.for_home(store.home).append(
        "exchange.export",
        details={
            "sent_on": sent_on.isoformat(),
            "cycle": report.cycle,
            "queries": report.new,
            "resent": report.resent,
            "files": [
                {"file": f.path.name, "sha256": f.sha256, "to_county": f.to_county, "new": f.new}
                for f in report.files
            ],
        },
    )
    log.info("exchange export: %d queries in %d files", report.new, len(report.files))
    return report


def _resent(store: Store, ids: list[str]) -> pl.DataFrame:
    """The file rows of the queries to send again; every id must name a query sent."""
    if not ids:
        return _sent_rows(store, "false", [])
    rows = _sent_rows(store, "list_contains(?, q.query_id)", [sorted(set(ids))])
    unknown = sorted(set(ids) - set(rows["query_id"]))
    if unknown:
        raise RenkouError(
            f"{len(unknown)} 协查编号 to resend were never sent by this county (first: "
            f"{unknown[0]}). Fix: give the 协查编号 as written in the query file sent"
        )
    return rows


def _record(
    store: Store,
    new: pl.DataFrame,
    again: pl.DataFrame,
    sent_on: dt.date,
    by_file: dict[str, str],
    operator: str,
) -> None:
    with store.transaction():
        if again.height:
            store.con.execute(
                f"UPDATE {tables.EXCHANGE_QUERIES} SET resent_on = ? "
                "WHERE list_contains(?, query_id)",
                [sent_on, again["query_id"].to_list()],
            )
        if new.height:
            _record_new(store, new, by_file, operator)


def _record_new(store: Store, new: pl.DataFrame, by_file: dict[str, str], operator: str) -> None:
    rows = new.select(
        "query_id",
        "finding_id",
        "from_county",
        "to_county",
        "query_type",
        "urgency",
        "cycle",
        "sent_on",
        "due_on",
        "due_days",
        "due_unit",
        pl.col("to_county").replace_strict(by_file).alias("file"),
        pl.lit(operator).alias("operator"),
        pl.lit(dt.datetime.now()).alias("exported_at"),
        pl.lit("sent").alias("status"),
    )
    store.append(tables.EXCHANGE_QUERIES, rows)
    set_status(store, rows["finding_id"].to_list(), "sent", note="sent as a 协查 query")


def query_status(store: Store, as_of: dt.date) -> pl.DataFrame:
    """Per cycle and county asked: sent, answered (in time: by the 反馈期限), overdue (no
    answer past it), waiting, and the feedback rate: answers received by the cycle's answer
    day (the 27th; ``as_of`` while that is still ahead) over queries sent."""
    tables.ensure(store.con, "exchange")
    cfg = store.settings.exchange
    frame = store.frame(
        f"""
        SELECT cycle, to_county, count(*) AS sent,
               count(*) FILTER (WHERE answered_on IS NOT NULL) AS answered,
               count(*) FILTER (WHERE answered_on <= due_on) AS in_time,
               count(*) FILTER (WHERE answered_on IS NULL AND due_on < $as_of) AS overdue,
               count(*) FILTER (WHERE answered_on IS NULL AND due_on >= $as_of) AS waiting,
               count(*) FILTER (WHERE answered_on <= least($as_of, make_date(
                   CAST(substr(cycle, 1, 4) AS INTEGER), CAST(substr(cycle, 5, 2) AS INTEGER),
                   $answer_day))) AS by_answer_day
        FROM {tables.EXCHANGE_QUERIES} GROUP BY ALL ORDER BY cycle, to_county
        """,
        {"as_of": as_of, "answer_day": cfg.answer_day},
    )
    return frame.with_columns(
        (pl.col("by_answer_day") / pl.col("sent")).alias("feedback_rate"),
    ).with_columns((pl.col("feedback_rate") >= cfg.target_rate).alias("meets_target"))
