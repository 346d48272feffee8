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

    person_id = c.key(
        "人员编号",
        "人员编号，人口库主键",
        "person id, key of the base",
        aliases=("人员ID", "个人编号", "人口编号", "人员编码"),
    )
    name = c.name("姓名", "姓名", "name", aliases=c.NAME_ALIASES)
    sex = c.code("性别", "性别 (GB/T 2261.1)", "sex", codes.SEX_MAP, aliases=c.SEX_ALIASES)
    id_number = c.id_number(
        "公民身份号码", "公民身份号码 (GB 11643)", "citizen ID number", aliases=c.ID_ALIASES
    )
    birth_date = c.date("出生日期", "出生日期", "date of birth", aliases=c.BIRTH_DATE_ALIASES)
    ethnicity = c.code(
        "民族", "民族 (GB 3304)", "ethnicity", codes.ETHNICITY_MAP, aliases=c.ETHNICITY_ALIASES
    )
    household_id = c.text("户号", "户号", "household number", aliases=c.HOUSEHOLD_ALIASES)
    relation_to_head = c.text(
        "与户主关系", "与户主关系", "relation to head of household", aliases=c.RELATION_ALIASES
    )
    marital_status = c.code(
        "婚姻状况",
        "婚姻状况 (GB/T 2261.2)",
        "marital status",
        codes.MARITAL_MAP,
        aliases=("婚姻状态", "婚姻情况", "婚否"),
    )
    hukou_type = c.code(
        "户口性质", "户口性质", "hukou type", codes.HUKOU_TYPE_MAP, aliases=c.HUKOU_TYPE_ALIASES
    )
    hukou_address = c.text(
        "户籍地址", "户籍地址", "registered address", aliases=c.HUKOU_ADDRESS_ALIASES
    )
    current_address = c.text(
        "现住地址", "现住地址", "current address", aliases=c.CURRENT_ADDRESS_ALIASES
    )
    township = c.text(
        "乡镇(街道)",
        "管理乡镇（街道）",
        "managing township",
        aliases=(
            "乡镇",
            "乡镇街道",
            "街道",
            "乡镇/街道",
            "乡(镇)",
            "乡镇(街道办事处)",
            "所属乡镇",
            "管理乡镇",
            "管理乡镇(街道)",
        ),
    )
    village = c.text(
        "村(社区)",
        "管理村（社区）",
        "managing village or community",
        aliases=(
            "村",
            "社区",
            "村社区",
            "村/社区",
            "村(居)",
            "村居",
            "村(居)委会",
            "村委会",
            "所属村(社区)",
            "管理村(社区)",
        ),
    )
    status = c.code(
        "人员状态",
        "人员状态",
        "person status",
        codes.PERSON_STATUS_MAP,
        required=True,
        aliases=("人口状态", "人员状况", "状态"),
    )
    updated_at = c.date(
        "更新日期",
        "更新日期",
        "last updated",
        aliases=("更新时间", "最后更新日期", "最后更新时间", "修改日期"),
    )
