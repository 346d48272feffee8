"""The catalog is the one place a finding type is declared: a new type is its module (here, a
class in this file), its catalog entry and, if it wants one, a setting — and then the rules,
task lists, change list, evaluation and night summary all know it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from pathlib import Path

import openpyxl
import polars as pl
import pytest

from linkage import catalog, pipeline
from linkage.casework import merge, open_findings, set_status
from linkage.evaluate import EVALUATIONS, score_findings
from linkage.findings import derive_findings
from linkage.findings.base import (
    ACTIVE,
    COLUMNS,
    Deadline,
    FindingType,
    Links,
    Row,
    TaskContext,
    base_persons,
    candidates,
)
from linkage.store import Store
from linkage.tasks.changes import change_rows
from linkage.tasks.export import export_tasks
from linkage.tasks.workdays import add_working_days
from tests.conftest import write_csv
from tests.findings.test_rules import BASE, person
from tests.headers import POP_HEADER


class MissingIdNumber(FindingType):
    """A base person still 正常 with no ID number: the kind of rule a county adds."""

    key = "missing_id_number"
    zh = "身份证号缺失"
    short = "no ID"
    requires = ("population",)
    action = "补录身份证号"
    action_zh = "入户核对户口簿，补录公民身份号码"
    change = "更正"
    change_item = "身份证号"
    deadline = Deadline(20, "calendar")
    labels = None

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        yield candidates(
            store,
            f"""
            SELECT '{self.key}' AS finding_type, person_id AS case_key,
                   'population' AS source, person_id AS source_record_id, 'person' AS role,
                   person_id, township, village, '{self.action}' AS suggested_action,
                   'normal' AS priority, '{{}}' AS evidence
            FROM {base_persons()} WHERE id_number IS NULL AND status = '{ACTIVE}'
            """,
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        return "全员人口库公民身份号码为空"

    def change_row(self, task: Row) -> Row:
        return {**super().change_row(task), "原值": "", "新值": "（按户口簿补录）"}


@pytest.fixture
def extended(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """The catalog with the new type, and a config folder that shortens its deadline."""
    monkeypatch.setitem(catalog.FINDING_TYPES, MissingIdNumber.key, MissingIdNumber())
    config = tmp_path / "config"
    config.mkdir()
    (config / "tasks.toml").write_text(
        "[deadlines.finding_type]\nmissing_id_number = 10\n", "utf-8"
    )
    monkeypatch.setenv("RENKOU_CONFIG", str(config))
    yield tmp_path


def test_a_new_finding_type_is_its_module_its_entry_and_config(extended: Path) -> None:
    inbox = extended / "inbox"
    rows = [*BASE, person("P20", "蒋欣", "女", "19880808", "062", id_number="")]
    write_csv(inbox / "population" / "base.csv", POP_HEADER, rows)
    with Store(extended / "home") as store:
        pipeline.ingest(store, inbox)

        # the rule runs with the others
        found = derive_findings(store, "links", None)
        mine = found.filter(pl.col("finding_type") == "missing_id_number")
        assert sorted(mine["person_id"]) == ["P10", "P20"]
        assert found.columns == COLUMNS
        with store.transaction():
            merge(store, found, "night-1")

        # the task list names it, words it and counts its deadline from config in its unit
        sent = dt.date(2026, 9, 1)
        report = export_tasks(store, extended / "out", operator="t", sent_on=sent)
        book = openpyxl.load_workbook(report.files[0].path, read_only=True)
        cells = {
            str(c)
            for ws in book.worksheets
            for r in ws.iter_rows(values_only=True)
            for c in r
            if c is not None
        }
        book.close()
        assert {
            "身份证号缺失",
            "全员人口库公民身份号码为空",
            "入户核对户口簿，补录公民身份号码",
        } <= cells
        due = store.frame(
            "SELECT DISTINCT deadline, deadline_days, deadline_unit FROM task_assignments a "
            "JOIN findings f USING (finding_id) WHERE f.finding_type = 'missing_id_number'"
        )
        assert due.rows() == [(sent + dt.timedelta(days=10), 10, "calendar")]
        assert add_working_days(sent, 10) != sent + dt.timedelta(days=10)  # the unit matters

        # a confirmed case becomes its change-list row
        ids = open_findings(store).filter(pl.col("person_id") == "P20")["finding_id"].to_list()
        set_status(store, ids, "confirmed")
        change = change_rows(store).filter(pl.col("人员编号") == "P20")
        assert change.select("变更类型", "变更项目", "新值").rows() == [
            ("更正", "身份证号", "（按户口簿补录）")
        ]

    # evaluation scores it on the key it declares
    truth = mine.filter(pl.col("person_id") == "P20")  # P10 is a duplicate with an ID
    base_map = pl.DataFrame({"person_id": ["P10", "P20"], "true_pid": ["T10", "T20"]})
    scores = score_findings(mine, truth, base_map)
    assert (scores["missing_id_number"].tp, scores["missing_id_number"].fp) == (1, 1)


def test_a_deadline_for_an_unknown_finding_type_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkage.errors import ConfigError
    from linkage.settings import load_settings

    (tmp_path / "tasks.toml").write_text("[deadlines.finding_type]\nmoved_ot = 5\n", "utf-8")
    monkeypatch.setenv("RENKOU_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match="moved_ot.*Fix"):
        load_settings()


def test_every_type_and_source_is_complete() -> None:
    for key, kind in catalog.FINDING_TYPES.items():
        assert kind.key == key
        assert kind.zh and kind.short and kind.action and kind.action_zh and kind.change
        assert kind.evaluation in EVALUATIONS
    reasons = {k.cancellation_reason for k in catalog.FINDING_TYPES.values()} - {None}
    # the reasons the plans fix (plan 000); 错误信息注销 has no finding type yet
    assert reasons <= {"人口死亡登记", "重复人口注销", "移交外省管理", "错误信息注销"}
    for key, source in catalog.SOURCES.items():
        assert source.contract.source == key and source.roles
    assert catalog.BASE not in catalog.LINK_SOURCES
