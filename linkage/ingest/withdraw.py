"""Withdrawn records: a department takes back a record it delivered (docs/deliveries.md).

Two ways, both applied by ``linkage.ingest.load`` in the ingest's transaction:

- **the 撤回 flag** — any source file may carry one more column, ``撤回`` (or ``撤回标志``,
  ``删除标志``). A row whose flag is 是 / 1 / Y / yes / true / 撤回 / 删除 withdraws the record
  of its record id (记录编号; 人员编号 for the base): only the id must be filled, the row is
  neither validated nor loaded. A flagged row without an id is validated as any row (and so
  quarantined: its id is required);
- **a snapshot** — a source declared ``[delivery] snapshot = true`` delivers its whole
  register each time: a record of an earlier delivery absent from the new file (neither
  loaded nor quarantined in it) is withdrawn. Only when the inbox holds exactly one new file
  of that source: two files cannot both be the whole register, so then nothing is withdrawn
  and the ingest says so.

A snapshot that would withdraw more than ``[delivery] max_withdraw_share`` (default 20 %) of
the source's records is refused whole — probably a partial export — with the counts, until an
operator confirms that file (by its SHA-256) with ``renkou quarantine confirm-withdrawal
SOURCE FILE``; the next ingest then loads it.

A withdrawn record leaves ``src_<source>``: its row goes to ``record_versions`` first
(``withdrawn = true``, ``superseded_by_load`` = the withdrawing delivery), and a row to
``withdrawals`` (source, record id, delivery, how). The next person-record refresh drops it,
the link stage drops its decisions (the record is no longer present) and the next findings
merge closes its open findings with the note :data:`CLOSED_NOTE` (``linkage.casework``).
Record ids are personal data: nothing here logs one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import polars as pl

from data_contracts import Contract
from linkage.errors import RenkouError
from linkage.store import Store
from linkage.tables import (
    LOAD_LEDGER,
    RECORD_VERSIONS,
    WITHDRAWAL_CONFIRMATIONS,
    WITHDRAWALS,
    source_table,
)

#: the headers of the withdrawal flag, in the order they are looked for
FLAG_HEADERS = ("撤回", "撤回标志", "删除标志")
#: flag values that withdraw the row's record (compared case-insensitively, trimmed)
YES = frozenset({"是", "1", "y", "yes", "true", "撤回", "删除"})
#: the status note of a finding closed because its record was withdrawn
CLOSED_NOTE = "closed: 撤回 by the department (the record was withdrawn)"
#: internal column of the flag while a file is ingested
_FLAG = "_withdraw"
_STAGE = "tmp_renkou_withdraw"


def flags(raw: pl.DataFrame) -> pl.Series | None:
    """The withdrawal flag of each delivered row (before the headers are mapped), or None
    when the file has no flag column."""
    header = next((h for h in FLAG_HEADERS if h in raw.columns), None)
    if header is None:
        return None
    return (
        raw.select(
            pl.col(header)
            .cast(pl.String)
            .str.strip_chars(" \t\r\n\u3000")
            .str.to_lowercase()
            .is_in(list(YES))
            .fill_null(False)
            .alias(_FLAG)
        )
        .to_series()
        .rename(_FLAG)
    )


def split_flagged(
    frame: pl.DataFrame, flag: pl.Series | None, key: str
) -> tuple[pl.DataFrame, list[str]]:
    """``frame`` without its flagged rows that name a record id, and those ids (a flagged
    row without an id stays, to be quarantined)."""
    if flag is None or not flag.any():
        return frame, []
    marked = frame.with_columns(flag.alias(_FLAG))
    withdraw = pl.col(_FLAG) & pl.col(key).is_not_null()
    ids = marked.filter(withdraw)[key].cast(pl.String).unique(maintain_order=True).to_list()
    return marked.filter(~withdraw).drop(_FLAG), ids


@dataclass
class Plan:
    """What one delivery withdraws: record id → how (``flag``, ``snapshot``); ``refused``
    is the file's refusal message when a snapshot withdraws too much unconfirmed."""

    ids: dict[str, str] = field(default_factory=dict)
    refused: str = ""


def plan(
    store: Store,
    contract: type[Contract],
    flagged: list[str],
    present: pl.Series,
    *,
    snapshot: bool,
    digest: str,
    file: str,
) -> Plan:
    """The withdrawals of one delivery. ``present``: every record id the file delivers
    (loaded or quarantined); with ``snapshot`` every other record of the source is withdrawn
    — refused above the source's ``max_withdraw_share`` unless that file was confirmed."""
    source, key = contract.source, contract.record_key
    table = source_table(source)
    result = Plan(ids=dict.fromkeys(flagged, "flag"))
    if not snapshot or not store.has_table(table):
        return result
    con = store.con
    con.register("__renkou_present", present.cast(pl.String).rename("record_id").to_frame())
    try:
        absent = [
            r
            for (r,) in con.execute(
                f'SELECT CAST(t."{key}" AS VARCHAR) FROM "{table}" t '
                f'WHERE CAST(t."{key}" AS VARCHAR) NOT IN '
                "(SELECT record_id FROM __renkou_present WHERE record_id IS NOT NULL) "
                f"ORDER BY 1"
            ).fetchall()
        ]
    finally:
        con.unregister("__renkou_present")
    for record_id in absent:
        result.ids.setdefault(record_id, "snapshot")
    total = int(store.scalar(f'SELECT count(*) FROM "{table}"'))
    share = store.settings.source(source).max_withdraw_share
    if total and len(result.ids) > share * total and not confirmed(store, source, digest):
        result.refused = refusal(source, file, len(result.ids), total, share)
    return result


def refusal(source: str, file: str, withdraw: int, total: int, share: float) -> str:
    """The refusal of an over-share snapshot: the counts and the two ways out."""
    return (
        f"this delivery would withdraw {withdraw:,} of {total:,} records "
        f"({withdraw / total:.0%}) of {source} (a snapshot source: records absent from it are "
        f"withdrawn), more than the {share:.0%} allowed ([delivery] max_withdraw_share); "
        "nothing of it was loaded. Fix: if it is really the whole register, confirm with "
        f"`renkou quarantine confirm-withdrawal {source} {file}` and ingest again; "
        "otherwise ask the department for its whole register"
    )


def confirmed(store: Store, source: str, digest: str) -> bool:
    """An operator confirmed that delivery (by SHA-256) may withdraw what it withdraws."""
    if not store.has_table(WITHDRAWAL_CONFIRMATIONS):
        return False
    return bool(
        store.scalar(
            f"SELECT count(*) FROM {WITHDRAWAL_CONFIRMATIONS} "
            "WHERE source = ? AND delivery_hash = ?",
            [source, digest],
        )
    )


def apply(
    con: duckdb.DuckDBPyConnection,
    contract: type[Contract],
    withdrawals: Plan,
    *,
    load_id: int,
    file: str,
    data_columns: list[str],
) -> int:
    """Withdraw the planned records: each current row to ``record_versions`` (withdrawn),
    a ``withdrawals`` row, then out of ``src_<source>``. Returns how many records left (an id
    the source does not hold withdraws nothing)."""
    if not withdrawals.ids:
        return 0
    source, key = contract.source, contract.record_key
    table = source_table(source)
    stage = pl.DataFrame(
        {"record_id": list(withdrawals.ids), "how": list(withdrawals.ids.values())},
        schema={"record_id": pl.String, "how": pl.String},
    )
    con.register("__renkou_withdraw", stage)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {_STAGE} AS SELECT * FROM __renkou_withdraw")
    finally:
        con.unregister("__renkou_withdraw")
    match = f'CAST(t."{key}" AS VARCHAR) = w.record_id'
    content = "to_json({" + ", ".join(f"'{c}': t.\"{c}\"" for c in data_columns) + "})"
    params = {"source": source, "load": load_id}
    con.execute(
        f"""
        INSERT INTO {RECORD_VERSIONS} BY NAME
        SELECT $source AS source, w.record_id, t._load_id AS load_id, t._file AS file,
               t._row AS "row", t._row_hash AS row_hash, l.loaded_at AS valid_from,
               current_timestamp AS valid_to, $load AS superseded_by_load,
               {content} AS content, true AS withdrawn
        FROM "{table}" t JOIN {_STAGE} w ON {match}
        LEFT JOIN {LOAD_LEDGER} l ON l.load_id = t._load_id
        """,
        params,
    )
    con.execute(
        f"""
        INSERT INTO {WITHDRAWALS} (source, record_id, load_id, file, how)
        SELECT $source, w.record_id, $load, $file, w.how FROM {_STAGE} w
        WHERE EXISTS (SELECT 1 FROM "{table}" t WHERE {match})
        """,
        {**params, "file": file},
    )
    row = con.execute(
        f'DELETE FROM "{table}" t WHERE EXISTS (SELECT 1 FROM {_STAGE} w WHERE {match})'
    ).fetchone()
    con.execute(f"DROP TABLE {_STAGE}")
    return int(row[0]) if row else 0


@dataclass(frozen=True)
class Confirmation:
    source: str
    file: str
    delivery_hash: str
    records: int
    withdraw: int


def confirm(store: Store, source: str, file: str, *, operator: str) -> Confirmation:
    """Confirm the last refused over-share snapshot ``file`` of ``source`` (by the SHA-256
    the refusal recorded): the next ingest loads it and withdraws what it leaves out.

    Raises:
        RenkouError: no such refusal in the load ledger.
    """
    row = store.con.execute(
        f"""SELECT file_hash, message FROM {LOAD_LEDGER}
            WHERE source = ? AND file = ? AND status = 'rejected'
              AND message LIKE 'this delivery would withdraw %'
            ORDER BY load_id DESC LIMIT 1""",
        [source, file],
    ).fetchone()
    if row is None:
        raise RenkouError(
            f"no refused snapshot {source}/{file} in the load ledger. Fix: name the source and "
            "the file exactly as the refusal did (renkou quarantine status lists them)"
        )
    digest, message = str(row[0]), str(row[1])
    counts = [int(n.replace(",", "")) for n in message.split("withdraw ", 1)[1].split()[0:3:2]]
    withdraw, records = counts[0], counts[1]
    if not confirmed(store, source, digest):
        store.con.execute(
            f"""INSERT INTO {WITHDRAWAL_CONFIRMATIONS}
                (source, file, delivery_hash, records, withdraw, operator, confirmed_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [source, file, digest, records, withdraw, operator, dt.datetime.now()],
        )
    return Confirmation(source, file, digest, records, withdraw)
