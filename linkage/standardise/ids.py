"""公民身份号码 (GB 11643-1999): normalisation, check digit, 15→18 upgrade, derived fields.

Scalar helpers (``check_char``, ``upgrade_15``, ``parse_id``) serve the generator and tests;
``standardise_id`` is the vectorised form used on whole frames.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import TypeVar

import polars as pl

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

STATUSES = ("valid", "upgraded_15", "bad_check", "bad_date", "bad_format", "missing")

#: What a spreadsheet or a copy-and-paste puts around or inside an ID and that is never part
#: of it: every space, zero-width characters and BOMs (U+200B..U+200D, U+2060, U+FEFF), the
#: apostrophe Excel uses to force text (also curly), the ``="…"`` wrapper of CSV exports,
#: backticks, and the hyphens and dashes of a grouped number. Applied after width folding.
NOISE_RE = "[\\s\u200b\u200c\u200d\u2060\ufeff'\"`=\u2018\u2019\u201c\u201d\\-\u2010-\u2015\u2212]+"

#: the row-issue rule of an ID that Excel stored as a number (``<col>|stored_as_number``)
STORED_AS_NUMBER = "stored_as_number"


def normalise_id(raw: str | None) -> str | None:
    """NFKC (full-width digits), ``x``/``×`` → ``X``, every character of :data:`NOISE_RE`
    removed (spaces, zero-width characters, BOM, ``'``, ``="…"``, backticks, hyphens);
    ``None`` if empty."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", str(raw)).replace("×", "X").replace("x", "X")
    text = re.sub(NOISE_RE, "", text)
    return text or None


def check_char(body17: str) -> str:
    """The check character for the first 17 digits of an 18-character ID."""
    total = sum(int(d) * w for d, w in zip(body17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def upgrade_15(id15: str) -> str:
    """Old 15-digit form → 18: insert ``19`` after the address code and append the check char."""
    body = id15[:6] + "19" + id15[6:15]
    return body + check_char(body)


def _valid_date(yyyymmdd: str) -> bool:
    try:
        dt.date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    return 1880 <= int(yyyymmdd[:4]) <= 2100


def parse_id(raw: str | None) -> tuple[str | None, str]:
    """Normalise one ID and classify it. Returns ``(normalised, status)``."""
    text = normalise_id(raw)
    if text is None:
        return None, "missing"
    if len(text) == 15 and text.isdigit():
        if not _valid_date("19" + text[6:12]):
            return text, "bad_date"
        return upgrade_15(text), "upgraded_15"
    if len(text) != 18 or not text[:17].isdigit() or text[17] not in CHECK_CHARS:
        return text, "bad_format"
    if not _valid_date(text[6:14]):
        return text, "bad_date"
    if check_char(text[:17]) != text[17]:
        return text, "bad_check"
    return text, "valid"


# ---------------------------------------------------------------- vectorised


def normalise_id_expr(expr: pl.Expr) -> pl.Expr:
    """Vectorised :func:`normalise_id`.

    Full-width digits and X are folded by hand: NFKC per row is slow.
    """
    fullwidth = [chr(0xFF10 + i) for i in range(10)]
    # full-width apostrophe, quote, backtick, equals and hyphen fold to their ASCII forms
    marks = ["＇", "＂", "｀", "＝", "－"]
    text = expr.cast(pl.String).str.replace_many(
        [*fullwidth, "ｘ", "Ｘ", "x", "×", *marks],
        [*"0123456789", "X", "X", "X", "X", "'", '"', "`", "=", "-"],
    )
    text = text.str.replace_all(NOISE_RE, "")
    return pl.when(text.str.len_chars() > 0).then(text).otherwise(None)


def scientific_expr(expr: pl.Expr) -> pl.Expr:
    """True where the text is a number in scientific or decimal notation (``4.33127E+17``,
    ``433127199001011000.0``): what an ID becomes once Excel stored it as a number. Such an
    ID lost its digits after the 15th, always."""
    text = normalise_id_expr(expr)
    return text.str.contains(r"^[+-]?\d+(\.\d*)?[eE][+-]?\d+$") | text.str.contains(
        r"^\d{12,}\.\d*$"
    )


def float_shaped_expr(expr: pl.Expr) -> pl.Expr:
    """True where 16 to 19 plain digits look like the text of a float: digits after the 15th
    all zero (what Excel shows and exports), or exactly the value of a double (what a reader
    prints for a number cell). A real ID matches by chance (about 1 in 20 to 1 in 70), so
    this says something only about a whole column: see :func:`stored_as_number`."""
    text = normalise_id_expr(expr)
    digits = text.str.contains(r"^\d{16,19}$")
    zeros = text.str.slice(15).str.contains(r"^0+$")
    exact = text.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False) == text.cast(
        pl.Int64, strict=False
    )
    return digits & (zeros | exact.fill_null(False))


def stored_as_number(frame: pl.DataFrame, col: str) -> pl.Series:
    """Per row of ``frame``: did Excel store this ID of column ``col`` as a number, losing
    its last digits? A scientific or decimal form always says so, and so do 18 digits ending
    in Excel's three zeros after the 15th significant digit whose check character fails (a
    real ID may end in 000, about once in 1,100, but then its check character is right).
    Other 16 to 19 plain digits shaped
    like a float (:func:`float_shaped_expr`) say so when the column shows it was a number
    column: a scientific form in it, or more than half of its plain 16-19 digit values
    float-shaped (a real column has a few per hundred). A numeric column (not text)
    holding numbers of more than 15 digits is a number column too. IDs that end in ``X``
    cannot be numbers and are never flagged."""
    column = frame.get_column(col)
    if column.dtype.is_float():
        return column.is_not_null() & (column.abs() >= 1e15)
    if column.dtype != pl.String:
        return pl.Series(col, [False] * frame.height, dtype=pl.Boolean)
    text = pl.col(col)
    flags = frame.select(
        scientific_expr(text).fill_null(False).alias("sci"),
        float_shaped_expr(text).fill_null(False).alias("float"),
        normalise_id_expr(text).str.contains(r"^\d{16,19}$").fill_null(False).alias("long"),
        (
            normalise_id_expr(text).str.contains(r"^\d{15}000$")
            & (_check_char_expr(normalise_id_expr(text)) != "0")
        )
        .fill_null(False)
        .alias("excel"),
    )
    sci, shaped, long = flags["sci"], flags["float"], flags["long"]
    number_column = sci.any() or shaped.sum() * 2 > long.sum() > 0
    return (sci | shaped) if number_column else (sci | flags["excel"])


def _check_char_expr(number: pl.Expr) -> pl.Expr:
    """Check char of the first 17 characters; null unless they are all digits."""
    digits = number.str.slice(0, 17).str.split("").list.eval(pl.element().cast(pl.Int32))
    total = digits.list.eval(pl.element() * pl.Series(WEIGHTS, dtype=pl.Int32)).list.sum()
    valid = number.str.contains(r"^\d{17}")
    return pl.when(valid).then(pl.lit(CHECK_CHARS).str.slice(total % 11, 1))


def standardise_id(frame: FrameT, col: str, out: str = "id") -> FrameT:
    """Add the standardised ID columns for ``col`` to a polars (lazy) frame.

    Adds ``{out}_number`` (18 characters when possible, else the cleaned text), ``{out}_raw``,
    ``{out}_status`` (one of :data:`STATUSES`), ``{out}_birth_date``, ``{out}_sex`` (男/女) and
    ``{out}_region`` (6-digit issuing area code). Derived fields are filled whenever the
    number has the right shape and a real date, even with a bad check digit: the digits are
    still mostly right, and linkage wants them.
    """
    tmp_norm, tmp_num = f"__{out}_norm", f"__{out}_num"
    frame = frame.with_columns(normalise_id_expr(pl.col(col)).alias(tmp_norm))
    norm = pl.col(tmp_norm)
    is15 = norm.str.contains(r"^\d{15}$")
    body15 = norm.str.slice(0, 6) + pl.lit("19") + norm.str.slice(6, 9)
    frame = frame.with_columns(
        pl.when(is15).then(body15).otherwise(norm).alias(tmp_num)
    ).with_columns(
        pl.when(is15)
        .then(pl.col(tmp_num) + _check_char_expr(pl.col(tmp_num)))
        .otherwise(pl.col(tmp_num))
        .alias(tmp_num)
    )
    number = pl.col(tmp_num)
    shape_ok = number.str.contains(r"^\d{17}[\dX]$")
    birth = number.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    birth_ok = birth.is_not_null() & birth.dt.year().is_between(1880, 2100)
    check_ok = _check_char_expr(number) == number.str.slice(17, 1)
    status = (
        pl.when(norm.is_null())
        .then(pl.lit("missing"))
        .when(~shape_ok)
        .then(pl.lit("bad_format"))
        .when(~birth_ok)
        .then(pl.lit("bad_date"))
        .when(is15)
        .then(pl.lit("upgraded_15"))
        .when(~check_ok)
        .then(pl.lit("bad_check"))
        .otherwise(pl.lit("valid"))
    )
    usable = shape_ok & birth_ok
    odd = number.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1
    return frame.with_columns(
        number.alias(f"{out}_number"),
        pl.col(col).cast(pl.String).alias(f"{out}_raw"),
        status.alias(f"{out}_status"),
        pl.when(usable).then(birth).alias(f"{out}_birth_date"),
        pl.when(usable)
        .then(pl.when(odd).then(pl.lit("男")).otherwise(pl.lit("女")))
        .alias(f"{out}_sex"),
        pl.when(usable).then(number.str.slice(0, 6)).alias(f"{out}_region"),
    ).drop(tmp_norm, tmp_num)


def mask_id(id_number: pl.Expr, keep_head: int = 6, keep_tail: int = 4) -> pl.Expr:
    """Mask for anything leaving the data office: first 6 + last 4 kept by default."""
    n = id_number.str.len_chars()
    stars = pl.lit("*").repeat_by(pl.max_horizontal(n - keep_head - keep_tail, 0)).list.join("")
    return (
        pl.when(n > keep_head + keep_tail)
        .then(
            id_number.str.slice(0, keep_head) + stars + id_number.str.slice(-keep_tail, keep_tail)
        )
        .otherwise(pl.lit("*").repeat_by(n).list.join(""))
    )


def mask_ids_in_text(text: pl.Expr, keep_head: int = 6, keep_tail: int = 4) -> pl.Expr:
    """Every 18-character run shaped like an ID inside free text masked as :func:`mask_id`
    does: for a column that should hold none (a name, a record key) but may."""
    head, tail = min(keep_head, 18), min(keep_tail, 18 - min(keep_head, 18))
    middle = 18 - head - tail
    tail_pattern = rf"(\d{{{tail - 1}}}[\dXx])" if tail else r"()[\dXx]"
    return text.str.replace_all(
        rf"(\d{{{head}}})\d{{{middle - (0 if tail else 1)}}}{tail_pattern}",
        "${1}" + "*" * middle + "${2}",
    )


def _number_expr(expr: pl.Expr) -> pl.Expr:
    """Normalised number with 15-digit IDs upgraded (expression form, for contract rules)."""
    norm = normalise_id_expr(expr)
    body15 = norm.str.slice(0, 6) + pl.lit("19") + norm.str.slice(6, 9)
    return (
        pl.when(norm.str.contains(r"^\d{15}$"))
        .then(body15 + _check_char_expr(body15))
        .otherwise(norm)
    )


def id_status_expr(expr: pl.Expr) -> pl.Expr:
    """Status of a raw ID column (same values as ``standardise_id``'s ``id_status``)."""
    norm = normalise_id_expr(expr)
    is15 = norm.str.contains(r"^\d{15}$")
    number = _number_expr(expr)
    birth = number.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    return (
        pl.when(norm.is_null())
        .then(pl.lit("missing"))
        .when(~number.str.contains(r"^\d{17}[\dX]$"))
        .then(pl.lit("bad_format"))
        .when(birth.is_null() | ~birth.dt.year().is_between(1880, 2100))
        .then(pl.lit("bad_date"))
        .when(is15)
        .then(pl.lit("upgraded_15"))
        .when(_check_char_expr(number) != number.str.slice(17, 1))
        .then(pl.lit("bad_check"))
        .otherwise(pl.lit("valid"))
    )


def id_birth_date_expr(expr: pl.Expr) -> pl.Expr:
    """Birth date encoded in a raw ID column; null when it does not parse."""
    number = _number_expr(expr)
    ok = number.str.contains(r"^\d{17}[\dX]$")
    return pl.when(ok).then(number.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False))


def id_sex_expr(expr: pl.Expr) -> pl.Expr:
    """Sex encoded in a raw ID column (odd order digit = 男); null when it does not parse."""
    number = _number_expr(expr)
    ok = number.str.contains(r"^\d{17}[\dX]$")
    odd = number.str.slice(16, 1).cast(pl.Int32, strict=False) % 2 == 1
    return pl.when(ok).then(pl.when(odd).then(pl.lit("男")).otherwise(pl.lit("女")))
