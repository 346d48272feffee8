"""人社/医保 生育保险待遇: one claim of an insured mother, evidence of a delivery."""

from __future__ import annotations

from typing import ClassVar

from . import _base as c
from ._base import Contract

BENEFIT_MAP = {"生育津贴": "生育津贴", "生育医疗费": "生育医疗费", "生育医疗费用": "生育医疗费"}


class MaternityInsurance(Contract):
    source: ClassVar[str] = "maternity_insurance"
    title: ClassVar[str] = "生育保险待遇"

    record_id = c.key("记录编号", "记录编号", "claim id")
    name = c.name("姓名", "参保人（母亲）姓名", "insured mother's name", required=True)
    id_number = c.id_number("公民身份号码", "公民身份号码", "mother's ID number")
    employer = c.text("参保单位", "参保单位", "employer")
    benefit_type = c.code("待遇类型", "待遇类型", "benefit type", BENEFIT_MAP)
    delivery_date = c.date("生育日期", "生育日期", "date of delivery", required=True)
    babies = c.integer(
        "生育胎数", "生育胎数", "number of babies", check=lambda n: n.is_between(1, 6)
    )
