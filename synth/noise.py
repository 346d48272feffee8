"""Error families: how a clerk's typing changes a name, an ID number or a date.

Each family is a small function of one value that returns the changed value, or ``None``
when the family cannot apply (no homophone for any character, a day above 12 for a month/day
swap, ...); only real changes are logged as injected errors. ``ErrorLog`` collects the log.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import polars as pl
from borax.calendars.lunardate import LunarDate

from .chars import HOMOPHONES, SIMILAR_SHAPES, TRADITIONAL
from .names_table import MIDDLE_DOT

_COMPOUND = ("欧阳", "司马", "上官", "诸葛")
_SEPARATORS = ("•", "・", ".", "．", "")
_FULLWIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")

# the five ways departments write dates; each source has a usual one
DATE_FORMATS = ("%Y-%m-%d", "%Y/%-m/%-d", "%Y%m%d", "%Y.%m.%d", "%Y年%-m月%-d日")


# ---------------------------------------------------------------- names


def _given_start(name: str) -> int:
    return 2 if name.startswith(_COMPOUND) else 1


def homophone(name: str, rng: np.random.Generator) -> str | None:
    """One given-name character replaced by another of the same reading."""
    if MIDDLE_DOT in name:
        return None
    spots = [i for i in range(_given_start(name), len(name)) if name[i] in HOMOPHONES]
    if not spots:
        return None
    i = spots[int(rng.integers(len(spots)))]
    others = [c for c in HOMOPHONES[name[i]] if c != name[i]]
    return name[:i] + others[int(rng.integers(len(others)))] + name[i + 1 :]


def similar_shape(name: str, rng: np.random.Generator) -> str | None:
    """One character (surname included: 王→玉) replaced by a look-alike."""
    spots = [i for i, c in enumerate(name) if c in SIMILAR_SHAPES]
    if not spots:
        return None
    i = spots[int(rng.integers(len(spots)))]
    return name[:i] + SIMILAR_SHAPES[name[i]] + name[i + 1 :]


def traditional(name: str, rng: np.random.Generator) -> str | None:
    """The whole name in traditional characters."""
    out = "".join(TRADITIONAL.get(c, c) for c in name)
    return out if out != name else None


def spacing(name: str, rng: np.random.Generator) -> str | None:
    """An ASCII or full-width space between surname and given name, or around the name."""
    if len(name) < 2:
        return None
    k = _given_start(name)
    choice = int(rng.integers(4))
    if choice == 0:
        return f"{name[:k]} {name[k:]}"
    if choice == 1:
        return f"{name[:k]}\u3000{name[k:]}"
    if choice == 2:
        return f" {name}"
    return f"{name} "


def minority_separator(name: str, rng: np.random.Generator) -> str | None:
    """``·`` written as ``•``, ``・``, ``.``, ``．`` or left out."""
    if MIDDLE_DOT not in name:
        return None
    return name.replace(MIDDLE_DOT, _SEPARATORS[int(rng.integers(len(_SEPARATORS)))])


#: characters of transcribed (Uyghur) names and the others clerks write for the same sound;
#: some read alike in pinyin (买/麦/迈), some not (卜 bo / 布 bu, 都 dou / 杜 du, 迪 di / 德 de)
_TRANSCRIPTIONS = {
    "卜": "布不", "布": "卜不", "不": "卜布", "都": "杜度", "杜": "都度", "买": "麦迈",
    "麦": "买迈", "热": "惹", "古": "姑", "丽": "莉", "迪": "德地", "提": "题", "尔": "儿",
    "力": "利", "艾": "爱", "吐": "图", "逊": "荪", "努": "奴", "合": "和", "曼": "蔓",
    "素": "苏", "亚": "雅", "伊": "依", "依": "伊", "木": "穆", "娜": "纳", "再": "在",
    "帕": "怕", "米": "密", "森": "僧", "喀": "卡", "卡": "喀",
}  # fmt: skip


def transcription(name: str, rng: np.random.Generator) -> str | None:
    """A transcribed minority name (名·父名) written with other characters of the same sound:
    one or two characters (阿不都 → 阿卜杜, 迪丽努尔 → 迪莉奴尔)."""
    if MIDDLE_DOT not in name:
        return None
    spots = [i for i, c in enumerate(name) if c in _TRANSCRIPTIONS]
    if not spots:
        return None
    chars = list(name)
    for i in rng.choice(spots, size=min(len(spots), int(rng.integers(1, 3))), replace=False):
        others = _TRANSCRIPTIONS[chars[i]]
        chars[i] = others[int(rng.integers(len(others)))]
    return "".join(chars)


NAME_FAMILIES = {
    "homophone": homophone,
    "similar_shape": similar_shape,
    "traditional": traditional,
    "spacing": spacing,
    "transcription": transcription,
}


# ---------------------------------------------------------------- IDs


def id_typo(number: str, rng: np.random.Generator) -> str | None:
    """One of the 17 body digits wrong (the check character then disagrees)."""
    if len(number) != 18:
        return None
    i = int(rng.integers(17))
    digit = str((int(number[i]) + int(rng.integers(1, 10))) % 10)
    return number[:i] + digit + number[i + 1 :]


def id_transposition(number: str, rng: np.random.Generator) -> str | None:
    """Two adjacent, different characters swapped."""
    spots = [i for i in range(17) if len(number) == 18 and number[i] != number[i + 1]]
    if not spots:
        return None
    i = spots[int(rng.integers(len(spots)))]
    return number[:i] + number[i + 1] + number[i] + number[i + 2 :]


def id_15_digit(number: str, rng: np.random.Generator) -> str | None:
    """The old 15-digit form: no century, no check character."""
    return number[:6] + number[8:17] if len(number) == 18 else None


def id_format(number: str, rng: np.random.Generator) -> str | None:
    """Same number, typed differently: lower-case x, full-width digits or inner spaces."""
    choice = int(rng.integers(3))
    if choice == 0 and number.endswith("X"):
        return number[:-1] + "x"
    if choice == 1:
        return number.translate(_FULLWIDTH)
    return f"{number[:6]} {number[6:14]} {number[14:]}"


# ---------------------------------------------------------------- dates


def lunar_birthday(date: dt.date, rng: np.random.Generator) -> dt.date | None:
    """The lunar date of ``date`` written as if it were Gregorian (None if no such day).

    Converted with borax, as the standardiser reads it back (``lunardate`` was a day off in
    some months: 1933-06, 1954-11, 1978-08)."""
    if not 1901 <= date.year <= 2099:
        return None
    lunar = LunarDate.from_solar(date)
    try:
        out = dt.date(lunar.year, lunar.month, lunar.day)
    except ValueError:  # e.g. the 30th of a lunar 2nd month
        return None
    return out if out != date else None


def month_day_swap(date: dt.date, rng: np.random.Generator) -> dt.date | None:
    if date.day > 12 or date.day == date.month:
        return None
    return dt.date(date.year, date.day, date.month)


def date_digit(date: dt.date, rng: np.random.Generator) -> dt.date | None:
    """One digit of YYYYMMDD wrong, or the year off by one (a base-register error)."""
    if rng.random() < 0.4:
        try:
            return date.replace(year=date.year + (1 if rng.random() < 0.5 else -1))
        except ValueError:
            return None
    text = date.strftime("%Y%m%d")
    i = int(rng.integers(2, 8))
    new = text[:i] + str((int(text[i]) + int(rng.integers(1, 10))) % 10) + text[i + 1 :]
    try:
        return dt.datetime.strptime(new, "%Y%m%d").date()
    except ValueError:
        return None


# ---------------------------------------------------------------- the log


@dataclass
class ErrorLog:
    """Injected errors, one row each: source, record_id, role, family, column, true_pid."""

    parts: list[pl.DataFrame] = field(default_factory=list)

    def add(
        self,
        source: str,
        record_ids: list | pl.Series,
        role: str,
        family: str,
        column: str,
        true_pids: list | np.ndarray | pl.Series,
    ) -> None:
        n = len(record_ids)
        if n:
            self.parts.append(
                pl.DataFrame(
                    {
                        "source": [source] * n,
                        "record_id": pl.Series(record_ids, dtype=pl.String),
                        "role": [role] * n,
                        "family": [family] * n,
                        "column": [column] * n,
                        "true_pid": pl.Series("true_pid", true_pids, dtype=pl.Int64),
                    }
                )
            )

    def frame(self) -> pl.DataFrame:
        schema = {
            "source": pl.String,
            "record_id": pl.String,
            "role": pl.String,
            "family": pl.String,
            "column": pl.String,
            "true_pid": pl.Int64,
        }
        if not self.parts:
            return pl.DataFrame(schema=schema)
        return pl.concat(self.parts)
