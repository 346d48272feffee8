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

import re
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import dataframely as dy
import polars as pl

from linkage.standardise import codes, dates, ids

KINDS = ("key", "text", "name", "id", "date", "code", "int")

#: canonical id of the row within its file (1 = first data row); added by ingest
ROW = "_row"


#: brackets of every width and shape folded to ASCII parentheses (after NFKC)
_BRACKETS = str.maketrans({"【": "(", "】": ")", "〔": "(", "〕": ")", "[": "(", "]": ")"})
#: characters a header cell may carry that say nothing: every space (incl. U+3000 and
#: no-break), zero-width characters and BOMs, and the ``*`` templates put on required columns
_NOISE = re.compile(r"[\s\u200b\u200c\u200d\u2060\ufeff*]+")


def fold_header(cell: object) -> str:
    """The form under which header cells are compared: NFKC (full-width → half-width, so
    ``（`` is ``(``), every bracket shape as ``()``, spaces, zero-width characters, BOMs and
    ``*`` removed, letters in lower case. ``乡镇（街道）`` and ``乡镇 (街道)`` fold alike."""
    text = unicodedata.normalize("NFKC", str(cell)).translate(_BRACKETS)
    return _NOISE.sub("", text).casefold()


def _meta(
    header: str,
    kind: str,
    zh: str,
    en: str,
    vocab: Sequence[str] | None,
    aliases: Sequence[str] = (),
) -> dict[str, Any]:
    return {
        "header": header,
        "kind": kind,
        "zh": zh,
        "en": en,
        "vocab": list(vocab or []),
        "aliases": list(aliases),
    }


def column_meta(column: dy.Column) -> dict[str, Any]:
    """The metadata of a contract column (header, kind, zh, en, vocab, aliases; ``mapping``
    for codes). ``aliases`` are the other header names departments use for the column.

    Every contract column is built by the helpers below, which always set it.
    """
    if column.metadata is None:
        raise TypeError(f"contract column {column!r} has no metadata")
    return column.metadata


Aliases = Sequence[str]


def key(header: str, zh: str, en: str, *, aliases: Aliases = ()) -> dy.String:
    """The record's identifier in its source system; required."""
    return dy.String(nullable=False, metadata=_meta(header, "key", zh, en, None, aliases))


def text(
    header: str, zh: str, en: str, *, required: bool = False, aliases: Aliases = ()
) -> dy.String:
    return dy.String(nullable=not required, metadata=_meta(header, "text", zh, en, None, aliases))


def name(
    header: str, zh: str, en: str, *, required: bool = False, aliases: Aliases = ()
) -> dy.String:
    return dy.String(nullable=not required, metadata=_meta(header, "name", zh, en, None, aliases))


def id_number(header: str, zh: str, en: str, *, aliases: Aliases = ()) -> dy.String:
    """An ID number: its shape and check digit are soft checks (``<col>|check__id_valid``)."""

    def id_valid(col: pl.Expr) -> pl.Expr:
        return col.is_null() | ids.id_status_expr(col).is_in(["valid", "upgraded_15"])

    return dy.String(
        nullable=True,
        check={"id_valid": id_valid},
        metadata=_meta(header, "id", zh, en, None, aliases),
    )


def date(
    header: str, zh: str, en: str, *, required: bool = False, aliases: Aliases = ()
) -> dy.String:
    """A date in any of the delivered formats; unparseable text fails ``check__parses``."""

    def parses(col: pl.Expr) -> pl.Expr:
        return col.is_null() | dates.parse_date_expr(col).is_not_null()

    return dy.String(
        nullable=not required,
        check={"parses": parses},
        metadata=_meta(header, "date", zh, en, None, aliases),
    )


def code(
    header: str,
    zh: str,
    en: str,
    mapping: dict[str, str],
    *,
    required: bool = False,
    aliases: Aliases = (),
) -> dy.String:
    """A coded value; ``mapping`` maps every accepted spelling to the canonical word."""

    def in_vocabulary(col: pl.Expr) -> pl.Expr:
        return col.is_null() | codes.map_code_expr(col, mapping).is_not_null()

    vocab = sorted(set(mapping.values()), key=list(mapping.values()).index)
    return dy.String(
        nullable=not required,
        check={"in_vocabulary": in_vocabulary},
        metadata={**_meta(header, "code", zh, en, vocab, aliases), "mapping": mapping},
    )


def integer(
    header: str,
    zh: str,
    en: str,
    *,
    required: bool = False,
    check: Callable[[pl.Expr], pl.Expr] | None = None,
    aliases: Aliases = (),
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
        metadata=_meta(header, "int", zh, en, None, aliases),
    )


_LOOKUPS: dict[type, dict[str, str]] = {}


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
    def accepted_names(cls) -> dict[str, list[str]]:
        """Canonical column name → the header names accepted for it, the docs/interfaces.md
        header first, then its aliases (as declared)."""
        out: dict[str, list[str]] = {}
        for n, c in cls.data_columns().items():
            meta = column_meta(c)
            out[n] = [meta["header"], *meta.get("aliases", [])]
        return out

    @classmethod
    def header_lookup(cls) -> dict[str, str]:
        """Folded header name (:func:`fold_header`) → canonical column name, for every accepted
        name. Raises ``TypeError`` when two columns accept the same name (a contract bug)."""
        cached = _LOOKUPS.get(cls)
        if cached is not None:
            return dict(cached)
        lookup: dict[str, str] = {}
        for n, names in cls.accepted_names().items():
            for accepted in names:
                folded = fold_header(accepted)
                if lookup.get(folded, n) != n:
                    raise TypeError(
                        f"{cls.__name__}: header name {accepted!r} is accepted for both "
                        f"{lookup[folded]} and {n}"
                    )
                lookup[folded] = n
        _LOOKUPS[cls] = lookup
        return dict(lookup)

    @classmethod
    def id_columns(cls) -> list[str]:
        """The columns holding ID numbers (kind ``id``)."""
        return [n for n, c in cls.data_columns().items() if column_meta(c)["kind"] == "id"]

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


# ---------------------------------------------------------------- header names in use
# The names departments put on the same column, beside the docs/interfaces.md header. Shared
# here because several sources deliver the same kind of column; a contract adds its own.

#: a citizen ID column (公民身份号码)
ID_ALIASES = (
    "身份证号",
    "身份证号码",
    "身份证",
    "证件号码",
    "证件号",
    "身份证件号码",
    "身份证件号",
    "公民身份证号",
    "公民身份证号码",
    "公民身份号",
    "身份号码",
    "居民身份证号",
    "居民身份证号码",
    "身份证编号",
)
NAME_ALIASES = ("人员姓名", "居民姓名", "名字")
SEX_ALIASES = ("性别代码",)
BIRTH_DATE_ALIASES = ("出生年月日", "出生年月", "出生时间", "生日")
ETHNICITY_ALIASES = ("民族代码", "民族名称")
HOUSEHOLD_ALIASES = ("户编号", "户口号", "户籍户号")
RELATION_ALIASES = ("与户主的关系", "户主关系", "家庭关系")
HUKOU_TYPE_ALIASES = ("户籍性质", "户口类型", "户口类别")
HUKOU_ADDRESS_ALIASES = (
    "户籍地",
    "户籍所在地",
    "户口所在地",
    "户籍详址",
    "户籍地详址",
    "户口地址",
    "户籍地址详址",
)
CURRENT_ADDRESS_ALIASES = (
    "现住址",
    "现居住地址",
    "居住地址",
    "现居住地",
    "现住地",
    "实际居住地址",
    "现住地详址",
)


def person_id_aliases(who: str, *extra: str) -> tuple[str, ...]:
    """ID-column names prefixed by a role (``母亲``, ``男方``): ``母亲身份证号`` …"""
    return tuple(f"{who}{a}" for a in ID_ALIASES) + extra
