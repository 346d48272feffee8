"""The run record, the rollback point and the home's lock (``linkage.runs``), without Prefect.

Stages here are plain functions writing to a small database; the nightly flow's own tests
(``tests/flows/test_nightly.py``) run the real stages. Nights that die are real processes
killed with SIGKILL; the office's commands run through the ``renkou`` entry point.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from unittest.mock import ANY

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage.errors import FileProblem
from linkage.run_summary import describe, markdown
from linkage.runs import (
    MARKER,
    HomeBusy,
    Night,
    RunInProgress,
    StageFailed,
    WorkAfterSnapshot,
    as_failure,
    holding,
    office_guard,
    reported,
    run_summary,
)
from linkage.store import DB_FILE, Store
from tests.tasks.fixture import F_DEATH, F_MOVED, LX, SC, copy_home, export_all, fill

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


def test_a_snapshot_that_fails_half_way_leaves_no_partial_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk while copying: the half copy (and a copied log) would keep the disk full."""
    import errno

    import linkage.runs

    home = _home(tmp_path)
    (home / f"{DB_FILE}.wal").write_bytes(b"a log that belongs to the state")
    real = shutil.copyfile

    def full_disk_at(name: str) -> Callable[..., object]:
        def copy(src: Path, dst: Path, **kwargs: object) -> object:
            if Path(src).name == name:
                Path(dst).write_bytes(b"half a copy")  # what a copy leaves when the disk fills
                raise OSError(errno.ENOSPC, "No space left on device", str(dst))
            return real(src, dst, **kwargs)

        return copy

    for name in (DB_FILE, f"{DB_FILE}.wal"):
        monkeypatch.setattr(shutil, "copyfile", full_disk_at(name))
        with pytest.raises(OSError, match="No space left"):
            linkage.runs.take_snapshot(home, "r1")
        assert sorted(p.name for p in home.glob(f"{DB_FILE}.before-*")) == []
    (home / f"{DB_FILE}.wal").unlink()
    monkeypatch.setattr(shutil, "copyfile", full_disk_at(DB_FILE))
    with pytest.raises(StageFailed, match="stage 'snapshot' failed: OSError: No space left"):
        Night(home, inbox="inbox").__enter__()
    assert sorted(p.name for p in home.glob(f"{DB_FILE}.before-*")) == []
    assert _runs(home)["status"].to_list() == ["failed"]


# ------------------------------------------------------------------ office work and nights
#: a process working on a home: ``night`` runs until its stdin closes; ``killed`` dies
#: (SIGKILL) with its data half-written, ``killed-after-commit`` after its commit,
#: ``killed-in-snapshot`` while copying the database; ``command`` is an office command
HOLDER = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    import polars as pl
    import linkage.runs
    from linkage.runs import Night, office_guard
    from linkage.store import Store
    home, what = Path(sys.argv[1]), sys.argv[2]
    if what == "command":
        with office_guard(home):
            print("ready", flush=True)
            sys.stdin.readline()
        sys.exit()
    if what == "killed-in-snapshot":
        linkage.runs._fsync = lambda path: os.kill(os.getpid(), signal.SIGKILL)
    night = Night(home, inbox="inbox").__enter__()
    if what.startswith("killed"):
        with Store(home) as store:  # tonight's data, half of it
            store.replace_table("links", pl.DataFrame({"record": ["x"], "person": ["9"]}))
        if what == "killed-after-commit":
            night.commit()
        os.kill(os.getpid(), signal.SIGKILL)
    print(night.run_id, flush=True)
    sys.stdin.readline()
    night.commit()
    night.__exit__(None, None, None)
""")


@contextlib.contextmanager
def holder(home: Path, what: str, *, done_after: float | None = None) -> Iterator[str]:
    """A second process working on ``home`` (:data:`HOLDER`); yields what it printed first
    (a night's run id). It finishes when the block ends, or ``done_after`` seconds in. A
    holder that kills itself is waited for."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(home), what],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdin is not None
    try:
        if what.startswith("killed"):
            assert proc.wait(timeout=120) == -signal.SIGKILL, proc.communicate()[1]
            yield ""
            return
        line = proc.stdout.readline().strip()
        assert line, proc.communicate()[1]
        if done_after is not None:
            threading.Timer(done_after, proc.stdin.close).start()
        yield line
        proc.stdin.close()
        assert proc.wait(timeout=120) == 0, proc.communicate()[1]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def renkou(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., Result]:
    """``renkou ARGS…`` through the entry point, in this process: exit code and output."""
    from linkage.cli import main

    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect-home"))
    for name in ("RENKOU_HOME", "RENKOU_CONFIG", "RENKOU_OPERATOR", "PREFECT_API_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.setenv("NO_COLOR", "1")

    def run(*args: str | Path) -> Result:
        monkeypatch.setattr(sys, "argv", ["renkou", *map(str, args)])
        capsys.readouterr()
        try:
            main()
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err, captured.err
        return Result(code, captured.out, captured.err)

    return run


def test_nothing_works_on_a_home_while_a_night_does(
    tmp_path: Path, renkou: Callable[..., Result]
) -> None:
    home = _home(tmp_path)
    inbox = tmp_path / "inbox"
    (inbox / "population").mkdir(parents=True)
    with holder(home, "night") as run_id:
        for command in (["tasks", "status"], ["export", "links", "--out", tmp_path / "l.csv"]):
            refused = renkou("--home", home, *command)
            assert refused.code == 2, refused
            assert f"a nightly run ({run_id}, since " in refused.err
            assert "Fix: wait for it to finish and retry" in refused.err
        second = renkou("--home", home, "run", "--inbox", inbox)  # the designed message
        assert second.code == 2, second
        assert f"a nightly run ({run_id}" in second.err and "IOException" not in second.err
        assert not (tmp_path / "prefect-home" / "temporary-server.log").exists()  # no server
        history = renkou("--home", home, "history")  # reads alongside
        assert history.code == 0, history
        assert run_id in history.out and "running" in history.out
        assert not (tmp_path / "l.csv").exists()
    assert renkou("--home", home, "tasks", "status").code == 0
    assert _runs(home)["status"].to_list() == ["succeeded"]


def test_a_command_waits_for_another_and_a_night_adopts_the_lock_of_its_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import linkage.runs

    home = _home(tmp_path)
    with holder(home, "command"):
        monkeypatch.setattr(linkage.runs, "COMMAND_WAIT", 0.3)
        with pytest.raises(HomeBusy, match="another renkou command .* Fix: wait"):
            office_guard(home).__enter__()
        monkeypatch.setattr(linkage.runs, "NIGHT_WAIT", 0.3)
        with pytest.raises(HomeBusy):
            Night(home, inbox="inbox").__enter__()
    monkeypatch.undo()
    with holder(home, "command", done_after=1.0):
        start = time.monotonic()
        with office_guard(home):
            assert time.monotonic() - start > 0.5  # waited for it, then went on
    # `renkou run` holds the home for the night; its Night and its stores go through
    with holding(home, night=True):
        with Night(home, inbox="inbox") as night:
            with office_guard(home):  # a store the night opens
                pass
            said = json.loads((home / "run.lock").read_text())
            assert (said["kind"], said["run_id"]) == ("night", night.run_id)
            with pytest.raises(RunInProgress, match=night.run_id):
                Night(home, inbox="inbox").__enter__()
            night.commit()
    assert (home / "run.lock").read_text() == ""  # ended cleanly: nobody holds it


def _answered(home: Path, out: Path) -> dict[str, Path]:
    """The task lists sent before the night, and two answers filled in by the townships."""
    with Store(home) as store:
        files = export_all(store, out)
    fill(files[LX], {F_DEATH: {"核查结果": "属实", "核查人": "王丽", "核查日期": "2025-10-09"}})
    fill(files[SC], {F_MOVED: {"核查结果": "属实", "核查人": "赵五", "核查日期": "2025-10-10"}})
    return files


def _office(home: Path) -> dict[str, object]:
    with Store(home) as store:
        return {
            "imports": store.scalar("SELECT count(*) FROM task_imports WHERE applied > 0"),
            "statuses": dict(
                store.frame(
                    "SELECT finding_id, status FROM findings WHERE finding_id IN (?, ?)",
                    [F_DEATH, F_MOVED],
                ).iter_rows()
            ),
        }


def test_a_killed_night_then_a_morning_import_then_the_next_night_keeps_the_answers(
    tmp_path: Path, renkou: Callable[..., Result]
) -> None:
    """The probe: a night killed half-way, the morning's import of the townships' answers,
    the next night. The answers must survive."""
    home = copy_home(tmp_path / "home")
    files = _answered(home, tmp_path / "out")
    before = _office(home)
    with holder(home, "killed"):
        pass
    dead = _runs(home).row(-1, named=True)
    assert dead["status"] == "running" and (home / MARKER).exists()

    for command in (["tasks", "import", files[LX], files[SC]], ["tasks", "status"]):
        refused = renkou("--home", home, *command)
        assert refused.code == 2, refused
        assert f"night {dead['run_id']} (started " in refused.err
        assert f"renkou --home {home} recover" in refused.err
        assert "run --inbox DIR" in refused.err
    assert _office(home) == before  # refused means nothing was applied
    warned = renkou("--home", home, "history")
    assert warned.code == 0 and "did not finish" in warned.err

    recovered = renkou("--home", home, "recover")
    assert recovered.code == 0, recovered
    assert f"night {dead['run_id']} (started " in recovered.out
    assert "back as they were before it" in recovered.out
    assert not (home / MARKER).exists()

    imported = renkou("--home", home, "tasks", "import", files[LX], files[SC])
    assert imported.code == 0, imported
    answered = _office(home)
    assert answered["imports"] == 2
    assert answered["statuses"] != before["statuses"]

    with Night(home, inbox="inbox") as night:  # the next night
        night.run("ingest", _write, home)
        night.commit()
    assert night.recovered is None
    assert _office(home) == answered
    runs = _runs(home)
    assert runs["status"].to_list() == ["interrupted", "succeeded"]
    assert runs["restored"].to_list() == [True, False]
    assert renkou("--home", home, "recover").out.startswith("no night died half-written")


def test_work_recorded_after_a_dead_nights_snapshot_is_never_discarded(
    tmp_path: Path, renkou: Callable[..., Result]
) -> None:
    """Defence in depth: work that slipped past the lock (an older renkou, a script) makes
    recovery refuse, saying what to do, until the office keeps the database as it is."""
    from linkage.tasks.returns import import_returns

    home = copy_home(tmp_path / "home")
    files = _answered(home, tmp_path / "out")
    with holder(home, "killed"):
        pass
    with Store(home) as store:  # past the lock
        import_returns(store, [files[LX]], operator="t")
    answered = _office(home)

    refused = renkou("--home", home, "recover")
    assert refused.code == 2, refused
    assert "returned task lists imported 1" in refused.err
    assert f"renkou --home {home} recover --keep" in refused.err and "run --full" in refused.err
    with pytest.raises(WorkAfterSnapshot):
        Night(home, inbox="inbox").__enter__()
    assert (home / MARKER).exists() and _office(home) == answered  # nothing changed

    kept = renkou("--home", home, "recover", "--keep")
    assert kept.code == 0, kept
    assert "kept as it is" in kept.out and "renkou run --full" in kept.out
    assert _office(home) == answered
    last = _runs(home).row(-1, named=True)
    assert (last["status"], last["restored"]) == ("interrupted", False)
    assert not (home / MARKER).exists()


@pytest.mark.parametrize("when", ["killed-after-commit", "killed-in-snapshot"])
def test_a_night_that_died_with_nothing_half_written_is_marked_interrupted(
    tmp_path: Path, renkou: Callable[..., Result], when: str
) -> None:
    home = _home(tmp_path)
    with holder(home, when):
        pass
    assert not (home / MARKER).exists()
    assert _runs(home)["status"].to_list() == ["running"]
    assert list(home.glob("*.partial")) == ([] if when == "killed-after-commit" else [ANY])

    listed = renkou("--home", home, "tasks", "status")
    assert listed.code == 0, listed  # not refused: nothing to put back
    runs = _runs(home).row(0, named=True)
    assert (runs["status"], runs["restored"]) == ("interrupted", False)
    assert "nothing was restored" in runs["error_message"]
    assert list(home.glob("*.partial")) == []
    assert re.search(r"interrupted", renkou("--home", home, "history").out)
    expected = ["x"] if when == "killed-after-commit" else ["a", "b"]
    assert _state(home)["links"]["record"].to_list() == expected
