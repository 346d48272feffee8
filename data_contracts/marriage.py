"""民政 婚姻登记: one registration (结婚 or 离婚) of two persons."""

from __future__ import annotations

from typing import ClassVar

import dataframely as dy
import polars as pl

from . import _base as c
from ._base import Contract

REGISTRATION_MAP = {"结婚": "结婚", "结婚登记": "结婚", "离婚": "离婚", "离婚登记": "离婚"}


class Marriage(Contract):
    source: ClassVar[str] = "marriage"
    title: ClassVar[str] = "婚姻登记"
    soft_rules: ClassVar[frozenset[str]] = frozenset(
        {"husband_id_agrees_with_birth_date", "wife_id_agrees_with_birth_date"}
    )

    record_id = c.key(
        "登记编号", "登记编号", "registration number", aliases=("登记号", "婚姻登记编号", "证字号")
    )
    registration_type = c.code(
        "登记类型",
        "登记类型",
        "marriage or divorce",
        REGISTRATION_MAP,
        required=True,
        aliases=("业务类型", "登记种类", "婚姻登记类型"),
    )
    registration_date = c.date(
        "登记日期",
        "登记日期",
        "date of registration",
        required=True,
        aliases=("登记时间", "办理日期"),
    )
    husband_name = c.name(
        "男方姓名", "男方姓名", "husband's name", required=True, aliases=("丈夫姓名", "男方名字")
    )
    husband_id_number = c.id_number(
        "男方证件号码",
        "男方证件号码",
        "husband's ID number",
        aliases=c.person_id_aliases("男方", "男方公民身份号码", "丈夫身份证号", "丈夫身份证号码"),
    )
    husband_birth_date = c.date(
        "男方出生日期",
        "男方出生日期",
        "husband's date of birth",
        aliases=("男方出生年月日", "男方出生年月", "丈夫出生日期"),
    )
    wife_name = c.name(
        "女方姓名", "女方姓名", "wife's name", required=True, aliases=("妻子姓名", "女方名字")
    )
    wife_id_number = c.id_number(
        "女方证件号码",
        "女方证件号码",
        "wife's ID number",
        aliases=c.person_id_aliases("女方", "女方公民身份号码", "妻子身份证号", "妻子身份证号码"),
    )
    wife_birth_date = c.date(
        "女方出生日期",
        "女方出生日期",
        "wife's date of birth",
        aliases=("女方出生年月日", "女方出生年月", "妻子出生日期"),
    )
    registry_office = c.text(
        "登记机关",
        "登记机关",
        "registry office",
        aliases=("登记单位", "登记机构", "婚姻登记机关", "登记处"),
    )

    @dy.rule()
    def husband_id_agrees_with_birth_date(cls) -> pl.Expr:
        return c.id_agrees_with_birth_date("husband_id_number", "husband_birth_date")

    @dy.rule()
    def wife_id_agrees_with_birth_date(cls) -> pl.Expr:
        return c.id_agrees_with_birth_date("wife_id_number", "wife_birth_date")

    @dy.rule()
    def registration_after_births(cls) -> pl.Expr:
        """Nobody registers a marriage before being born."""
        reg = c.parsed_date("registration_date")
        born = [c.parsed_date("husband_birth_date"), c.parsed_date("wife_birth_date")]
        return pl.all_horizontal(b.is_null() | reg.is_null() | (reg > b) for b in born)
