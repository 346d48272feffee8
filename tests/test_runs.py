"""The run record and the rollback point (``linkage.runs``), without Prefect.

Stages here are plain functions writing to a small database; the nightly flow's own tests
(``test_flows.py``) run the real stages.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage.errors import FileProblem
from linkage.run_summary import describe, markdown
from linkage.runs import (
    MARKER,
    Night,
    RunInProgress,
    StageFailed,
    as_failure,
    reported,
    run_summary,
)
from linkage.store import DB_FILE, Store

PERSONAL = "王小明 43312719900101123X"


def _home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    with Store(home) as store:
        store.replace_table("links", pl.DataFrame({"record": ["a", "b"], "person": ["1", "2"]}))
    (home / "models" / "death").mkdir(parents=True)
    (home / "models" / "death" / "v0001.json").write_text("{}")
    return home


def _write(home: Path, rows: int = 3) -> dict[str, int]:
    """A stage: replaces ``links`` and adds a table, as a night would."""
    with Store(home) as store:
        store.replace_table(
            "links", pl.DataFrame({"record": list("xyz"[:rows]), "person": ["9"] * rows})
        )
        store.replace_table("extra", pl.DataFrame({"n": [1]}))
    return {"rows": rows}


def _state(home: Path) -> dict[str, object]:
    with Store(home) as store:
        tables = sorted(
            r[0]
            for r in store.frame("SELECT table_name FROM information_schema.tables").iter_rows()
        )
        links = store.table("links")
    models = sorted(p.name for p in (home / "models").rglob("*.json"))
    return {
        "tables": [t for t in tables if t not in ("runs", "run_stages")],
        "links": links,
        "models": models,
    }


def _runs(home: Path) -> pl.DataFrame:
    with Store(home) as store:
        return store.frame(
            "SELECT run_id, status, failed_stage, error_class, error_message, "
            "restored FROM runs ORDER BY started_at, run_id"
        )


def _boom(home: Path) -> None:
    _write(home)
    (home / "models" / "death" / "v0002.json").write_text("{}")  # trained by this run
    raise RuntimeError(PERSONAL)


def test_night_records_the_run_and_keeps_one_snapshot(tmp_path: Path) -> None:
    home = _home(tmp_path)
    ids = []
    for _ in range(2):
        with Night(home, inbox=tmp_path / "inbox") as night:
            night.run("ingest", _write, home)
            night.commit()
        ids.append(night.run_id)
    assert not (home / MARKER).exists()
    assert sorted(p.name for p in home.glob(f"{DB_FILE}.before-*")) == [
        f"{DB_FILE}.before-{ids[1]}"
    ]
    runs = _runs(home)
    assert runs["status"].to_list() == ["succeeded", "succeeded"]
    with Store(home) as store:
        summary = run_summary(store)
    assert summary is not None and summary["run_id"] == ids[1]
    assert summary["stages"]["ingest"] == {"rows": 3}
    assert [t["stage"] for t in summary["timings"]] == ["snapshot", "ingest"]


def test_failed_stage_restores_database_and_models(tmp_path: Path) -> None:
    home = _home(tmp_path)
    before = _state(home)
    with pytest.raises(StageFailed) as caught, Night(home, inbox="inbox") as night:
        night.run("link", _boom, home)
    failure = caught.value
    assert (failure.stage, failure.error_class) == ("link", "RuntimeError")
    assert "王小明" not in str(failure) and "43312719900101123X" not in str(failure)
    after = _state(home)
    assert after["tables"] == before["tables"] and after["models"] == before["models"]
    assert_frame_equal(after["links"], before["links"])
    runs = _runs(home)
    assert runs.row(0, named=True) == {
        "run_id": night.run_id,
        "status": "failed",
        "failed_stage": "link",
        "error_class": "RuntimeError",
        "error_message": "message withheld (it may quote record values)",
        "restored": True,
    }
    trace = Path(failure.trace_file or "")
    assert PERSONAL in trace.read_text("utf-8")  # the full story, beside the database only
    assert trace.stat().st_mode & 0o777 == 0o600
    assert not (home / MARKER).exists()


def test_killed_run_is_restored_by_the_next_run(tmp_path: Path) -> None:
    home = _home(tmp_path)
    before = _state(home)
    dead = Night(home, inbox="inbox").__enter__()
    _write(home)
    (home / "models" / "death" / "v0002.json").write_text("{}")
    dead._unlock()  # what the OS does when the process is killed: no __exit__, no cleanup
    assert (home / MARKER).exists()

    with Night(home, inbox="inbox") as night:
        assert night.recovered == dead.run_id
        assert _state(home)["models"] == before["models"]
        assert_frame_equal(_state(home)["links"], before["links"])
        night.commit()
    runs = _runs(home)
    assert runs["status"].to_list() == ["interrupted", "succeeded"]
    assert runs["restored"].to_list() == [True, False]


def test_a_failure_after_commit_keeps_the_night(tmp_path: Path) -> None:
    home = _home(tmp_path)
    with Night(home, inbox="inbox") as night:
        night.run("findings", _write, home)
        night.commit()
        assert night.run("report", _boom, home, optional=True) is None
    assert night.status == "partial" and not night.restored
    assert _state(home)["links"]["record"].to_list() == ["x", "y", "z"]
    assert _runs(home)["failed_stage"].to_list() == ["report"]


def test_one_run_at_a_time(tmp_path: Path) -> None:
    home = _home(tmp_path)
    with Night(home, inbox="inbox") as first:
        with pytest.raises(RunInProgress, match=first.run_id):
            Night(home, inbox="inbox").__enter__()
        first.commit()


def test_reported_messages_carry_no_record_values(tmp_path: Path) -> None:
    def fail(err: Exception) -> StageFailed:
        with pytest.raises(StageFailed) as caught, reported("ingest", tmp_path, "r1"):
            raise err
        return caught.value

    withheld = fail(duckdb.ConversionException(f"Could not convert string '{PERSONAL}'"))
    assert PERSONAL not in str(withheld) and not withheld.transient
    locked = fail(duckdb.IOException("Could not set lock on file renkou.duckdb"))
    assert locked.transient and "Could not set lock" in locked.detail
    own = fail(FileProblem("死亡.csv", "missing required column(s) 姓名", "add it"))
    assert own.detail == "死亡.csv: missing required column(s) 姓名. Fix: add it"
    noted = ValueError(PERSONAL)
    noted.add_note("while loading death/死亡医学证明_2.csv")
    assert fail(noted).detail.endswith("; while loading death/死亡医学证明_2.csv")
    assert not fail(FileNotFoundError(2, "No such file", "x.csv")).transient
    copy = pickle.loads(pickle.dumps(locked))
    assert (copy.stage, copy.transient, str(copy)) == ("ingest", True, str(locked))
    assert as_failure("x", locked, tmp_path, None) is locked


def test_summary_reads_as_counts_per_township(tmp_path: Path) -> None:
    summary = {
        "run_id": "20261101T020000-ab12",
        "status": "failed",
        "seconds": 12.5,
        "recovered": None,
        "restored": True,
        "timings": [
            {"stage": "ingest", "status": "ok", "seconds": 1.0},
            {"stage": "link", "status": "failed", "seconds": 2.0},
        ],
        "stages": {
            "ingest": {
                "files": 2,
                "files_loaded": 1,
                "files_rejected": 1,
                "files_already_loaded": 0,
                "rows_in": 10,
                "rows_loaded": 9,
                "rows_updated": 0,
                "rows_unchanged": 0,
                "rows_quarantined": 1,
                "rejected": [
                    {
                        "source": "death",
                        "file": "坏.csv",
                        "message": "missing required column(s) 姓名",
                    }
                ],
                "problems": [],
            },
            "findings": {
                "merge": {"new": 2},
                "open": 3,
                "by_type_township": [
                    ["suspected_death", "灵溪镇", 2],
                    ["moved_out", "（未知乡镇）", 1],
                ],
            },
        },
        "outputs": {"database": str(tmp_path / DB_FILE)},
        "failure": {
            "stage": "link",
            "error_class": "IOException",
            "message": "locked",
            "others": [],
        },
    }
    text = describe(summary)
    assert "run 20261101T020000-ab12: failed in 12.5 s" in text
    assert "death/坏.csv: missing required column(s) 姓名" in text
    assert "stage link: IOException: locked. The database was restored" in text
    assert [line.split() for line in text.splitlines() if "灵溪镇" in line] == [
        ["灵溪镇", "0", "2"]
    ]
    md = markdown(summary)
    assert "| 灵溪镇 | 0 | 2 |" in md and "| （未知乡镇） | 1 | 0 |" in md
    json.dumps(summary)  # what the runs table stores


def test_restore_removes_a_dead_runs_log(tmp_path: Path) -> None:
    """A WAL left by the killed run must not be replayed onto the snapshot."""
    home = _home(tmp_path)
    dead = Night(home, inbox="inbox").__enter__()
    dead._unlock()
    wal = home / f"{DB_FILE}.wal"
    wal.write_bytes(b"not a log of this database")
    with Night(home, inbox="inbox") as night:
        assert night.recovered == dead.run_id
        night.commit()
    assert not wal.exists() or wal.read_bytes() != b"not a log of this database"
    assert _state(home)["links"]["record"].to_list() == ["a", "b"]


def test_a_snapshot_that_cannot_be_taken_stops_the_run_before_it_changes_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import linkage.runs

    home = _home(tmp_path)

    def full_disk(home: Path, run_id: str) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(linkage.runs, "take_snapshot", full_disk)
    with pytest.raises(StageFailed, match="stage 'snapshot' failed: OSError: No space left"):
        Night(home, inbox="inbox").__enter__()
    assert _runs(home)["status"].to_list() == ["failed"]
    assert not (home / MARKER).exists()
    monkeypatch.undo()
    with Night(home, inbox="inbox") as night:  # the lock was released
        night.commit()
