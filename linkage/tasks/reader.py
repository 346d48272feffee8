"""Reading a returned task workbook: every filled-in row, wherever the header sits.

openpyxl in read-only mode; works on the file as Excel, WPS or LibreOffice saved it (hidden
columns and the very-hidden ``_renkou`` sheet survive their save). Problems found while
reading (the file is no workbook, is no task list, lost a column) come back as
:class:`Problem`; nothing here decides whether a row may be applied (``returns`` does).
A problem names sheet, row and column (by position and expected header), never a cell's
text: a township may type anything anywhere, a name or an ID in a header cell too.
The cells renkou wrote (the batch sheet, 任务编号, 校验码) are read back as they were before the
writer neutralised them (:func:`linkage.cells.restored`); what a township typed is read as typed.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openpyxl
import polars as pl
from openpyxl.utils import get_column_letter

from linkage.cells import restored
from linkage.standardise.dates import parse_date_expr
from linkage.tasks.workbook import CHECK, FILL_COLUMNS, HEADERS, META_SHEET, TASK_ID, VILLAGE


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a returned file. ``severity`` error: row not applied; warning: applied."""

    file: str
    sheet: str | None
    row: int | None
    code: str
    message: str
    severity: str = "error"
    finding_id: str | None = None

    def describe(self) -> str:
        where = self.file
        if self.sheet is not None:
            where += f", sheet {self.sheet}"
        if self.row is not None:
            where += f", row {self.row}"
        task = f" [{self.finding_id}]" if self.finding_id else ""
        return f"{self.severity}: {where}{task}: {self.message}"


@dataclass(frozen=True)
class ReturnedRow:
    sheet: str
    row: int
    task_id: str | None
    check: str | None
    result: str | None
    note: str | None
    verifier: str | None
    verified_on: Any


@dataclass
class Returned:
    export_id: str | None
    township: str | None
    rows: list[ReturnedRow]
    problems: list[Problem]


def _clean(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    return text or None


def _written(value: Any) -> str | None:
    """A cell renkou wrote, as it was before :func:`linkage.cells.neutral`."""
    return _clean(restored(value) if isinstance(value, str) else value)


def read_returned(path: Path) -> Returned:
    """Every filled-in row of a returned workbook, with file-level problems."""
    name = path.name
    try:
        with warnings.catch_warnings():  # Excel/WPS extensions openpyxl drops: not our concern
            warnings.simplefilter("ignore", UserWarning)
            book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as err:  # noqa: BLE001 - any reader failure is one clear problem
        return Returned(
            None,
            None,
            [],
            [
                Problem(
                    name,
                    None,
                    None,
                    "unreadable",
                    f"cannot be read as an Excel workbook "
                    f"({type(err).__name__}). "
                    "Fix: send the .xlsx file as exported, saved by Excel/WPS",
                )
            ],
        )
    try:
        if META_SHEET not in book.sheetnames:
            return Returned(
                None,
                None,
                [],
                [
                    Problem(
                        name,
                        None,
                        None,
                        "not_a_task_file",
                        "has no renkou batch information (sheet "
                        f"{META_SHEET}). Fix: fill in the workbook as exported; "
                        "do not copy the rows into a new file",
                    )
                ],
            )
        meta = {
            str(r[0]): _written(r[1])
            for r in book[META_SHEET].iter_rows(values_only=True)
            if r and r[0] is not None and len(r) > 1
        }
        rows: list[ReturnedRow] = []
        problems: list[Problem] = []
        for sheet in book.sheetnames:
            if sheet == META_SHEET:
                continue
            rows += _sheet_rows(book[sheet], name, sheet, problems)
        return Returned(meta.get("export_id"), meta.get("township"), rows, problems)
    finally:
        book.close()


def _sheet_rows(ws: Any, file: str, sheet: str, problems: list[Problem]) -> list[ReturnedRow]:
    header_row, cols = None, {}
    for number, values in enumerate(ws.iter_rows(min_row=1, max_row=10, values_only=True), start=1):
        cells = [_clean(v) for v in values]
        if TASK_ID in cells:
            header_row, cols = number, {c: i for i, c in enumerate(cells) if c}
            break
    if header_row is None:
        return []  # an instructions sheet or a sheet the township added: nothing to read
    missing = [c for c in (TASK_ID, CHECK, *FILL_COLUMNS) if c not in cols]
    if missing:
        # by position, as exported: the cell found there may hold anything a township typed
        exported = [h for h in HEADERS if h != VILLAGE or VILLAGE in cols]
        where = ", ".join(
            f"{c} (column {exported.index(c) + 1}, {get_column_letter(exported.index(c) + 1)})"
            for c in missing
        )
        problems.append(
            Problem(
                file,
                sheet,
                header_row,
                "missing_columns",
                f"the header row lacks {where} as exported. Fix: use the sheet as exported; "
                "do not delete or rename columns",
            )
        )
        return []
    out = []
    for number, values in enumerate(
        ws.iter_rows(min_row=header_row + 1, values_only=True), start=header_row + 1
    ):

        def cell(header: str, values: tuple[Any, ...] = values) -> Any:
            i = cols[header]
            return values[i] if i < len(values) else None

        row = ReturnedRow(
            sheet,
            number,
            _written(cell(TASK_ID)),
            _written(cell(CHECK)),
            _clean(cell("核查结果")),
            _clean(cell("核查说明")),
            _clean(cell("核查人")),
            cell("核查日期"),
        )
        if any(
            v is not None
            for v in (row.task_id, row.result, row.note, row.verifier, _clean(row.verified_on))
        ):
            out.append(row)
    return out


def parse_day(value: Any) -> tuple[dt.date | None, bool]:
    """(date, ok): Excel dates, or text in any format the ingest accepts."""
    if isinstance(value, dt.datetime):
        return value.date(), True
    if isinstance(value, dt.date):
        return value, True
    text = _clean(value)
    if text is None:
        return None, True
    parsed = pl.Series([text]).to_frame("d").select(parse_date_expr(pl.col("d"))).item()
    return parsed, parsed is not None
