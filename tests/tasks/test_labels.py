"""What the answers feed: labels for the linkage, rejected pairs kept out, progress per
township, and the base change list."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from linkage.casework import merge
from linkage.labels import accuracy_by_type, link_labels, rejected_pairs
from linkage.store import Store
from linkage.tasks.changes import change_rows, write_changes
from linkage.tasks.export import export_tasks
from linkage.tasks.progress import overdue_tasks, township_progress
from linkage.tasks.returns import import_returns
from tests.tasks.fixture import (
    DAY,
    F_BIRTH,
    F_CONFLICT,
    F_DEATH,
    F_DEATH_ALIVE,
    F_DUP,
    F_ID_CONFLICT,
    F_MOVED,
    F_UNREG,
    LX,
    SC,
    TODAY,
    candidates_frame,
    copy_answered,
    fill,
)


@pytest.fixture
def answered(tmp_path: Path) -> Iterator[tuple[Store, dict[str, Path]]]:
    """The county after one export and the townships' first answers."""
    home, files = copy_answered(tmp_path / "answered")
    with Store(home) as store:
        yield store, files


def _statuses(store: Store) -> dict[str, str]:
    return dict(store.frame("SELECT finding_id, status FROM findings").iter_rows())


def test_link_labels_follow_the_answers(answered: tuple[Store, dict[str, Path]]) -> None:
    store, _ = answered
    result = (
        link_labels(store)
        .select("source", "source_record_id", "role", "person_id", "is_match", "finding_id")
        .sort(pl.all())
    )
    expected = pl.DataFrame(
        [
            ("death", "D1", "person", "P01", True, F_DEATH),  # both records of the death
            ("death", "D2", "person", "P01", True, F_DEATH),
            ("death", "D3", "person", "P07", False, F_DEATH_ALIVE),  # 不属实: alive
            ("hukou", "H3", "person", "P03", True, F_MOVED),
            ("population", "P05", "person", "P06", True, F_DUP),  # 已处理 = confirmed
            ("population", "P06", "person", "P05", True, F_DUP),
        ],
        schema=result.schema,
        orient="row",
    ).sort(pl.all())  # 无法核实 (H8) is no label
    assert result.equals(expected)
    keys = link_labels(store).filter(pl.col("source_record_id") == "D3")
    assert keys.select("rec_key_l", "rec_key_r").row(0) == (
        "death|D3|person",
        "population|P07|person",
    )
    accuracy = accuracy_by_type(store).filter(pl.col("finding_type") == "suspected_death")
    assert accuracy.select(pl.col("confirmed").sum(), pl.col("rejected").sum()).row(0) == (1, 1)


def test_a_rejected_pair_stays_out_until_new_evidence(
    answered: tuple[Store, dict[str, Path]], tmp_path: Path
) -> None:
    store, _ = answered
    pairs = rejected_pairs(store)
    assert pairs.rows() == [("death", "D3", "person", "P07")]
    # the next night: the same case arises from the same record → stays rejected, not re-sent
    merge(store, candidates_frame(), "run-2")
    assert _statuses(store)[F_DEATH_ALIVE] == "rejected"
    again = export_tasks(store, tmp_path / "again", operator="t", sent_on=TODAY)
    assert again.files == []
    # the death record is delivered again, corrected: new evidence, the pair may link again
    store.con.execute("UPDATE src_death SET _row_hash = 'changed' WHERE record_id = 'D3'")
    assert rejected_pairs(store).is_empty()
    # a new record for the person reopens the case and it goes out again
    cand = candidates_frame().with_columns(
        pl.when(pl.col("case_key") == "P07")
        .then(pl.lit(json.dumps({"records": ["D3", "D4"]})))
        .otherwise(pl.col("evidence"))
        .alias("evidence")
    )
    merge(store, cand, "run-3")
    assert _statuses(store)[F_DEATH_ALIVE] == "open"
    report = export_tasks(store, tmp_path / "third", operator="t", sent_on=TODAY)
    assert report.tasks == 1 and report.files[0].township == LX
    # an answer in the old list no longer counts: the new list asks again
    old = answered[1][LX]
    fill(old, {F_DEATH_ALIVE: {"核查结果": "属实"}})
    late = import_returns(store, [old], operator="t", today=TODAY)
    assert [p.code for p in late.errors if p.finding_id == F_DEATH_ALIVE] == ["superseded"]
    assert _statuses(store)[F_DEATH_ALIVE] == "sent"


def test_progress_per_township(answered: tuple[Store, dict[str, Path]]) -> None:
    store, _ = answered
    store.con.execute("UPDATE task_results SET imported_at = TIMESTAMP '2025-10-12 10:00:00'")
    table = township_progress(store, dt.date(2025, 10, 20), 0.95)
    rows = {r["township"]: r for r in table.iter_rows(named=True)}
    lx, sc, total = rows[LX], rows[SC], rows["合计"]
    assert (lx["sent"], lx["returned"], lx["on_time"], lx["pending"], lx["overdue"]) == (
        6,
        3,
        3,
        3,
        0,
    )
    assert (lx["feedback_rate"], lx["meets_target"], lx["confirmation_rate"]) == (0.5, False, 0.5)
    assert (
        sc["sent"],
        sc["returned"],
        sc["feedback_rate"],
        sc["meets_target"],
        sc["confirmation_rate"],
    ) == (2, 2, 1.0, True, 1.0)
    assert (total["sent"], total["returned"]) == (8, 5)

    late = overdue_tasks(store, dt.date(2025, 11, 19))
    assert late.select("finding_id", "village", "deadline", "working_days_late").rows() == [
        (F_BIRTH, "司城村", dt.date(2025, 10, 28), 16),
        *sorted(
            [
                (F_CONFLICT, "猛必村", dt.date(2025, 11, 18), 1),
                (F_ID_CONFLICT, "猛必村", dt.date(2025, 11, 18), 1),
            ]
        ),
    ]
    assert late["核查类型"].to_list()[0] == "出生未登记"
    assert "姓名" not in late.columns and "name" not in late.columns
    assert (
        township_progress(store, dt.date(2025, 11, 19), 0.95)
        .filter(pl.col("township") == LX)["overdue"]
        .item()
        == 3
    )


def test_change_list_one_row_per_change(
    answered: tuple[Store, dict[str, Path]], tmp_path: Path
) -> None:
    store, files = answered
    fill(
        files[LX],
        {
            F_CONFLICT: {"核查结果": "属实", "核查日期": "2025-10-12"},
            F_BIRTH: {"核查结果": "属实", "核查人": "王丽"},
            F_UNREG: {"核查结果": "属实", "核查说明": "已回乡常住"},
        },
    )
    import_returns(store, [files[LX]], operator="t", today=TODAY)
    rows = change_rows(store)
    by_id = {r["finding_id"]: r for r in rows.iter_rows(named=True)}
    assert set(by_id) == {F_DEATH, F_MOVED, F_CONFLICT, F_BIRTH, F_UNREG}  # not 已处理 F_DUP
    death, moved = by_id[F_DEATH], by_id[F_MOVED]
    assert (death["变更类型"], death["注销原因"], death["人员编号"], death["新值"]) == (
        "注销",
        "人口死亡登记",
        "P01",
        "死亡注销",
    )
    assert (moved["注销原因"], moved["新值"]) == ("移交外省管理", "迁出注销")
    fix = by_id[F_CONFLICT]
    assert (fix["变更类型"], fix["变更项目"], fix["原值"], fix["新值"]) == (
        "更正",
        "出生日期",
        "1950-03-04",
        "1950-03-05",
    )
    assert by_id[F_BIRTH]["变更类型"] == "补登" and "P04" in by_id[F_BIRTH]["新值"]
    assert by_id[F_UNREG]["变更类型"] == "补录" and "H8" in by_id[F_UNREG]["新值"]
    assert by_id[F_UNREG]["核查说明"] == "已回乡常住"
    # grouped as the operator types them in: cancellations first, by their fixed reason
    assert rows.select("序号", "变更类型", "注销原因").rows() == [
        ("1", "注销", "人口死亡登记"),
        ("2", "注销", "移交外省管理"),
        ("3", "补录", ""),
        ("4", "补登", ""),
        ("5", "更正", ""),
    ]

    first = write_changes(store, tmp_path / "changes.xlsx", operator="t")
    assert first.rows == 5 and first.by_type == {"注销": 2, "补录": 1, "补登": 1, "更正": 1}
    sheet = openpyxl.load_workbook(first.path).active
    assert sheet.cell(2, 2).value == "变更类型" and sheet.max_row == 2 + 5
    assert write_changes(store, tmp_path / "again.xlsx", operator="t").rows == 0
    assert write_changes(store, tmp_path / "all.xlsx", operator="t", include_listed=True).rows == 5


def test_nothing_to_export_or_report_on_an_empty_county(tmp_path: Path) -> None:
    with Store(tmp_path / "home") as store:
        assert export_tasks(store, tmp_path / "out", operator="t", sent_on=DAY).files == []
        assert township_progress(store, TODAY, 0.95).is_empty()
        assert link_labels(store).is_empty() and rejected_pairs(store).is_empty()
        assert change_rows(store).is_empty()


def test_a_task_whose_case_closed_is_withdrawn_not_overdue(
    answered: tuple[Store, dict[str, Path]],
) -> None:
    store, _ = answered
    merge(store, candidates_frame().filter(pl.col("source_record_id") != "B1"), "run-2")
    assert _statuses(store)[F_BIRTH] == "closed"  # the birth got registered meanwhile
    day = dt.date(2025, 11, 19)
    row = township_progress(store, day, 0.95).filter(pl.col("township") == LX).row(0, named=True)
    assert (row["sent"], row["withdrawn"], row["returned"], row["overdue"]) == (6, 1, 3, 2)
    assert row["feedback_rate"] == 3 / 5
    assert F_BIRTH not in overdue_tasks(store, day)["finding_id"].to_list()
