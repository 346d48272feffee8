"""Find the table in a delivered file: where its header is, what it is called, where it ends.

Departments export from their own systems and from Excel by hand, so the table is rarely the
whole sheet: a title row ("XX县2026年10月死亡人员名单") and a blank row sit above the header,
a group header ("父亲" over 姓名 and 身份证件号码) takes two rows, and a footer (合计, 制表人,
审核人 …) follows the last person. This module decides, from the first rows of a sheet or text
file, which row is the header (the one whose cells best name the contract's columns), flattens
a two-row header into one, and recognises footer rows.

Everything here speaks of rows by their number in the original file and of columns by position
or by the contract's own column names: a message never quotes a cell, because a row taken for
a header may be a person's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from data_contracts import Contract
from data_contracts._base import fold_header
from linkage.ingest.headers import canonical_column

#: how many non-blank rows at the top of a sheet are searched for the header row
HEADER_SEARCH_ROWS = 20

#: a row whose first non-empty cell starts with one of these ends the table (a footer)
FOOTER_WORDS = ("合计", "总计", "小计", "制表人", "审核人", "填报单位", "负责人", "制表日期")


#: what counts as space around a cell
SPACES = " \t\r\n\u3000\u00a0\ufeff"


def fold(cell: object) -> str:
    """A cell as compared with header and footer words (``data_contracts._base.fold_header``:
    full-width forms to half-width, spaces, zero-width characters and BOMs removed)."""
    return "" if cell is None else fold_header(cell)


def known_header(contract: type[Contract], cell: object) -> str | None:
    """The contract column that a header cell names, or ``None``: every accepted name of the
    column counts (``linkage.ingest.headers.canonical_column``, the one place that decides),
    so finding the header row and naming its columns agree."""
    return canonical_column(contract, cell) if fold(cell) else None


def footer_word(cells: Sequence[str | None]) -> str | None:
    """The footer word a row starts with (its first non-empty cell), or ``None``."""
    for cell in cells:
        if cell is not None and str(cell).strip(SPACES):
            folded = fold(cell)
            return next((w for w in FOOTER_WORDS if folded.startswith(w)), None)
    return None


def filled(cells: Sequence[str | None]) -> int:
    """How many cells of a row hold something other than spaces."""
    return sum(1 for c in cells if c is not None and str(c).strip(SPACES))


def flatten(contract: type[Contract], top: Sequence[str], bottom: Sequence[str]) -> list[str]:
    """One header from two header rows: a group label over sub labels (merged cells leave the
    group label in its first column only) becomes group + sub label, or the sub label alone
    when that is what the contract knows (父亲 + 姓名 → 父亲姓名); a label spanning both rows
    stays as it is."""
    names: list[str] = []
    group = ""
    for j in range(max(len(top), len(bottom))):
        t = _text(top[j]) if j < len(top) else ""
        b = _text(bottom[j]) if j < len(bottom) else ""
        if t:
            group = t if b else ""
        elif not b:
            group = ""
        if not b:
            names.append(t)
            continue
        g = t or group
        if not g:
            names.append(b)
            continue
        names.append(next((c for c in (g + b, b) if known_header(contract, c)), g + b))
    return names


def _text(cell: object) -> str:
    """A header cell's text without the spaces around it (and inside it)."""
    return "" if cell is None else "".join(str(cell).replace("\ufeff", "").split())


def score(contract: type[Contract], names: Sequence[str]) -> int:
    """How many different column names of the contract a header row holds."""
    return len({h for h in (known_header(contract, n) for n in names) if h})


@dataclass(frozen=True)
class Header:
    """Where the table starts: its header rows and its column names."""

    at: int  # index, in the rows searched, of the (first) header row
    depth: int  # 1, or 2 for a two-row header
    names: list[str]  # one per column: the header text, "" for an empty cell
    score: int  # how many contract column names it holds


def locate_header(
    contract: type[Contract],
    rows: Sequence[Sequence[str | None]],
    lines: Sequence[int] | None = None,
) -> Header:
    """The header among ``rows`` (the first non-blank rows of a sheet, in order).

    ``lines`` are the rows' numbers in the file (two header rows are adjacent). The best header
    holds the most column names of the contract; a two-row header counts when it names more
    than either of its rows alone. A sheet whose first non-blank row is not the best one
    but whose rows above the best one look like data (more than half a row filled) keeps its
    first row as the header: deleting a person is not the reader's call, and the header check
    then says which row holds the column names.
    """
    cells = [[_text(c) for c in row] for row in rows[:HEADER_SEARCH_ROWS]]
    if not cells:
        return Header(0, 1, [], 0)
    lines = list(lines) if lines is not None else list(range(1, len(cells) + 1))
    singles = [score(contract, row) for row in cells]
    best = Header(0, 1, cells[0], singles[0])
    for i, row in enumerate(cells):
        if singles[i] > best.score:
            best = Header(i, 1, list(row), singles[i])
        if i + 1 < len(cells) and lines[i + 1] == lines[i] + 1:
            names = flatten(contract, row, cells[i + 1])
            s = score(contract, names)
            if s > max(best.score, singles[i], singles[i + 1]):
                best = Header(i, 2, names, s)
    width = max(1, len([n for n in best.names if n]))
    if any(filled(row) > max(2, width // 2) for row in cells[: best.at]):
        return Header(0, 1, cells[0], score(contract, cells[0]))
    return best


def column_names(contract: type[Contract], names: Sequence[str]) -> list[str]:
    """Frame column names for header ``names``: the cell's text (``map_headers`` decides what
    it names), ``column N`` (1 = first column) for an empty cell or a repeated one."""
    out: list[str] = []
    for j, name in enumerate(names, start=1):
        candidate = name or f"column {j}"
        out.append(candidate if candidate not in out else f"column {j}")
    return out


def header_notes(
    contract: type[Contract], header: Header, first_line: int, header_line: int, unit: str
) -> list[str]:
    """What to tell about where the header was found (row/line numbers only)."""
    notes: list[str] = []
    if header.score and header_line > first_line:
        above = "row" if unit == "row" else "line"
        span = (
            f"{above} {first_line}"
            if header_line - first_line == 1
            else f"{above}s {first_line} to {header_line - 1}"
        )
        notes.append(
            f"the column names of {contract.title} are on {unit} {header_line}: "
            f"{span} above it (title or blank) were skipped"
        )
    if header.depth == 2:
        notes.append(
            f"{unit}s {header_line} and {header_line + 1} are a two-row header, read as one"
        )
    return notes
