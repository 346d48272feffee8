"""Cross-county 协查 files (docs/interfaces.md section 4): the queries another county sends,
and the answers to ours. Validated like any delivery: a bad row is refused with its reason,
the good ones are kept."""

from __future__ import annotations

from typing import ClassVar

import dataframely as dy
import polars as pl

from linkage.standardise import codes

from . import _base as c
from ._base import Contract

QUERY_TYPE_MAP = {t: t for t in ("出生", "死亡", "婚姻", "流动人口", "身份核实")}
URGENCY_MAP = {"紧急": "紧急", "急": "急", "一般": "急"}
CONCLUSION_MAP = {t: t for t in ("本县有此人", "本县无此人", "已注销", "需入户核实")}


def _county_code(column: str) -> pl.Expr:
    return pl.col(column).str.contains(r"^\d{6}$")


class ExchangeQuery(Contract):
    source: ClassVar[str] = "exchange_query"
    title: ClassVar[str] = "跨县协查查询"
    record_key: ClassVar[str] = "query_id"
    soft_rules: ClassVar[frozenset[str]] = frozenset({"id_agrees_with_birth_date"})

    query_id = c.key("协查编号", "协查编号", "query id (unique for the sending county)")
    from_county = c.text(
        "发起地代码",
        "发起地代码",
        "asking county's code",
        required=True,
        aliases=("发起县代码", "发起方代码", "发起地区划代码"),
    )
    to_county = c.text(
        "目标地代码",
        "目标地代码",
        "county asked (this one)",
        required=True,
        aliases=("目标县代码", "目标地区划代码", "协查地代码"),
    )
    query_type = c.code("协查类型", "协查类型", "query type", QUERY_TYPE_MAP)
    urgency = c.code("紧急程度", "紧急程度", "urgency", URGENCY_MAP)
    sent_on = c.date("发起日期", "发起日期", "day sent", aliases=("发起时间",))
    due_on = c.date("反馈期限", "反馈期限", "answer due by", aliases=("反馈截止日期", "截止日期"))
    name = c.name("姓名", "姓名", "name of the person asked about", required=True)
    sex = c.code("性别", "性别", "sex", codes.SEX_MAP)
    id_number = c.id_number("公民身份号码", "公民身份号码", "citizen ID", aliases=c.ID_ALIASES)
    birth_date = c.date("出生日期", "出生日期", "date of birth", aliases=c.BIRTH_DATE_ALIASES)
    hukou_address = c.text(
        "户籍地址", "户籍地址", "registered address", aliases=c.HUKOU_ADDRESS_ALIASES
    )
    current_address = c.text(
        "现住地址", "现住地址", "current address", aliases=c.CURRENT_ADDRESS_ALIASES
    )
    event_date = c.date("事件日期", "事件日期", "the event that raised the query")
    reason = c.text("事由", "事由", "reason")

    @dy.rule()
    def county_codes(cls) -> pl.Expr:
        """发起地代码 and 目标地代码 are 6-digit division codes."""
        return _county_code("from_county") & _county_code("to_county")

    @dy.rule()
    def id_agrees_with_birth_date(cls) -> pl.Expr:
        return c.id_agrees_with_birth_date("id_number", "birth_date")


class ExchangeAnswer(Contract):
    source: ClassVar[str] = "exchange_answer"
    title: ClassVar[str] = "跨县协查反馈"
    record_key: ClassVar[str] = "query_id"

    query_id = c.key("协查编号", "协查编号", "the query answered, as sent")
    conclusion = c.code("核查结论", "核查结论", "conclusion", CONCLUSION_MAP, required=True)
    status = c.text("人员状态", "人员状态", "base status where found")
    hukou_address = c.text("户籍地址", "户籍地址", "registered address where found")
    note = c.text("核查说明", "核查说明", "explanation (required when not found)")
    answered_on = c.date("反馈日期", "反馈日期", "day answered", required=True)
    answered_by = c.text("反馈单位", "反馈单位", "county (and township) that answered")

    @dy.rule()
    def not_found_is_explained(cls) -> pl.Expr:
        """本县无此人 needs a 核查说明 (plan 004: 确实查找不到的…在备注栏内说明理由)."""
        return (pl.col("conclusion") != "本县无此人") | pl.col("note").is_not_null()
