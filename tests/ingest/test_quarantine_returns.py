"""Returns to departments (issue 17): ``renkou quarantine export`` writes one 数据退回修正清单
per source and delivery — file line, record number, column, problem and fix in Chinese, IDs
masked, names kept, no live formula — records it (a second export writes nothing new) and
audits it; ``renkou quarantine status`` counts per department."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from linkage.audit import AuditLog
from linkage.ingest.load import ingest_inbox
from linkage.quarantine import describe, parse_reasons
from linkage.store import Store
from tests.conftest import Renkou, write_csv
from tests.headers import DEATH_HEADER, POP_HEADER
from tests.ingest.test_load import _id, _pop_rows

BAD_ID = _id("19820304", "022")  # P002's ID (valid)
#: an ID with a wrong check digit
WRONG = BAD_ID[:-1] + ("1" if BAD_ID[-1] != "1" else "2")


def _masked(id_number: str) -> str:
    return id_number[:6] + "*" * 8 + id_number[-4:]


def _inbox(root: Path) -> Path:
    inbox = root / "inbox"
    rows = _pop_rows()
    rows[1][14] = "活着"  # 人员状态 outside the vocabulary: quarantined (line 3)
    rows[2][0] = ""  # no 人员编号: quarantined (line 4)
    rows[2][1] = "=1+1"  # a name that would be a formula
    write_csv(inbox / "population" / "pop.csv", POP_HEADER, rows)
    deaths = [
        ["D001", "张伟", "男", "", "1980.01.01", "2026年3月5日", "灵溪镇猛必村", "火化"],
        ["D002", "李四", "女", "", "", "2026年13月45日", "", "火化"],  # bad date: line 3
        # a broken ID is a warning: loaded, and returned to be checked (line 4)
        ["D003", "王五", "男", WRONG, "", "2026-03-01", "", "火化"],
    ]
    write_csv(inbox / "death" / "死亡_2026年3月.csv", DEATH_HEADER, deaths)
    return inbox


def _sheet(path: Path) -> list[list[str]]:
    book = openpyxl.load_workbook(path)
    ws = book.active
    assert ws is not None
    assert ws.freeze_panes == "A3"  # title and header row stay in view
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    for row in ws.iter_rows():
        for cell in row:
            assert cell.data_type != "f"  # no live formula
    return [[str(c.value or "") for c in row] for row in ws.iter_rows()]


def test_rules_have_chinese_problems_and_fixes() -> None:
    from data_contracts import CONTRACTS

    death = CONTRACTS["death"]
    date = describe(death, "death_date|check__parses")
    assert (date.header, date.problem) == ("死亡日期", "日期无法识别")
    assert "2021-03-05" in date.fix
    [vocab] = parse_reasons(
        CONTRACTS["population"], "人员状态 (status) has a value outside the allowed vocabulary"
    )
    assert vocab.header == "人员状态" and "可用值：" in vocab.fix and "正常" in vocab.fix
    row_rule = describe(death, "death_not_before_birth")
    assert row_rule.problem.startswith("死亡日期早于出生日期")


def test_export_writes_one_workbook_per_delivery_then_only_new_ones(
    tmp_path: Path, renkou: Renkou
) -> None:
    home = tmp_path / "home"
    with Store(home) as store:
        report = ingest_inbox(store, _inbox(tmp_path))
        assert {f.file: f.rows_quarantined for f in report.files} == {
            "pop.csv": 2,
            "死亡_2026年3月.csv": 1,
        }
    out = tmp_path / "out"
    done = renkou("--home", home, "quarantine", "export", "--out", out)
    assert done.code == 0, done.text
    books = sorted(out.glob("*.xlsx"))
    assert [p.name.split("_")[1] for p in books] == ["death", "population"]
    death_book, pop_book = books

    pop = _sheet(pop_book)
    assert pop[0][0].startswith("永顺县 全员人口库 数据退回修正清单 pop.csv")
    assert pop[1] == [
        "序号",
        "原文件行号",
        "记录编号",
        "姓名",
        "身份证号",
        "问题列",
        "填报值",
        "问题",
        "修改要求",
        "处理情况",
    ]
    status, no_key = pop[2], pop[3]
    assert status[:7] == ["1", "3", "P002", "單秀英", _masked(BAD_ID), "人员状态", "活着"]
    assert status[7] == "取值不在规定的代码范围内" and status[8].startswith("请按规定代码填写")
    assert status[9].startswith("未入库")
    assert no_key[1:4] == ["4", "", "'=1+1"]  # the name kept, as text
    assert (no_key[5], no_key[7]) == ("人员编号", "必填项为空")
    assert BAD_ID not in str(pop)  # IDs masked

    death = _sheet(death_book)
    assert "公安" not in death[0][0] and "数据退回修正清单 死亡_2026年3月.csv" in death[0][0]
    lines = {r[1]: r for r in death[2:]}
    assert set(lines) == {"3", "4"}
    assert lines["3"][2:4] == ["D002", "李四"]
    assert (lines["3"][5], lines["3"][6], lines["3"][7]) == (
        "死亡日期",
        "2026年13月45日",
        "日期无法识别",
    )
    assert lines["4"][2] == "D003" and lines["4"][5] == "公民身份号码"
    assert lines["4"][4] == lines["4"][6] == _masked(WRONG)
    assert lines["4"][9].startswith("已入库")

    # recorded by the delivery's hash, and audited without a name or an ID
    with Store(home) as store:
        returns = store.frame(
            "SELECT source, file, out_file, file_hash, delivery_hash FROM quarantine_returns "
            "ORDER BY source"
        )
        ledger = dict(store.frame("SELECT file, file_hash FROM load_ledger").rows())
    assert returns["file"].to_list() == ["死亡_2026年3月.csv", "pop.csv"]
    assert returns["delivery_hash"].to_list() == [ledger[f] for f in returns["file"]]
    [entry] = [e for e in AuditLog.for_home(home).entries() if e["action"] == "quarantine.export"]
    files = entry["details"]["files"]
    assert {f["source"]: f["rows"] for f in files} == {"death": 2, "population": 2}
    assert {f["sha256"] for f in files} == set(returns["file_hash"])
    for secret in ("單秀英", "李四", BAD_ID, WRONG, "P002", "D002"):
        assert secret not in str(entry)
    assert renkou("--home", home, "audit", "verify").code == 0

    # a second export: nothing new; --all writes them again
    for p in books:
        p.unlink()
    again = renkou("--home", home, "quarantine", "export", "--out", out)
    assert again.code == 0 and "no delivery with rows to return" in again.out
    assert not list(out.glob("*.xlsx"))
    # a new delivery with a problem: only it
    write_csv(
        tmp_path / "inbox2" / "death" / "死亡_2026年4月.csv",
        DEATH_HEADER,
        [["D004", "赵六", "男", "", "", "", "", "火化"]],  # no 死亡日期
    )
    with Store(home) as store:
        ingest_inbox(store, tmp_path / "inbox2")
    third = renkou("--home", home, "quarantine", "export", "--out", out)
    assert third.code == 0, third.text
    [new_book] = out.glob("*.xlsx")
    assert "死亡_2026年4月" in new_book.name
    everything = renkou("--home", home, "quarantine", "export", "--out", tmp_path / "all", "--all")
    assert everything.code == 0 and len(list((tmp_path / "all").glob("*.xlsx"))) == 3

    # status: per department
    shown = renkou("--home", home, "quarantine", "status")
    assert shown.code == 0, shown.text
    by_source = {line.split()[0]: line.split()[1:] for line in shown.out.splitlines()[1:]}
    # deliveries, quarantined, warnings, to return, returned, not returned, withdrawn, refused
    assert by_source["death"] == ["2", "2", "1", "2", "2", "0", "0", "0"]
    assert by_source["population"] == ["1", "2", "0", "1", "1", "0", "0", "0"]
    for secret in ("單秀英", "P002", BAD_ID):
        assert secret not in shown.text


def test_reader_problems_and_stored_numbers_have_chinese_words_too() -> None:
    from data_contracts import CONTRACTS

    death = CONTRACTS["death"]
    [ragged] = parse_reasons(
        death,
        "line 7 has 9 fields where the header has 8 (a stray separator, quote or line break?); "
        "the rest of the file was read",
    )
    assert ragged.problem == "该行有 9 列，表头有 8 列"
    [undecodable] = parse_reasons(
        death, "line 3 is not valid GB18030 text (undecodable bytes); the rest of the file was read"
    )
    assert "GB18030" in undecodable.problem
    number = describe(death, "id_number|stored_as_number")
    assert number.header == "公民身份号码" and "文本" in number.fix
