"""The only module that opens the DuckDB file. Everything else takes a ``Store``.

``Store`` wraps one explicit DuckDB connection (never duckdb's module-level default), creates
the schema on first use, and offers a transaction context so that a failed stage leaves the
database as it was.

With the office's database key (:mod:`linkage.keys`: ``$RENKOU_DB_KEY``, a key file) the file
is a DuckDB encrypted database (AES-GCM; its WAL, snapshots and spill files too): the store
attaches it with the key, through the httpfs extension shipped by the ``duckdb-ext-httpfs``
package (DuckDB writes encrypted files only with its OpenSSL; nothing is downloaded). Without
the key an encrypted database does not open, and the message says which key is missing.

The home is the owner's alone (0700); a store that closes records the audit log's head in the
database (:func:`linkage.audit.anchor`).
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from linkage import keys, tables
from linkage.errors import RenkouError
from linkage.settings import Settings, load_settings

log = logging.getLogger(__name__)

DB_FILE = "renkou.duckdb"
#: the name an encrypted database is attached under (and made the default catalog)
CATALOG = "renkou"


def httpfs_extension() -> Path:
    """The httpfs extension of the installed DuckDB, from the duckdb-ext-httpfs package."""
    from importlib import util

    spec = util.find_spec("duckdb_ext")
    folders = list(spec.submodule_search_locations or []) if spec else []
    found = [
        p
        for f in folders
        for p in Path(f).rglob(f"v{duckdb.__version__}/*/httpfs.duckdb_extension")
    ]
    if not found:
        raise RenkouError(
            f"the database is to be encrypted but the httpfs extension for DuckDB "
            f"{duckdb.__version__} is not installed. Fix: install renkou with its locked "
            "dependencies (duckdb-ext-httpfs of the same version)"
        )
    return found[0]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def connect(
    path: Path, *, read_only: bool = False, key: bytes | None = None
) -> duckdb.DuckDBPyConnection:
    """A connection to the database file ``path``: plain, or encrypted under ``key``.

    Raises:
        RenkouError: the file is encrypted and no key (or the wrong key) is given, or it is
            plain and a key is given. No message quotes the key.
    """
    if key is None:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.CatalogException as err:
            if "without a key" not in str(err):
                raise
            raise RenkouError(
                f"{path} is encrypted and no database key is set, so nothing was opened. "
                f"Fix: {keys.missing('db')}"
            ) from None
    con = duckdb.connect()
    try:
        con.execute(f"LOAD {_quoted(str(httpfs_extension()))}")
        options = f"ENCRYPTION_KEY {_quoted(key.decode('utf-8'))}" + (
            ", READ_ONLY" if read_only else ""
        )
        con.execute(f"ATTACH {_quoted(str(path))} AS {CATALOG} ({options})")
    except duckdb.IOException as err:
        con.close()
        if "Wrong encryption key" not in str(err):
            raise
        raise RenkouError(
            f"the database key does not open {path}. Fix: set the key this database was "
            "encrypted with (the office's key custody, docs/security.md)"
        ) from None
    except duckdb.CatalogException as err:
        con.close()
        if "is not encrypted" not in str(err):
            raise
        raise RenkouError(
            f"a database key is set but {path} is not encrypted. Fix: encrypt it once with "
            "`renkou db encrypt` (an admin), or unset the key"
        ) from None
    con.execute(f"USE {CATALOG}")
    con.execute(f"SET temp_directory = {_quoted(str(path.parent / '.tmp'))}")
    return con


class Store:
    """A renkou home directory: the DuckDB file and everything renkou writes."""

    def __init__(self, home: Path | str, *, read_only: bool = False) -> None:
        self.home = Path(home)
        private_home(self.home)
        self.path = self.home / DB_FILE
        owner_only(self.path)
        self.read_only = read_only
        self.con = connect(self.path, read_only=read_only, key=keys.key("db", self.home))
        self.con.execute("SET enable_progress_bar = false")  # nightly logs: no terminal bars
        self._out_of_core()
        if not read_only:
            tables.ensure(self.con, "ingest")

    def _out_of_core(self) -> None:
        """``[duckdb]`` memory_limit and temp_directory, when the settings set them: above
        the limit DuckDB spills joins, sorts and aggregates to the folder (docs/scale.md)."""
        settings = self.settings
        if settings.memory_limit:
            self.con.execute(f"SET memory_limit = {_quoted(settings.memory_limit)}")
        if settings.temp_directory:
            Path(settings.temp_directory).mkdir(mode=0o700, parents=True, exist_ok=True)
            self.con.execute(f"SET temp_directory = {_quoted(settings.temp_directory)}")

    @property
    def settings(self) -> Settings:
        """The home's settings (package defaults, HOME/config, $RENKOU_CONFIG)."""
        return load_settings(self.home)

    # ------------------------------------------------------------------ basics
    def close(self) -> None:
        """Record the audit head in the database (when writable), then close."""
        if not self.read_only:
            from linkage.audit import anchor

            try:
                anchor(self)
            except duckdb.Error as err:  # e.g. closing inside a failed transaction
                log.warning(
                    "the audit head was not recorded in the database: %s", type(err).__name__
                )
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


def private_home(home: Path) -> None:
    """Create ``home`` owner-only (0700), or make an existing one so when this account owns it.

    Files renkou creates are owner-only too: the command line sets the umask to 077."""
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    owner_only(home, 0o700)


def owner_only(path: Path, mode: int = 0o600) -> None:
    """``path`` to ``mode`` when this account owns it and others may read it (older homes)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    if info.st_uid == os.geteuid() and info.st_mode & 0o077:
        path.chmod(mode)


def encrypt_database(home: Path) -> int:
    """Rewrite ``home``'s plain database as an encrypted one under the office's key, and
    remove the plain snapshots. Returns how many plain copies were removed.

    Raises:
        RenkouError: no key is set, there is no database, or it is encrypted already.
    """
    key = keys.key("db", home)
    if key is None:
        raise RenkouError(f"no database key is set, so nothing was done. Fix: {keys.missing('db')}")
    plain = home / DB_FILE
    if not plain.is_file():
        raise RenkouError(f"no database in {home}. Fix: pass the right --home")
    staged = home / f"{DB_FILE}.encrypting"
    staged.unlink(missing_ok=True)
    con = duckdb.connect()
    try:
        con.execute(f"LOAD {_quoted(str(httpfs_extension()))}")
        try:
            con.execute(f"ATTACH {_quoted(str(plain))} AS plain (READ_ONLY)")
        except duckdb.CatalogException:
            raise RenkouError(f"{plain} is encrypted already. Fix: nothing to do") from None
        con.execute(
            f"ATTACH {_quoted(str(staged))} AS sealed "
            f"(ENCRYPTION_KEY {_quoted(key.decode('utf-8'))})"
        )
        con.execute("COPY FROM DATABASE plain TO sealed")
        con.execute("DETACH sealed")
        con.execute("DETACH plain")
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    finally:
        con.close()
    os.replace(staged, plain)
    Path(f"{plain}.wal").unlink(missing_ok=True)
    removed = 0
    for copy in home.glob(f"{DB_FILE}.before-*"):  # the snapshots of nights: plain too
        copy.unlink()
        removed += 1
    return removed
