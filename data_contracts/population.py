"""全员人口库: the county population base everything is compared against (one row per person)."""

from __future__ import annotations

from typing import ClassVar

from linkage.standardise import codes

from . import _base as c
from ._base import PersonContract


class Population(PersonContract):
    source: ClassVar[str] = "population"
    title: ClassVar[str] = "全员人口库"
    record_key: ClassVar[str] = "person_id"

    person_id = c.key("人员编号", "人员编号，人口库主键", "person id, key of the base")
    name = c.name("姓名", "姓名", "name")
    sex = c.code("性别", "性别 (GB/T 2261.1)", "sex", codes.SEX_MAP)
    id_number = c.id_number("公民身份号码", "公民身份号码 (GB 11643)", "citizen ID number")
    birth_date = c.date("出生日期", "出生日期", "date of birth")
    ethnicity = c.code("民族", "民族 (GB 3304)", "ethnicity", codes.ETHNICITY_MAP)
    household_id = c.text("户号", "户号", "household number")
    relation_to_head = c.text("与户主关系", "与户主关系", "relation to head of household")
    marital_status = c.code(
        "婚姻状况", "婚姻状况 (GB/T 2261.2)", "marital status", codes.MARITAL_MAP
    )
    hukou_type = c.code("户口性质", "户口性质", "hukou type", codes.HUKOU_TYPE_MAP)
    hukou_address = c.text("户籍地址", "户籍地址", "registered address")
    current_address = c.text("现住地址", "现住地址", "current address")
    township = c.text("乡镇(街道)", "管理乡镇（街道）", "managing township")
    village = c.text("村(社区)", "管理村（社区）", "managing village or community")
    status = c.code("人员状态", "人员状态", "person status", codes.PERSON_STATUS_MAP, required=True)
    updated_at = c.date("更新日期", "更新日期", "last updated")
