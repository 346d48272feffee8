"""Who may run what: the home's registry of real-name operators, keyed by OS account.

The cleanup plan asks for real-name accounts (实名) and a log of every operation. Identity
comes from the operating system (the effective user id of the process, never a name typed on
the command line or an environment variable), and ``HOME/operators.json`` (owner-only)
maps each OS account to a real name, a role and, for township staff, the township:

``admin``     everything, including operators, recovery and record versions
``analyst``   linkage, review, exports, task lists and answers, 协查, figures
``township``  the task lists and answers of its own township, and the figures
``service``   the scheduled night (ingest, link, findings, outputs) and 协查 files

Every command that reads personal data or changes state calls :func:`authorise` with its
action; an account that is not registered, or whose role does not allow the action, is
refused with the fix, and the refusal is an entry of the audit log. The account that creates
a home (``renkou init``, or the first command on a new home) is its first admin; a home made
before the registry existed gets its owner as first admin on first use.

Example::

    operator = authorise(home, "tasks.export")
    if operator.township: ...  # a township operator exports only its township
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pwd
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from linkage.errors import RenkouError

REGISTRY = "operators.json"
ROLES = ("admin", "analyst", "township", "service")

_ALL = frozenset(ROLES)
_OFFICE = frozenset({"admin", "analyst"})
_NIGHT = frozenset({"admin", "analyst", "service"})

#: action → roles allowed. Actions are the commands' names (``renkou tasks export`` →
#: ``tasks.export``); a command not listed here reads no personal data and changes nothing.
PERMISSIONS: dict[str, frozenset[str]] = {
    "ingest": _NIGHT,
    "link": _NIGHT,
    "findings": _NIGHT,
    "run": _NIGHT,
    "serve": frozenset({"admin", "service"}),
    "recover": frozenset({"admin", "service"}),
    "history": _ALL,
    "report": _NIGHT,
    "figures": _ALL,
    "bulletin": _NIGHT,
    "evaluate": _OFFICE,
    "review.export": _OFFICE,
    "review.import": _OFFICE,
    "export.links": _OFFICE,
    "export.findings": _OFFICE | {"township"},
    "tasks.export": _NIGHT | {"township"},
    "tasks.import": _OFFICE | {"township"},
    "tasks.status": _ALL,
    "tasks.changes": _OFFICE,
    "exchange.export": _NIGHT,
    "exchange.import": _OFFICE,
    "exchange.answers": _NIGHT,
    "exchange.status": _OFFICE,
    "audit.show": frozenset({"admin"}),
    "audit.verify": frozenset({"admin"}),
    "operators.list": frozenset({"admin"}),
    "operators.change": frozenset({"admin"}),
    "records.versions": frozenset({"admin"}),
    "quarantine.export": _NIGHT,
    "quarantine.status": _OFFICE,
    "quarantine.confirm": _OFFICE,
    "db.encrypt": frozenset({"admin"}),
    "model.check": _OFFICE,
}


@dataclass(frozen=True)
class Operator:
    """One registered OS account."""

    account: str
    name: str
    role: str
    township: str | None = None
    added_at: str = ""
    added_by: str = ""

    def describe(self) -> str:
        where = f", {self.township}" if self.township else ""
        return f"{self.account} ({self.name}, {self.role}{where})"


class AccessRefused(RenkouError):
    """The OS account is not registered, or its role does not allow the command."""


def current_account() -> str:
    """The OS account of this process (its effective uid): not ``$USER``, which anyone sets."""
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # a uid without a passwd entry (some containers)
        return f"uid{os.geteuid()}"


def _path(home: Path) -> Path:
    return Path(home) / REGISTRY


def load(home: Path | str) -> dict[str, Operator] | None:
    """The registry by account, or None when the home has none yet."""
    path = _path(Path(home))
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text("utf-8"))
        return {o["account"]: Operator(**o) for o in data["operators"]}
    except (ValueError, KeyError, TypeError):
        raise RenkouError(
            f"{path} is not a registry renkou wrote. Fix: restore it from the backup (changes "
            "to operators are in the audit log: renkou audit show)"
        ) from None


def _save(home: Path, registry: dict[str, Operator]) -> None:
    path = _path(home)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(
            {"operators": [asdict(o) for o in registry.values()]},
            handle,
            ensure_ascii=False,
            indent=1,
        )
    os.replace(partial, path)


def _audit(home: Path, action: str, details: dict[str, Any]) -> None:
    from linkage.audit import AuditLog

    AuditLog.for_home(home).append(action, details=details)


def bootstrap(home: Path | str) -> Operator | None:
    """Register the account that owns ``home`` (created here, owner-only, when new) as its
    first admin when the home has no registry yet and this process runs as that account.
    Returns the new admin, or None."""
    from linkage.store import private_home

    home = Path(home)
    if load(home) is not None:
        return None
    private_home(home)
    account = current_account()
    if home.stat().st_uid != os.geteuid():
        return None
    first = Operator(
        account, account, "admin", added_at=_now(), added_by="(the home's owner, first use)"
    )
    _save(home, {account: first})
    _audit(home, "operators.add", {"account": account, "role": "admin", "first": True})
    return first


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


def authorise(home: Path | str, action: str) -> Operator:
    """The operator running ``action`` on ``home``.

    Raises:
        AccessRefused: the account is not registered or its role does not allow ``action``
            (the refusal is written to the audit log first).
    """
    home = Path(home)
    allowed = PERMISSIONS[action]
    registry = load(home)
    if registry is None:
        bootstrap(home)
        registry = load(home) or {}
    account = current_account()
    operator = registry.get(account)
    if operator is None:
        _audit(home, "access.refused", {"account": account, "command": action, "why": "unknown"})
        raise AccessRefused(
            f"the OS account {account!r} is not a registered operator of {home}. Fix: an "
            f"admin runs `renkou --home {home} operators add --account {account} --name 姓名 "
            "--role analyst` (or township --township 乡镇, or service)"
        )
    from linkage.audit import AuditLog, note_config

    AuditLog.for_home(home).require_key()  # every command's entry can be written
    note_config(home)  # a changed setting is an entry before anything runs on it
    if operator.role not in allowed:
        _audit(
            home,
            "access.refused",
            {"account": account, "command": action, "why": f"role {operator.role}"},
        )
        raise AccessRefused(
            f"{operator.describe()} may not run `{action.replace('.', ' ')}` (allowed: "
            f"{', '.join(r for r in ROLES if r in allowed)}). Fix: ask an admin to change the "
            "role, or have someone with that role run it"
        )
    return operator


def add(
    home: Path | str, *, account: str, name: str, role: str, township: str | None = None
) -> Operator:
    """Register ``account`` (or change its entry). The caller has been authorised."""
    home = Path(home)
    if role not in ROLES:
        raise RenkouError(f"role {role!r}. Fix: one of {', '.join(ROLES)}")
    if (role == "township") != bool(township):
        raise RenkouError(
            "a township operator needs --township and the other roles none. Fix: "
            "--role township --township 乡镇名, or drop --township"
        )
    if not account.strip() or not name.strip():
        raise RenkouError("the account and the real name must not be empty. Fix: pass both")
    try:
        pwd.getpwnam(account)
    except KeyError:
        raise RenkouError(
            f"there is no OS account {account!r} on this machine. Fix: create it first "
            "(useradd), then register it"
        ) from None
    registry = load(home) or {}
    entry = Operator(
        account, name.strip(), role, township, added_at=_now(), added_by=current_account()
    )
    changed = account in registry
    registry[account] = entry
    _require_admin(registry)
    _save(home, registry)
    _audit(
        home,
        "operators.change" if changed else "operators.add",
        {"account": account, "role": role, "township": township},
    )
    return entry


def remove(home: Path | str, account: str) -> None:
    """Remove ``account``; the last admin cannot be removed."""
    home = Path(home)
    registry = load(home) or {}
    if account not in registry:
        raise RenkouError(f"{account!r} is not registered. Fix: see renkou operators list")
    del registry[account]
    _require_admin(registry)
    _save(home, registry)
    _audit(home, "operators.remove", {"account": account})


def _require_admin(registry: dict[str, Operator]) -> None:
    if not any(o.role == "admin" for o in registry.values()):
        raise RenkouError(
            "that would leave the home without an admin. Fix: register another admin first"
        )
