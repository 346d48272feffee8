"""教育 在校学生名册: one row per pupil of a kindergarten or primary school, with a guardian's
name and ID number (the mother's or the father's)."""

from __future__ import annotations

from typing import ClassVar

from linkage.standardise import codes

from . import _base as c
from ._base import PersonContract


class School(PersonContract):
    source: ClassVar[str] = "school"
    title: ClassVar[str] = "在校学生名册"

    record_id = c.key(
        "学籍号",
        "学籍号（全国学籍号）",
        "pupil's registration number",
        aliases=("全国学籍号", "学籍编号", "学生编号", "学号"),
    )
    name = c.name("姓名", "学生姓名", "pupil's name", aliases=("学生姓名", *c.NAME_ALIASES))
    sex = c.code("性别", "性别", "sex", codes.SEX_MAP, aliases=c.SEX_ALIASES)
    birth_date = c.date(
        "出生日期", "出生日期", "date of birth", required=True, aliases=c.BIRTH_DATE_ALIASES
    )
    id_number = c.id_number(
        "身份证号码",
        "学生身份证号码",
        "pupil's ID number",
        aliases=("学生身份证号", "身份证号", "公民身份号码", "身份证件号码"),
    )
    guardian_name = c.name(
        "监护人姓名", "监护人姓名", "guardian's name", aliases=("家长姓名", "监护人名字")
    )
    guardian_id_number = c.id_number(
        "监护人身份证号码",
        "监护人身份证号码",
        "guardian's ID number",
        aliases=c.person_id_aliases("监护人", "监护人公民身份号码", "家长身份证号"),
    )
    address = c.text(
        "家庭住址", "家庭住址", "family address", aliases=("家庭地址", "住址", "现住址", "居住地址")
    )
    school = c.text("学校名称", "学校名称", "school", aliases=("学校", "就读学校", "在读学校"))
    grade = c.text("年级", "年级", "grade (小班 … 六年级)", aliases=("就读年级", "年级名称"))
