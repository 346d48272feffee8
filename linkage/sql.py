"""Hand-written SQL, as named functions that return SQL text.

Identifiers passed in must already be validated (they come from code or checked config);
values never go in here — they are bound as parameters where the SQL is run.

Comparison expressions
----------------------
DuckDB's ``levenshtein``, ``damerau_levenshtein``, ``hamming`` and ``jaro_winkler_similarity``
have counted UTF-8 *bytes* in some releases and characters in others
(``levenshtein('张三丰', '张叁丰')`` was 3 on 2.0.0 and 1 on 2.0.1), so nothing here relies on
either on hanzi: hanzi are compared on character arrays (``string_split(x, '')`` splits into
code points; ``length`` counts code points). Those functions are used only on ASCII (pinyin,
ID digits, ``yyyymmdd`` dates), where bytes and characters are the same.

Lambdas use the ``lambda x: ...`` syntax; the old ``x -> ...`` arrow is deprecated.
``hamming`` raises on strings of different lengths, and DuckDB may evaluate the parts of an
``AND`` in any order, so length guards are written as ``CASE`` (evaluated in order).
"""

from __future__ import annotations


def chars_differing(left: str, right: str) -> str:
    """SQL counting the character positions at which two strings differ.

    Meaningful only when both strings have the same length in characters: ``list_zip`` pads
    the shorter list with NULL, and NULL never compares unequal. Works on code points, so
    ``张三丰`` / ``张叁丰`` gives 1 and ``𠮷野家`` / ``吉野家`` gives 1, whatever DuckDB's own
    string distances count.
    """
    return (
        f"len(list_filter(list_zip(string_split({left}, ''), string_split({right}, '')), "
        "lambda p: p[1] <> p[2]))"
    )


def one_char_different(left: str, right: str, *, min_length: int = 1) -> str:
    """SQL true when two strings of equal length (≥ ``min_length`` characters) differ in
    exactly one character position."""
    return (
        f"(length({left}) = length({right}) AND length({left}) >= {int(min_length)} "
        f"AND {chars_differing(left, right)} = 1)"
    )


def hamming_if_same_length(left: str, right: str) -> str:
    """SQL ``hamming`` that is NULL (not an error) when the lengths differ. ASCII only."""
    return f"CASE WHEN length({left}) = length({right}) THEN hamming({left}, {right}) END"


def one_substitution_or_swap(left: str, right: str) -> str:
    """SQL true when two equal-length ASCII strings differ by one substituted character or one
    swap of adjacent characters (Damerau-Levenshtein distance 1 at equal length).

    ``hamming <= 2`` is checked first: on 2 million random ID pairs this takes 0.03 s where
    ``damerau_levenshtein`` on every pair takes 6.4 s.
    """
    return (
        f"coalesce(CASE WHEN {hamming_if_same_length(left, right)} <= 2 "
        f"THEN damerau_levenshtein({left}, {right}) = 1 END, false)"
    )


def yyyymmdd(date_expr: str) -> str:
    """SQL formatting a DATE as 8 ASCII digits, so byte-based distances count digits."""
    return f"strftime({date_expr}, '%Y%m%d')"
