"""妇幼 出生医学证明: one row per newborn, naming the child, the mother and the father."""

from __future__ import annotations

from typing import ClassVar

from linkage.standardise import codes

from . import _base as c
from ._base import Contract


class BirthCertificate(Contract):
    source: ClassVar[str] = "birth_certificate"
    title: ClassVar[str] = "出生医学证明"

    record_id = c.key("出生医学证明编号", "出生医学证明编号", "birth certificate number")
    child_name = c.name("新生儿姓名", "新生儿姓名（常为空或后改名）", "child's name (often empty)")
    sex = c.code("性别", "新生儿性别", "child's sex", codes.SEX_MAP)
    birth_date = c.date("出生日期", "新生儿出生日期", "child's date of birth", required=True)
    birth_place = c.text("出生地点", "出生地点（医院）", "place of birth (hospital)")
    mother_name = c.name("母亲姓名", "母亲姓名", "mother's name", required=True)
    mother_id_number = c.id_number("母亲身份证件号码", "母亲身份证件号码", "mother's ID number")
    father_name = c.name("父亲姓名", "父亲姓名", "father's name")
    father_id_number = c.id_number("父亲身份证件号码", "父亲身份证件号码", "father's ID number")
    address = c.text("家庭住址", "家庭住址", "family address")
