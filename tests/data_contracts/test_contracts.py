"""Each contract: good rows kept, bad rows quarantined with reasons, soft rules warn only."""

from __future__ import annotations

import polars as pl

from data_contracts import CONTRACTS, Death, Marriage, MaternityInsurance, Population
from linkage.contract_docs import render
from linkage.ingest.validate import clean_cells, validate
from linkage.standardise.ids import check_char

SPEC_HEADERS = {  # docs/interfaces.md, section 2
    "population": "人员编号 姓名 性别 公民身份号码 出生日期 民族 户号 与户主关系 婚姻状况 户口性质 "
    "户籍地址 现住地址 乡镇(街道) 村(社区) 人员状态 更新日期",
    "hukou": "户籍记录编号 姓名 曾用名 性别 公民身份号码 出生日期 民族 户号 与户主关系 "
    "户籍地址 户口性质 户口状态 变动日期 迁往地址",
    "death": "记录编号 姓名 性别 公民身份号码 出生日期 死亡日期 生前住址 数据来源",
    "marriage": "登记编号 登记类型 登记日期 男方姓名 男方证件号码 男方出生日期 女方姓名 "
    "女方证件号码 女方出生日期 登记机关",
    "birth_certificate": "出生医学证明编号 新生儿姓名 性别 出生日期 出生地点 母亲姓名 "
    "母亲身份证件号码 父亲姓名 父亲身份证件号码 家庭住址",
    "maternity_insurance": "记录编号 姓名 公民身份号码 参保单位 待遇类型 生育日期 生育胎数",
    "vaccination": "受种者编码 儿童姓名 性别 出生日期 身份证号码 母亲姓名 监护人身份证号码 "
    "居住地址 接种单位 建档日期",
    "school": "学籍号 姓名 性别 出生日期 身份证号码 监护人姓名 监护人身份证号码 家庭住址 "
    "学校名称 年级",
}


def _id(birth: str, order: str = "001") -> str:
    body = "433127" + birth + order
    return body + check_char(body)


def _frame(contract: type, rows: list[dict[str, str | None]]) -> pl.DataFrame:
    cols = list(contract.data_columns())
    data = [{c: r.get(c) for c in cols} for r in rows]
    frame = pl.DataFrame(data, schema={c: pl.String for c in cols})
    return (
        clean_cells(frame)
        .with_row_index("_row", offset=2)
        .with_columns(pl.col("_row").cast(pl.Int64))
    )


def test_headers_are_exactly_the_spec() -> None:
    for source, headers in SPEC_HEADERS.items():
        assert list(CONTRACTS[source].headers()) == headers.split(), source
    assert set(SPEC_HEADERS) == set(CONTRACTS)


def test_population_good_soft_and_hard_rows() -> None:
    good = {
        "person_id": "P1",
        "name": "张三",
        "sex": "1",
        "id_number": _id("19800101", "011"),
        "birth_date": "1980/1/1",
        "status": "正常",
        "marital_status": "20",
    }
    bad_check = {**good, "person_id": "P2", "id_number": _id("19800101", "011")[:-1] + "0"}
    wrong_birth = {**good, "person_id": "P3", "birth_date": "1981-01-01"}
    no_key = {**good, "person_id": " "}
    bad_status = {**good, "person_id": "P5", "status": "活着"}
    bad_date = {**good, "person_id": "P6", "birth_date": "1980年13月45日"}
    frame = _frame(Population, [good, bad_check, wrong_birth, no_key, bad_status, bad_date])
    result = validate(Population, frame)
    # a bad check digit and an ID/birth-date disagreement warn; the row is kept
    assert result.kept["person_id"].to_list() == ["P1", "P2", "P3", "P6"]
    assert set(result.issues["rule"]) == {
        "id_number|check__id_valid",
        "id_agrees_with_birth_date",
        "birth_date|check__parses",
    }
    reasons = dict(zip(result.quarantined["_row"], result.quarantined["reasons"], strict=True))
    assert sorted(reasons) == [5, 6]
    assert "人员编号 (person_id) is required" in reasons[5]
    assert "人员状态 (status) has a value outside the allowed vocabulary" in reasons[6]


def test_death_before_birth_is_quarantined_and_no_date_is_required() -> None:
    base = {
        "record_id": "D1",
        "name": "李四",
        "death_date": "2026-03-05",
        "birth_date": "1940-02-02",
        "origin": "火化",
    }
    frame = _frame(
        Death,
        [
            base,
            {**base, "record_id": "D2", "death_date": "1930-01-01"},
            {**base, "record_id": "D3", "death_date": None},
            {**base, "record_id": "D4", "origin": "卫健委"},
        ],
    )
    result = validate(Death, frame)
    assert result.kept["record_id"].to_list() == ["D1", "D4"]  # unknown optional code: warn
    reasons = result.quarantined.sort("_row")["reasons"].to_list()
    assert reasons[0].startswith("death_not_before_birth")
    assert "死亡日期 (death_date) is required but empty" in reasons[1]


def test_marriage_and_claim_rules() -> None:
    reg = {
        "record_id": "J1",
        "registration_type": "结婚",
        "registration_date": "2026.05.20",
        "husband_name": "王五",
        "wife_name": "赵六",
        "wife_birth_date": "2030-01-01",
    }
    result = validate(
        Marriage,
        _frame(
            Marriage,
            [
                reg,
                {
                    **reg,
                    "record_id": "J2",
                    "wife_birth_date": "1999-01-01",
                    "registration_type": "订婚",
                },
            ],
        ),
    )
    assert result.kept.is_empty()
    assert result.quarantined.height == 2
    claim = {"record_id": "M1", "name": "赵六", "delivery_date": "20260301", "babies": "2"}
    result = validate(
        MaternityInsurance,
        _frame(
            MaternityInsurance,
            [
                claim,
                {**claim, "record_id": "M2", "babies": "两"},
                {**claim, "record_id": "M3", "babies": "0"},
            ],
        ),
    )
    assert result.kept["record_id"].to_list() == ["M1", "M2", "M3"]  # optional: warned
    assert result.issues.height == 2


def test_column_reference_is_generated_from_the_contracts() -> None:
    text = render()
    for source, headers in SPEC_HEADERS.items():
        assert source in text
        for header in headers.split():
            assert header in text
    assert "| 公民身份号码 | id_number | id |" in render("death", markdown=True)


def test_hukou_and_birth_certificate_rules() -> None:
    from data_contracts import BirthCertificate, Hukou

    person = {
        "record_id": "H1",
        "name": "王五",
        "hukou_status": "迁出注销",
        "birth_date": "1970-01-01",
        "change_date": "2026-03-01",
    }
    result = validate(
        Hukou,
        _frame(
            Hukou,
            [
                person,
                {
                    **person,
                    "record_id": "H2",
                    "change_date": "1960-01-01",
                },  # cancelled before birth
                {**person, "record_id": "H3", "hukou_status": None},  # status is required
            ],
        ),
    )
    assert result.kept["record_id"].to_list() == ["H1"]
    reasons = result.quarantined.sort("_row")["reasons"].to_list()
    assert reasons[0].startswith("change_not_before_birth")
    assert "户口状态 (hukou_status) is required" in reasons[1]
    cert = {
        "record_id": "B1",
        "birth_date": "2026-05-01",
        "mother_name": "赵丽",
        "child_name": None,
        "sex": "女",
    }
    result = validate(
        BirthCertificate,
        _frame(
            BirthCertificate,
            [
                cert,
                {**cert, "record_id": "B2", "mother_name": None},
                {**cert, "record_id": "B3", "birth_date": "2026年13月1日"},
            ],
        ),
    )
    assert result.kept["record_id"].to_list() == ["B1"]  # an unnamed child is normal
    assert result.quarantined.height == 2


def test_a_broken_row_rule_is_told_in_its_own_words() -> None:
    from linkage.ingest.validate import describe_rule

    assert describe_rule(Death, "death_not_before_birth") == (
        "death_not_before_birth: 死亡日期 must not precede 出生日期 (or the birth date inside "
        "the ID)."
    )
