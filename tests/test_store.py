"""The store: transactions are all or nothing, and what they commit can be read back."""

from __future__ import annotations

import polars as pl
import pytest

from linkage.store import Store


def test_rows_committed_in_a_transaction_are_readable(store: Store) -> None:
    # the ingest pattern: stage a frame, insert it into an existing table in a transaction.
    # DuckDB 2.0.0 then returned no rows from a scan (count(*) said 300,000) until a CHECKPOINT
    frame = pl.DataFrame({"k": [str(i) for i in range(300_000)]})
    with store.transaction():
        store.con.register("tmp_frame", frame)
        store.con.execute("CREATE TEMP TABLE stage AS SELECT *, md5(k) AS h FROM tmp_frame")
        store.con.unregister("tmp_frame")
        store.con.execute("CREATE TABLE big AS SELECT * FROM stage LIMIT 0")
        store.con.execute(
            "INSERT INTO big BY NAME SELECT * FROM stage s "
            "WHERE NOT EXISTS (SELECT 1 FROM big t WHERE t.k = s.k)"
        )
        store.con.execute("DROP TABLE stage")
    assert store.scalar("SELECT count(*) FROM big") == 300_000
    assert store.table("big").height == 300_000


def test_a_failed_transaction_leaves_nothing(store: Store) -> None:
    store.append("t", pl.DataFrame({"a": [1]}))
    with pytest.raises(RuntimeError), store.transaction():
        store.append("t", pl.DataFrame({"a": [2]}))
        store.append("u", pl.DataFrame({"a": [3]}))
        raise RuntimeError("stage failed")
    assert store.table("t")["a"].to_list() == [1]
    assert not store.has_table("u")


def test_an_append_adds_the_columns_a_newer_release_introduced(store: Store) -> None:
    # a home written before person records carried 户口性质
    store.append("person_records", pl.DataFrame({"record_id": ["P1"], "sex": ["男"]}))
    store.append(
        "person_records", pl.DataFrame({"record_id": ["P2"], "sex": ["女"], "hukou_type": ["居民"]})
    )
    rows = store.frame("SELECT record_id, hukou_type FROM person_records ORDER BY record_id")
    assert rows.rows() == [("P1", None), ("P2", "居民")]
