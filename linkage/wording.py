"""Chinese wording of fields and of link explanations, for task lists and reports.

Finding types, sources and actions are named in ``linkage.catalog``.

A link's ``explanation`` reads ``name: pinyin exact; id_number: one edit; birth_date: exact``
(comparison: level label, the labels being Splink ``label_for_charts`` text or short keys).
``explain_zh`` turns it into what a village officer reads:
``姓名同音、身份证号错一位、出生日期一致``.
Unknown labels never fail: the Chinese in their parentheses is used, else the part is left out.
"""

from __future__ import annotations

import re
from typing import Any

#: canonical column → Chinese field name
FIELD_ZH = {
    "name": "姓名",
    "former_name": "曾用名",
    "sex": "性别",
    "id_number": "身份证号",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "household_id": "户号",
    "marital_status": "婚姻状况",
    "address": "住址",
    "township": "乡镇",
    "village": "村",
    "relation_to_head": "与户主关系",
    "hukou_type": "户口性质",
}

# (pattern on the lower-cased level label, phrase; "{f}" is the field's Chinese name); first
# match wins, so the specific patterns come before "same"/"different".
_LEVEL_PHRASES: tuple[tuple[str, str], ...] = (
    (r"^null$|missing|缺失", ""),
    (r"former|曾用名", "与曾用名相同"),
    (r"pinyin|同音", "{f}同音"),
    (r"upgrad|15位|15→18", "{f}一致（15位升18位）"),
    (r"lunar|农历", "{f}农历公历相符"),
    (r"one edit|one_edit|one digit|one_digit|一位", "{f}错一位"),
    (r"swap|颠倒", "{f}月日颠倒"),
    (r"^exact key$", "{f}一致"),
    (r"fold|variant|traditional|\bkey\b|简繁|异体", "{f}繁简/异体字相同"),
    (r"similar|near|one char|近音|形近", "{f}相近"),
    (r"valid.but.different|均有效但不同", "{f}不同"),
    (r"township and village|township_village|同村", "同乡镇同村"),
    (r"township|同乡镇", "同乡镇"),
    (r"year|同年", "出生年份相同"),
    (r"exact|same|相同|一致", "{f}一致"),
    (r"else|different|other|不同", "{f}不一致"),
)
_PAREN_ZH = re.compile(r"[(（]([^()（）]*[\u4e00-\u9fff][^()（）]*)[)）]")


def _phrase(field: str, label: str) -> str:
    field_zh = FIELD_ZH.get(field, field)
    text = label.strip().lower()
    for pattern, phrase in _LEVEL_PHRASES:
        if re.search(pattern, text):
            return phrase.format(f=field_zh)
    found = _PAREN_ZH.search(label)
    return f"{field_zh}：{found.group(1)}" if found else ""


def explain_zh(explanation: str | None) -> str:
    """``name: pinyin exact; id_number: one edit`` → ``姓名同音、身份证号错一位``.

    Example: ``explain_zh("birth_date: Same birth date (出生日期相同)")`` is ``出生日期一致``.
    """
    if not explanation:
        return ""
    phrases: list[str] = []
    for part in explanation.split(";"):
        field, sep, label = part.partition(":")
        if not sep:
            continue
        phrase = _phrase(field.strip(), label)
        if phrase and phrase not in phrases:
            phrases.append(phrase)
    return "、".join(phrases)


def compare_zh(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    """Why two person records look alike, in words, from their standardised values."""
    if not a or not b:
        return ""
    out = []
    if a.get("name") and b.get("name"):
        if a["name"] == b["name"]:
            out.append("姓名相同")
        elif a.get("name_py") and a.get("name_py") == b.get("name_py"):
            out.append("姓名同音")
    ia, ib = a.get("id_number"), b.get("id_number")
    if ia and ib:
        if ia == ib:
            out.append("身份证号相同")
        elif len(ia) == len(ib) and sum(x != y for x, y in zip(ia, ib, strict=True)) == 1:
            out.append("身份证号错一位")
    if a.get("birth_date") and a.get("birth_date") == b.get("birth_date"):
        out.append("出生日期一致")
    if a.get("sex") and a.get("sex") == b.get("sex"):
        out.append("性别一致")
    if a.get("household_id") and a.get("household_id") == b.get("household_id"):
        out.append("同一户")
    return "、".join(out)
