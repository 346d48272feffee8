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
import pyzipper

from linkage.audit import file_sha256
from linkage.errors import ConfigError, FileProblem
from linkage.exports import write_csv

KEY_ENV = "RENKOU_EXCHANGE_KEY"
KEY_FILE_ENV = "RENKOU_EXCHANGE_KEY_FILE"
#: what the commands say when files go out plain
NO_KEY_WARNING = (
    f"the 协查 files are written unencrypted. Fix: set {KEY_ENV} (a passphrase agreed with the "
    f"counterpart counties) or {KEY_FILE_ENV} (a file outside the home holding it); the files "
    "then go out as AES-256 zip packages"
)


def exchange_key(home: Path | None) -> bytes | None:
    """The packaging key, or None when none is set.

    Raises:
        ConfigError: the key file is missing, empty, or inside the home.
    """
    if os.environ.get(KEY_ENV):
        return os.environ[KEY_ENV].encode("utf-8")
    named = os.environ.get(KEY_FILE_ENV)
    if not named:
        return None
    path = Path(named).expanduser().resolve()
    if home is not None and path.is_relative_to(Path(home).resolve()):
        raise ConfigError(
            f"{KEY_FILE_ENV} names a file inside the home. Fix: keep the key file outside "
            "the home (a copied or backed-up home must not carry its key)"
        )
    if not path.is_file() or not path.read_bytes().strip():
        raise ConfigError(f"{KEY_FILE_ENV} names no file holding a key. Fix: point it at one")
    return path.read_bytes().strip()


def write_all_or_nothing(
    files: dict[Path, pl.DataFrame],
    record: Callable[[dict[Path, str]], None],
    key: bytes | None = None,
) -> dict[Path, str]:
    """Write every frame of ``files`` as a CSV (UTF-8 with a BOM), packaged in an AES zip when
    ``key`` is given, under a temporary name; call ``record`` with each file's SHA-256; then
    give the files their names. Returns final path → SHA-256 (the ``.zip`` when packaged).
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
    frame.write_csv(data, include_bom=True)
    with pyzipper.AESZipFile(
        path, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as package:
        package.setpassword(key)
        package.setencryption(pyzipper.WZ_AES, nbits=256)
        package.writestr(name, data.getvalue())


def unpack(path: Path, key: bytes | None, into: Path) -> list[Path]:
    """The files inside an encrypted package, extracted into ``into``.

    Raises:
        FileProblem: no key is set, the key is wrong, or the package is unreadable.
    """
    if key is None:
        raise FileProblem(path.name, "an encrypted package", f"set {KEY_ENV} to the agreed key")
    try:
        with pyzipper.AESZipFile(path) as package:
            package.setpassword(key)
            out = []
            for member in package.namelist():
                target = into / Path(member).name
                target.write_bytes(package.read(member))
                out.append(target)
            return out
    except RuntimeError:
        raise FileProblem(
            path.name, "the key does not open this package", "ask the sender which key it used"
        ) from None
    except (pyzipper.BadZipFile, OSError) as err:
        raise FileProblem(
            path.name, f"not a readable zip package ({err})", "ask for it again"
        ) from None
