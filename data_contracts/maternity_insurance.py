"""人社/医保 生育保险待遇: one claim of an insured mother, evidence of a delivery."""

from __future__ import annotations

from typing import ClassVar

from . import _base as c
from ._base import Contract

BENEFIT_MAP = {"生育津贴": "生育津贴", "生育医疗费": "生育医疗费", "生育医疗费用": "生育医疗费"}


class MaternityInsurance(Contract):
    source: ClassVar[str] = "maternity_insurance"
    title: ClassVar[str] = "生育保险待遇"

    record_id = c.key(
        "记录编号", "记录编号", "claim id", aliases=("待遇记录编号", "业务编号", "流水号")
    )
    name = c.name(
        "姓名",
        "参保人（母亲）姓名",
        "insured mother's name",
        required=True,
        aliases=("参保人姓名", "参保人", "母亲姓名"),
    )
    id_number = c.id_number(
        "公民身份号码",
        "公民身份号码",
        "mother's ID number",
        aliases=c.ID_ALIASES
        + c.person_id_aliases("参保人", "社会保障号码", "个人社会保障号码", "参保人公民身份号码"),
    )
    employer = c.text(
        "参保单位", "参保单位", "employer", aliases=("参保单位名称", "单位名称", "工作单位")
    )
    benefit_type = c.code(
        "待遇类型",
        "待遇类型",
        "benefit type",
        BENEFIT_MAP,
        aliases=("待遇项目", "待遇种类", "支付类型"),
    )
    delivery_date = c.date(
        "生育日期",
        "生育日期",
        "date of delivery",
        required=True,
        aliases=("分娩日期", "生产日期", "生育时间"),
    )
    babies = c.integer(
        "生育胎数",
        "生育胎数",
        "number of babies",
        check=lambda n: n.is_between(1, 6),
        aliases=("胎数", "胎儿数"),
    )
