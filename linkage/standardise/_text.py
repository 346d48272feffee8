"""Text folding shared by the standardisers: full-width → half-width, whitespace removed.

Per-row ``unicodedata.normalize`` is slow on millions of rows, so the width folding that
matters for typed data (full-width ASCII block and the ideographic space) is done with one
vectorised ``str.replace_many``.
"""

from __future__ import annotations

import polars as pl

_FULLWIDTH = [chr(c) for c in range(0xFF01, 0xFF5F)] + ["\u3000"]
_HALFWIDTH = [chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)] + [" "]

#: Every Unicode white space (``\s`` is Unicode-aware, includes U+3000 and U+00A0) plus the
#: zero-width characters that arrive from copy-and-paste.
WHITESPACE_RE = r"[\s\u200b\u200c\u200d\u2060\ufeff]+"


def fold_width_expr(expr: pl.Expr) -> pl.Expr:
    """Full-width letters, digits, punctuation and U+3000 → their half-width forms."""
    return expr.cast(pl.String).str.replace_many(_FULLWIDTH, _HALFWIDTH)


def empty_to_null(expr: pl.Expr) -> pl.Expr:
    """Null where the string is empty."""
    return pl.when(expr.str.len_chars() > 0).then(expr)


def clean_text_expr(expr: pl.Expr) -> pl.Expr:
    """Width-folded, every white space removed, empty → null."""
    return empty_to_null(fold_width_expr(expr).str.replace_all(WHITESPACE_RE, ""))


def fold_width(text: str) -> str:
    """Scalar :func:`fold_width_expr`, for tests and the generator."""
    return text.translate(_WIDTH_TABLE)


_WIDTH_TABLE = str.maketrans(dict(zip(_FULLWIDTH, _HALFWIDTH, strict=True)))
