"""A nightly run: its record (``runs``, ``run_stages``), its rollback point, and the home's lock
that keeps office work and nights apart.

A night is all or nothing for the data it changes. Ingest (one transaction), link (publishes
its tables atomically) and findings (one transaction) each leave the database consistent, but
a failure in link or findings after ingest committed would leave a *half-written night*:
tonight's files loaded, last night's links and findings. So a :class:`Night`

1. takes an OS lock on ``HOME/run.lock`` (one run at a time; the OS frees it even on SIGKILL)
   and writes who holds it into that file (kind, run, process, since);
2. restores a run that died without cleaning up (its marker ``HOME/run-in-progress.json`` is
   still there) and records it as ``interrupted`` — unless office work was recorded after
   that run's snapshot, which a restore would discard: then it refuses and says what to do;
   a run that died with no half-written data (before its snapshot, after its commit) is
   recorded ``interrupted`` too, with nothing restored;
3. records itself as ``running``, checkpoints, copies ``renkou.duckdb`` to
   ``renkou.duckdb.before-<run>`` (only the newest copy is kept; a copy that fails, e.g. on a
   full disk, is removed) and writes the marker;
4. runs the core stages; if one fails, copies the snapshot back, removes model versions
   trained during the run, and records ``failed`` with the stage;
5. commits after findings (the marker goes); the output stages (task lists, report) are each
   atomic on their own and not rolled back: if one fails the run is ``partial``;
6. records ``succeeded`` / ``partial`` with the counts of every stage.

Office work never overwrites a night nor is overwritten by one: every command that opens the
store (``linkage.cli._common.open_store``) holds the same lock for its duration
(:func:`office_guard`). While a night holds it the command refuses at once, naming the run;
while another command holds it the command waits a little. After a night died with its data
half-written (the marker is there, the lock is free) every such command refuses until
``renkou recover`` (or the next ``renkou run``) has put the database back; nothing the office
does can happen in between, so the restore loses nothing. ``renkou run``, ``renkou recover``
and ``renkou history`` arrange their own access (:func:`holding`, :func:`watching`).

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
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb

from linkage import tables
from linkage.errors import RenkouError, StageError
from linkage.store import DB_FILE, Store
from linkage.tables import (
    BULLETINS,
    CHANGE_LIST_ENTRIES,
    EXCHANGE_FILES,
    EXCHANGE_QUERIES,
    RUN_STAGES,
    RUNS,
    TASK_EXPORTS,
    TASK_IMPORTS,
)

log = logging.getLogger(__name__)

MARKER = "run-in-progress.json"
LOCK = "run.lock"
SNAPSHOT = f"{DB_FILE}.before-"
ERRORS = "runs"
MODELS = "models"

#: seconds an office command waits for another command to leave the home
COMMAND_WAIT = 30.0
#: seconds a night waits for an office command to leave the home
NIGHT_WAIT = 600.0
_POLL = 0.2

#: office work a restore of a dead night's snapshot would discard: table, time it was done,
#: what it is. The night itself writes none of these before it commits.
OFFICE_WORK = (
    (TASK_IMPORTS, "imported_at", "returned task lists imported"),
    (TASK_EXPORTS, "exported_at", "task list exports"),
    (CHANGE_LIST_ENTRIES, "listed_at", "change list entries"),
    (EXCHANGE_FILES, "imported_at", "协查 files imported"),
    (EXCHANGE_QUERIES, "exported_at", "协查 queries sent"),
    (BULLETINS, "written_at", "bulletin figures"),
)


#: exception types whose message carries no record values (so it may reach logs)
_SAFE = (RenkouError, OSError, duckdb.IOException, MemoryError, TimeoutError)
#: worth a retry: a locked database file, a network share that hiccupped
_TRANSIENT = (OSError, duckdb.IOException, TimeoutError)
_PERMANENT = (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError)


class RunInProgress(RenkouError):
    """Another nightly run holds this home."""


class HomeBusy(RenkouError):
    """Another renkou command kept this home longer than this one waits."""


class NightInterrupted(RenkouError):
    """A night died on this home with its data possibly half-written, and nothing has put
    the database back yet."""


class WorkAfterSnapshot(RenkouError):
    """Putting back a dead night's snapshot would discard work recorded since it was taken."""


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
    """Copy the (checkpointed, closed) database to ``renkou.duckdb.before-<run_id>``.

    A copy that fails (a full disk) is removed, with its log: it would keep the disk full."""
    for old in home.glob(f"{SNAPSHOT}*"):
        old.unlink()  # keep only the newest: free the space before copying
    target = home / f"{SNAPSHOT}{run_id}"
    partial = target.with_name(target.name + ".partial")
    target_wal = target.with_name(target.name + ".wal")
    try:
        shutil.copyfile(home / DB_FILE, partial)
        wal = home / f"{DB_FILE}.wal"
        if wal.exists():  # closed cleanly there is none; if there is, it belongs to the state
            shutil.copyfile(wal, target_wal)
        _fsync(partial)  # the marker that points at it is written after: it must be on disk
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        target_wal.unlink(missing_ok=True)
        raise
    return target


def _remove_partials(home: Path) -> None:
    """What a process killed while copying left behind (a snapshot, a restore, a marker)."""
    for partial in home.glob(f"{SNAPSHOT}*.partial"):
        partial.unlink(missing_ok=True)
        complete = partial.with_name(partial.name.removesuffix(".partial"))
        if not complete.exists():
            complete.with_name(complete.name + ".wal").unlink(missing_ok=True)
    (home / f"{MARKER}.partial").unlink(missing_ok=True)
    if _read_marker(home) is None:  # with a marker, restore() copies the database again
        (home / f"{DB_FILE}.restoring").unlink(missing_ok=True)


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
            f"of {DB_FILE} and delete {home / MARKER}, or keep the database as it is with "
            f"`renkou --home {home} recover --keep` and rebuild the night with `renkou --home "
            f"{home} run --full --inbox DIR`"
        )
    wal = home / f"{DB_FILE}.wal"
    wal.unlink(missing_ok=True)  # the dead run's log must not be replayed onto the snapshot
    restoring = home / f"{DB_FILE}.restoring"
    try:
        shutil.copyfile(snapshot, restoring)
        _fsync(restoring)
    except BaseException:
        restoring.unlink(missing_ok=True)  # a full disk must not stay full
        raise
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


def _started(marker: dict[str, Any]) -> dt.datetime:
    return dt.datetime.fromisoformat(str(marker["started_at"]))


def _when(text: object) -> str:
    """An ISO time as the office reads it: 2026-11-03 02:00."""
    try:
        return f"{dt.datetime.fromisoformat(str(text)):%Y-%m-%d %H:%M}"
    except ValueError:
        return "an unknown time"


def work_since(home: Path, marker: dict[str, Any]) -> dict[str, int]:
    """Office work recorded after ``marker``'s snapshot was taken, by what it is (only what
    there is): what putting the snapshot back would discard.

    A database that does not open (a log the dead run tore) holds nothing to keep."""
    if not (home / DB_FILE).exists():
        return {}
    since = _started(marker)
    found: dict[str, int] = {}
    try:
        with Store(home, read_only=True) as store:
            for table, column, what in OFFICE_WORK:
                if store.has_table(table):
                    n = int(
                        store.scalar(
                            f'SELECT count(*) FROM "{table}" WHERE "{column}" >= ?', [since]
                        )
                    )
                    if n:
                        found[what] = n
    except duckdb.Error as err:
        log.warning(
            "run %s: the database left by the dead run does not open (%s); nothing in it "
            "can be kept",
            marker["run_id"],
            type(err).__name__,
        )
        return {}
    return found


def _interrupted_note(restored: bool) -> str:
    found = f"found on {dt.datetime.now():%Y-%m-%d %H:%M}"
    if restored:
        return (
            "the process ended before the run finished (killed, power cut or out of memory); "
            f"{found} and the database restored to its state before the run"
        )
    return (
        "the process ended before the run finished (killed, power cut or out of memory); "
        f"{found}; no data of the run was half-written (it ended before its snapshot or "
        "after its data was committed), so nothing was restored"
    )


def settle(home: Path, *, exclude: str | None = None) -> list[str]:
    """Record as ``interrupted`` every run still ``running`` that is not (``exclude`` or the
    marker's run): a night that died with no half-written data. The caller holds the lock.
    Returns their run ids."""
    if not (home / DB_FILE).exists():
        return []
    marker = _read_marker(home)
    skip = [exclude or "", marker["run_id"] if marker else ""]
    with Store(home) as store:
        tables.ensure(store.con, "runs")
        dead = [
            str(r[0])
            for r in store.frame(
                f"SELECT run_id FROM {RUNS} WHERE status = 'running' AND run_id NOT IN (?, ?) "
                "ORDER BY started_at",
                skip,
            ).iter_rows()
        ]
        if dead:
            store.con.execute(
                f"UPDATE {RUNS} SET status = 'interrupted', restored = false, error_class = ?, "
                f"error_message = ? WHERE status = 'running' AND run_id NOT IN (?, ?)",
                ["Interrupted", _interrupted_note(False), *skip],
            )
    for run_id in dead:
        log.warning("run %s did not finish; recorded as interrupted (nothing to restore)", run_id)
    return dead


@dataclass(frozen=True)
class Recovery:
    """What :func:`recover` did: the night that died half-written (if one did), whether its
    snapshot was put back (``restored``) or the database kept as it is, and the runs that died
    with nothing half-written (``settled``)."""

    run_id: str | None = None
    started_at: str | None = None
    snapshot: str | None = None
    restored: bool = False
    settled: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """What happened, in the office's words, and what comes next."""
        lines = []
        if self.run_id is None:
            lines.append("no night died half-written: nothing to put back")
        elif self.restored:
            lines.append(
                f"night {self.run_id} (started {_when(self.started_at)}) did not finish: the "
                f"database and the models are back as they were before it ({self.snapshot}); "
                "it is recorded as interrupted. Office commands work again; the next "
                "`renkou run` loads that night's files again"
            )
        else:
            lines.append(
                f"night {self.run_id} (started {_when(self.started_at)}) did not finish: the "
                "database is kept as it is (its data may be half-written) and the night is "
                f"recorded as interrupted; the copy from before it stays as {self.snapshot}. "
                "Next: `renkou run --full` rebuilds the person records, links and findings "
                "from everything loaded"
            )
        lines.extend(
            f"run {run_id} did not finish either; recorded as interrupted (no data of it was "
            "half-written: nothing to put back)"
            for run_id in self.settled
        )
        return "\n".join(lines)


def interrupted_message(home: Path, marker: dict[str, Any]) -> str:
    """Why an office command refuses after a night died half-written, and the two ways on."""
    return (
        f"night {marker['run_id']} (started {_when(marker.get('started_at'))}) did not finish "
        f"(process {marker.get('pid', '?')} ended: killed, power cut or out of memory), so the "
        f"database in {home} may be half-written and nothing may change it or read from it. "
        f"Fix: `renkou --home {home} recover` (puts the database back as it was before that "
        "night; nothing done since is lost, commands were refused), then retry; or rerun the "
        f"night now with `renkou --home {home} run --inbox DIR`"
    )


def _refuse_lost_work(home: Path, marker: dict[str, Any]) -> None:
    work = work_since(home, marker)
    if work:
        raise WorkAfterSnapshot(
            f"night {marker['run_id']} (started {_when(marker['started_at'])}) did not "
            "finish, and work was recorded in the database since: "
            + ", ".join(f"{what} {n}" for what, n in work.items())
            + f". Putting back the copy from before that night would lose that work, so "
            f"nothing was changed. Fix: keep the database as it is with `renkou --home "
            f"{home} recover --keep`, then rebuild the night with `renkou --home {home} "
            "run --full --inbox DIR` (the office's work is kept)"
        )


def check_recoverable(home: Path | str) -> None:
    """Before a night starts: refuse now (:class:`WorkAfterSnapshot`) if the night that died
    on ``home`` cannot be put back without losing work. The caller holds the lock."""
    marker = _read_marker(Path(home))
    if marker is not None:
        _refuse_lost_work(Path(home), marker)


def recover(home: Path, *, keep: bool = False) -> Recovery:
    """Deal with the nights that died on ``home``; the caller holds the home's lock.

    A night that died with its data possibly half-written (its marker is there): its snapshot
    is put back, or with ``keep`` the database is kept as it is. Either way the run is recorded
    ``interrupted`` and the marker goes. Runs that died with nothing half-written are recorded
    ``interrupted`` too.

    Raises:
        WorkAfterSnapshot: office work was recorded after the snapshot (a command that did
            not take the lock): putting it back would lose that work. Nothing is changed.
    """
    _remove_partials(home)
    marker = _read_marker(home)
    if marker is None:
        return Recovery(settled=settle(home))
    if not keep:
        _refuse_lost_work(home, marker)
        restore(home, marker)
    with Store(home) as store:
        tables.ensure(store.con, "runs")
        store.con.execute(
            f"UPDATE {RUNS} SET status = 'interrupted', restored = ?, error_class = ?, "
            f"error_message = ? WHERE run_id = ? AND status = 'running'",
            [not keep, "Interrupted", _interrupted_note(not keep), marker["run_id"]],
        )
    (home / MARKER).unlink()
    if keep:
        log.warning("run %s: the database kept as it is, not restored", marker["run_id"])
    return Recovery(
        run_id=str(marker["run_id"]),
        started_at=str(marker.get("started_at")),
        snapshot=str(marker["snapshot"]),
        restored=not keep,
        settled=settle(home),
    )


# ------------------------------------------------------------------ the home's lock
@dataclass
class _Hold:
    """This process's access to a home: the locked lock file (None: access without the lock,
    for ``renkou history`` while another process holds it), what the file says about the
    holder, and the run id of this process's :class:`Night` using it."""

    fd: int | None
    info: dict[str, Any]
    night: str | None = None


#: the homes this process holds, by resolved path (flock is per open file: a second lock
#: from this process would wait for itself)
_HOLDS: dict[Path, _Hold] = {}
_HOLDS_GUARD = threading.Lock()


def _key(home: Path | str) -> Path:
    return Path(home).resolve()


def _now() -> str:
    return dt.datetime.now().isoformat(timespec="seconds")


def _open_lock(home: Path) -> int:
    path = home / LOCK
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except PermissionError:  # made by another account: a lock needs no write access
        return os.open(path, os.O_RDONLY)


def _holder(fd: int) -> dict[str, Any]:
    """What the lock file says about its holder ({} when it says nothing)."""
    try:
        data = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _said(home: Path) -> dict[str, Any]:
    """What ``home``'s lock file says about its holder, read without locking."""
    try:
        fd = os.open(home / LOCK, os.O_RDONLY)
    except OSError:
        return {}
    try:
        return _holder(fd)
    finally:
        os.close(fd)


def _say(fd: int, info: dict[str, Any]) -> None:
    """Write who holds the lock into the lock file (nothing: it is free)."""
    try:
        os.ftruncate(fd, 0)
        if info:
            os.pwrite(fd, json.dumps(info).encode("utf-8"), 0)
    except OSError:  # a lock file this account may not write: the lock holds all the same
        pass


def _alive(pid: object) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another account's process
        return True
    return True


def night_message(home: Path, holder: dict[str, Any]) -> str:
    """Why nothing else may work on ``home`` while the night ``holder`` runs."""
    run = holder.get("run_id") or "starting"
    return (
        f"a nightly run ({run}, since {_when(holder.get('since'))}, process "
        f"{holder.get('pid', '?')}) is working on {home}. Fix: wait for it to finish and "
        "retry (`renkou history` shows it as running)"
    )


def _take(home: Path, info: dict[str, Any], *, wait: float) -> tuple[int, dict[str, Any]]:
    """Lock ``home`` for ``info``'s holder: refuse at once while a night holds it, wait up to
    ``wait`` seconds while a command does. Returns the file and what it said before (a
    holder that died without letting go still says so)."""
    fd = _open_lock(home)
    deadline = time.monotonic() + wait
    said = False
    try:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = _holder(fd)
                if not _alive(holder.get("pid")):
                    holder = {}  # not yet said, or said by a holder that died
                if holder.get("kind") == "night":
                    raise RunInProgress(night_message(home, holder)) from None
                if time.monotonic() >= deadline:
                    raise HomeBusy(
                        f"another renkou command (process {holder.get('pid', '?')}, since "
                        f"{_when(holder.get('since'))}) has been working on {home} for more "
                        f"than {wait:.0f} s. Fix: wait for it to finish and retry"
                    ) from None
                if not said:
                    log.warning(
                        "waiting for another renkou command (process %s) to finish on %s",
                        holder.get("pid", "?"),
                        home,
                    )
                    said = True
                time.sleep(_POLL)
    except BaseException:
        os.close(fd)
        raise
    previous = _holder(fd)
    _say(fd, info)
    return fd, previous


def _give(fd: int) -> None:
    _say(fd, {})  # a holder that ends cleanly leaves the file empty; a dead one does not
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)


@contextlib.contextmanager
def _holding(home: Path, info: dict[str, Any], *, wait: float) -> Iterator[dict[str, Any]]:
    home.mkdir(parents=True, exist_ok=True)
    fd, previous = _take(home, info, wait=wait)
    key = _key(home)
    with _HOLDS_GUARD:
        _HOLDS[key] = _Hold(fd, info)
    try:
        yield previous
    finally:
        with _HOLDS_GUARD:
            _HOLDS.pop(key, None)
        _give(fd)


def holds(home: Path | str) -> bool:
    """Whether this process has arranged its access to ``home`` already."""
    return _key(home) in _HOLDS


@contextlib.contextmanager
def office_guard(home: Path | str) -> Iterator[None]:
    """Hold ``home`` for one office command, for as long as it has the store open.

    Refuses at once while a night works on the home (:class:`RunInProgress`) and while a night
    that died half-written waits for ``renkou recover`` (:class:`NightInterrupted`); waits up
    to :data:`COMMAND_WAIT` seconds for another command (then :class:`HomeBusy`). Records a
    night that died with nothing half-written as ``interrupted``. Inside a process that holds
    the home already (its night, ``renkou run``, ``renkou recover``) it does nothing.
    """
    home = Path(home)
    if holds(home):
        yield
        return
    info = {"kind": "command", "pid": os.getpid(), "since": _now()}
    with _holding(home, info, wait=COMMAND_WAIT) as previous:
        marker = _read_marker(home)
        if marker is not None:
            raise NightInterrupted(interrupted_message(home, marker))
        if previous.get("kind") == "night":  # it died holding the lock, and not half-written
            _remove_partials(home)
            settle(home)
        yield


@contextlib.contextmanager
def holding(home: Path | str, *, night: bool = False) -> Iterator[None]:
    """Hold ``home`` for a whole command that deals with nights: ``renkou run`` (``night``:
    its :class:`Night` uses this lock; it waits up to :data:`NIGHT_WAIT` s for an office
    command) or ``renkou recover``. The store opened inside is not guarded again.

    Raises:
        RunInProgress: a night works on the home.
    """
    info = {"kind": "night" if night else "command", "pid": os.getpid(), "since": _now()}
    with _holding(Path(home), info, wait=NIGHT_WAIT if night else COMMAND_WAIT):
        yield


@dataclass(frozen=True)
class Watch:
    """What :func:`watching` found: whether the home was free (``locked`` by us now), and the
    marker of a night that died half-written."""

    locked: bool
    marker: dict[str, Any] | None


@contextlib.contextmanager
def watching(home: Path | str) -> Iterator[Watch]:
    """Look at ``home`` without waiting for anyone (``renkou history``): holds the lock when
    it is free, and records nights that died with nothing half-written as ``interrupted``;
    while another process holds it, reads alongside (the store may be busy for a moment).
    A home without a database is left untouched."""
    home = Path(home)
    if holds(home) or not (home / DB_FILE).exists():
        yield Watch(False, _read_marker(home) if home.is_dir() else None)
        return
    info = {"kind": "command", "pid": os.getpid(), "since": _now()}
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(_holding(home, info, wait=0))
        except (RunInProgress, HomeBusy):  # a night or a command works: read alongside
            key = _key(home)
            with _HOLDS_GUARD:
                _HOLDS[key] = _Hold(None, {})
            stack.callback(_HOLDS.pop, key, None)
            yield Watch(False, None)
            return
        marker = _read_marker(home)
        _remove_partials(home)
        settle(home)
        yield Watch(True, marker)


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
        self._adopted: dict[str, Any] | None = None  # the lock of `renkou run`, as it said

    # -- lifecycle
    def __enter__(self) -> Night:
        self.home.mkdir(parents=True, exist_ok=True)
        self._lock()
        try:
            self.recovered = recover(self.home).run_id
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
        """The home's lock: the one this process holds for the night already (``renkou run``
        takes it before its Prefect server starts), else its own."""
        info = {"kind": "night", "run_id": self.run_id, "pid": os.getpid(), "since": _now()}
        key = _key(self.home)
        with _HOLDS_GUARD:
            hold = _HOLDS.get(key)
            if hold is not None:
                if hold.night is not None:
                    raise RunInProgress(night_message(self.home, hold.info))
                if hold.fd is None:  # this process reads alongside the holder
                    raise RunInProgress(night_message(self.home, _said(self.home)))
                if hold.info.get("kind") != "night":
                    raise HomeBusy(
                        f"this process holds {self.home} for a command, not for a night. "
                        "Fix: start the night from its own command (`renkou run`)"
                    )
                self._adopted, hold.info, hold.night = hold.info, info, self.run_id
                _say(hold.fd, info)
                return
        fd, _ = _take(self.home, info, wait=NIGHT_WAIT)
        with _HOLDS_GUARD:
            _HOLDS[key] = _Hold(fd, info, night=self.run_id)
        self._lock_fd = fd

    def _unlock(self) -> None:
        key = _key(self.home)
        if self._adopted is not None:
            with _HOLDS_GUARD:
                hold = _HOLDS.get(key)
                if hold is not None and hold.fd is not None:
                    hold.info, hold.night = self._adopted, None
                    _say(hold.fd, hold.info)
            self._adopted = None
        if self._lock_fd is not None:
            with _HOLDS_GUARD:
                _HOLDS.pop(key, None)
            _give(self._lock_fd)
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
