"""Keep originals (issue 16): a corrected re-delivery keeps the superseded row as a version,
an unchanged one adds none; every delivered file is archived read-only by its hash; an admin
sees a record's versions with ``renkou records versions``."""

from __future__ import annotations

import logging
import stat
import sys
from pathlib import Path

import pytest

from linkage.archive import archived_path, keep
from linkage.audit import file_sha256
from linkage.cli import main
from linkage.errors import FileProblem
from linkage.ingest.history import versions
from linkage.ingest.load import ingest_inbox
from linkage.store import Store
from tests.conftest import write_csv
from tests.headers import POP_HEADER
from tests.ingest.test_load import _id, _pop_rows


def _corrected() -> list[list[str]]:
    """The base again: P002's name and birth date corrected, the others as before."""
    rows = _pop_rows()
    rows[1][1], rows[1][4] = "单秀英", "1982-03-05"
    return rows


def _load(store: Store, inbox: Path) -> dict[str, tuple[int, int, int]]:
    report = ingest_inbox(store, inbox)
    return {f.file: (f.rows_loaded, f.rows_updated, f.rows_unchanged) for f in report.files}


def _ledger(store: Store) -> dict[str, tuple[int, object]]:
    rows = store.frame("SELECT file, load_id, loaded_at FROM load_ledger").rows()
    return {file: (load_id, loaded_at) for file, load_id, loaded_at in rows}


def test_a_correction_keeps_the_superseded_row_and_an_unchanged_delivery_adds_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    inbox = tmp_path / "inbox"
    write_csv(inbox / "population" / "a.csv", POP_HEADER, _pop_rows())
    with Store(tmp_path / "home") as store:
        assert _load(store, inbox) == {"a.csv": (3, 0, 0)}
        assert store.scalar("SELECT count(*) FROM record_versions") == 0
        write_csv(inbox / "population" / "b.csv", POP_HEADER, _corrected())
        assert _load(store, inbox)["b.csv"] == (0, 1, 2)
        ledger = _ledger(store)
        history = store.frame("""
            SELECT source, record_id, load_id, file, "row", valid_from, valid_to,
                   superseded_by_load, content->>'name' AS name,
                   content->>'birth_date' AS birth_date,
                   content->>'birth_date__raw' AS birth_raw
            FROM record_versions
        """).to_dicts()
        assert history == [
            {
                "source": "population",
                "record_id": "P002",
                "load_id": ledger["a.csv"][0],
                "file": "a.csv",
                "row": 3,
                "valid_from": ledger["a.csv"][1],
                "valid_to": ledger["b.csv"][1],
                "superseded_by_load": ledger["b.csv"][0],
                "name": "單秀英",
                "birth_date": "1982-03-04",
                "birth_raw": "1982年3月4日",
            }
        ]
        # the current row is the correction
        assert store.frame(
            "SELECT name, birth_date::VARCHAR AS b, _load_id FROM src_population "
            "WHERE person_id = 'P002'"
        ).rows() == [("单秀英", "1982-03-05", ledger["b.csv"][0])]

        # the same content again in other bytes (GB18030, rows reversed): no version
        write_csv(
            inbox / "population" / "c.csv",
            POP_HEADER,
            _corrected()[::-1],
            encoding="gb18030",
        )
        assert _load(store, inbox)["c.csv"] == (0, 0, 3)
        assert store.scalar("SELECT count(*) FROM record_versions") == 1

        # a second correction: the versions chain, each valid until the next was loaded
        again = _corrected()
        again[1][1] = "单秀瑛"
        write_csv(inbox / "population" / "d.csv", POP_HEADER, again)
        assert _load(store, inbox)["d.csv"] == (0, 1, 2)
        kept = versions(store, "population", "P002")
        ledger = _ledger(store)
    assert [v.load_id for v in kept] == [ledger[f][0] for f in ("a.csv", "b.csv", "d.csv")]
    assert [v.valid_from for v in kept] == [ledger[f][1] for f in ("a.csv", "b.csv", "d.csv")]
    assert [v.valid_to for v in kept] == [ledger["b.csv"][1], ledger["d.csv"][1], None]
    assert kept[0].changed == {}
    # the typed column's change is shown; its delivered text only beside it when alone
    assert kept[1].changed == {
        "name": ("單秀英", "单秀英"),
        "birth_date": ("1982-03-04", "1982-03-05"),
    }
    assert kept[2].changed == {"name": ("单秀英", "单秀瑛")}
    assert kept[2].current and not kept[1].current
    for secret in ("單秀英", "单秀英", "单秀瑛", _id("19820304", "022")):
        assert secret not in caplog.text


def test_every_delivered_file_is_archived_read_only_by_its_hash(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    good = write_csv(inbox / "population" / "a.csv", POP_HEADER, _pop_rows())
    bad = write_csv(inbox / "population" / "b.csv", ["姓名"], [["张三"]])  # rejected
    with Store(tmp_path / "home") as store:
        report = ingest_inbox(store, inbox)
        assert {f.file: f.status for f in report.files} == {"a.csv": "loaded", "b.csv": "rejected"}
        for path in (good, bad):
            digest = file_sha256(path)
            kept = archived_path(store, "inbox", digest)
            assert kept is not None and kept.name == f"{digest}.csv"
            assert kept.parent.parent == store.home / "archive" / "inbox"
            assert kept.read_bytes() == path.read_bytes()
            assert stat.S_IMODE(kept.stat().st_mode) == 0o400
            # the ledger row's hash finds it
            assert store.scalar(
                "SELECT count(*) FROM load_ledger WHERE file = ? AND file_hash = ?",
                [path.name, digest],
            )
        # the same bytes under another name: one copy
        (inbox / "population" / "copy.csv").write_bytes(good.read_bytes())
        write_csv(inbox / "population" / "b.csv", POP_HEADER, _corrected())
        ingest_inbox(store, inbox)
        assert len(list((store.home / "archive" / "inbox").glob("*/*"))) == 3
        assert store.scalar("SELECT count(*) FROM archived_files") == 3


def _renkou(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], *args: str
) -> tuple[int, str]:
    """``renkou ARGS…`` through the console entry point (a mistake exits 2 there)."""
    monkeypatch.setattr(sys, "argv", ["renkou", *args])
    capsys.readouterr()
    try:
        main()
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 0 if done.code is None else 1
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_renkou_records_versions_shows_every_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")
    inbox = tmp_path / "inbox"
    home = tmp_path / "home"
    write_csv(inbox / "population" / "a.csv", POP_HEADER, _pop_rows())
    with Store(home) as store:
        ingest_inbox(store, inbox)
        write_csv(inbox / "population" / "b.csv", POP_HEADER, _corrected())
        ingest_inbox(store, inbox)
        ledger = _ledger(store)
    code, out = _renkou(
        monkeypatch, capsys, "--home", str(home), "records", "versions", "population", "P002"
    )
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split() == ["version", "valid_from", "valid_to", "load", "file", "changed"]
    first, second = lines[1], lines[2]
    assert "a.csv" in first and "(first version kept)" in first
    assert str(ledger["b.csv"][1])[:19] in first  # valid until the correction
    assert "b.csv" in second and "(current)" in second
    assert "name: 單秀英 → 单秀英" in out
    assert "birth_date: 1982-03-04 → 1982-03-05" in out
    # an unknown record or source: one line with the fix, exit 2
    code, out = _renkou(
        monkeypatch, capsys, "--home", str(home), "records", "versions", "population", "P999"
    )
    assert code == 2 and "no record with that id" in out and "P999" not in out
    code, out = _renkou(
        monkeypatch, capsys, "--home", str(home), "records", "versions", "weather", "P002"
    )
    assert code == 2 and "Fix: name one of population" in out


def test_a_file_that_changed_while_it_was_copied_is_not_archived(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "a.csv"
    path.write_bytes(b"one")
    stale = file_sha256(path)
    path.write_bytes(b"two")
    with pytest.raises(FileProblem, match="changed while it was read"):
        keep(store, "inbox", path, stale)
    assert not [p for p in (store.home / "archive").rglob("*") if p.is_file()]
    assert archived_path(store, "inbox", stale) is None
    kept = keep(store, "inbox", path, file_sha256(path))
    assert kept.read_bytes() == b"two" and keep(store, "inbox", path, file_sha256(path)) == kept
