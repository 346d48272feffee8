"""Read one inbox file into a frame of text columns, whatever its format and encoding.

CSV arrives as UTF-8, UTF-8 with BOM, or GB18030 (Excel on Chinese Windows); XLSX (first
sheet); Parquet. Every value comes back as text (or null): typing is the contract's job, so
that a mistyped cell is reported with its row instead of failing the whole column.

``read_delivery`` reads a department's delivery for one source: it also finds the table in the
sheet (title rows, two-row headers, footers: ``linkage.ingest.layout``), reads legacy ``.xls``
and Excel's "Unicode text" (UTF-16, tab-separated), picks the sheet of a workbook that holds the
source's columns, and turns a broken line (ragged, undecodable) into a row problem with its line
number instead of refusing the file.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from data_contracts import Contract
from data_contracts._base import ROW
from linkage.errors import FileProblem
from linkage.ingest.layout import (
    FOOTER_WORDS,
    HEADER_SEARCH_ROWS,
    SPACES,
    Header,
    column_names,
    filled,
    fold,
    footer_word,
    header_notes,
    known_header,
    locate_header,
)

SUFFIXES = {
    ".csv": "csv",
    ".txt": "csv",
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xlsx",
    ".parquet": "parquet",
}


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


def _kind(path: Path) -> str:
    """The reader of ``path`` by its suffix (``csv``, ``xlsx``, ``parquet``).

    Raises:
        FileProblem: an unsupported file type, or an empty file.
    """
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise FileProblem(
            path.name,
            f"unsupported file type '{path.suffix}'",
            "deliver CSV (or tab-separated text), XLSX, XLS or Parquet",
        )
    if path.stat().st_size == 0:
        raise FileProblem(
            path.name, "the file is empty", "re-export the data from the source system"
        )
    return kind


def read_any(path: Path) -> tuple[pl.DataFrame, str]:
    """Read ``path`` into text columns.

    Returns ``(frame, how)`` where ``how`` names the format and encoding.

    Raises:
        FileProblem: unsupported format, unreadable encoding or workbook, or no data rows.
    """
    kind, name = _kind(path), path.name
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


# --------------------------------------------------------------------------- deliveries


@dataclass(frozen=True)
class RowProblem:
    """A row the reader could not take: quarantined with its line, never loaded."""

    line: int  # 1-based row (spreadsheet) or line (text file) where the row starts
    record_key: str | None
    reason: str  # words, line numbers and counts only: never a cell
    raw: str  # JSON of what the line held (kept in the quarantine table, not in messages)


@dataclass
class Delivery:
    """One file read for one source: the table, where its rows were, what to tell."""

    frame: pl.DataFrame  # text columns, named by the header (contract names where known)
    rows: pl.Series  # Int64 ``_row``: the row/line number in the original file of each row
    how: str  # format and encoding
    notes: list[str] = field(default_factory=list)  # said to the operator, no cell values
    problems: list[RowProblem] = field(default_factory=list)


_FOOTER_RE = "^(" + "|".join(FOOTER_WORDS) + ")"
_SPACES = SPACES


def read_delivery(path: Path, contract: type[Contract]) -> Delivery:
    """Read ``path`` as a delivery of ``contract``'s source.

    A file with a header and no data rows is an empty delivery (0 rows), not a problem.

    Raises:
        FileProblem: unsupported format, not a text or workbook file, or an unreadable workbook.
    """
    kind, name = _kind(path), path.name
    try:
        if kind == "csv":
            delivery = _read_text(path.read_bytes(), contract, name)
        elif kind == "xlsx":
            delivery = _read_workbook(path, contract)
        else:
            frame = _as_text(pl.read_parquet(path))
            frame = frame.rename({c: c.strip().lstrip("\ufeff").strip() for c in frame.columns})
            rows = pl.int_range(2, frame.height + 2, eager=True, dtype=pl.Int64).alias(ROW)
            delivery = Delivery(frame, rows, "parquet")
    except FileProblem:
        raise
    except Exception as err:  # the reader libraries raise many types; name the file, not data
        label = path.suffix.lstrip(".").upper() if kind == "xlsx" else kind.upper()
        raise FileProblem(
            name,
            f"cannot be read as {label} ({type(err).__name__})",
            f"check that the file is a valid {label} export",
        ) from None
    if delivery.frame.height == 0 and not delivery.problems:
        delivery.notes.append(
            "the file has a header but no data rows: loaded as an empty delivery (0 rows)"
        )
    return delivery


# ---- text (CSV, Excel "Unicode text")


def _decode_lines(data: bytes, file: str) -> tuple[list[str], dict[int, bytes | None], str]:
    """Lines (each with its line end), the lines that did not decode (1-based number → their
    bytes, ``None`` when unknown) and the encoding. Decoding is per line: a few bad bytes spoil
    their line, not the file."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16-le" if data.startswith(b"\xff\xfe") else "utf-16-be"
        text = data[2:].decode(codec, errors="replace")
        parts = text.split("\n")  # not str.splitlines: U+2028, U+0085 … may sit in a cell
        lines = [s + "\n" for s in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
        # a table has separators: UTF-16 "text" without a tab or comma is not one
        table = any("\t" in s or "," in s for s in lines)
        bad: dict[int, bytes | None] = {
            i: None for i, s in enumerate(lines, start=1) if "\ufffd" in s or not table
        }
        return lines, bad, "utf-16"
    if data.startswith(b"\xef\xbb\xbf"):
        chunks, encodings = data[3:].splitlines(keepends=True), ["utf-8"]
        label = "utf-8-sig"
    else:
        chunks, encodings = data.splitlines(keepends=True), ["utf-8", "gb18030"]
        label = ""
    chunks = [c for c in chunks if c]

    def failures(encoding: str) -> list[int]:
        out = []
        for i, chunk in enumerate(chunks):
            try:
                chunk.decode(encoding)
            except UnicodeDecodeError:
                out.append(i)
        return out

    encoding = encodings[0]
    failed = failures(encoding)
    if failed and len(encodings) > 1:
        # mostly UTF-8 with a few broken lines, or GB18030 (which rarely decodes as UTF-8)
        wide = [c for c in chunks if not c.isascii()]
        if len(failed) * 2 > len(wide):
            encoding, failed = encodings[1], failures(encodings[1])
    lines = [c.decode(encoding, errors="replace") for c in chunks]
    return lines, {i + 1: chunks[i] for i in failed}, label or encoding


def _read_text(data: bytes, contract: type[Contract], file: str) -> Delivery:
    lines, bad, encoding = _decode_lines(data, file)
    nonblank = [i for i, s in enumerate(lines, start=1) if s.strip(_SPACES)]
    if len([i for i in nonblank if i in bad]) * 2 > len(nonblank) or (
        nonblank and nonblank[0] in bad and len(bad) == len(lines)
    ):
        first = min(bad) if bad else 1
        raise FileProblem(
            file,
            f"not readable as UTF-8 or GB18030 (nor UTF-16 with its byte-order mark): "
            f"{len(bad)} of {len(lines)} lines cannot be decoded, the first is line {first}",
            "save the file as CSV UTF-8 (Excel: 另存为 → CSV UTF-8) or as XLSX",
        )
    head = [lines[i - 1] for i in nonblank[:HEADER_SEARCH_ROWS]]
    delimiter = "\t" if sum(s.count("\t") for s in head) > sum(s.count(",") for s in head) else ","
    how = encoding + (", tab-separated" if delimiter == "\t" else "")
    if bad:
        how += f" ({len(bad)} undecodable line(s) quarantined)"
    grid = _simple_grid(lines, bad, delimiter)
    if grid is not None:  # the common export: one record per line, all alike
        return _table_from_grid(contract, grid, how, [], file, unit="line")
    gc.disable()  # many small lists: the cyclic collector would rescan them again and again
    try:
        return _read_records(contract, lines, bad, encoding, delimiter, how, file)
    finally:
        gc.enable()


def _simple_grid(
    lines: list[str], bad: dict[int, bytes | None], delimiter: str
) -> pl.DataFrame | None:
    """The lines as a grid (no header, line N is row N) when the file is the simple case:
    every line decodes, none is blank (but the last), none holds a quote, and every line has
    the same number of separators; ``None`` otherwise (read record by record then)."""
    end = len(lines)
    while end and not lines[end - 1].strip(SPACES):
        end -= 1
    body = lines[:end]
    if bad or not body or any(not s.strip(SPACES) for s in body):
        return None
    if len({s.count(delimiter) for s in body}) != 1 or any('"' in s for s in body):
        return None
    grid = pl.read_csv(
        "".join(body).encode("utf-8"),
        has_header=False,
        separator=delimiter,
        quote_char=None,
        infer_schema=False,
        raise_if_empty=False,
    )
    return grid if grid.height == len(body) else None


def _read_records(
    contract: type[Contract],
    lines: list[str],
    bad: dict[int, bytes | None],
    encoding: str,
    delimiter: str,
    how: str,
    file: str,
) -> Delivery:
    """Read text record by record: a ragged or undecodable record becomes a row problem."""
    # records with the line they start on and whether a line of theirs did not decode
    records: list[tuple[int, list[str], bool]] = []
    reader = csv.reader(iter(lines), delimiter=delimiter)
    previous = 0
    try:
        for fields in reader:
            start, end = previous + 1, reader.line_num
            previous = end
            broken = bool(bad) and any(i in bad for i in range(start, end + 1))
            records.append((start, fields, broken))
    except csv.Error:
        raise FileProblem(
            file,
            f"line {previous + 1} breaks the CSV format (an unclosed quote?)",
            "check that line in a text editor, or re-export the file as CSV UTF-8",
        ) from None
    records = [r for r in records if r[2] or "".join(r[1]).strip(SPACES)]
    head_records = [r for r in records if not r[2]][:HEADER_SEARCH_ROWS]
    header = locate_header(contract, [r[1] for r in head_records], [r[0] for r in head_records])
    notes: list[str] = []
    if not head_records:
        raise _blank(file)
    header_line = head_records[header.at][0]
    last_header = head_records[header.at + header.depth - 1][0]
    notes += header_notes(contract, header, 1, header_line, "line")
    names = header.names
    body = [r for r in records if r[0] > last_header]
    width = len(names)
    needed = max((j + 1 for j, n in enumerate(names) if n), default=0)
    known = [known_header(contract, n) for n in names]
    key_at = next((j for j, c in enumerate(known) if c == contract.record_key), width + 1)

    def as_raw(fields: list[str], **more: object) -> str:
        """The line for the quarantine: its fields by contract column where the header names
        one (as a validated row's raw), all of them under ``_fields``."""
        by_column = {c: f for c, f in zip(known, fields, strict=False) if c}
        return json.dumps({**by_column, "_fields": fields, **more}, ensure_ascii=False)

    good_lines: list[int] = []
    good: list[list[str]] = []
    problems: list[RowProblem] = []
    footer_starts = {w[0] for w in FOOTER_WORDS}
    for n, (line, fields, broken) in enumerate(body):
        first = next((f for f in fields if f.strip(SPACES)), "")
        if not broken and first.strip(SPACES)[:1] in footer_starts:
            word = footer_word(fields)
            if word:
                notes.append(_footer_note(word, line, body[n + 1 :], "line"))
                break
        record_key = fields[key_at].strip() or None if key_at < len(fields) else None
        if broken:
            raw = bad.get(line)
            problems.append(
                RowProblem(
                    line,
                    record_key,
                    f"line {line} is not valid {encoding.upper()} text (undecodable bytes); "
                    f"the rest of the file was read",
                    as_raw(fields, _bytes_hex=raw.hex() if raw else None),
                )
            )
            continue
        extra = len(fields) > width and any(fold(f) for f in fields[width:])
        if extra or len(fields) < needed:
            problems.append(
                RowProblem(
                    line,
                    record_key,
                    f"line {line} has {len(fields)} fields where the header has {width} "
                    f"(a stray separator, quote or line break?); the rest of the file was read",
                    as_raw(fields),
                )
            )
            continue
        good_lines.append(line)
        good.append(fields if len(fields) == width else (fields + [""] * width)[:width])
    columns = column_names(contract, names)
    values = list(zip(*good, strict=True)) if good else [()] * width
    frame = pl.DataFrame(
        {c: list(values[j]) for j, c in enumerate(columns)},
        schema={c: pl.String for c in columns},
    )
    frame = _drop_unnamed_empty(frame, names)
    rows = pl.Series(ROW, good_lines, dtype=pl.Int64)
    return Delivery(frame, rows, how, notes, problems)


def _blank(file: str) -> FileProblem:
    """The problem of a file (or the sheet read) without a single non-blank row."""
    return FileProblem(
        file,
        "the file holds no table: every row is blank",
        "re-export the data from the source system",
    )


def _footer_note(word: str, line: int, after: list[tuple[int, list[str], bool]], unit: str) -> str:
    rest = sum(1 for r in after if not footer_word(r[1]))
    note = f"reading stopped at {unit} {line}: it starts the footer ({word})"
    if rest:
        note += f"; {rest} non-empty {unit}(s) after it were not read"
    return note


def _drop_unnamed_empty(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Drop the columns without a header name that hold nothing (Excel's trailing columns)."""
    empty = [
        c
        for c, n in zip(frame.columns, names, strict=False)
        if not n
        and frame.select(pl.col(c).str.strip_chars(_SPACES).str.len_chars().fill_null(0).max())
        .fill_null(0)
        .item()
        == 0
    ]
    return frame.drop(empty)


# ---- workbooks (xlsx, xlsm, xls)


def _load_grid(reader: object, sheet: int, n_rows: int | None = None) -> pl.DataFrame:
    """A sheet as text cells from its row 1 (blank leading rows kept, so that row numbers are
    the spreadsheet's), no header."""
    loaded = reader.load_sheet(  # type: ignore[attr-defined]
        sheet, header_row=None, skip_rows=0, n_rows=n_rows, dtypes="string"
    )
    return _as_text(loaded.to_polars())


def _grid_head(grid: pl.DataFrame) -> tuple[list[int], list[list[str | None]]]:
    """Row numbers and cells of the first non-blank rows of a grid."""
    lines, cells = [], []
    for i, row in enumerate(grid.head(HEADER_SEARCH_ROWS * 4).iter_rows(), start=1):
        if filled(row):
            lines.append(i)
            cells.append(list(row))
            if len(cells) == HEADER_SEARCH_ROWS:
                break
    return lines, cells


def _read_workbook(path: Path, contract: type[Contract]) -> Delivery:
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    sheets = list(reader.sheet_names)
    how = path.suffix.lower().lstrip(".")
    chosen, notes = 0, []
    if len(sheets) > 1:
        scores = []
        for i in range(len(sheets)):
            try:
                head = _load_grid(reader, i, HEADER_SEARCH_ROWS * 4)
                lines, cells = _grid_head(head)
                scores.append(locate_header(contract, cells, lines).score)
            except Exception:  # an empty or chart sheet: not the data
                scores.append(-1)
        chosen = max(range(len(sheets)), key=lambda i: (scores[i], -i))
        notes.append(
            f"the workbook has {len(sheets)} sheets; sheet {chosen + 1} ('{sheets[chosen]}') "
            f"was read, as the one holding the column names of {contract.title}; the others "
            "were not read"
        )
        how += f", sheet {chosen + 1} of {len(sheets)}"
    grid = _load_grid(reader, chosen)
    return _table_from_grid(contract, grid, how, notes, path.name)


def _table_from_grid(
    contract: type[Contract],
    grid: pl.DataFrame,
    how: str,
    notes: list[str],
    file: str,
    unit: str = "row",
) -> Delivery:
    """The table in a grid of cells (row N of the grid is row/line N of the file)."""
    lines, head = _grid_head(grid)
    header: Header = locate_header(contract, head, lines)
    cols = grid.columns
    if not head:
        raise _blank(file)
    header_line = lines[header.at]
    last_header = lines[header.at + header.depth - 1]
    notes = notes + header_notes(contract, header, 1, header_line, unit)
    stripped = [pl.col(c).str.strip_chars(_SPACES) for c in cols]
    first_cell = pl.coalesce([pl.when(s.str.len_chars() > 0).then(s) for s in stripped])
    body = (
        grid.with_row_index("__line", offset=1)
        .with_columns(
            pl.col("__line").cast(pl.Int64),
            first_cell.str.replace_all(r"\s", "").alias("__first"),
        )
        .filter(pl.col("__line") > last_header, pl.col("__first").is_not_null())
        .with_columns(pl.col("__first").str.contains(_FOOTER_RE).alias("__footer"))
    )
    footers = body.filter(pl.col("__footer"))
    if footers.height:
        at = int(footers["__line"][0])
        word = next(w for w in FOOTER_WORDS if str(footers["__first"][0]).startswith(w))
        rest = body.filter(pl.col("__line") > at, ~pl.col("__footer")).height
        note = f"reading stopped at {unit} {at}: it starts the footer ({word})"
        if rest:
            note += f"; {rest} non-empty {unit}(s) after it were not read"
        notes.append(note)
        body = body.filter(pl.col("__line") < at)
    names = (header.names + [""] * len(cols))[: len(cols)]
    columns = column_names(contract, names)
    frame = body.select(pl.col(c).alias(n) for c, n in zip(cols, columns, strict=True))
    frame = _drop_unnamed_empty(frame, names)
    return Delivery(frame, body["__line"].alias(ROW), how, notes)


def row_problems(problems: list[RowProblem]) -> pl.DataFrame:
    """Reader-level row problems as quarantine rows (``_row``, record_key, reasons, raw)."""
    return pl.DataFrame(
        {
            ROW: [p.line for p in problems],
            "record_key": [p.record_key for p in problems],
            "reasons": [p.reason for p in problems],
            "raw": [p.raw for p in problems],
        },
        schema={ROW: pl.Int64, "record_key": pl.String, "reasons": pl.String, "raw": pl.String},
    )
