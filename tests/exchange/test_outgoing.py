"""Outgoing 协查 on the hand-made county of the rules tests: one file per county and cycle,
full IDs, deadlines by type and urgency, sent once, nothing half-written, status figures."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from linkage.casework import merge
from linkage.cli import app
from linkage.exchange import outgoing
from linkage.exchange.cycle import cycle_of
from linkage.exchange.outgoing import QUERY_HEADERS, export_queries, query_status
from linkage.findings import derive_findings
from linkage.store import Store
from tests.findings.test_rules import GD, HN, _id, county  # noqa: F401 (the fixture)

AFTER_CUTOFF = dt.date(2026, 6, 25)  # after the 20th: July's cycle


@pytest.fixture
def cases(county: Store) -> Store:  # noqa: F811
    merge(county, derive_findings(county, "links", "dedupe_pairs"), run_id="night-1")
    return county


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")


def test_one_file_per_county_and_cycle_with_full_ids(cases: Store, tmp_path: Path) -> None:
    out = tmp_path / "out"
    report = export_queries(cases, out, operator="t", sent_on=AFTER_CUTOFF)
    assert report.cycle == "202607"
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        f"协查_433127_{HN}_202607.csv",
        f"协查_433127_{GD}_202607.csv",
        "协查_433127_520303_202607.csv",
    ]
    assert (out / names[1]).read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads it
    gd = _read(out / names[1])
    assert gd.columns == list(QUERY_HEADERS.values())
    assert sorted(gd["公民身份号码"]) == [_id("19880808", "011", GD)] * 2 + [
        _id("19910101", "013", GD)
    ]
    assert set(gd["协查类型"]) == {"婚姻"} and set(gd["紧急程度"]) == {"急"}
    assert set(gd["反馈期限"]) == {"2026-07-25"}  # 急: 30 days
    assert gd["协查编号"].str.starts_with("XC433127-").all() and gd["协查编号"].is_unique().all()
    death = _read(out / names[2]).row(0, named=True)
    assert (death["协查类型"], death["现住地址"]) == ("死亡", "贵州省遵义市汇川区人民路5号")
    # B2, D3, D7 and M1's bride name no county: they wait, counted
    assert report.no_destination == 4 and report.new == 5
    sent = cases.frame("SELECT status FROM findings WHERE finding_type = 'cross_county_query'")
    assert sent["status"].value_counts().sort("status").rows() == [("open", 4), ("sent", 5)]


def test_a_query_is_sent_once(cases: Store, tmp_path: Path) -> None:
    first = export_queries(cases, tmp_path / "a", operator="t", sent_on=AFTER_CUTOFF)
    ids = cases.frame("SELECT query_id FROM exchange_queries ORDER BY 1")
    again = export_queries(cases, tmp_path / "b", operator="t", sent_on=AFTER_CUTOFF)
    assert first.new == 5 and again.new == 0 and not (tmp_path / "b").exists()
    # the same case tomorrow is the same query id
    assert cases.frame("SELECT query_id FROM exchange_queries ORDER BY 1").equals(ids)


def test_a_failed_export_leaves_nothing(
    cases: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(outgoing, "_record", fail)
    with pytest.raises(OSError):
        export_queries(cases, tmp_path / "out", operator="t", sent_on=AFTER_CUTOFF)
    assert list((tmp_path / "out").iterdir()) == []
    assert cases.scalar("SELECT count(*) FROM exchange_queries") == 0
    assert cases.scalar("SELECT count(*) FROM findings WHERE status = 'sent'") == 0


def test_cycles_follow_the_submission_day() -> None:
    assert cycle_of(dt.date(2026, 6, 20), 20) == "202606"
    assert cycle_of(dt.date(2026, 6, 21), 20) == "202607"
    assert cycle_of(dt.date(2026, 12, 31), 20) == "202701"


def test_status_counts_answers_by_the_answer_day(cases: Store, tmp_path: Path) -> None:
    export_queries(cases, tmp_path / "out", operator="t", sent_on=AFTER_CUTOFF)
    before = query_status(cases, dt.date(2026, 7, 1))
    assert before.select(pl.sum("sent", "waiting", "overdue")).row(0) == (5, 5, 0)
    # answers: two of the three 广东 queries, one of them after the cycle's 27th
    cases.con.execute(f"""
        UPDATE exchange_queries SET answered_on = CASE
            WHEN query_id = (SELECT min(query_id) FROM exchange_queries WHERE to_county = '{GD}')
            THEN DATE '2026-07-20' ELSE DATE '2026-07-30' END
        WHERE to_county = '{GD}' AND query_id <> (
            SELECT max(query_id) FROM exchange_queries WHERE to_county = '{GD}')
    """)
    after = {r["to_county"]: r for r in query_status(cases, dt.date(2026, 8, 1)).to_dicts()}
    gd = after[GD]
    assert (gd["sent"], gd["answered"], gd["in_time"], gd["overdue"]) == (3, 2, 1, 1)
    assert gd["feedback_rate"] == pytest.approx(1 / 3) and not gd["meets_target"]
    assert after[HN]["overdue"] == 1


def test_the_command_names_no_one(
    cases: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    home = str(cases.home)
    cases.close()
    runner = CliRunner()
    args = ["--home", home, "-v", "exchange"]
    out = tmp_path / "out"
    sent = runner.invoke(app, [*args, "export", "--out", str(out), "--date", "2026-06-25"])
    assert sent.exit_code == 0, sent.output
    assert "cycle 202607: 5 new queries, 3 files" in sent.output
    assert "written unencrypted" in sent.output  # and how to set a key
    assert "4 queries wait for a county" in sent.output
    status = runner.invoke(app, [*args, "status", "--as-of", "2026-08-01"])
    assert status.exit_code == 0 and "NOT met" in status.output
    said = sent.output + status.output + caplog.text
    for name in ("林粤", "周粤", "刘湘", "过路人", _id("19880808", "011", GD)[:10]):
        assert name not in said


def test_with_a_key_the_files_leave_as_aes_packages(
    cases: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pyzipper

    monkeypatch.setenv("RENKOU_EXCHANGE_KEY", "县际协查-2026")
    out = tmp_path / "out"
    report = export_queries(cases, out, operator="t", sent_on=AFTER_CUTOFF)
    assert report.encrypted and sorted(p.suffix for p in out.iterdir()) == [".zip"] * 3
    package = out / f"协查_433127_{GD}_202607.zip"
    with pyzipper.AESZipFile(package) as zf:
        (member,) = zf.namelist()
        assert member == f"协查_433127_{GD}_202607.csv"
        with pytest.raises(RuntimeError):  # no key, no content
            zf.read(member)
        zf.setpassword("县际协查-2026".encode())
        assert _id("19880808", "011", GD).encode() in zf.read(member)
    assert _id("19880808", "011", GD).encode() not in package.read_bytes()
    recorded = cases.frame("SELECT DISTINCT file FROM exchange_queries ORDER BY 1")["file"]
    assert recorded.str.ends_with(".zip").all()


def test_a_key_file_inside_the_home_is_refused(
    cases: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from linkage.errors import ConfigError
    from linkage.exchange.files import exchange_key

    inside = cases.home / "exchange.key"
    inside.write_text("secret\n", "utf-8")
    monkeypatch.setenv("RENKOU_EXCHANGE_KEY_FILE", str(inside))
    with pytest.raises(ConfigError, match="outside the home"):
        exchange_key(cases.home)
    outside = tmp_path / "exchange.key"
    outside.write_text("secret\n", "utf-8")
    monkeypatch.setenv("RENKOU_EXCHANGE_KEY_FILE", str(outside))
    assert exchange_key(cases.home) == b"secret"


def test_a_query_is_sent_again_only_on_request(cases: Store, tmp_path: Path) -> None:
    from linkage.errors import RenkouError

    export_queries(cases, tmp_path / "a", operator="t", sent_on=AFTER_CUTOFF)
    (lost,) = cases.frame(f"SELECT query_id FROM exchange_queries WHERE to_county = '{HN}'")[
        "query_id"
    ]
    later = dt.date(2026, 8, 3)  # August's cycle
    again = export_queries(cases, tmp_path / "b", operator="t", sent_on=later, resend=[lost])
    assert (again.new, again.resent) == (0, 1)
    (resent,) = [f.path for f in again.files]
    assert resent.name == f"协查_433127_{HN}_202608.csv"
    assert _read(resent)["协查编号"].to_list() == [lost]
    assert (
        cases.scalar("SELECT resent_on FROM exchange_queries WHERE query_id = ?", [lost]) == later
    )
    with pytest.raises(RenkouError, match="never sent"):
        export_queries(cases, tmp_path / "c", operator="t", sent_on=later, resend=["XC-NOSUCH"])
