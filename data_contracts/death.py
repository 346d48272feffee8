"""民政 殡葬/火化 and 卫健 死亡医学证明: one row per deceased person."""

from __future__ import annotations

from typing import ClassVar

import dataframely as dy
import polars as pl

from linkage.standardise import codes

from . import _base as c
from ._base import Contract

ORIGIN_MAP = {
    "火化": "火化",
    "殡葬": "火化",
    "火化记录": "火化",
    "死亡医学证明": "死亡医学证明",
    "医学证明": "死亡医学证明",
    "死亡证明": "死亡医学证明",
}


class Death(Contract):
    source: ClassVar[str] = "death"
    title: ClassVar[str] = "死亡/殡葬记录"
    soft_rules: ClassVar[frozenset[str]] = frozenset({"id_agrees_with_birth_date"})

    record_id = c.key("记录编号", "记录编号", "record id", aliases=("死亡记录编号", "记录号"))
    name = c.name(
        "姓名",
        "姓名",
        "name of the deceased",
        required=True,
        aliases=("死者姓名", "逝者姓名", "亡者姓名"),
    )
    sex = c.code("性别", "性别", "sex", codes.SEX_MAP, aliases=c.SEX_ALIASES)
    id_number = c.id_number(
        "公民身份号码",
        "公民身份号码（农村记录常缺）",
        "citizen ID (often missing)",
        aliases=c.ID_ALIASES + c.person_id_aliases("死者") + ("死者公民身份号码",),
    )
    birth_date = c.date("出生日期", "出生日期", "date of birth", aliases=c.BIRTH_DATE_ALIASES)
    death_date = c.date(
        "死亡日期",
        "死亡日期",
        "date of death",
        required=True,
        aliases=("死亡时间", "去世日期", "死亡年月日"),
    )
    address = c.text(
        "生前住址",
        "生前住址",
        "last address",
        aliases=("生前住所", "生前居住地址", "死者住址", "住址", "家庭住址"),
    )
    origin = c.code(
        "数据来源",
        "数据来源",
        "origin of the record",
        ORIGIN_MAP,
        aliases=("来源", "记录来源", "数据来源单位"),
    )

    @dy.rule()
    def id_agrees_with_birth_date(cls) -> pl.Expr:
        return c.id_agrees_with_birth_date("id_number", "birth_date")

    @dy.rule()
    def death_not_before_birth(cls) -> pl.Expr:
        """死亡日期 must not precede 出生日期 (or the birth date inside the ID)."""
        died, born = c.parsed_date("death_date"), c.parsed_date("birth_date")
        return died.is_null() | born.is_null() | (died >= born)
