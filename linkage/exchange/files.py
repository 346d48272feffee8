"""Exchange files that leave the office: written all or nothing, and packaged encrypted.

The plans require 协查 data to travel encrypted (加密压缩). With a key, every file goes into an
AES-256 zip of the same name (``协查_…_202606.zip``, WinZip AES, which 7-Zip and WinRAR open);
the key comes from ``$RENKOU_EXCHANGE_KEY``, or from the file named by
``$RENKOU_EXCHANGE_KEY_FILE``, which must lie outside the home. The key never appears on a
command line, in a settings file or in a log. Without a key the files are written plain and
the command warns how to set one.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path

import polars as pl

from linkage import keys
from linkage.audit import file_sha256
from linkage.exports import write_csv
from linkage.sealed import seal

KEY_ENV, KEY_FILE_ENV = keys.env_names("exchange")
#: what the commands say when files go out plain
NO_KEY_WARNING = (
    f"the 协查 files are written unencrypted. Fix: set {KEY_ENV} (a passphrase agreed with the "
    f"counterpart counties) or {KEY_FILE_ENV} (a file outside the home holding it); the files "
    "then go out as AES-256 zip packages"
)


def exchange_key(home: Path | None) -> bytes | None:
    """The packaging key, or None when none is set (:func:`linkage.keys.key`).

    Raises:
        ConfigError: the key file is missing, empty, inside the home or readable by others.
    """
    return keys.key("exchange", home)


def write_all_or_nothing(
    files: dict[Path, pl.DataFrame],
    record: Callable[[dict[Path, str]], None],
    key: bytes | None = None,
) -> dict[Path, str]:
    """Write every frame of ``files`` as a CSV (:func:`linkage.exports.write_csv`), packaged
    in an AES zip when ``key`` is given, under a temporary name; call ``record`` with each
    file's SHA-256; then give the files their names. Returns final path → SHA-256 (the
    ``.zip`` when packaged).
    If writing or recording fails, the temporary files are removed and nothing is left."""
    staged: dict[Path, Path] = {}
    hashes: dict[Path, str] = {}
    try:
        for path, frame in files.items():
            final = path.with_suffix(".zip") if key else path
            temporary = final.with_name(final.name + ".part")
            staged[final] = temporary
            if key:
                _package(frame, path.name, temporary, key)
            else:
                write_csv(frame, temporary)
            hashes[final] = file_sha256(temporary)
        record(hashes)
    except BaseException:
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)
        raise
    for final, temporary in staged.items():
        os.replace(temporary, final)
    return hashes


def _package(frame: pl.DataFrame, name: str, path: Path, key: bytes) -> None:
    data = io.BytesIO()
    write_csv(frame, data)
    seal(data.getvalue(), name, path, key)
