"""Originals kept: a read-only copy of every file renkou takes in, named by its SHA-256.

The county plans require that no original material be lost. Every delivered inbox file
(``inbox``: loaded or rejected, every file the load ledger lists), every returned township
workbook imported (``tasks``) and every 协查 file imported (``exchange``: the file as read,
i.e. the CSV inside an encrypted package) is copied to::

    HOME/archive/<kind>/<YYYY>/<sha256>.<ext>

``YYYY`` is the year it was first archived; the name is the SHA-256 that the ledgers record
(``load_ledger``, ``task_imports``, ``exchange_files``: ``file_hash``), so the original of any
ledger row is found by its hash, and the same content is stored once whatever it was called.
The copy is written under a temporary name, checked against the hash while it is written,
made read-only (mode 0400) and renamed into place: a copy that exists is complete. A file
archived before is not copied again. ``archived_files`` lists every copy with the name it
came with.

The archive holds personal data like the database beside it: it is part of the home, backed
up and protected with it. Nothing here is logged but file names, kinds and hashes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
from pathlib import Path

from linkage import tables
from linkage.errors import FileProblem
from linkage.store import Store

log = logging.getLogger(__name__)

ARCHIVE_DIR = "archive"
KINDS = ("inbox", "tasks", "exchange", "review")
#: read-only for the account that archived it
MODE = 0o400


def keep(store: Store, kind: str, path: Path, digest: str) -> Path:
    """The archived copy of ``path`` (whose SHA-256 is ``digest``), made if there is none.

    Raises:
        FileProblem: the file changed while it was copied (its bytes no longer hash to
            ``digest``): nothing is archived.
        OSError: the archive cannot be written (disk full, permissions): the import stops.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown archive kind {kind!r}")
    tables.ensure(store.con, "archive")
    recorded = store.scalar(
        f"SELECT path FROM {tables.ARCHIVED_FILES} WHERE kind = ? AND file_hash = ?",
        [kind, digest],
    )
    if recorded is not None and (store.home / recorded).is_file():
        return store.home / recorded
    folder = store.home / ARCHIVE_DIR / kind
    name = digest + path.suffix.lower()
    # a copy whose row was rolled back with its ingest, or a row whose year folder was moved
    found = sorted(folder.glob(f"*/{name}"))
    target = found[0] if found else folder / f"{dt.date.today():%Y}" / name
    if not found:
        _copy(path, target, digest)
        log.info("archived %s as %s/%s", path.name, kind, name)
    store.con.execute(
        f"""INSERT INTO {tables.ARCHIVED_FILES} (kind, file_hash, path, file, bytes)
            VALUES (?, ?, ?, ?, ?)
            ON CONFLICT (kind, file_hash) DO UPDATE SET path = excluded.path""",
        [kind, digest, target.relative_to(store.home).as_posix(), path.name, target.stat().st_size],
    )
    return target


def _copy(path: Path, target: Path, digest: str) -> None:
    """Copy ``path`` to ``target`` atomically, read-only, checking the bytes against
    ``digest`` as they are written; the modification time is the original's."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        sha = hashlib.sha256()
        with path.open("rb") as src, os.fdopen(fd, "wb") as out:
            for block in iter(lambda: src.read(1 << 20), b""):
                sha.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        if sha.hexdigest() != digest:
            raise FileProblem(
                path.name,
                "the file changed while it was read (still being written?)",
                "import it again once it is complete",
            )
        stat = path.stat()
        os.utime(partial, ns=(stat.st_atime_ns, stat.st_mtime_ns))
        os.chmod(partial, MODE)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)


def archived_path(store: Store, kind: str, digest: str) -> Path | None:
    """Where the original with SHA-256 ``digest`` is kept, or None."""
    if not store.has_table(tables.ARCHIVED_FILES):
        return None
    recorded = store.scalar(
        f"SELECT path FROM {tables.ARCHIVED_FILES} WHERE kind = ? AND file_hash = ?",
        [kind, digest],
    )
    return store.home / recorded if recorded is not None else None
