"""公安户籍人口: the household-registration snapshot (one row per registered person)."""

from __future__ import annotations

from typing import ClassVar

import dataframely as dy
import polars as pl

from linkage.standardise import codes

from . import _base as c
from ._base import PersonContract


class Hukou(PersonContract):
    source: ClassVar[str] = "hukou"
    title: ClassVar[str] = "公安户籍人口"

    record_id = c.key(
        "户籍记录编号",
        "户籍记录编号",
        "hukou record id",
        aliases=("记录编号", "户籍编号", "户籍记录号"),
    )
    name = c.name("姓名", "姓名", "name", required=True, aliases=c.NAME_ALIASES)
    former_name = c.name("曾用名", "曾用名", "former name", aliases=("曾用姓名", "原名"))
    sex = c.code("性别", "性别", "sex", codes.SEX_MAP, aliases=c.SEX_ALIASES)
    id_number = c.id_number(
        "公民身份号码", "公民身份号码", "citizen ID number", aliases=c.ID_ALIASES
    )
    birth_date = c.date("出生日期", "出生日期", "date of birth", aliases=c.BIRTH_DATE_ALIASES)
    ethnicity = c.code(
        "民族", "民族", "ethnicity", codes.ETHNICITY_MAP, aliases=c.ETHNICITY_ALIASES
    )
    household_id = c.text("户号", "户号", "household number", aliases=c.HOUSEHOLD_ALIASES)
    relation_to_head = c.text(
        "与户主关系", "与户主关系", "relation to head of household", aliases=c.RELATION_ALIASES
    )
    hukou_address = c.text(
        "户籍地址", "户籍地址", "registered address", aliases=c.HUKOU_ADDRESS_ALIASES
    )
    hukou_type = c.code(
        "户口性质", "户口性质", "hukou type", codes.HUKOU_TYPE_MAP, aliases=c.HUKOU_TYPE_ALIASES
    )
    hukou_status = c.code(
        "户口状态",
        "户口状态",
        "hukou status",
        codes.HUKOU_STATUS_MAP,
        required=True,
        aliases=("户籍状态", "户口状况", "人员状态", "状态"),
    )
    change_date = c.date(
        "变动日期",
        "变动日期（注销日期）",
        "date of the last change",
        aliases=("变动时间", "变更日期", "注销日期", "注销时间"),
    )
    moved_to = c.text(
        "迁往地址",
        "迁往地址",
        "destination of a move",
        aliases=("迁往地", "迁往地区", "迁往地详址", "迁出去向", "去向"),
    )

    @dy.rule()
    def change_not_before_birth(cls) -> pl.Expr:
        """A cancellation cannot precede the birth."""
        changed, born = c.parsed_date("change_date"), c.parsed_date("birth_date")
        return changed.is_null() | born.is_null() | (changed >= born)
