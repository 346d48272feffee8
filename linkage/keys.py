"""The office's secret keys: where they come from, and that they never sit in the home.

Three keys, each optional and each read the same way:

``db``        encrypts the DuckDB database and its snapshots at rest (``linkage.store``)
``audit``     keys the audit log's hash chain (HMAC-SHA256, ``linkage.audit``)
``exchange``  packages 协查 files as AES-256 zips (``linkage.exchange.files``)
``outbox``    packages the township task lists as AES-256 zips (``linkage.tasks.export``)

A key is ``$RENKOU_<KIND>_KEY`` (the key itself, e.g. from a service manager's credential
store), else the file named by ``$RENKOU_<KIND>_KEY_FILE``, else the file named by
``[security] <kind>_key_file`` in the home's ``renkou.toml``. A key file must lie outside the
home (a copied or backed-up home must not carry its key) and be readable by its owner only.
The key never appears on a command line, in a settings file or in a message.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Literal

from linkage.errors import ConfigError

Kind = Literal["db", "audit", "exchange", "outbox"]

#: what each key protects, for messages
PURPOSE = {
    "db": "the database encryption key",
    "audit": "the audit log key",
    "exchange": "the 协查 packaging key",
    "outbox": "the task-list packaging key",
}


def env_names(kind: Kind) -> tuple[str, str]:
    """The two environment variables of ``kind``: the key, and a file holding it."""
    return f"RENKOU_{kind.upper()}_KEY", f"RENKOU_{kind.upper()}_KEY_FILE"


def _configured_file(kind: Kind, home: Path | None) -> str | None:
    if home is None:
        return None
    from linkage.settings import load_settings

    named = load_settings(home).key_files.get(kind)
    return str(named) if named else None


def key(kind: Kind, home: Path | str | None) -> bytes | None:
    """The key of ``kind``, or None when none is set.

    Raises:
        ConfigError: the named key file is missing, empty, inside the home, or readable by
            other accounts.
    """
    value_env, file_env = env_names(kind)
    if os.environ.get(value_env):
        return os.environ[value_env].encode("utf-8")
    named = os.environ.get(file_env)
    where = file_env
    if not named:
        named, where = _configured_file(kind, Path(home) if home else None), "[security]"
    if not named:
        return None
    path = Path(named).expanduser().resolve()
    if home is not None and path.is_relative_to(Path(home).resolve()):
        raise ConfigError(
            f"{where} names a key file inside the home for {PURPOSE[kind]}. Fix: keep the key "
            "file outside the home (a copied or backed-up home must not carry its key)"
        )
    if not path.is_file() or not path.read_bytes().strip():
        raise ConfigError(
            f"{where} names no file holding {PURPOSE[kind]} ({path}). Fix: point it at one"
        )
    if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"the key file {path} can be read by other accounts. Fix: chmod 600 {path}"
        )
    return path.read_bytes().strip()


def missing(kind: Kind) -> str:
    """How to provide the key of ``kind`` (for the message of a command that needs it)."""
    value_env, file_env = env_names(kind)
    return (
        f"set {file_env} to a file outside the home holding {PURPOSE[kind]} (mode 600), or "
        f"{value_env}, or name the file in [security] {kind}_key_file of renkou.toml"
    )
