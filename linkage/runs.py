"""A nightly run: its record (``runs``, ``run_stages``) and its rollback point.

A night is all or nothing for the data it changes. Ingest (one transaction), link (publishes
its tables atomically) and findings (one transaction) each leave the database consistent, but
a failure in link or findings after ingest committed would leave a *half-written night*:
tonight's files loaded, last night's links and findings. So a :class:`Night`

1. takes an OS lock on ``HOME/run.lock`` (one run at a time; the OS frees it even on SIGKILL);
2. restores a run that died without cleaning up (its marker ``HOME/run-in-progress.json`` is
   still there) and records it as ``interrupted``;
3. records itself as ``running``, checkpoints, copies ``renkou.duckdb`` to
   ``renkou.duckdb.before-<run>`` (only the newest copy is kept) and writes the marker;
4. runs the core stages; if one fails, copies the snapshot back, removes model versions
   trained during the run, and records ``failed`` with the stage;
5. commits after findings (the marker goes); the output stages (task lists, report) are each
   atomic on their own and not rolled back: if one fails the run is ``partial``;
6. records ``succeeded`` / ``partial`` with the counts of every stage.

Nothing here holds a name or an ID number. Stage summaries are counts. An exception's message
reaches logs, the ``runs`` table and Prefect only when its type carries none by design
(renkou's own errors, I/O errors); otherwise only its class does, and the full traceback goes
to ``HOME/runs/<run>-<stage>.error.txt`` (owner-only), beside the database it may quote.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import logging
import os
import secrets
import shutil
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb

from linkage import tables
from linkage.errors import RenkouError, StageError
from linkage.store import DB_FILE, Store
from linkage.tables import RUN_STAGES, RUNS

log = logging.getLogger(__name__)

MARKER = "run-in-progress.json"
LOCK = "run.lock"
SNAPSHOT = f"{DB_FILE}.before-"
ERRORS = "runs"
MODELS = "models"


#: exception types whose message carries no record values (so it may reach logs)
_SAFE = (RenkouError, OSError, duckdb.IOException, MemoryError, TimeoutError)
#: worth a retry: a locked database file, a network share that hiccupped
_TRANSIENT = (OSError, duckdb.IOException, TimeoutError)
_PERMANENT = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


class RunInProgress(RenkouError):
    """Another nightly run holds this home."""


class StageFailed(StageError):
    """A stage failed. The message names the stage and carries no record values."""

    def __init__(
        self,
        stage: str,
        error_class: str,
        detail: str,
        *,
        transient: bool = False,
        trace_file: str | None = None,
    ) -> None:
        self.stage = stage
        self.error_class = error_class
        self.detail = detail
        self.transient = transient
        self.trace_file = trace_file
        super().__init__(f"stage {stage!r} failed: {error_class}: {detail}")

    def __reduce__(self) -> tuple[Any, ...]:
        return (
            type(self),
            (self.stage, self.error_class, self.detail),
            {"transient": self.transient, "trace_file": self.trace_file},
        )


def is_transient(err: BaseException) -> bool:
    return isinstance(err, _TRANSIENT) and not isinstance(err, _PERMANENT)


def _detail(err: BaseException) -> str:
    if isinstance(err, OSError) and err.strerror:
        text = err.strerror + (f": {err.filename}" if err.filename else "")
    elif isinstance(err, _SAFE):
        text = str(err)
    else:
        text = "message withheld (it may quote record values)"
    return "; ".join([text, *getattr(err, "__notes__", [])])  # notes: renkou's own context


def _write_trace(home: Path, run_id: str | None, stage: str, err: BaseException) -> Path | None:
    path = home / ERRORS / f"{run_id or 'manual'}-{stage}.error.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("".join(traceback.format_exception(err)))
    except OSError:
        return None
    return path


def as_failure(stage: str, err: BaseException, home: Path | str, run_id: str | None) -> StageFailed:
    """``err`` as a :class:`StageFailed` (its traceback kept in ``HOME/runs/``)."""
    if isinstance(err, StageFailed):
        return err
    trace = _write_trace(Path(home), run_id, stage, err)
    return StageFailed(
        stage,
        type(err).__name__,
        _detail(err),
        transient=is_transient(err),
        trace_file=str(trace) if trace else None,
    )


@contextlib.contextmanager
def reported(stage: str, home: Path | str, run_id: str | None = None) -> Iterator[None]:
    """Turn any exception of ``stage`` into a :class:`StageFailed` fit for logs."""
    try:
        yield
    except Exception as err:
        if isinstance(err, StageFailed):
            raise
        raise as_failure(stage, err, home, run_id) from None


def new_run_id(now: dt.datetime | None = None) -> str:
    return f"{(now or dt.datetime.now()):%Y%m%dT%H%M%S}-{secrets.token_hex(2)}"


# ------------------------------------------------------------------ snapshot and restore
def _models(home: Path) -> list[str]:
    folder = home / MODELS
    return sorted(str(p.relative_to(home)) for p in folder.rglob("*") if p.is_file())


def take_snapshot(home: Path, run_id: str) -> Path:
    """Copy the (checkpointed, closed) database to ``renkou.duckdb.before-<run_id>``."""
    for old in home.glob(f"{SNAPSHOT}*"):
        old.unlink()  # keep only the newest: free the space before copying
    target = home / f"{SNAPSHOT}{run_id}"
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(home / DB_FILE, partial)
    wal = home / f"{DB_FILE}.wal"
    if wal.exists():  # closed cleanly there is none; if there is, it belongs to the state
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    _fsync(partial)  # the marker that points at it is written after: it must be on disk
    os.replace(partial, target)
    return target


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def restore(home: Path, marker: dict[str, Any]) -> None:
    """Put the database and the model folder back as they were when ``marker`` was written.

    Idempotent: while the marker exists a half-done restore is simply done again.
    """
    snapshot = home / marker["snapshot"]
    if not snapshot.exists():
        raise RenkouError(
            f"run {marker['run_id']} did not finish and its snapshot {snapshot.name} is "
            f"missing, so the database may hold a half-written night. Fix: put back a backup "
            f"of {DB_FILE} (or accept the state as it is), then delete {home / MARKER}"
        )
    wal = home / f"{DB_FILE}.wal"
    wal.unlink(missing_ok=True)  # the dead run's log must not be replayed onto the snapshot
    restoring = home / f"{DB_FILE}.restoring"
    shutil.copyfile(snapshot, restoring)
    _fsync(restoring)
    os.replace(restoring, home / DB_FILE)
    snapshot_wal = snapshot.with_name(snapshot.name + ".wal")
    if snapshot_wal.exists():
        shutil.copyfile(snapshot_wal, wal)
    keep = set(marker.get("models", []))
    for name in _models(home):
        if name not in keep:  # a model version trained by the failed run
            (home / name).unlink()
    log.warning("run %s: database restored from %s", marker["run_id"], snapshot.name)


def _read_marker(home: Path) -> dict[str, Any] | None:
    path = home / MARKER
    return json.loads(path.read_text("utf-8")) if path.exists() else None


def _write_marker(home: Path, marker: dict[str, Any]) -> None:
    partial = home / f"{MARKER}.partial"
    with partial.open("w", encoding="utf-8") as handle:
        json.dump(marker, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, home / MARKER)


def recover(home: Path) -> str | None:
    """Restore a run that died without cleaning up. Returns its run id, or None."""
    marker = _read_marker(home)
    if marker is None:
        return None
    restore(home, marker)
    with Store(home) as store:
        tables.ensure(store.con, "runs")
        store.con.execute(
            f"UPDATE {RUNS} SET status = 'interrupted', restored = true, error_class = ?, "
            f"error_message = ? WHERE run_id = ? AND status = 'running'",
            [
                "Interrupted",
                f"the process ended before the run finished (killed, power cut "
                f"or out of memory); found on {dt.datetime.now():%Y-%m-%d %H:%M} and the "
                f"database restored to its state before the run",
                marker["run_id"],
            ],
        )
    (home / MARKER).unlink()
    return str(marker["run_id"])


# ------------------------------------------------------------------ the night
class Night:
    """One nightly run on ``home``: lock, rollback point, stages, record. A context manager.

    Example::

        with Night(home, inbox=inbox) as night:
            night.run("ingest", load_inbox, home, inbox, night.run_id)
            ...
            night.commit()
            night.run("report", write_report, home, night.run_id, optional=True)
    """

    def __init__(
        self,
        home: Path | str,
        *,
        inbox: Path | str,
        full: bool = False,
        retrain: bool = False,
        flow_run_id: str | None = None,
    ) -> None:
        self.home = Path(home)
        self.inbox = str(inbox)
        self.full, self.retrain = full, retrain
        self.flow_run_id = flow_run_id
        self.run_id = new_run_id()
        self.status = "pending"
        self.started_at: dt.datetime | None = None
        self.finished_at: dt.datetime | None = None
        self.snapshot: Path | None = None
        self.snapshot_seconds = 0.0
        self.recovered: str | None = None
        self.committed = False
        self.restored = False
        self.stages: dict[str, dict[str, Any]] = {}
        self.timings: list[tuple[str, str, float]] = []
        self.failure: StageFailed | None = None
        self.output_failures: list[StageFailed] = []
        self._lock_fd: int | None = None

    # -- lifecycle
    def __enter__(self) -> Night:
        self.home.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            self.recovered = recover(self.home)
            self._begin()
        except BaseException:
            self._unlock()
            raise
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        try:
            if exc is None:
                self.status = "partial" if self.output_failures else "succeeded"
            else:
                self.failure = self.failure or as_failure("nightly", exc, self.home, self.run_id)
                if not self.committed:
                    marker = _read_marker(self.home)
                    if marker is not None:
                        restore(self.home, marker)
                        (self.home / MARKER).unlink()
                        self.restored = True
                self.status = "partial" if self.committed else "failed"
            self._finish()
        finally:
            self._unlock()

    def _lock(self) -> None:
        fd = os.open(self.home / LOCK, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            marker = _read_marker(self.home) or {}
            raise RunInProgress(
                f"another nightly run ({marker.get('run_id', 'unknown')}, process "
                f"{marker.get('pid', '?')}) is working on {self.home}. Fix: wait for it to "
                f"finish (renkou history shows it as running)"
            ) from None
        self._lock_fd = fd

    def _unlock(self) -> None:
        if self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
            os.close(self._lock_fd)
            self._lock_fd = None

    def _begin(self) -> None:
        self.started_at = dt.datetime.now()
        with Store(self.home) as store:
            tables.ensure(store.con, "runs")
            store.con.execute(
                f'INSERT INTO {RUNS} (run_id, flow_run_id, started_at, status, "full", '
                f"retrain, inbox) VALUES (?, ?, ?, 'running', ?, ?, ?)",
                [
                    self.run_id,
                    self.flow_run_id,
                    self.started_at,
                    self.full,
                    self.retrain,
                    self.inbox,
                ],
            )
            store.con.execute("CHECKPOINT")
        start = time.perf_counter()
        try:
            self.snapshot = take_snapshot(self.home, self.run_id)
        except Exception as err:  # e.g. disk full: nothing was changed yet, say so and stop
            self.failure, self.status = (
                as_failure("snapshot", err, self.home, self.run_id),
                "failed",
            )
            self._finish()
            raise self.failure from None
        self.snapshot_seconds = time.perf_counter() - start
        _write_marker(
            self.home,
            {
                "run_id": self.run_id,
                "snapshot": self.snapshot.name,
                "models": _models(self.home),
                "pid": os.getpid(),
                "started_at": self.started_at.isoformat(),
            },
        )
        self.timings.append(("snapshot", "ok", self.snapshot_seconds))
        self.status = "running"
        log.info("run %s: snapshot in %.1f s", self.run_id, self.snapshot_seconds)

    def run(
        self,
        stage: str,
        fn: Callable[..., dict[str, Any]],
        *args: Any,
        optional: bool = False,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        """Call ``fn`` (a stage) and keep its counts and time. An ``optional`` stage that
        fails is recorded and the run goes on (ending ``partial``); any other failure
        propagates (and rolls the night back, unless already committed)."""
        start = time.perf_counter()
        try:
            counts = fn(*args, **kwargs)
        except Exception as err:
            failure = as_failure(stage, err, self.home, self.run_id)
            self.timings.append((stage, "failed", time.perf_counter() - start))
            if optional:
                self.output_failures.append(failure)
                log.warning("run %s: %s", self.run_id, failure)
                return None
            self.failure = failure
            if failure is err:
                raise
            raise failure from None
        self.timings.append((stage, "ok", time.perf_counter() - start))
        self.stages[stage] = counts
        return counts

    def commit(self) -> None:
        """The night's data is in: a later failure no longer rolls it back."""
        (self.home / MARKER).unlink()
        self.committed = True

    def _finish(self) -> None:
        self.finished_at = dt.datetime.now()
        summary = self.summary()
        failure = self.failure or (self.output_failures[0] if self.output_failures else None)
        ingest, link = self.stages.get("ingest", {}), self.stages.get("link", {})
        findings = self.stages.get("findings", {})
        values: dict[str, Any] = {
            "finished_at": self.finished_at,
            "status": self.status,
            "mode": link.get("mode"),
            "files": ingest.get("files"),
            "files_rejected": ingest.get("files_rejected"),
            "rows_loaded": ingest.get("rows_loaded"),
            "rows_updated": ingest.get("rows_updated"),
            "rows_quarantined": ingest.get("rows_quarantined"),
            "records_scored": link.get("records_scored"),
            "links": link.get("links"),
            "clerical": link.get("clerical"),
            "findings_new": findings.get("merge", {}).get("new"),
            "findings_open": findings.get("open"),
            "model_versions": json.dumps(link["models"]) if "models" in link else None,
            "snapshot_seconds": round(self.snapshot_seconds, 3),
            "seconds": summary["seconds"],
            "restored": self.restored,
            "failed_stage": failure.stage if failure else None,
            "error_class": failure.error_class if failure else None,
            "error_message": failure.detail if failure else None,
            "summary": json.dumps(summary, ensure_ascii=False, default=str),
        }
        try:
            with Store(self.home) as store, store.transaction():
                tables.ensure(store.con, "runs")
                sets = ", ".join(f'"{k}" = ?' for k in values)
                store.con.execute(
                    f"UPDATE {RUNS} SET {sets} WHERE run_id = ?", [*values.values(), self.run_id]
                )
                for stage, status, seconds in self.timings:
                    store.con.execute(
                        f"INSERT INTO {RUN_STAGES} VALUES (?, ?, ?, ?, ?)",
                        [
                            self.run_id,
                            stage,
                            status,
                            round(seconds, 3),
                            json.dumps(self.stages.get(stage, {}), ensure_ascii=False),
                        ],
                    )
        except Exception as err:  # the record is lost, the run's outcome is not
            log.error(
                "run %s (%s): could not record the run: %s",
                self.run_id,
                self.status,
                as_failure("record", err, self.home, self.run_id),
            )

    def summary(self) -> dict[str, Any]:
        """Counts, timings, outcome and output locations of the run (no personal data)."""
        end = self.finished_at or dt.datetime.now()
        failure = self.failure or (self.output_failures[0] if self.output_failures else None)
        outputs = {"database": str(self.home / DB_FILE)}
        if self.snapshot is not None:
            outputs["before_this_run"] = str(self.snapshot)
        for stage, key in (("tasks", "folder"), ("report", "report")):
            if self.stages.get(stage, {}).get(key):
                outputs[stage] = self.stages[stage][key]
        if failure and failure.trace_file:
            outputs["traceback"] = failure.trace_file
        return {
            "run_id": self.run_id,
            "status": self.status,
            "full": self.full,
            "retrain": self.retrain,
            "recovered": self.recovered,
            "restored": self.restored,
            "started_at": self.started_at.isoformat(timespec="seconds")
            if self.started_at
            else None,
            "finished_at": self.finished_at.isoformat(timespec="seconds")
            if self.finished_at
            else None,
            "seconds": round((end - self.started_at).total_seconds(), 1)
            if self.started_at
            else 0.0,
            "timings": [
                {"stage": s, "status": st, "seconds": round(sec, 2)} for s, st, sec in self.timings
            ],
            "stages": self.stages,
            "outputs": outputs,
            "failure": None
            if failure is None
            else {
                "stage": failure.stage,
                "error_class": failure.error_class,
                "message": failure.detail,
                "others": [
                    f"{f.stage}: {f.error_class}" for f in self.output_failures if f is not failure
                ],
            },
        }


# ------------------------------------------------------------------ history
def history(store: Store, limit: int = 10) -> Any:
    """The newest ``limit`` runs, newest first (a polars frame; empty without a table)."""
    tables.ensure(store.con, "runs")
    return store.frame(f"""
        SELECT run_id, started_at, seconds, status, mode, files, files_rejected, rows_loaded,
               rows_quarantined, records_scored, links, findings_new, findings_open,
               failed_stage, error_class
        FROM {RUNS} ORDER BY started_at DESC, run_id DESC LIMIT {int(limit)}""")


def run_summary(store: Store, run_id: str | None = None) -> dict[str, Any] | None:
    """The stored summary of ``run_id`` (default: the newest run), or None."""
    tables.ensure(store.con, "runs")
    row = store.frame(
        f"SELECT run_id, status, started_at, error_class, error_message, failed_stage, summary "
        f"FROM {RUNS} WHERE run_id = coalesce(?, (SELECT run_id FROM {RUNS} "
        f"ORDER BY started_at DESC, run_id DESC LIMIT 1))",
        [run_id],
    )
    if row.is_empty():
        return None
    r = row.row(0, named=True)
    if r["summary"]:
        return json.loads(r["summary"])
    return {
        "run_id": r["run_id"],
        "status": r["status"],
        "started_at": str(r["started_at"]),
        "seconds": None,
        "timings": [],
        "stages": {},
        "outputs": {},
        "failure": {
            "stage": r["failed_stage"],
            "error_class": r["error_class"],
            "message": r["error_message"],
            "others": [],
        }
        if r["error_class"]
        else None,
    }


def stage_timings(store: Store, run_id: str) -> Any:
    tables.ensure(store.con, "runs")
    return store.frame(
        f"SELECT stage, status, seconds FROM {RUN_STAGES} WHERE run_id = ? ORDER BY rowid", [run_id]
    )
