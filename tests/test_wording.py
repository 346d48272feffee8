"""Link explanations and finding types in the words of a task list."""

from __future__ import annotations

import pytest

from linkage.catalog import action_zh, type_labels
from linkage.wording import explain_zh


@pytest.mark.parametrize(
    ("explanation", "expected"),
    [
        (
            "name: pinyin exact; id_number: one edit; birth_date: exact",
            "姓名同音、身份证号错一位、出生日期一致",
        ),
        (
            "name: Same pinyin, different characters (同音字); "
            "id_number: One digit wrong or two adjacent digits swapped (一位错/相邻颠倒); "
            "birth_date: Same birth date (出生日期相同)",
            "姓名同音、身份证号错一位、出生日期一致",
        ),
        ("id_number: exact; name: exact key", "身份证号一致、姓名一致"),
        (
            "name: Matches a former name (曾用名); birth_date: Month and day swapped (月日颠倒)",
            "与曾用名相同、出生日期月日颠倒",
        ),
        (
            "birth_date: Same once one side is read as a lunar date (农历/公历); "
            "id_number: Same ID via 15→18 upgrade (15位升级后相同)",
            "出生日期农历公历相符、身份证号一致（15位升18位）",
        ),
        ("name: null; id_number: ID missing on either side (身份证号缺失); sex: exact", "性别一致"),
        (
            "name: Same after traditional/variant folding (简繁/异体); "
            "address: Same township and village (同乡镇同村)",
            "姓名繁简/异体字相同、同乡镇同村",
        ),
        # unknown labels: the Chinese in parentheses, else nothing; never an error
        ("name: gazetteer match (地名库); ethnicity: zzz; nonsense", "姓名：地名库"),
        ("", ""),
        (None, ""),
    ],
)
def test_explanations_in_chinese(explanation: str | None, expected: str) -> None:
    assert explain_zh(explanation) == expected


def test_every_finding_type_has_its_chinese_label() -> None:
    assert type_labels() == {
        "suspected_death": "疑似死亡未注销",
        "unregistered_birth": "出生未登记",
        "attribute_conflict": "信息不一致",
        "duplicate_person": "疑似重复登记",
        "moved_out": "迁出外省未注销",
        "transfer": "省内迁移待移交",
        "married_out": "婚嫁外省待核实",
        "unverified_person": "公安比对未通过",
        "uncertain_link": "待核实配对",
        "unregistered_person": "户籍人口未入库",
        "cross_county_query": "跨县协查",
        "incoming_query": "外县协查待核实",
    }
    assert "死亡注销" in action_zh("人口死亡登记")
    assert action_zh("新动作") == "新动作" and action_zh(None) == ""
