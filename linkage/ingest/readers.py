"""Read one inbox file into a frame of text columns, whatever its format and encoding.

CSV arrives as UTF-8, UTF-8 with BOM, or GB18030 (Excel on Chinese Windows); XLSX (first
sheet); Parquet. Every value comes back as text (or null): typing is the contract's job, so
that a mistyped cell is reported with its row instead of failing the whole column.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from linkage.errors import FileProblem

SUFFIXES = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".parquet": "parquet"}


def file_hash(path: Path) -> str:
    """SHA-256 of the file's bytes: the identity of a delivery in the load ledger."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def decode_csv_bytes(data: bytes, file: str) -> tuple[str, str]:
    """Decode CSV bytes; returns ``(text, encoding)``. Tries UTF-8 (BOM or not), then GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as err:
        raise FileProblem(
            file,
            f"not readable as UTF-8 or GB18030 (bad byte at offset {err.start})",
            "save the file as CSV UTF-8 (Excel: 另存为 → CSV UTF-8) or as XLSX",
        ) from None


def _as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every column to text; dates keep ISO form, whole floats lose a trailing ``.0``."""
    exprs = []
    for name, dtype in frame.schema.items():
        col = pl.col(name)
        if dtype == pl.String:
            exprs.append(col)
        elif dtype in (pl.Date, pl.Datetime) or isinstance(dtype, pl.Datetime):
            exprs.append(col.cast(pl.Date).dt.strftime("%Y-%m-%d"))
        elif dtype.is_float():
            whole = col == col.round(0)
            exprs.append(
                pl.when(whole)
                .then(col.cast(pl.Int64, strict=False).cast(pl.String))
                .otherwise(col.cast(pl.String))
            )
        else:
            exprs.append(col.cast(pl.String))
    return frame.select(exprs)


def read_any(path: Path) -> tuple[pl.DataFrame, str]:
    """Read ``path`` into text columns.

    Returns ``(frame, how)`` where ``how`` names the format and encoding.

    Raises:
        FileProblem: unsupported format, unreadable encoding or workbook, or no data rows.
    """
    kind = SUFFIXES.get(path.suffix.lower())
    name = path.name
    if kind is None:
        raise FileProblem(
            name, f"unsupported file type '{path.suffix}'", "deliver CSV, XLSX or Parquet"
        )
    if path.stat().st_size == 0:
        raise FileProblem(name, "the file is empty", "re-export the data from the source system")
    try:
        if kind == "csv":
            text, how = decode_csv_bytes(path.read_bytes(), name)
            frame = pl.read_csv(
                text.encode("utf-8"),
                infer_schema=False,
                truncate_ragged_lines=False,
                raise_if_empty=False,
            )
        elif kind == "xlsx":
            import fastexcel

            reader = fastexcel.read_excel(str(path))
            sheet = reader.load_sheet(0, dtypes="string", eager=False)
            frame, how = _as_text(sheet.to_polars()), "xlsx"
        else:
            frame, how = _as_text(pl.read_parquet(path)), "parquet"
    except FileProblem:
        raise
    except Exception as err:  # the reader libraries raise many types; name the file, not data
        raise FileProblem(
            name,
            f"cannot be read as {kind.upper()} ({type(err).__name__})",
            f"check that the file is a valid {kind.upper()} export",
        ) from None
    frame = frame.rename({c: c.strip().lstrip("\ufeff").strip() for c in frame.columns})
    if frame.height == 0:
        raise FileProblem(
            name,
            "the file has a header but no data rows",
            "re-export the data from the source system",
        )
    return frame, how
