"""Building blocks of the data contracts: typed columns with their Chinese headers.

A contract is a dataframely schema over the *delivered text* of one source, after its Chinese
headers were renamed to canonical names. Every column carries metadata (header, kind, Chinese
and English descriptions, vocabulary) that drives three things at once: header mapping on
ingest, validation (column checks and row rules), and the generated column reference
(``renkou contracts``).

Rules are *hard* (the row goes to quarantine with the rule as reason) unless listed in the
schema's ``soft_rules``: a soft failure keeps the row and records an issue, because losing a
person from the base over a mistyped ID would be worse than the typo.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import dataframely as dy
import polars as pl

from linkage.standardise import codes, dates, ids

KINDS = ("key", "text", "name", "id", "date", "code", "int")

#: canonical id of the row within its file (1 = first data row); added by ingest
ROW = "_row"


def _meta(header: str, kind: str, zh: str, en: str, vocab: Sequence[str] | None) -> dict[str, Any]:
    return {"header": header, "kind": kind, "zh": zh, "en": en, "vocab": list(vocab or [])}


def column_meta(column: dy.Column) -> dict[str, Any]:
    """The metadata of a contract column (header, kind, zh, en, vocab; ``mapping`` for codes).

    Every contract column is built by the helpers below, which always set it.
    """
    if column.metadata is None:
        raise TypeError(f"contract column {column!r} has no metadata")
    return column.metadata


def key(header: str, zh: str, en: str) -> dy.String:
    """The record's identifier in its source system; required."""
    return dy.String(nullable=False, metadata=_meta(header, "key", zh, en, None))


def text(header: str, zh: str, en: str, *, required: bool = False) -> dy.String:
    return dy.String(nullable=not required, metadata=_meta(header, "text", zh, en, None))


def name(header: str, zh: str, en: str, *, required: bool = False) -> dy.String:
    return dy.String(nullable=not required, metadata=_meta(header, "name", zh, en, None))


def id_number(header: str, zh: str, en: str) -> dy.String:
    """An ID number: its shape and check digit are soft checks (``<col>|check__id_valid``)."""

    def id_valid(col: pl.Expr) -> pl.Expr:
        return col.is_null() | ids.id_status_expr(col).is_in(["valid", "upgraded_15"])

    return dy.String(
        nullable=True, check={"id_valid": id_valid}, metadata=_meta(header, "id", zh, en, None)
    )


def date(header: str, zh: str, en: str, *, required: bool = False) -> dy.String:
    """A date in any of the delivered formats; unparseable text fails ``check__parses``."""

    def parses(col: pl.Expr) -> pl.Expr:
        return col.is_null() | dates.parse_date_expr(col).is_not_null()

    return dy.String(
        nullable=not required,
        check={"parses": parses},
        metadata=_meta(header, "date", zh, en, None),
    )


def code(
    header: str, zh: str, en: str, mapping: dict[str, str], *, required: bool = False
) -> dy.String:
    """A coded value; ``mapping`` maps every accepted spelling to the canonical word."""

    def in_vocabulary(col: pl.Expr) -> pl.Expr:
        return col.is_null() | codes.map_code_expr(col, mapping).is_not_null()

    vocab = sorted(set(mapping.values()), key=list(mapping.values()).index)
    return dy.String(
        nullable=not required,
        check={"in_vocabulary": in_vocabulary},
        metadata={**_meta(header, "code", zh, en, vocab), "mapping": mapping},
    )


def integer(
    header: str,
    zh: str,
    en: str,
    *,
    required: bool = False,
    check: Callable[[pl.Expr], pl.Expr] | None = None,
) -> dy.String:
    def is_integer(col: pl.Expr) -> pl.Expr:
        as_int = col.str.strip_chars().cast(pl.Int64, strict=False)
        ok = as_int.is_not_null()
        if check is not None:
            ok = ok & check(as_int)
        return col.is_null() | ok

    return dy.String(
        nullable=not required,
        check={"is_integer": is_integer},
        metadata=_meta(header, "int", zh, en, None),
    )


class Contract(dy.Schema):
    """Base of every source contract. Subclasses declare columns and ``@dy.rule()`` rules."""

    _row = dy.Int64(primary_key=True, metadata=_meta("", "row", "文件内行号", "row in file", None))

    #: the source folder under inbox/
    source: ClassVar[str] = ""
    #: Chinese title of the source
    title: ClassVar[str] = ""
    #: the column that identifies a record (unique within the source)
    record_key: ClassVar[str] = "record_id"
    #: rule names (as dataframely reports them) that warn instead of quarantining
    soft_rules: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def data_columns(cls) -> dict[str, dy.Column]:
        """The delivered columns (without the internal row number)."""
        return {n: c for n, c in cls.columns().items() if n != ROW}

    @classmethod
    def headers(cls) -> dict[str, str]:
        """Chinese header → canonical column name."""
        return {column_meta(c)["header"]: n for n, c in cls.data_columns().items()}

    @classmethod
    def required(cls) -> list[str]:
        return [n for n, c in cls.data_columns().items() if not c.nullable]

    @classmethod
    def is_soft(cls, rule: str) -> bool:
        """Soft rules: listed ones, plus every ID check and every check of an optional column."""
        if rule in cls.soft_rules:
            return True
        column, _, check = rule.partition("|")
        col = cls.data_columns().get(column)
        if col is None or not check:
            return False
        return check == "check__id_valid" or col.nullable


def parsed_date(column: str) -> pl.Expr:
    """The parsed value of a date column, for row rules."""
    return dates.parse_date_expr(pl.col(column))


def id_birth_date(column: str) -> pl.Expr:
    """The birth date encoded in an ID column (15-digit IDs upgraded), for row rules."""
    return ids.id_birth_date_expr(pl.col(column))


def id_agrees_with_birth_date(id_col: str, date_col: str) -> pl.Expr:
    """True unless both are readable and disagree."""
    encoded, given = id_birth_date(id_col), parsed_date(date_col)
    return encoded.is_null() | given.is_null() | (encoded == given)


def id_agrees_with_sex(id_col: str, sex_col: str, mapping: dict[str, str]) -> pl.Expr:
    encoded = ids.id_sex_expr(pl.col(id_col))
    given = codes.map_code_expr(pl.col(sex_col), mapping)
    return encoded.is_null() | given.is_null() | (encoded == given)


class PersonContract(Contract):
    """A contract of one person per row with an ID, a birth date and a sex (base, 户籍).

    The ID must agree with the birth-date and sex columns; both are soft rules (warned): the
    disagreement is a data-quality finding, not a reason to drop the person.
    """

    soft_rules: ClassVar[frozenset[str]] = frozenset(
        {"id_agrees_with_birth_date", "id_agrees_with_sex"}
    )

    @dy.rule()
    def id_agrees_with_birth_date(cls) -> pl.Expr:
        """The birth date inside the ID equals the 出生日期 column."""
        return id_agrees_with_birth_date("id_number", "birth_date")

    @dy.rule()
    def id_agrees_with_sex(cls) -> pl.Expr:
        """The sex digit of the ID agrees with the 性别 column."""
        return id_agrees_with_sex("id_number", "sex", codes.SEX_MAP)
