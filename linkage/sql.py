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

from typing import Any

import sqlglot
from sqlglot import exp


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


def _name_part(parts: str, n: int) -> str:
    return f"split_part({parts}, '-', {n})"


def one_name_part_same(left: str, right: str) -> str:
    """SQL true when the first or the second part of two ``·`` names is the same; the columns
    hold the parts joined by ``-`` (``name_snd_parts``: ``patiguli-aili``)."""
    return " OR ".join(f"{_name_part(left, n)} = {_name_part(right, n)}" for n in (1, 2))


def one_name_part_alike(left: str, right: str, jw: float) -> str:
    """SQL true when one part of two ``·`` names is the same and the other sounds alike
    (Jaro-Winkler >= ``jw`` on its reading, ASCII): 佐日古丽·喀迪尔 / 佐日古丽·卡德尔."""
    return " OR ".join(
        f"({_name_part(left, n)} = {_name_part(right, n)} AND jaro_winkler_similarity("
        f"{_name_part(left, 3 - n)}, {_name_part(right, 3 - n)}) >= {float(jw)})"
        for n in (1, 2)
    )


def yyyymmdd(date_expr: str) -> str:
    """SQL formatting a DATE as 8 ASCII digits, so byte-based distances count digits."""
    return f"strftime({date_expr}, '%Y%m%d')"


# --- the same SQL on Spark -------------------------------------------------------------------

#: the engines the link stage runs on; a model's JSON always holds the DuckDB SQL
DIALECTS = ("duckdb", "spark")


def _spark_node(node: Any) -> str | None:
    """Spark SQL for one DuckDB node whose meaning sqlglot does not carry over, else None.

    Children are already Spark (the tree is rewritten bottom-up).
    """
    spark = "spark"
    if isinstance(node, exp.Split):
        # DuckDB's string_split(x, '') is one element per code point; Spark's split takes a
        # regex, and the empty one splits between characters too
        return f"split({node.this.sql(spark)}, {node.expression.sql(spark)})"
    if isinstance(node, exp.ArrayFilter) and _is_call(node.this, "list_zip"):
        # list_filter(list_zip(a, b), lambda p: f(p[1], p[2])): zip_with pads the shorter
        # array with NULL as list_zip does, and a NULL condition is dropped on both engines
        left, right = node.this.expressions
        lam = node.expression
        (param,) = lam.expressions
        body = lam.this.copy()
        for bracket in list(body.find_all(exp.Bracket)):
            if bracket.this.name == param.name and len(bracket.expressions) == 1:
                index = int(bracket.expressions[0].name)  # sqlglot's 0-based index
                bracket.replace(exp.to_identifier(("x", "y")[index]))
        return (
            f"filter(zip_with({left.sql(spark)}, {right.sql(spark)}, "
            f"(x, y) -> {body.sql(spark)}), d -> d)"
        )
    if isinstance(node, exp.Length) and isinstance(node.this, exp.ArrayFilter):
        return f"size({node.this.sql(spark)})"  # DuckDB's len() of a list
    if _is_call(node, "hamming"):
        # positions that differ; callers guard equal lengths (hamming raises otherwise)
        left, right = (e.sql(spark) for e in node.expressions)
        return (
            f"size(filter(zip_with(split({left}, ''), split({right}, ''), "
            "(x, y) -> x <> y), d -> d))"
        )
    if _is_call(node, "damerau_levenshtein"):
        return "damerau_levenshtein(" + ", ".join(e.sql(spark) for e in node.expressions) + ")"
    if isinstance(node, exp.JarowinklerSimilarity):
        # the UDF Splink's Spark jar registers (uk.gov.moj.dash.linkage.JaroWinklerSimilarity)
        return f"jaro_winkler({node.this.sql(spark)}, {node.expression.sql(spark)})"
    if (
        isinstance(node, exp.DateDiff)
        and node.unit is not None
        and node.unit.name.upper() == "YEAR"
    ):
        # DuckDB's date_diff('year', a, b) counts year boundaries crossed: year(b) - year(a)
        return f"(year({node.this.sql(spark)}) - year({node.expression.sql(spark)}))"
    return None


def _is_call(node: Any, name: str) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).lower() == name


def to_dialect(condition: str, dialect: str) -> str:
    """A DuckDB SQL condition (a comparison level, a blocking rule) in ``dialect``.

    DuckDB is the dialect models are written and saved in: ``to_dialect(x, "duckdb")`` is
    ``x`` itself. For Spark, sqlglot translates what means the same on both engines
    (``strftime`` → ``date_format``, ``substr``, ``year``) and :func:`_spark_node` the
    functions whose meaning it does not carry over: ``string_split(x, '')`` → ``split``,
    ``list_filter(list_zip(..))`` → ``filter(zip_with(..))``, ``len`` of a list → ``size``,
    ``hamming`` → positions differing, ``jaro_winkler_similarity`` and ``damerau_levenshtein``
    → the UDFs of Splink's Spark jar, ``date_diff('year', ..)`` → difference of years.
    """
    if dialect == "duckdb" or condition.strip().upper() == "ELSE":
        return condition
    if dialect != "spark":
        raise ValueError(f"dialect {dialect!r} is not one of {DIALECTS}")
    tree = sqlglot.parse_one(condition, read="duckdb")
    for node in reversed(list(tree.walk(bfs=False))):  # children before their parents
        text = _spark_node(node)
        if text is not None:
            replacement = sqlglot.parse_one(text, read="spark")
            if node is tree:
                tree = replacement
            else:
                node.replace(replacement)
    return tree.sql(dialect="spark")
