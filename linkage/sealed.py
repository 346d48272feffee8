"""AES-256 zip packages: the one encrypted format of files that leave the office.

WinZip AES (``pyzipper``), which 7-Zip, WinRAR and Windows tools with AES support open with
the agreed key. The 协查 files travel this way under the exchange key
(:mod:`linkage.exchange.files`); the township task lists of the outbox under the outbox key
(:mod:`linkage.tasks.export`) when the office sets one. Keys come from :mod:`linkage.keys`.
"""

from __future__ import annotations

from pathlib import Path

import pyzipper

from linkage import keys
from linkage.errors import FileProblem


def seal(data: bytes, name: str, path: Path, key: bytes) -> None:
    """Write ``data`` as the member ``name`` of an AES-256 package at ``path``."""
    with pyzipper.AESZipFile(
        path, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as package:
        package.setpassword(key)
        package.setencryption(pyzipper.WZ_AES, nbits=256)
        package.writestr(name, data)


def unseal(path: Path, key: bytes | None, into: Path, kind: keys.Kind) -> list[Path]:
    """The files inside the package ``path``, extracted into ``into``.

    Raises:
        FileProblem: no key of ``kind`` is set, the key is wrong, or the package is
            unreadable.
    """
    if key is None:
        raise FileProblem(path.name, "an encrypted package", keys.missing(kind))
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
            path.name, f"not a readable zip package ({type(err).__name__})", "ask for it again"
        ) from None


def contents(path: Path, home: Path, into: Path, kind: keys.Kind) -> list[Path]:
    """The files to read of a delivered ``path``: itself, or what its package holds (a
    ``.zip``, opened with ``home``'s key of ``kind`` into a folder of its own under ``into``).

    Raises:
        FileProblem: as :func:`unseal`.
    """
    if path.suffix.lower() != ".zip":
        return [path]
    from linkage.ingest.readers import file_hash

    folder = into / file_hash(path)
    folder.mkdir(exist_ok=True)
    return unseal(path, keys.key(kind, home), folder, kind)
