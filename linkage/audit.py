"""Append-only audit log, chained by hash: who exported or imported what, when, which file.

One JSON object per line in ``<home>/audit/audit.jsonl``. Each entry stores the hash of the
entry before it (``prev_hash``; the first stores :data:`GENESIS`) and its own ``hash`` =
SHA-256 of the canonical JSON (sorted keys, no spaces, UTF-8) of the entry without ``hash``.
Editing, inserting or deleting a line breaks the chain from that line on; ``audit.head`` (the
last ``seq`` and ``hash``) catches a truncated tail. A plain file is easy to ship to a
write-once store, which is what makes the chain trustworthy against someone who can rewrite
the whole file.

Entries carry counts, file names and file hashes — never a name or an ID number.

Example::

    log = AuditLog.for_home(home)
    log.append("tasks.export", operator="wangli", details={"tasks": 12, "files": [...]})
    assert log.verify().ok
"""

from __future__ import annotations

import datetime as dt
import fcntl
import getpass
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkage.ingest.readers import file_hash as file_sha256  # noqa: F401  (re-exported: one file hash everywhere)

AUDIT_DIR = "audit"
LOG_FILE = "audit.jsonl"
HEAD_FILE = "audit.head"
GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    """The bytes an entry's hash is taken over."""
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def default_operator() -> str:
    """``$RENKOU_OPERATOR``, else the OS user."""
    return os.environ.get("RENKOU_OPERATOR") or getpass.getuser()


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad: int | None = None  # line number (1-based) of the first bad entry
    reason: str = ""

    def describe(self) -> str:
        if self.ok:
            return f"audit log intact: {self.entries} entries, chain verified"
        return f"audit log BROKEN at line {self.first_bad}: {self.reason}"


class AuditLog:
    """The audit log of one renkou home."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(HEAD_FILE)

    @classmethod
    def for_home(cls, home: Path | str) -> AuditLog:
        return cls(Path(home) / AUDIT_DIR / LOG_FILE)

    def _last(self) -> tuple[int, str]:
        last_line = b""
        if self.path.exists():
            with self.path.open("rb") as handle:
                for line in handle:
                    if line.strip():
                        last_line = line
        if not last_line:
            return 0, GENESIS
        entry = json.loads(last_line)
        return int(entry["seq"]), str(entry["hash"])

    def append(self, action: str, *, operator: str, details: dict[str, Any]) -> dict[str, Any]:
        """Append one entry (under an exclusive file lock) and return it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                seq, prev = self._last()
                entry: dict[str, Any] = {
                    "seq": seq + 1,
                    "time": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
                    "action": action,
                    "operator": operator,
                    "details": details,
                    "prev_hash": prev,
                }
                entry["hash"] = entry_hash(entry)
                handle.write(canonical(entry).decode("utf-8") + "\n")
                handle.flush()
                os.fsync(handle.fileno())
                self.head_path.write_text(
                    json.dumps({"seq": entry["seq"], "hash": entry["hash"]}) + "\n", "utf-8"
                )
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return entry

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [
            json.loads(line) for line in self.path.read_text("utf-8").splitlines() if line.strip()
        ]

    def verify(self) -> Verification:
        """Walk the chain; the first entry that does not fit is named by its line number."""
        if not self.path.exists():
            if self.head_path.exists():
                return Verification(
                    False, 0, 1, f"{self.path.name} is missing but {HEAD_FILE} records entries"
                )
            return Verification(True, 0)
        prev, count = GENESIS, 0
        lines = self.path.read_text("utf-8").splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                return Verification(False, count, number, "not valid JSON")
            if not isinstance(entry, dict):
                return Verification(False, count, number, "not a JSON object")
            seq = entry.get("seq")
            if seq != count + 1:
                return Verification(
                    False,
                    count,
                    number,
                    f"seq {seq} where {count + 1} was expected (an entry was deleted or inserted)",
                )
            if entry.get("prev_hash") != prev:
                return Verification(
                    False,
                    count,
                    number,
                    f"seq {seq}: prev_hash does not match the entry before (deleted or reordered)",
                )
            if entry.get("hash") != entry_hash(entry):
                return Verification(
                    False, count, number, f"seq {seq}: content does not match its hash (edited)"
                )
            prev, count = entry["hash"], count + 1
        return self._check_head(count, prev, len(lines))

    def _check_head(self, count: int, last_hash: str, lines: int) -> Verification:
        if not self.head_path.exists():
            return Verification(True, count)
        try:
            head = json.loads(self.head_path.read_text("utf-8"))
        except ValueError:
            return Verification(False, count, lines + 1, f"{HEAD_FILE} is not valid JSON")
        if head.get("seq") != count or head.get("hash") != last_hash:
            return Verification(
                False,
                count,
                lines + 1,
                f"{HEAD_FILE} records seq {head.get('seq')} but the log ends "
                f"at seq {count} (entries removed from the end)",
            )
        return Verification(True, count)
