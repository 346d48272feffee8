"""Withdrawn records (issue 17): a row flagged 撤回 withdraws its record, a snapshot source's
new delivery withdraws the records it leaves out. A withdrawn record leaves ``src_<source>``
and the person records, its history keeps it (marked withdrawn), its open finding closes with
the next findings merge; a snapshot withdrawing too much is refused with the counts, and
loads once an operator confirmed it."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from linkage.audit import AuditLog
from linkage.casework import merge
from linkage.findings import COLUMNS
from linkage.ingest.history import versions
from linkage.ingest.load import IngestReport, ingest_inbox
from linkage.ingest.withdraw import CLOSED_NOTE
from linkage.persons import refresh_person_records
from linkage.store import Store
from tests.conftest import Renkou, write_csv
from tests.headers import DEATH_HEADER, HUKOU_HEADER, POP_HEADER
from tests.ingest.test_load import _pop_rows

DEATHS = [
    ["D001", "张伟", "男", "", "1980.01.01", "2026年3月5日", "灵溪镇猛必村", "火化"],
    ["D002", "李四", "女", "", "", "2026-04-01", "", "死亡医学证明"],
]


def _ingest(store: Store, inbox: Path) -> IngestReport:
    report = ingest_inbox(store, inbox)
    refresh_person_records(store, report.changed_sources)
    return report


def _candidate(record_id: str) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(COLUMNS)
    row.update(
        finding_type="suspected_death",
        case_key=f"death|{record_id}",
        source="death",
        source_record_id=record_id,
        role="person",
        person_id="P001",
        match_probability=0.99,
    )
    return row


def _merge(store: Store, record_ids: list[str], run: str) -> dict[str, int]:
    schema = {c: pl.String for c in COLUMNS} | {"match_probability": pl.Float64}
    return merge(store, pl.DataFrame([_candidate(r) for r in record_ids], schema=schema), run)


def _ids(store: Store, table: str, key: str = "record_id") -> list[str]:
    return sorted(str(r) for (r,) in store.con.sql(f'SELECT "{key}" FROM {table}').fetchall())


def test_a_flagged_row_withdraws_its_record_and_its_open_finding_closes(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    write_csv(inbox / "population" / "pop.csv", POP_HEADER, _pop_rows())
    write_csv(inbox / "death" / "d1.csv", DEATH_HEADER, DEATHS)
    with Store(tmp_path / "home") as store:
        _ingest(store, inbox)
        _merge(store, ["D001", "D002"], "night-1")
        # the correction file: the usual header plus 撤回; only the record id filled
        withdraw = [["D002", "", "", "", "", "", "", "", "是"], ["D404", *[""] * 7, "Y"]]
        write_csv(inbox / "death" / "d2.csv", [*DEATH_HEADER, "撤回"], withdraw)
        report = _ingest(store, inbox)
        [d2] = [f for f in report.files if f.file == "d2.csv"]
        assert (d2.status, d2.rows_in, d2.rows_withdrawn, d2.rows_quarantined) == (
            "loaded",
            2,
            1,  # D404 was never delivered: nothing to withdraw
            0,
        )
        assert "death" in report.changed_sources
        assert _ids(store, "src_death") == ["D001"]
        records = store.frame("SELECT record_id FROM person_records WHERE source = 'death'")
        assert records["record_id"].to_list() == ["D001"]
        load = store.scalar("SELECT load_id FROM load_ledger WHERE file = 'd2.csv'")
        assert store.frame(
            "SELECT record_id, file, superseded_by_load, withdrawn, content->>'name' AS name "
            "FROM record_versions"
        ).rows() == [("D002", "d1.csv", load, True, "李四")]
        assert store.frame("SELECT source, record_id, how FROM withdrawals").rows() == [
            ("death", "D002", "flag")
        ]
        [kept] = versions(store, "death", "D002")
        assert not kept.current and kept.values["name"] == "李四" and kept.withdrawn
        # the next findings merge: D002's case no longer arises, closed as withdrawn; D001's
        # (not raised either tonight) as resolved
        outcome = _merge(store, [], "night-2")
        notes = dict(
            store.frame(
                "SELECT source_record_id, status || ' ' || status_note FROM findings"
            ).rows()
        )
        assert outcome["closed"] == 2
        assert notes["D002"] == f"closed {CLOSED_NOTE}"
        assert "撤回 by the department" in notes["D002"]
        assert "resolved in the base" in notes["D001"]
        # unflagged rows of a file with the column load as usual
        write_csv(
            inbox / "death" / "d3.csv",
            [*DEATH_HEADER, "删除标志"],
            [[*DEATHS[1], "否"]],
        )
        again = _ingest(store, inbox)
        assert [(f.rows_loaded, f.rows_withdrawn) for f in again.files if f.file == "d3.csv"] == [
            (1, 0)
        ]


def _hukou(ids: list[int]) -> list[list[str]]:
    return [
        [f"H{i:02d}", f"户{i}", "", "男", "", "", "汉族", "", "", "", "", "正常", "", ""]
        for i in ids
    ]


def test_a_snapshot_withdraws_what_it_leaves_out_and_too_much_waits_for_a_confirmation(
    tmp_path: Path, renkou: Renkou
) -> None:
    home, inbox = tmp_path / "home", tmp_path / "inbox"
    write_csv(inbox / "population" / "pop.csv", POP_HEADER, _pop_rows())
    write_csv(inbox / "hukou" / "h1.csv", HUKOU_HEADER, _hukou([1, 2, 3, 4, 5]))
    with Store(home) as store:
        assert store.settings.source("hukou").snapshot
        assert store.settings.source("hukou").max_withdraw_share == 0.2
        _ingest(store, inbox)
        # the next register without H05 (one of five: 20 %, allowed); H03 quarantined (no
        # 户口状态) still counts as delivered
        (inbox / "hukou" / "h1.csv").unlink()
        rows = _hukou([1, 2, 3, 4])
        rows[2][11] = ""
        write_csv(inbox / "hukou" / "h2.csv", HUKOU_HEADER, rows)
        report = _ingest(store, inbox)
        [h2] = [f for f in report.files if f.file == "h2.csv"]
        assert (h2.status, h2.rows_quarantined, h2.rows_withdrawn) == ("loaded", 1, 1)
        assert _ids(store, "src_hukou") == ["H01", "H02", "H03", "H04"]
        assert store.frame("SELECT record_id, how FROM withdrawals").rows() == [("H05", "snapshot")]
        hukou_records = _ids(store, "person_records WHERE source = 'hukou'")
        assert "H05" not in hukou_records and "H01" in hukou_records
        assert store.scalar("SELECT count(*) FROM record_versions WHERE withdrawn") == 1

        # a partial export: three of four gone, refused whole with the counts
        (inbox / "hukou" / "h2.csv").unlink()
        write_csv(inbox / "hukou" / "h3.csv", HUKOU_HEADER, _hukou([1, 6]))
        refused = _ingest(store, inbox)
        [h3] = [f for f in refused.files if f.file == "h3.csv"]
        assert h3.status == "rejected"
        assert "would withdraw 3 of 4 records (75%)" in h3.message
        assert "renkou quarantine confirm-withdrawal hukou h3.csv" in h3.message
        assert _ids(store, "src_hukou") == ["H01", "H02", "H03", "H04"]  # nothing loaded
        assert "H06" not in _ids(store, "person_records WHERE source = 'hukou'")

    shown = renkou("--home", home, "quarantine", "status")
    assert shown.code == 0, shown.text
    assert [line.split()[-2:] for line in shown.out.splitlines() if line.startswith("hukou")] == [
        ["1", "1"]  # withdrawn, refused
    ]
    wrong = renkou("--home", home, "quarantine", "confirm-withdrawal", "hukou", "h9.csv")
    assert wrong.code == 2 and "no refused snapshot hukou/h9.csv" in wrong.text
    confirmed = renkou("--home", home, "quarantine", "confirm-withdrawal", "hukou", "h3.csv")
    assert confirmed.code == 0, confirmed.text
    assert "may withdraw 3 of 4 records" in confirmed.out
    [entry] = [
        e
        for e in AuditLog.for_home(home).entries()
        if e["action"] == "quarantine.confirm_withdrawal"
    ]
    assert entry["details"]["withdraw"] == 3 and entry["details"]["file"] == "h3.csv"

    with Store(home) as store:
        loaded = _ingest(store, inbox)
        [h3] = [f for f in loaded.files if f.file == "h3.csv"]
        assert (h3.status, h3.rows_loaded, h3.rows_withdrawn) == ("loaded", 1, 3)
        assert _ids(store, "src_hukou") == ["H01", "H06"]
        assert _ids(store, "person_records WHERE source = 'hukou'") == ["H01", "H06"]
        # a changed file of the same name is another content: refused again
        write_csv(inbox / "hukou" / "h4.csv", HUKOU_HEADER, _hukou([7]))
        (inbox / "hukou" / "h3.csv").unlink()
        assert [f.status for f in _ingest(store, inbox).files if f.file == "h4.csv"] == ["rejected"]
        # two new files of a snapshot source: loaded, nothing withdrawn, said
        write_csv(inbox / "hukou" / "h5.csv", HUKOU_HEADER, _hukou([8]))
        both = _ingest(store, inbox)
        assert [(f.status, f.rows_withdrawn) for f in both.files if f.source == "hukou"] == [
            ("loaded", 0),
            ("loaded", 0),
        ]
        assert any("2 new files of a snapshot source" in p for p in both.problems)
        assert _ids(store, "src_hukou") == ["H01", "H06", "H07", "H08"]
