"""Chinese wording of task lists: finding types, fields, sources, actions, link explanations.

A link's ``explanation`` reads ``name: pinyin exact; id_number: one edit; birth_date: exact``
(comparison: level label, the labels being Splink ``label_for_charts`` text or short keys).
``explain_zh`` turns it into what a village officer reads:
``姓名同音、身份证号错一位、出生日期一致``.
Unknown labels never fail: the Chinese in their parentheses is used, else the part is left out.
"""

from __future__ import annotations

import re

#: finding_type → 核查类型
TYPE_ZH = {
    "suspected_death": "疑似死亡未注销",
    "unregistered_birth": "出生未登记",
    "attribute_conflict": "信息不一致",
    "duplicate_person": "疑似重复登记",
    "moved_out": "迁出未注销",
    "unregistered_person": "户籍人口未入库",
}

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

#: source → 线索来源
SOURCE_ZH = {
    "population": "全员人口库",
    "hukou": "公安户籍",
    "death": "死亡记录",
    "marriage": "婚姻登记",
    "birth_certificate": "出生医学证明",
    "maternity_insurance": "生育保险",
}

#: death record origin → how the clue is named
DEATH_ORIGIN_ZH = {"火化": "殡葬记录", "死亡医学证明": "死亡医学证明"}

#: suggested_action (+ cancellation reason) → 建议处理
ACTION_ZH = {
    "人口死亡登记": "入户核实死亡情况，属实的办理死亡注销（人口死亡登记）",
    "移交": "核实是否已迁出，属实的办理迁出注销（移交外省管理）",
    "补录人口": "核实是否常住本地，属实的补录入人口库",
    "补登出生": "核实新生儿情况，属实的补登出生信息",
    "属性更正": "核对证件，以户口簿/身份证为准更正",
    "重复人口注销": "核实是否同一人，属实的注销重复记录（重复人口注销）",
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


def action_zh(suggested_action: str | None) -> str:
    """The suggested action in words a village officer acts on."""
    if not suggested_action:
        return ""
    return ACTION_ZH.get(suggested_action, suggested_action)
