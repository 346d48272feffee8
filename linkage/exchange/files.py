"""Writing exchange files all or nothing: staged under a temporary name, recorded, renamed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import polars as pl

from linkage.audit import file_sha256
from linkage.exports import write_csv


def write_all_or_nothing(
    files: dict[Path, pl.DataFrame], record: Callable[[dict[Path, str]], None]
) -> dict[Path, str]:
    """Write every frame of ``files`` as a CSV (UTF-8 with a BOM) under a temporary name, call
    ``record`` with each file's SHA-256, then give the files their names. If writing or
    recording fails, the temporary files are removed and nothing is left half-done."""
    staged: dict[Path, Path] = {}
    hashes: dict[Path, str] = {}
    try:
        for path, frame in files.items():
            temporary = path.with_name(path.name + ".part")
            staged[path] = temporary
            write_csv(frame, temporary)
            hashes[path] = file_sha256(temporary)
        record(hashes)
    except BaseException:
        for temporary in staged.values():
            temporary.unlink(missing_ok=True)
        raise
    for path, temporary in staged.items():
        os.replace(temporary, path)
    return hashes
