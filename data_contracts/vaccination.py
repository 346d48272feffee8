"""卫健 预防接种个案: one row per child under immunisation care, with the mother's name and a
guardian's ID number.

The child's ID is often empty (the youngest have none yet) and so is the name; the guardian's
ID may be the mother's or the father's, so it counts as the mother's only when its sex digit
says 女 and its birth date makes her 15-50 at the child's birth (``linkage.catalog``).
"""

from __future__ import annotations

from typing import ClassVar

import dataframely as dy
import polars as pl

from linkage.standardise import codes

from . import _base as c
from ._base import Contract


class Vaccination(Contract):
    source: ClassVar[str] = "vaccination"
    title: ClassVar[str] = "预防接种个案"
    soft_rules: ClassVar[frozenset[str]] = frozenset(
        {"id_agrees_with_birth_date", "id_agrees_with_sex"}
    )

    record_id = c.key(
        "受种者编码",
        "受种者编码（接种档案编号）",
        "vaccinee code",
        aliases=("受种者编号", "儿童编码", "儿童编号", "接种档案号", "档案编号", "个案编码"),
    )
    child_name = c.name(
        "儿童姓名",
        "儿童姓名（最小的常为空）",
        "child's name (often empty for the youngest)",
        aliases=("受种者姓名", "儿童名字", "宝宝姓名", "孩子姓名"),
    )
    sex = c.code("性别", "儿童性别", "child's sex", codes.SEX_MAP, aliases=("儿童性别", "性别代码"))
    birth_date = c.date(
        "出生日期",
        "儿童出生日期",
        "child's date of birth",
        required=True,
        aliases=("儿童出生日期", "出生年月日", "出生时间", "生日"),
    )
    id_number = c.id_number(
        "身份证号码",
        "儿童身份证号码（常为空）",
        "child's ID number (often empty)",
        aliases=c.person_id_aliases("儿童", "身份证号", "公民身份号码"),
    )
    mother_name = c.name("母亲姓名", "母亲姓名", "mother's name", aliases=("母姓名", "母亲名字"))
    guardian_id_number = c.id_number(
        "监护人身份证号码",
        "监护人身份证号码（母亲或父亲的）",
        "guardian's ID number (the mother's or the father's)",
        aliases=c.person_id_aliases("监护人", "监护人公民身份号码", "家长身份证号"),
    )
    address = c.text(
        "居住地址",
        "居住地址",
        "address where the child lives",
        aliases=("现住址", "家庭住址", "现居住地址", "住址"),
    )
    clinic = c.text("接种单位", "接种单位", "immunisation clinic", aliases=("接种门诊", "管理单位"))
    registered_on = c.date(
        "建档日期", "建档日期", "date the record was opened", aliases=("建卡日期", "建证日期")
    )

    @dy.rule()
    def id_agrees_with_birth_date(cls) -> pl.Expr:
        """The birth date inside the child's ID equals the 出生日期 column."""
        return c.id_agrees_with_birth_date("id_number", "birth_date")

    @dy.rule()
    def id_agrees_with_sex(cls) -> pl.Expr:
        """The sex digit of the child's ID agrees with the 性别 column."""
        return c.id_agrees_with_sex("id_number", "sex", codes.SEX_MAP)
