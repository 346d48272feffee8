"""Spreadsheet (CSV / formula) injection: text renkou writes is never run as a formula.

A source value such as ``=HYPERLINK(…)`` or ``=1+1`` is live when a CSV or workbook holding it
is opened in Excel, WPS or LibreOffice. OWASP's rule, applied to every CSV and xlsx renkou
writes: a text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets
a leading single quote ``'`` and so stays text. :func:`neutralise` does it to a frame (the
CSV writer of :mod:`linkage.exports` and the frame-based workbooks), :func:`neutral` to one
cell of a workbook written cell by cell; both follow the one pattern below.

Only text is touched: number, date and boolean columns stay what they are, and a text cell
that is a plain negative number (``-3``, ``-0.5``) is left alone — a spreadsheet reads it as
that number, never as a formula. A text cell already starting with ``'`` gets a second one,
so that :func:`restore` gives every value back exactly where renkou reads a file it wrote
(another county's 协查 files, a returned task workbook): it drops the one leading quote put
before any of those characters or a quote.
"""

from __future__ import annotations

import re

import polars as pl

#: a text cell that must be written as text: a formula sign, tab, CR — or a quote (escaped
#: too, so that :func:`restore` is exact)
RISKY = r"^[=+\-@\t\r']"
#: …unless it is a plain negative number
_NUMBER = r"^-[0-9]+(\.[0-9]+)?$"
#: a cell as :func:`neutralise` wrote it
_ESCAPED = r"^'[=+\-@\t\r']"
_RISKY_RE, _NUMBER_RE, _ESCAPED_RE = re.compile(RISKY), re.compile(_NUMBER), re.compile(_ESCAPED)


def _text_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c, dtype in frame.schema.items() if dtype == pl.String]


def neutralise(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with every risky text cell prefixed by ``'``; other columns untouched."""
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(RISKY) & ~pl.col(c).str.contains(_NUMBER))
        .then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c))
        .alias(c)
        for c in _text_columns(frame)
    )


def neutral(text: str) -> str:
    """One text cell as :func:`neutralise` writes it (for workbooks written cell by cell)."""
    if _RISKY_RE.match(text) and not _NUMBER_RE.match(text):
        return "'" + text
    return text


def restore(frame: pl.DataFrame) -> pl.DataFrame:
    """The values :func:`neutralise` was given: the quote it added dropped from text cells."""
    return frame.with_columns(
        pl.when(pl.col(c).str.contains(_ESCAPED))
        .then(pl.col(c).str.slice(1))
        .otherwise(pl.col(c))
        .alias(c)
        for c in _text_columns(frame)
    )


def restored(text: str) -> str:
    """One cell as :func:`restore` reads it."""
    return text[1:] if _ESCAPED_RE.match(text) else text
