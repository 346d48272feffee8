"""What is wrong with a delivered header row, said without quoting a cell.

A header row that is not the contract's is, more often than not, a data row: the export left
the header out, or a title or data row sits above it. Its cells are then a person's name, ID,
birth date and address, and a message reaches the terminal, the log, the load ledger, the run
summary and Prefect. So a header problem names columns by position (column 1 is the first)
and says what was expected; it names a header cell only when the cell is a column name of the
contract (the contract's words, not data).

Which contract column a header cell names is decided in one place, :func:`canonical_column`:
the cell is folded (full-/half-width, brackets, spaces, zero-width characters; see
``data_contracts._base.fold_header``) and looked up among the names the contract accepts for
each column (its docs/interfaces.md header and the declared aliases).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import polars as pl

from data_contracts import Contract
from data_contracts._base import fold_header
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


def canonical_column(contract: type[Contract], cell: object) -> str | None:
    """The canonical column of ``contract`` that the header cell ``cell`` names, or ``None``.

    Every accepted name of the column counts (``身份证号`` for 公民身份号码, ``乡镇（街道）`` for
    乡镇(街道), …), compared after folding widths, brackets, spaces, zero-width characters and
    BOMs. ``None`` also for an empty cell.
    """
    if cell is None:
        return None
    folded = fold_header(cell)
    return contract.header_lookup().get(folded) if folded else None


@dataclass(frozen=True)
class HeaderMatch:
    """How the header row of one file maps onto a contract."""

    #: header cell (the frame's column name) → canonical column, one cell per column
    columns: dict[str, str]
    #: positions (1 = first column) of the cells that are no column name of the contract
    unknown: list[int]
    #: warnings: a column named twice (the other cells were not read)
    warnings: list[str] = field(default_factory=list)

    def found(self) -> set[str]:
        return set(self.columns.values())


def match_headers(contract: type[Contract], cells: Sequence[object]) -> HeaderMatch:
    """Map a header row onto ``contract``. When two cells name the same column, the cell
    spelled exactly as docs/interfaces.md wins, else the first; the others are ignored with a
    warning (which quotes them: they are column names, not data)."""
    headers = {c: h for h, c in contract.headers().items()}
    by_column: dict[str, list[tuple[int, str]]] = {}
    unknown: list[int] = []
    for position, cell in enumerate(cells, start=1):
        column = canonical_column(contract, cell)
        if column is None:
            unknown.append(position)
        else:
            by_column.setdefault(column, []).append((position, str(cell)))
    columns: dict[str, str] = {}
    warnings: list[str] = []
    for column, seen in by_column.items():
        exact = [s for s in seen if fold_header(s[1]) == fold_header(headers[column])]
        position, cell = (exact or seen)[0]
        columns[cell] = column
        if len(seen) > 1:
            others = [p for p, _ in seen if p != position]
            warnings.append(
                f"{positions([p for p, _ in seen])} of the header row all name {headers[column]} "
                f"({', '.join(c for _, c in seen)}); column {position} was read, "
                f"{positions(others)} ignored. Fix: keep one {headers[column]} column and "
                "deliver the file again"
            )
    return HeaderMatch(columns, unknown, warnings)


def accepted(contract: type[Contract], column: str) -> str:
    """The accepted names of ``column``, as a list in words."""
    return ", ".join(contract.accepted_names()[column])


def missing_column_warnings(
    contract: type[Contract], match: HeaderMatch, *, optional_only: bool = True
) -> list[str]:
    """One warning per column of ``contract`` that the header row lacks: its values were
    loaded as empty. Cells are named by position only (they may be data)."""
    headers = {c: h for h, c in contract.headers().items()}
    required = set(contract.required())
    if match.unknown:
        are_not = "is not a column name" if len(match.unknown) == 1 else "are not column names"
        seen = f"{positions(match.unknown)} of the header row {are_not} of {contract.title}"
    else:
        seen = "every other column of the header row is a known one"
    return [
        f"column {headers[column]} not found, its values were loaded as empty; {seen}; "
        f"accepted names: {accepted(contract, column)}. Fix: if the file has this column, "
        "rename its header to one of the accepted names and deliver the file again"
        for column in contract.data_columns()
        if column not in match.found() and not (optional_only and column in required)
    ]


def header_row_below(contract: type[Contract], frame: pl.DataFrame) -> int | None:
    """The spreadsheet row (the first data row is row 2) among the first data rows that holds
    every required column name of ``contract``; ``None`` when none does."""
    required = set(contract.required())
    for i, row in enumerate(frame.head(SEARCH_ROWS).iter_rows()):
        if required <= {canonical_column(contract, v) for v in row}:
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
    unknown = match_headers(contract, frame.columns).unknown
    names = "; ".join(f"{h}: {accepted(contract, headers[h])}" for h in missing if h in headers)
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
            f"(required: {required}; accepted names of the missing ones: {names}); "
            f"{positions(unknown)} may hold a data row's values",
        )
    return FileProblem(
        file,
        f"missing required column(s) {', '.join(missing)}",
        f"add the column(s) with their values; the first row must hold the column names of "
        f"docs/interfaces.md (expected: {expected}; accepted names of the missing ones: "
        f"{names})",
    )
