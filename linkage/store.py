"""The only module that opens the DuckDB file. Everything else takes a ``Store``.

``Store`` wraps one explicit DuckDB connection (never duckdb's module-level default), creates
the schema on first use, and offers a transaction context so that a failed stage leaves the
database as it was.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from linkage import tables
from linkage.settings import Settings, load_settings

log = logging.getLogger(__name__)

DB_FILE = "renkou.duckdb"


class Store:
    """A renkou home directory: the DuckDB file and everything renkou writes."""

    def __init__(self, home: Path | str, *, read_only: bool = False) -> None:
        self.home = Path(home)
        self.home.mkdir(parents=True, exist_ok=True)
        self.path = self.home / DB_FILE
        self.con = duckdb.connect(str(self.path), read_only=read_only)
        self.con.execute("SET enable_progress_bar = false")  # nightly logs: no terminal bars
        if not read_only:
            tables.ensure(self.con, "ingest")

    @property
    def settings(self) -> Settings:
        """The home's settings (package defaults, HOME/config, $RENKOU_CONFIG)."""
        return load_settings(self.home)

    # ------------------------------------------------------------------ basics
    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: on any exception the database is rolled back.

        A CHECKPOINT follows every commit. DuckDB 2.0.0 returns *no rows* from a scan of a
        table that a committed transaction filled with more than about 120,000 rows until
        the next checkpoint (``count(*)`` is right, ``SELECT *`` is empty; tests/test_store.py
        reproduces it). The checkpoint also makes the night durable on disk.
        """
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")
        self.con.execute("CHECKPOINT")

    def has_table(self, name: str) -> bool:
        return bool(
            self.scalar(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]
            )
        )

    def drop(self, name: str) -> None:
        """Drop the table or view ``name`` if there is one (DuckDB's ``DROP TABLE IF EXISTS``
        fails on a view)."""
        kind = self.scalar(
            "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [name]
        )
        if kind is not None:
            self.con.execute(f'DROP {"VIEW" if kind == "VIEW" else "TABLE"} "{name}"')

    def frame(
        self, sql: str, params: Sequence[object] | Mapping[str, object] | None = None
    ) -> pl.DataFrame:
        """Run a query and return a polars frame (arrow, no pandas).

        ``con.sql`` rather than ``con.execute(...).fetch*``: on DuckDB 2 the latter leaves a
        pending result that breaks the next query Splink runs on the same connection.
        """
        return self.con.sql(sql, params=params or None).pl()

    def scalar(self, sql: str, params: Sequence[object] | None = None) -> Any:
        """The first value of the first row of a query (None when there is no row).

        ``Any`` as in DuckDB's own ``fetchall``: the Python type follows the SQL type of the
        query, which the caller knows and the type checker does not.
        """
        rows = self.con.sql(sql, params=params or None).fetchall()
        return rows[0][0] if rows else None

    def rows_by_ids(
        self, table: str, key: str, ids: set[str], columns: str = "*", where: str = ""
    ) -> dict[str, dict[str, Any]]:
        """Rows of ``table`` whose ``key`` is one of ``ids``, by that key (``where`` adds SQL
        conditions, starting with AND). ``table``, ``key``, ``columns`` come from code."""
        if not ids or not self.has_table(table):
            return {}
        frame = pl.DataFrame({"id": sorted(ids)}, schema={"id": pl.String})
        self.con.register("tmp_renkou_ids", frame)
        try:
            rows = self.frame(
                f'SELECT {columns} FROM "{table}" WHERE "{key}" IN '
                f"(SELECT id FROM tmp_renkou_ids) {where}"
            )
        finally:
            self.con.unregister("tmp_renkou_ids")
        return {str(r[key]): r for r in rows.iter_rows(named=True)}

    def table(self, name: str) -> pl.DataFrame:
        return self.frame(f'SELECT * FROM "{name}"')

    def replace_table(self, name: str, frame: pl.DataFrame) -> None:
        """Create or replace table ``name`` with the content of ``frame``."""
        self.con.register("__renkou_frame", frame)
        try:
            self.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM __renkou_frame')
        finally:
            self.con.unregister("__renkou_frame")

    def append(self, name: str, frame: pl.DataFrame) -> None:
        """Append ``frame`` to ``name`` (created on first append), matching columns by name; a
        column the table lacks (one a newer release added) is added to it first."""
        if frame.is_empty() and self.has_table(name):
            return
        self.con.register("__renkou_frame", frame)
        try:
            if self.has_table(name):
                have = {row[0] for row in self.con.execute(f'DESCRIBE "{name}"').fetchall()}
                for column, kind, *_ in self.con.execute("DESCRIBE __renkou_frame").fetchall():
                    if column not in have:
                        self.con.execute(f'ALTER TABLE "{name}" ADD COLUMN "{column}" {kind}')
                self.con.execute(f'INSERT INTO "{name}" BY NAME SELECT * FROM __renkou_frame')
            else:
                self.con.execute(f'CREATE TABLE "{name}" AS SELECT * FROM __renkou_frame')
        finally:
            self.con.unregister("__renkou_frame")

    def next_load_id(self) -> int:
        return int(self.scalar("SELECT nextval('load_id_seq')"))
