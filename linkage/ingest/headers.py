"""What is wrong with a delivered header row, said without quoting a cell.

A header row that is not the contract's is, more often than not, a data row: the export left
the header out, or a title or data row sits above it. Its cells are then a person's name, ID,
birth date and address, and a message reaches the terminal, the log, the load ledger, the run
summary and Prefect. So a header problem names columns by position (column 1 is the first)
and says what was expected; it names a header cell only when the cell is a column name of the
contract (the contract's words, not data).
"""

from __future__ import annotations

import polars as pl

from data_contracts import Contract
from linkage.errors import FileProblem

#: how many data rows are searched for a header row that is not row 1
SEARCH_ROWS = 10


def positions(numbers: list[int]) -> str:
    """Column numbers as words: ``[1, 2, 3, 5]`` → ``"columns 1 to 3, 5"``."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    parts = [
        str(r[0]) if len(r) == 1 else f"{r[0]}, {r[1]}" if len(r) == 2 else f"{r[0]} to {r[-1]}"
        for r in runs
    ]
    return ("column " if len(numbers) == 1 else "columns ") + ", ".join(parts)


def header_row_below(contract: type[Contract], frame: pl.DataFrame) -> int | None:
    """The spreadsheet row (the first data row is row 2) among the first data rows that holds
    every required column name of ``contract``; ``None`` when none does."""
    headers = contract.headers()
    required = {h for h, c in headers.items() if c in contract.required()}
    for i, row in enumerate(frame.head(SEARCH_ROWS).iter_rows()):
        cells = {str(v).strip().lstrip("\ufeff").strip() for v in row if v is not None}
        if required <= cells:
            return i + 2
    return None


def header_problem(
    contract: type[Contract], frame: pl.DataFrame, file: str, missing: list[str]
) -> FileProblem:
    """The problem of a header row that lacks the ``missing`` required column names.

    ``frame`` is the file as read, its columns named by the cells of row 1.
    """
    headers = contract.headers()
    expected = ", ".join(headers)
    required = ", ".join(h for h, c in headers.items() if c in contract.required())
    where = contract.title
    unknown = [i for i, c in enumerate(frame.columns, start=1) if c not in headers]
    are_not = "is not a column name" if len(unknown) == 1 else "are not column names"
    below = header_row_below(contract, frame)
    if below is not None:
        above = "the row above it is" if below == 2 else f"the {below - 1} rows above it are"
        return FileProblem(
            file,
            f"row {below} holds the column names of {where}, not row 1: {above} not the header row",
            f"delete {'that row' if below == 2 else 'those rows'}, so that the column names "
            "are the first row, and deliver the file again",
        )
    if len(unknown) == frame.width:
        return FileProblem(
            file,
            f"{positions(unknown)} of the header row {are_not} of {where} "
            f"(expected: {expected}); the file looks like it has no header row",
            f"add the header row as row 1, with the column names of docs/interfaces.md "
            f"(required: {required}), and deliver the file again",
        )
    if unknown:
        return FileProblem(
            file,
            f"missing required column(s) {', '.join(missing)}; {positions(unknown)} of the "
            f"header row {are_not} of {where} (expected: {expected})",
            f"correct the header row (row 1) to the column names of docs/interfaces.md "
            f"(required: {required}); {positions(unknown)} may hold a data row's values",
        )
    return FileProblem(
        file,
        f"missing required column(s) {', '.join(missing)}",
        f"add the column(s) with their values; the first row must hold the column names of "
        f"docs/interfaces.md (expected: {expected})",
    )
