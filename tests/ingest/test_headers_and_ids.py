"""Issue 17: header variants map, missing columns warn per file, IDs stored as numbers by
Excel are flagged per row and never used, and the wrapped forms of an ID validate."""

from __future__ import annotations

import logging
from pathlib import Path

import polars as pl
import pytest

from data_contracts import CONTRACTS, BirthCertificate, Marriage, Population
from linkage.contract_docs import render
from linkage.ingest.headers import canonical_column
from linkage.ingest.load import ingest_inbox
from linkage.standardise.ids import check_char, id_status_expr, normalise_id
from linkage.store import Store
from tests.conftest import write_csv
from tests.headers import BC_HEADER, MAR_HEADER, POP_HEADER


def _id(birth: str, order: str) -> str:
    body = "433127" + birth + order
    return body + check_char(body)


def _pop_row(key: str, name: str, id_number: str, birth: str) -> list[str]:
    """The first ten columns of POP_HEADER (人员编号 … 户口性质)."""
    return [key, name, "女", id_number, birth, "汉族", "H1", "户主", "初婚", "农业"]


def _pop(key: str, name: str, id_number: str, birth: str) -> list[str]:
    return [
        *_pop_row(key, name, id_number, birth),
        "永顺县灵溪镇猛必村三组12号",
        "",
        "灵溪镇",
        "猛必村",
        "正常",
        "2026-01-01",
    ]


def _header(base: list[str], **renamed: str) -> list[str]:
    return [renamed.get(h, h) for h in base]


def test_every_accepted_name_maps_whatever_its_width_and_spaces() -> None:
    for contract in CONTRACTS.values():
        for column, names in contract.accepted_names().items():
            for accepted in names:
                assert canonical_column(contract, accepted) == column, (contract, accepted)
                wide = accepted.replace("(", "（").replace(")", "）")
                assert canonical_column(contract, f" {wide}\u3000") == column
    assert canonical_column(Population, "乡镇（街道）") == "township"
    assert canonical_column(Population, "乡镇 ( 街道 )") == "township"
    assert canonical_column(Population, "\ufeff身份证号") == "id_number"
    assert canonical_column(Population, "*姓名") == "name"
    assert canonical_column(BirthCertificate, "母亲身份证号码") == "mother_id_number"
    assert canonical_column(Marriage, "男方身份证号") == "husband_id_number"
    assert canonical_column(Marriage, "女方身份证号码") == "wife_id_number"
    for not_a_name in ("欧阳雪梅", "", None, "2026-01-01", "身份证号码2"):
        assert canonical_column(Population, not_a_name) is None


def test_contracts_reference_lists_the_variants() -> None:
    text = render("population")
    assert "also accepted: " in text and "身份证号" in text and "乡镇街道" in text
    assert "身份证号码" in render("marriage", markdown=True)


def test_header_variants_load_their_columns(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    header = _header(POP_HEADER, 公民身份号码="身份证号", **{"乡镇(街道)": "乡镇（街道）"})
    header = _header(header, **{"村(社区)": "村 (社区)"})
    write_csv(
        inbox / "population" / "pop.csv", header, [_pop("P1", "张三", _id("19800101", "021"), "")]
    )
    mother, father = _id("19900505", "042"), _id("19880303", "011")
    bc = _header(BC_HEADER, 母亲身份证件号码="母亲身份证号码", 父亲身份证件号码="父亲身份证号")
    row = ["B1", "", "女", "2026-01-02", "县医院", "李四", mother, "王五", father, "灵溪镇"]
    write_csv(inbox / "birth_certificate" / "bc.csv", bc, [row])
    husband, wife = _id("19900101", "013"), _id("19920202", "024")
    mar = _header(MAR_HEADER, 男方证件号码="男方身份证号", 女方证件号码="女方身份证号码")
    row = ["M1", "结婚", "2026-01-01", "赵六", husband, "", "钱七", wife, "", "永顺县民政局"]
    write_csv(inbox / "marriage" / "mar.csv", mar, [row])
    with Store(tmp_path / "home") as store:
        report = ingest_inbox(store, inbox)
        pop = store.frame("SELECT id_number, township, village FROM src_population")
        bcs = store.frame("SELECT mother_id_number, father_id_number FROM src_birth_certificate")
        mars = store.frame("SELECT husband_id_number, wife_id_number FROM src_marriage")
    assert [(f.status, f.rows_loaded, f.warnings) for f in report.files] == [("loaded", 1, [])] * 3
    assert pop.row(0) == (_id("19800101", "021"), "灵溪镇", "猛必村")
    assert bcs.row(0) == (mother, father)
    assert mars.row(0) == (husband, wife)
    assert report.problems == []


def test_missing_optional_column_warns_per_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    inbox = tmp_path / "inbox"
    header = _header(POP_HEADER, **{"乡镇(街道)": "管辖片区"})  # not a name of 乡镇(街道)
    rows = [_pop("P1", "欧阳雪梅", _id("19561103", "264"), "1956-11-03")]
    write_csv(inbox / "population" / "pop.csv", header, rows)
    caplog.set_level(logging.DEBUG)
    with Store(tmp_path / "home") as store:
        report = ingest_inbox(store, inbox)
        ledger = store.frame("SELECT status, message FROM load_ledger")
        township = store.scalar("SELECT township FROM src_population")
    (result,) = report.files
    assert (result.status, result.rows_loaded) == ("loaded", 1)
    assert township is None
    (warning,) = result.warnings
    assert warning.startswith(
        "column 乡镇(街道) not found, its values were loaded as empty; column 13 of the header "
        "row is not a column name of 全员人口库; accepted names: 乡镇(街道), 乡镇, 乡镇街道, 街道"
    )
    assert ledger["status"][0] == "loaded" and warning in ledger["message"][0]
    assert report.problems == [f"population/pop.csv: {warning}"]
    # the unknown cell is not quoted (it may be data), nor is any value of the row
    said = " ".join([*result.warnings, ledger["message"][0], caplog.text])
    for secret in ("管辖片区", "欧阳雪梅", _id("19561103", "264"), "灵溪镇"):
        assert secret not in said


def test_missing_required_column_still_rejects_with_accepted_names(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    header = _header(POP_HEADER, 人员状态="状况码")
    write_csv(inbox / "population" / "pop.csv", header, [_pop("P1", "张三", "", "")])
    with Store(tmp_path / "home") as store:
        (result,) = ingest_inbox(store, inbox).files
    assert result.status == "rejected"
    assert "missing required column(s) 人员状态; column 15 of the header row" in result.message
    assert "人员状态: 人员状态, 人口状态" in result.message
    assert "状况码" not in result.message


def test_ids_stored_as_numbers_in_xlsx_are_flagged_and_never_used(tmp_path: Path) -> None:
    import openpyxl

    inbox = tmp_path / "inbox"
    (inbox / "population").mkdir(parents=True)
    ending_x = next(n for o in range(100, 999) if (n := _id("19900505", str(o)))[-1] == "X")
    ids = [_id("19800101", "021"), _id("19820304", "022"), ending_x]  # X: Excel keeps it text
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(POP_HEADER)
    for i, number in enumerate(ids):
        row: list[object] = _pop(f"P{i + 1}", f"人{i}", number, "")
        if number.isdigit():
            row[3] = float(number)  # a real number cell, as Excel stores it (a double)
        sheet.append(row)
    sheet.append(_pop("P4", "人3", "", ""))
    book.save(inbox / "population" / "pop.xlsx")
    with Store(tmp_path / "home") as store:
        report = ingest_inbox(store, inbox)
        stored = store.frame("SELECT person_id, id_number FROM src_population ORDER BY 1")
        issues = store.frame('SELECT "row", record_key, rule FROM row_issues ORDER BY "row"')
        ledger = store.scalar("SELECT message FROM load_ledger")
    (result,) = report.files
    numeric = [n for n in ids if n.isdigit()]
    assert (result.status, result.rows_loaded, result.rows_quarantined) == ("loaded", 4, 0)
    assert result.rows_with_issues == len(numeric)
    assert issues.filter(pl.col("rule") == "id_number|stored_as_number").rows() == [
        (i + 2, f"P{i + 1}", "id_number|stored_as_number") for i, n in enumerate(ids) if n.isdigit()
    ]
    by_key = dict(stored.iter_rows())
    for i, number in enumerate(ids):
        assert by_key[f"P{i + 1}"] == (None if number.isdigit() else number)
    (warning,) = result.warnings
    assert warning.startswith(
        f"{len(numeric)} rows of column 公民身份号码 hold an ID stored as a number by Excel: "
        "digits lost"
    )
    assert "设置单元格格式 → 文本" in warning and warning in (ledger or "")
    for number in numeric:
        assert number[:15] not in (ledger or "")


def test_scientific_and_float_text_ids_in_csv(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    good = _id("19700707", "032")
    rows = [
        _pop("P1", "甲", "4.33127E+17", ""),
        _pop("P2", "乙", "433127198001010000", ""),  # an Excel export of the number
        _pop("P3", "丙", good, ""),
    ]
    write_csv(inbox / "population" / "pop.csv", POP_HEADER, rows)
    with Store(tmp_path / "home") as store:
        report = ingest_inbox(store, inbox)
        stored = dict(store.frame("SELECT person_id, id_number FROM src_population").iter_rows())
        rules = store.frame('SELECT "row", rule FROM row_issues ORDER BY "row"').rows()
    assert report.files[0].rows_loaded == 3
    assert stored == {"P1": None, "P2": None, "P3": good}
    assert rules == [(2, "id_number|stored_as_number"), (3, "id_number|stored_as_number")]
    assert report.files[0].warnings[0].startswith("2 rows of column 公民身份号码")


def test_wrapped_ids_validate(tmp_path: Path) -> None:
    number = _id("19851212", "052")
    forms = [
        "'" + number,
        f'="{number}"',
        "`" + number,
        "\ufeff" + number,
        number[:6] + "\u200b" + number[6:],
        f"{number[:6]}-{number[6:14]}-{number[14:]}",
        f"{number[:6]} {number[6:14]} {number[14:]}",
        "＇" + number,
    ]
    for form in forms:
        assert normalise_id(form) == number, repr(form)
    statuses = pl.select(id_status_expr(pl.Series(forms))).to_series().to_list()
    assert statuses == ["valid"] * len(forms)
    inbox = tmp_path / "inbox"
    rows = [_pop(f"P{i}", "张三", form, "") for i, form in enumerate(forms)]
    write_csv(inbox / "population" / "pop.csv", POP_HEADER, rows)
    with Store(tmp_path / "home") as store:
        report = ingest_inbox(store, inbox)
        issues = store.scalar("SELECT count(*) FROM row_issues")
    assert (report.files[0].rows_loaded, report.files[0].rows_with_issues, issues) == (
        len(forms),
        0,
        0,
    )


def test_excels_fifteen_digits_are_flagged_even_alone() -> None:
    """One ID typed as a number among text IDs: Excel kept 15 significant digits and the
    export ends in 000 with a check character that fails: flagged by itself (a real ID ending
    in 000 has a right one). A value
    that is only the exact text of a double needs the column's majority."""
    from linkage.standardise.ids import stored_as_number

    real = [_id("19700707", f"{k:03d}") for k in range(30, 36)]
    ends_000 = next(
        b + "000"
        for b in (f"4331271990010{k:02d}" for k in range(100))
        if check_char(b + "00") == "0"
    )
    frame = pl.DataFrame({"id": [*real, "433127199808192000", "433127199808192576", ends_000]})
    assert stored_as_number(frame, "id").to_list() == [False] * 6 + [True, False, False]
