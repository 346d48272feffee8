"""Record history: a source row replaced by a corrected delivery is kept, never overwritten.

``linkage.ingest.load`` keeps one current row per record in ``src_<source>`` (the later
delivery wins). Just before it replaces rows, :func:`keep_superseded` appends each row about
to be replaced to ``record_versions``, in the ingest's transaction and in one
``INSERT … SELECT``: the record, the delivery that brought that version (``load_id``, file,
spreadsheet row, row hash), ``valid_from`` (when that delivery was loaded), ``valid_to`` and
``superseded_by_load`` (the delivery that replaced it), and the row's columns as JSON
(``content``: typed values and the delivered ``__raw`` text). A record delivered again
unchanged (same row hash) adds no version. The current version stays in ``src_<source>``;
``person_records`` are derived from it and need no history of their own.

:func:`versions` returns every version of one record, oldest first, with what changed from
the one before: it serves ``renkou records versions`` (an admin's terminal). Its values are
personal data: they are returned, never logged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import duckdb

from data_contracts import CONTRACTS
from linkage.errors import RenkouError
from linkage.store import Store
from linkage.tables import LOAD_LEDGER, RECORD_VERSIONS, source_table

#: the suffix of a typed column's delivered text (``linkage.ingest.load.type_columns``)
RAW = "__raw"


def keep_superseded(
    con: duckdb.DuckDBPyConnection,
    source: str,
    key: str,
    stage: str,
    columns: list[str],
) -> None:
    """Append to ``record_versions`` every row of ``src_<source>`` that a row of ``stage``
    (same ``key``, another ``_row_hash``) is about to replace.

    ``columns`` are the data columns kept in ``content``. ``valid_to`` is the transaction's
    ``current_timestamp``: the ``loaded_at`` the ledger row of the new delivery gets.
    """
    table = source_table(source)
    content = "to_json({" + ", ".join(f"'{c}': t.\"{c}\"" for c in columns) + "})"
    con.execute(
        f"""
        INSERT INTO {RECORD_VERSIONS} BY NAME
        SELECT $source AS source, CAST(t."{key}" AS VARCHAR) AS record_id,
               t._load_id AS load_id, t._file AS file, t._row AS "row",
               t._row_hash AS row_hash, l.loaded_at AS valid_from,
               current_timestamp AS valid_to, s._load_id AS superseded_by_load,
               {content} AS content
        FROM "{table}" t
        JOIN {stage} s ON s."{key}" = t."{key}" AND s._row_hash <> t._row_hash
        LEFT JOIN {LOAD_LEDGER} l ON l.load_id = t._load_id
        """,
        {"source": source},
    )


@dataclass(frozen=True)
class Version:
    """One version of a record: when it held, which delivery brought it, its values, and
    what changed from the version before (field → (before, after); empty for the first)."""

    load_id: int
    file: str | None
    row: int | None
    valid_from: Any  # datetime, or None for a delivery the ledger does not know
    valid_to: Any  # datetime, None for the current version
    values: dict[str, Any]
    changed: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    #: the department withdrew the record (撤回) when this version ended
    withdrawn: bool = False

    @property
    def current(self) -> bool:
        return self.valid_to is None


def versions(store: Store, source: str, record_id: str) -> list[Version]:
    """Every kept version of one record, oldest first, the current one (from
    ``src_<source>``) last. An empty list when the source has no such record.

    Raises:
        RenkouError: ``source`` has never been loaded.
    """
    table = source_table(source)
    if source not in CONTRACTS or not store.has_table(table):
        loaded = [s for s in CONTRACTS if store.has_table(source_table(s))]
        raise RenkouError(
            f"no source {source!r} loaded in {store.home}. Fix: name one of "
            f"{', '.join(loaded) or '(none loaded yet: run a night first)'}"
        )
    from linkage.ingest.load import META  # load imports this module

    key = CONTRACTS[source].record_key
    columns = [
        c for (c,) in store.con.sql(f'SELECT column_name FROM (DESCRIBE "{table}")').fetchall()
    ]
    data = [c for c in columns if c not in META]
    content = "to_json({" + ", ".join(f"'{c}': t.\"{c}\"" for c in data) + "})"
    rows = store.con.sql(
        f"""
        SELECT load_id, file, "row", valid_from, valid_to, CAST(content AS VARCHAR),
               coalesce(withdrawn, false), 0 AS current
        FROM {RECORD_VERSIONS} WHERE source = $source AND record_id = $id
        UNION ALL
        SELECT t._load_id, t._file, t._row, l.loaded_at, NULL, {content}, false, 1
        FROM "{table}" t LEFT JOIN {LOAD_LEDGER} l ON l.load_id = t._load_id
        WHERE CAST(t."{key}" AS VARCHAR) = $id
        ORDER BY current, valid_to, load_id
        """,
        params={"source": source, "id": record_id},
    ).fetchall()
    out: list[Version] = []
    for load_id, file, row, valid_from, valid_to, text, withdrawn, _ in rows:
        values = json.loads(text)
        changed = _changes(out[-1].values, values) if out else {}
        out.append(
            Version(load_id, file, row, valid_from, valid_to, values, changed, bool(withdrawn))
        )
    return out


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Fields whose value differs; a delivered text (``x__raw``) only when its typed column
    ``x`` did not change (a new spelling of the same date)."""
    differ = {
        k: (before.get(k), after.get(k))
        for k in dict.fromkeys([*before, *after])
        if before.get(k) != after.get(k)
    }
    return {
        k: v for k, v in differ.items() if not (k.endswith(RAW) and k.removesuffix(RAW) in differ)
    }
