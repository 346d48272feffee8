"""妇幼 出生医学证明: one row per newborn, naming the child, the mother and the father."""

from __future__ import annotations

from typing import ClassVar

from linkage.standardise import codes

from . import _base as c
from ._base import Contract


class BirthCertificate(Contract):
    source: ClassVar[str] = "birth_certificate"
    title: ClassVar[str] = "出生医学证明"

    record_id = c.key(
        "出生医学证明编号",
        "出生医学证明编号",
        "birth certificate number",
        aliases=(
            "出生证编号",
            "出生证号",
            "出生证明编号",
            "出生医学证明号",
            "出生医学证明编码",
            "证明编号",
        ),
    )
    child_name = c.name(
        "新生儿姓名",
        "新生儿姓名（常为空或后改名）",
        "child's name (often empty)",
        aliases=("婴儿姓名", "新生儿名字", "宝宝姓名", "子女姓名", "孩子姓名"),
    )
    sex = c.code(
        "性别",
        "新生儿性别",
        "child's sex",
        codes.SEX_MAP,
        aliases=("新生儿性别", "婴儿性别", "性别代码"),
    )
    birth_date = c.date(
        "出生日期",
        "新生儿出生日期",
        "child's date of birth",
        required=True,
        aliases=("新生儿出生日期", "婴儿出生日期", "出生时间", "出生年月日"),
    )
    birth_place = c.text(
        "出生地点",
        "出生地点（医院）",
        "place of birth (hospital)",
        aliases=("出生地", "出生医院", "助产机构", "接生机构"),
    )
    mother_name = c.name(
        "母亲姓名", "母亲姓名", "mother's name", required=True, aliases=("母姓名", "母亲名字")
    )
    mother_id_number = c.id_number(
        "母亲身份证件号码",
        "母亲身份证件号码",
        "mother's ID number",
        aliases=c.person_id_aliases(
            "母亲", "母亲公民身份号码", "母亲有效身份证件号码", "母身份证号"
        ),
    )
    father_name = c.name("父亲姓名", "父亲姓名", "father's name", aliases=("父姓名", "父亲名字"))
    father_id_number = c.id_number(
        "父亲身份证件号码",
        "父亲身份证件号码",
        "father's ID number",
        aliases=c.person_id_aliases(
            "父亲", "父亲公民身份号码", "父亲有效身份证件号码", "父身份证号"
        ),
    )
    address = c.text(
        "家庭住址", "家庭住址", "family address", aliases=("家庭地址", "住址", "现住址", "居住地址")
    )
