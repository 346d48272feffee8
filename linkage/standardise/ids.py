"""公民身份号码 (GB 11643-1999): normalisation, check digit, 15→18 upgrade, derived fields.

Scalar helpers (``check_char``, ``upgrade_15``, ``parse_id``) serve the generator and tests;
``standardise_id`` is the vectorised form used on whole frames.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import TypeVar

import polars as pl

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"

STATUSES = ("valid", "upgraded_15", "bad_check", "bad_date", "bad_format", "missing")


def normalise_id(raw: str | None) -> str | None:
    """NFKC (full-width digits), ``x``/``×`` → ``X``, all whitespace removed; ``None`` if empty."""
    if raw is None:
        return None
    text = unicodedata.normalize("NFKC", str(raw)).replace("×", "X").replace("x", "X")
    text = "".join(text.split())
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
    text = expr.cast(pl.String).str.replace_many(
        [*fullwidth, "ｘ", "Ｘ", "x", "×"], [*"0123456789", "X", "X", "X", "X"]
    )
    text = text.str.replace_all(r"\s+", "")
    return pl.when(text.str.len_chars() > 0).then(text).otherwise(None)


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
