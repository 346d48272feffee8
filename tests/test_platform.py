"""What the locked platform must do for renkou, checked so that `make lock` cannot move it away
silently. DuckDB stays on the 1.4 LTS line because there an encrypted database file can be
written offline, with the httpfs extension shipped by the duckdb-ext-httpfs package (2.0.x
fetches httpfs at run time, which fails in a county office without internet)."""

from __future__ import annotations

from importlib import util
from pathlib import Path

import duckdb
import pytest


def _httpfs() -> Path:
    spec = util.find_spec("duckdb_ext")
    assert spec is not None and spec.submodule_search_locations, "duckdb-ext-httpfs missing"
    folder = Path(next(iter(spec.submodule_search_locations)))
    (path,) = folder.rglob(f"v{duckdb.__version__}/*/httpfs.duckdb_extension")
    return path


def test_the_locked_duckdb_writes_an_encrypted_file_offline(tmp_path: Path) -> None:
    db, key = tmp_path / "county.duckdb", "a-key-from-the-environment"
    con = duckdb.connect()
    con.execute(f"LOAD '{_httpfs()}'")  # from the package: nothing is downloaded
    con.execute(f"ATTACH '{db}' AS county (ENCRYPTION_KEY '{key}')")
    con.execute("CREATE TABLE county.people AS SELECT '张三丰' AS name, '433127' AS code")
    con.execute("DETACH county")
    con.close()
    data = db.read_bytes()
    assert "张三丰".encode() not in data and b"433127" not in data

    other = duckdb.connect()
    with pytest.raises(duckdb.Error, match="(?i)without a key"):
        other.execute(f"ATTACH '{db}' AS county")
    other.execute(f"LOAD '{_httpfs()}'")
    other.execute(f"ATTACH '{db}' AS again (ENCRYPTION_KEY '{key}')")
    assert other.sql("SELECT name FROM again.people").fetchall() == [("张三丰",)]
