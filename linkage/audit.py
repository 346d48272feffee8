"""Append-only audit log, chained by keyed hash: who did what, when, to which file.

One JSON object per line in ``<home>/audit/audit.jsonl``. Each entry stores the hash of the
entry before it (``prev_hash``; the first stores :data:`GENESIS`) and its own ``hash``: an
HMAC-SHA256, under the office's audit key (:mod:`linkage.keys`, held outside the home), of
the canonical JSON (sorted keys, no spaces, UTF-8) of the entry without ``hash``. Without a
key the hash is a plain SHA-256 (``"mac": "sha256"``) and ``audit verify`` says so: anyone
who can write the file can recompute a plain chain, not a keyed one.

Editing, inserting or deleting a line breaks the chain from that line on. The tail is
anchored twice: ``audit.head`` (the last ``seq`` and ``hash``) and the ``audit_anchor`` table
of the database, which every store that closes brings up to date; so a truncated log, or a
deleted audit folder, no longer verifies. :func:`cross_check` finds export and import
records of the database (by file hash) that have no entry.

Entries carry the OS account and its registered name and role, counts, file names and file
hashes — never a name or an ID number of the population.

Example::

    log = AuditLog.for_home(home)
    log.append("tasks.export", details={"tasks": 12, "files": [...]})
    assert log.verify().ok
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from linkage import keys
from linkage.errors import ConfigError
from linkage.ingest.readers import file_hash as file_sha256  # noqa: F401  (re-exported: one file hash everywhere)

if TYPE_CHECKING:
    from linkage.store import Store

AUDIT_DIR = "audit"
LOG_FILE = "audit.jsonl"
HEAD_FILE = "audit.head"
GENESIS = "0" * 64


def canonical(entry: dict[str, Any]) -> bytes:
    """The bytes an entry's hash is taken over."""
    return json.dumps(entry, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode(
        "utf-8"
    )


KEYED, PLAIN = "hmac-sha256", "sha256"
#: how long entries must be kept (the Cybersecurity Law: network logs ≥ 6 months)
RETENTION_DAYS = 183


def entry_hash(entry: dict[str, Any], key: bytes | None = None) -> str:
    """The hash of ``entry`` (without its ``hash``): keyed when the entry says it is."""
    body = canonical({k: v for k, v in entry.items() if k != "hash"})
    if entry.get("mac") == KEYED:
        if key is None:
            raise ConfigError(
                f"the audit log is keyed and no key is set. Fix: {keys.missing('audit')}"
            )
        return hmac.new(key, body, hashlib.sha256).hexdigest()
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad: int | None = None  # line number (1-based) of the first bad entry
    reason: str = ""
    keyed: bool = True
    warnings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        if self.ok:
            kind = "keyed chain verified" if self.keyed else "plain chain verified (NOT keyed)"
            return f"audit log intact: {self.entries} entries, {kind}"
        return f"audit log BROKEN at line {self.first_bad}: {self.reason}"


class AuditLog:
    """The audit log of one renkou home."""

    def __init__(self, path: Path, key: bytes | None = None) -> None:
        self.path = Path(path)
        self.head_path = self.path.with_name(HEAD_FILE)
        self.key = key

    @classmethod
    def for_home(cls, home: Path | str) -> AuditLog:
        """The log of ``home``, with the office's audit key when one is set."""
        return cls(Path(home) / AUDIT_DIR / LOG_FILE, keys.key("audit", home))

    def _last(self) -> dict[str, Any] | None:
        last_line = b""
        if self.path.exists():
            with self.path.open("rb") as handle:
                for line in handle:
                    if line.strip():
                        last_line = line
        return json.loads(last_line) if last_line else None

    def append(self, action: str, *, details: dict[str, Any]) -> dict[str, Any]:
        """Append one entry (under an exclusive file lock) and return it. The operator is the
        OS account of this process (:func:`linkage.operators.current_account`), whatever a
        caller or the environment says.

        Raises:
            ConfigError: the log is keyed and no audit key is set (an unkeyed entry would
                weaken the chain).
        """
        from linkage.operators import current_account, load
        from linkage.store import owner_only

        account = current_account()
        registered = (load(self.path.parent.parent) or {}).get(account)
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        owner_only(self.path.parent, 0o700)
        owner_only(self.path)  # a log from before 0600 was the rule
        with self.path.open("a", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                last = self._last()
                if last is not None and last.get("mac") == KEYED and self.key is None:
                    raise ConfigError(
                        f"the audit log of {self.path.parent.parent} is keyed and no audit key "
                        f"is set, so this entry was not written. Fix: {keys.missing('audit')}"
                    )
                entry: dict[str, Any] = {
                    "seq": int(last["seq"]) + 1 if last else 1,
                    "time": dt.datetime.now(dt.UTC).astimezone().isoformat(timespec="seconds"),
                    "action": action,
                    "operator": account,
                    "name": registered.name if registered else None,
                    "role": registered.role if registered else None,
                    "details": details,
                    "prev_hash": str(last["hash"]) if last else GENESIS,
                    "mac": KEYED if self.key else PLAIN,
                }
                entry["hash"] = entry_hash(entry, self.key)
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

    def require_key(self) -> None:
        """Refuse before any work when the log is keyed and no key is set: the command's
        entry could not be written afterwards.

        Raises:
            ConfigError: the log is keyed and no audit key is set.
        """
        if self.key is None and (self._last() or {}).get("mac") == KEYED:
            raise ConfigError(
                f"the audit log of {self.path.parent.parent} is keyed and no audit key is set, "
                f"so nothing was done. Fix: {keys.missing('audit')}"
            )

    def since(self, day: dt.date | None = None) -> list[dict[str, Any]]:
        """The entries from ``day`` on (all without one)."""
        if day is None:
            return self.entries()
        return [e for e in self.entries() if str(e.get("time", ""))[:10] >= day.isoformat()]

    def verify(self, anchor: tuple[int, str] | None = None) -> Verification:
        """Walk the chain; the first entry that does not fit is named by its line number.
        ``anchor`` (seq, hash), as the database recorded it, must be an entry of the chain."""
        if not self.path.exists():
            if self.head_path.exists() or (anchor and anchor[0] > 0):
                return Verification(
                    False,
                    0,
                    1,
                    f"{self.path.name} is missing but "
                    f"{HEAD_FILE if self.head_path.exists() else 'the database'} records entries "
                    "(the log was deleted)",
                )
            return Verification(True, 0, keyed=self.key is not None)
        prev, count, keyed_seen, plain_seen = GENESIS, 0, False, False
        hashes: dict[int, str] = {}
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
            if entry.get("mac") == KEYED:
                if self.key is None:
                    return Verification(
                        False,
                        count,
                        number,
                        f"seq {seq} is keyed and no audit key is set. Fix: {keys.missing('audit')}",
                    )
                keyed_seen = True
            elif keyed_seen:
                return Verification(
                    False, count, number, f"seq {seq}: an unkeyed entry after keyed ones (forged)"
                )
            else:
                plain_seen = True
            if not hmac.compare_digest(str(entry.get("hash")), entry_hash(entry, self.key)):
                return Verification(
                    False, count, number, f"seq {seq}: content does not match its hash (edited)"
                )
            prev, count = entry["hash"], count + 1
            hashes[count] = prev
        if anchor is not None and anchor[0] > 0 and hashes.get(anchor[0]) != anchor[1]:
            return Verification(
                False,
                count,
                len(lines) + 1,
                f"the database records entry seq {anchor[0]}, which the log "
                f"{'does not have' if anchor[0] not in hashes else 'holds with another hash'} "
                "(entries removed or the log replaced)",
            )
        result = self._check_head(count, prev, len(lines))
        warnings = []
        if plain_seen:
            warnings.append(
                "entries before the key was set are plain SHA-256: anyone who can write the "
                f"file could recompute them. Fix for the future: {keys.missing('audit')}"
                if keyed_seen
                else f"the chain is not keyed. Fix: {keys.missing('audit')}"
            )
        return Verification(
            result.ok,
            result.entries,
            result.first_bad,
            result.reason,
            not plain_seen or keyed_seen,
            warnings,
        )

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


# ------------------------------------------------------------------ configuration changes
CONFIG_SEEN = "config.sha256"


def note_config(home: Path | str) -> dict[str, Any] | None:
    """An entry ``config.change`` when the settings files of ``home`` (``HOME/config`` and
    ``$RENKOU_CONFIG``) differ from what the log last saw: which files, their hashes. Returns
    the entry, or None when nothing changed."""
    from linkage.settings import config_layers

    files: dict[str, str] = {}
    for layer in config_layers(Path(home))[1:]:  # the package's own files ship with a release
        for path in sorted(Path(str(layer)).rglob("*.toml")):
            files[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    seen_path = Path(home) / AUDIT_DIR / CONFIG_SEEN
    try:
        seen = json.loads(seen_path.read_text("utf-8"))
    except (OSError, ValueError):
        seen = {}
    if seen == files:
        return None
    changed = sorted(k for k in set(files) | set(seen) if files.get(k) != seen.get(k))
    entry = AuditLog.for_home(home).append(
        "config.change",
        details={"files": [{"file": k, "sha256": files.get(k)} for k in changed]},
    )
    seen_path.write_text(json.dumps(files, indent=1), "utf-8")
    return entry


# ------------------------------------------------------------------ anchored in the database
def anchor(store: Store) -> None:
    """Record the log's head in the database (``audit_anchor``), when it moved on."""
    from linkage import tables

    path = Path(store.home) / AUDIT_DIR / HEAD_FILE
    if not path.exists():
        return
    try:
        recorded = json.loads(path.read_text("utf-8"))
        seq, hash_ = int(recorded["seq"]), str(recorded["hash"])
    except (ValueError, KeyError, TypeError):
        return  # verify names a broken head; the anchor keeps the last good one
    tables.ensure(store.con, "audit")
    current = store.scalar(f"SELECT max(seq) FROM {tables.AUDIT_ANCHOR}")
    if current is None or seq > current:
        store.con.execute(
            f"INSERT INTO {tables.AUDIT_ANCHOR} VALUES (?, ?, current_timestamp)", [seq, hash_]
        )


def recorded_anchor(store: Store) -> tuple[int, str] | None:
    """The newest head the database recorded, or None."""
    from linkage import tables

    if not store.has_table(tables.AUDIT_ANCHOR):
        return None
    row = store.con.sql(
        f"SELECT seq, hash FROM {tables.AUDIT_ANCHOR} ORDER BY seq DESC LIMIT 1"
    ).fetchall()
    return (int(row[0][0]), str(row[0][1])) if row else None


_HASH = re.compile(r"^[0-9a-f]{64}$")

#: the database's records of files that left or entered the office: table → hash column
AUDITED_FILES = {
    "load_ledger": "file_hash",
    "task_assignments": "file_hash",
    "task_imports": "file_hash",
    "change_list_entries": "file_hash",
    "exchange_files": "file_hash",
    "quarantine_returns": "file_hash",
    "review_exports": "file_hash",
    "review_imports": "file_hash",
}


def _hashes(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(_hashes(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_hashes(v) for v in value)) if value else set()
    return {value} if isinstance(value, str) and _HASH.match(value) else set()


def cross_check(store: Store, entries: list[dict[str, Any]]) -> list[str]:
    """Files the database records as exported or imported that no audit entry names (by
    SHA-256): one line per table, with the count."""
    named = _hashes([e.get("details") for e in entries])
    problems = []
    for table, column in AUDITED_FILES.items():
        if not store.has_table(table):
            continue
        hashes = {
            str(h)
            for (h,) in store.con.sql(
                f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
            ).fetchall()
        }
        missing = hashes - named
        if missing:
            problems.append(
                f"{table}: {len(missing)} file(s) recorded in the database have no audit entry"
            )
    return problems
