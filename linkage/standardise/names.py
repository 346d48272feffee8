"""Chinese personal names: cleaning, comparison keys, surname split and pinyin.

The display name is only cleaned (width, spaces, the minority-name separator ``·``): it is
never converted. Conversion (traditional → simplified, variant characters) happens only in the
comparison key ``name_key``, because 於 and 于 are different surnames.

Everything per character (key character, pinyin) is computed once per *distinct character*
and everything per name once per *distinct name*, then mapped back through polars: a county
base has ~1M rows but only tens of thousands of distinct names and a few thousand characters.

Example:
    >>> df = pl.DataFrame({"raw": ["張　偉", "阿依古丽•买买提", "单田芳"]})
    >>> result = standardise_names(df, "raw").select("name", "name_key", "name_py")
    >>> result.rows()  # doctest: +NORMALIZE_WHITESPACE
    [('張偉', '张伟', 'zhangwei'),
     ('阿依古丽·买买提', '阿依古丽买买提', 'ayigulimaimaiti'),
     ('单田芳', '单田芳', 'shantianfang')]
"""

from __future__ import annotations

import unicodedata
from functools import cache
from typing import TypeVar

import opencc
import polars as pl
from pypinyin import Style, lazy_pinyin

from linkage.standardise._distinct import map_distinct
from linkage.standardise._name_tables import (
    COMPOUND_SURNAMES,
    KEY_PROTECTED_SURNAMES,
    NAME_READINGS,
    SURNAME_READINGS,
    T2S_KEEP,
    VARIANT_CHARS,
)
from linkage.standardise._text import WHITESPACE_RE, empty_to_null, fold_width_expr

FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

SEPARATOR = "·"  # U+00B7, the standard separator of transcribed minority names

#: Separators found in delivered minority names; all become U+00B7. ``．`` and ``＿`` are
#: width-folded to ``.`` and ``_`` first. ``。`` (and its half-width ``｡``) is what a Chinese
#: input method types for ``.``; ``ㆍ`` (U+318D, Hangul araea) and ``ꞏ`` (U+A78F, Latin sinological
#: dot) come from Korean and font-matching input. Hyphens count only between two Han characters
#: (see :func:`clean_name_expr`).
DOT_VARIANTS = (
    "•",
    "・",
    "･",
    "‧",
    "∙",
    "⋅",
    "⸱",
    "\u0387",
    ".",
    "。",
    "｡",
    "_",
    "\u318d",
    "\ua78f",
)
_HYPHEN_BETWEEN_HAN = r"(\p{Han})[-‐‑–—―](\p{Han})"

#: Code points that count as a Han character where a surname may start: 〇, CJK unified
#: ideographs with extensions A-I, compatibility ideographs.
_HAN_RANGES = (
    (0x3007, 0x3007),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xF900, 0xFAFF),
    (0x20000, 0x3347F),
)
_STARTS_HAN = "^[" + "".join(f"\\x{{{lo:X}}}-\\x{{{hi:X}}}" for lo, hi in _HAN_RANGES) + "]"

#: Fields added by :func:`standardise_names` after ``{out}`` itself, in order.
NAME_FIELDS = ("key", "surname", "given", "py", "surname_py", "given_py", "snd", "snd_parts")

_T2S = opencc.OpenCC("t2s")


def clean_name_expr(expr: pl.Expr) -> pl.Expr:
    """Cleaned display name: width folded, no white space, separators unified to ``·``.

    Full-width letters and digits become half-width, every white space (U+3000 and inner
    spaces included) is removed, the separator variants in :data:`DOT_VARIANTS` and a hyphen
    between two Han characters become U+00B7, repeated separators collapse and leading or
    trailing ones go. Empty → null. Characters are never converted (no t2s).
    """
    text = (
        fold_width_expr(expr)
        .str.replace_all(WHITESPACE_RE, "")
        .str.replace_many(list(DOT_VARIANTS), [SEPARATOR] * len(DOT_VARIANTS))
        # two passes: a match consumes the Han after the hyphen, so 阿-布-都 needs the second
        .str.replace_all(_HYPHEN_BETWEEN_HAN, f"${{1}}{SEPARATOR}${{2}}")
        .str.replace_all(_HYPHEN_BETWEEN_HAN, f"${{1}}{SEPARATOR}${{2}}")
        .str.replace_all(f"{SEPARATOR}{{2,}}", SEPARATOR)
        .str.strip_chars(SEPARATOR)
    )
    return empty_to_null(text)


# ---------------------------------------------------------------- per character (cached)


@cache
def key_char(ch: str) -> str:
    """Comparison form of one character: NFKC, OpenCC t2s, then variant folding."""
    k = unicodedata.normalize("NFKC", ch)
    if len(k) != 1:
        k = ch
    if k not in T2S_KEEP:
        simplified = _T2S.convert(k)
        if len(simplified) == 1:
            k = simplified
    return VARIANT_CHARS.get(k, k)


@cache
def char_pinyin(ch: str) -> str:
    """Toneless lower-case pinyin of one character (pypinyin default reading, ü as ``v``).

    A character pypinyin does not know (𠮷) is read as its key form (吉 → ``ji``); failing
    that it is kept as it is. The separator ``·`` reads as nothing.
    """
    if ch == SEPARATOR:
        return ""
    text = "".join(lazy_pinyin(ch, style=Style.NORMAL, v_to_u=False))
    if text == ch and key_char(ch) != ch:
        text = "".join(lazy_pinyin(key_char(ch), style=Style.NORMAL, v_to_u=False))
    return text.lower()


def _is_han(ch: str) -> bool:
    return any(lo <= ord(ch) <= hi for lo, hi in _HAN_RANGES)


# ---------------------------------------------------------------- scalar API


def _surname_len(name: str) -> int:
    """0 (no surname), 1 or 2 characters; the rule :func:`_name_parts` vectorises."""
    if not name or SEPARATOR in name or not _is_han(name[0]):
        return 0
    if len(name) > 2 and key_char(name[0]) + key_char(name[1]) in COMPOUND_SURNAMES:
        return 2
    return 1


def surname_split(name: str) -> tuple[str | None, str]:
    """Split a cleaned name into ``(surname, given)``.

    Compound surnames (欧阳, 司马, 歐陽 …) need at least one given-name character after them;
    a two-character name is always surname + given. Names with ``·`` (transcribed minority
    names, 名·父名) and names not starting with a Han character have no surname: ``(None,
    name)``. A one-character name is taken as a bare surname: ``("张", "")``.

    Example:
        >>> surname_split("欧阳娜娜"), surname_split("阿依古丽·买买提")
        (('欧阳', '娜娜'), (None, '阿依古丽·买买提'))
    """
    name = "".join(name.split())
    n = _surname_len(name)
    return (name[:n] or None), name[n:]


def surname_pinyin(surname: str) -> str:
    """Reading of a surname, from the surname tables, else per character."""
    key = "".join(key_char(c) for c in surname)
    reading = COMPOUND_SURNAMES.get(key) or SURNAME_READINGS.get(key)
    return reading or "".join(char_pinyin(c) for c in surname)


def name_pinyin(name: str) -> str:
    """Toneless pinyin of a cleaned name, no separators, surname read with the surname table.

    Example:
        >>> name_pinyin("单田芳"), name_pinyin("曾晓蕾"), name_pinyin("尉迟恭")
        ('shantianfang', 'zengxiaolei', 'yuchigong')
    """
    surname, given = surname_split(name)
    head = surname_pinyin(surname) if surname else ""
    return head + "".join(char_pinyin(c) for c in given)


# ---------------------------------------------------------------- vectorised


def _map_chars(chars: pl.Expr, mapping: dict[str, str]) -> pl.Expr:
    return chars.list.eval(pl.element().replace(mapping))


def _name_parts(names: pl.Series) -> pl.DataFrame:
    """``name`` and :data:`NAME_FIELDS` for a series of cleaned names, row for row."""
    chars = names.str.split("")
    distinct_chars = chars.explode().unique().drop_nulls().to_list()
    to_key = {c: key_char(c) for c in distinct_chars if key_char(c) != c}
    to_py = {c: char_pinyin(c) for c in distinct_chars}
    to_snd = {c: NAME_READINGS.get(key_char(c), to_py[c]) for c in distinct_chars}
    to_snd[SEPARATOR] = "-"
    readings = COMPOUND_SURNAMES | SURNAME_READINGS
    name = pl.col("name")
    n = pl.col("chars").list.len()
    frame = (
        pl.DataFrame({"name": names, "chars": chars})
        .with_columns(
            kchars=_map_chars(pl.col("chars"), to_key),
            pychars=_map_chars(pl.col("chars"), to_py),
            sndchars=_map_chars(pl.col("chars"), to_snd),
        )
        .with_columns(
            slen=pl.when(
                name.str.contains(SEPARATOR, literal=True) | ~name.str.contains(_STARTS_HAN)
            )
            .then(0)
            .when(
                (n > 2)
                & pl.col("kchars").list.slice(0, 2).list.join("").is_in(list(COMPOUND_SURNAMES))
            )
            .then(2)
            .otherwise(1)
        )
    )
    slen = pl.col("slen")
    surname = pl.when(slen > 0).then(name.str.slice(0, slen))
    ksurname = pl.col("kchars").list.slice(0, slen).list.join("")
    frame = frame.with_columns(
        surname=surname,
        given=empty_to_null(name.str.slice(slen)),
        ksurname=pl.when(surname.is_in(list(KEY_PROTECTED_SURNAMES)))
        .then(surname)
        .otherwise(ksurname),
        kgiven=pl.col("kchars").list.slice(slen).list.join(""),
        surname_py=pl.when(slen > 0).then(
            ksurname.replace_strict(
                readings, default=pl.col("pychars").list.slice(0, slen).list.join("")
            )
        ),
        given_py=empty_to_null(pl.col("pychars").list.slice(slen).list.join("")),
        given_snd=pl.col("sndchars").list.slice(slen).list.join(""),
    )
    return frame.select(
        "name",
        key=empty_to_null(
            pl.concat_str(pl.col("ksurname").fill_null(""), pl.col("kgiven")).str.replace_all(
                SEPARATOR, "", literal=True
            )
        ),
        surname="surname",
        given="given",
        py=empty_to_null(
            pl.concat_str(pl.col("surname_py").fill_null(""), pl.col("given_py").fill_null(""))
        ),
        surname_py="surname_py",
        given_py="given_py",
        snd=empty_to_null(
            pl.concat_str(
                pl.col("surname_py").fill_null(""),
                pl.col("given_snd").str.replace_all("-", "", literal=True),
            )
        ),
        snd_parts=pl.when(pl.col("given_snd").str.contains("-", literal=True)).then(
            pl.col("given_snd")
        ),
    )


_PARTS_DTYPE = pl.Struct({field: pl.String for field in ("name", *NAME_FIELDS)})


def _standardised(raw: pl.Series) -> pl.Series:
    cleaned = raw.to_frame("raw").select(clean_name_expr(pl.col("raw"))).to_series()
    return _name_parts(cleaned).to_struct("parts")


def standardise_names(frame: FrameT, col: str, out: str = "name") -> FrameT:
    """Add the standardised name columns for ``col`` to a polars (lazy) frame.

    Adds ``{out}`` (cleaned display name, see :func:`clean_name_expr`), ``{out}_key``
    (simplified, variant-folded, ``·`` removed; 於 kept as a surname), ``{out}_surname``,
    ``{out}_given`` (see :func:`surname_split`; the given name of a one-character name is
    null), ``{out}_py``, ``{out}_surname_py`` and ``{out}_given_py`` (toneless pinyin, no
    separators, surname from the surname tables, given name per character), ``{out}_snd``
    (the pinyin with the readings names use, :data:`NAME_READINGS`: 阿卜杜拉, 阿布都拉 and
    阿不都拉 all read ``abudula``) and ``{out}_snd_parts`` (the same with ``-`` between the
    parts of a ``·`` name, ``patiguli-aili``; null for a name without ``·``). Computed once per
    distinct delivered value.
    """
    tmp = f"__{out}_parts"
    frame = frame.with_columns(map_distinct(pl.col(col), _standardised, _PARTS_DTYPE).alias(tmp))
    return frame.with_columns(
        pl.col(tmp).struct.field("name").alias(out),
        *(pl.col(tmp).struct.field(field).alias(f"{out}_{field}") for field in NAME_FIELDS),
    ).drop(tmp)
