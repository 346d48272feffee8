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

    record_id = c.key("户籍记录编号", "户籍记录编号", "hukou record id")
    name = c.name("姓名", "姓名", "name", required=True)
    former_name = c.name("曾用名", "曾用名", "former name")
    sex = c.code("性别", "性别", "sex", codes.SEX_MAP)
    id_number = c.id_number("公民身份号码", "公民身份号码", "citizen ID number")
    birth_date = c.date("出生日期", "出生日期", "date of birth")
    ethnicity = c.code("民族", "民族", "ethnicity", codes.ETHNICITY_MAP)
    household_id = c.text("户号", "户号", "household number")
    relation_to_head = c.text("与户主关系", "与户主关系", "relation to head of household")
    hukou_address = c.text("户籍地址", "户籍地址", "registered address")
    hukou_type = c.code("户口性质", "户口性质", "hukou type", codes.HUKOU_TYPE_MAP)
    hukou_status = c.code(
        "户口状态", "户口状态", "hukou status", codes.HUKOU_STATUS_MAP, required=True
    )
    change_date = c.date("变动日期", "变动日期（注销日期）", "date of the last change")
    moved_to = c.text("迁往地址", "迁往地址", "destination of a move")

    @dy.rule()
    def change_not_before_birth(cls) -> pl.Expr:
        """A cancellation cannot precede the birth."""
        changed, born = c.parsed_date("change_date"), c.parsed_date("birth_date")
        return changed.is_null() | born.is_null() | (changed >= born)
