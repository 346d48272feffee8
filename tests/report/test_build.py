"""``build_report`` on small hand-made counties (no Splink): the figures embedded in the page
against independent SQL, run-to-run changes, field work, privacy, offline, the CLI.

The generated county with the model charts and the browser check is tests/test_report_county.py.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from linkage.cli import app
from linkage.errors import RenkouError
from linkage.report import build_report
from linkage.report.render import assert_no_id_numbers, chart_libraries, id_numbers_in
from linkage.store import Store
from tests.report.fixture import AS_OF, build_home, ident
from tests.tasks.fixture import TODAY, copy_answered


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_home(tmp_path_factory.mktemp("report"))


@pytest.fixture
def home(template: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(template, tmp_path / "home"))


def figures(html: str) -> dict:
    """The JSON block of every figure the page shows."""
    match = re.search(
        r'<script type="application/json" id="renkou-figures">(.*?)</script>', html, re.S
    )
    assert match, "the page has no figures block"
    return json.loads(match.group(1))


def charts(html: str) -> dict:
    match = re.search(
        r'<script type="application/json" id="renkou-charts">(.*?)</script>', html, re.S
    )
    assert match
    return json.loads(match.group(1))


def _build(home: Path, out: Path, **kwargs: object) -> tuple[str, dict]:
    with Store(home) as store:
        build_report(store, out, as_of=AS_OF, model_charts=False, **kwargs)  # type: ignore
    html = out.read_text("utf-8")
    return html, figures(html)


def test_figures_in_the_page_equal_the_database(home: Path, tmp_path: Path) -> None:
    html, fig = _build(home, tmp_path / "r.html")
    with Store(home) as store:
        ledger = dict(
            store.frame(
                "SELECT source, sum(rows_in)::BIGINT FROM load_ledger GROUP BY source"
            ).rows()
        )
        links = {
            (s, r): (n, k)
            for s, r, n, k in store.frame(
                "SELECT source, role, count(*), count(person_id) FROM links GROUP BY ALL"
            ).rows()
        }
        active_hukou = store.scalar("SELECT count(*) FROM src_hukou WHERE hukou_status = '正常'")
        covered = store.scalar(
            "SELECT count(*) FROM src_hukou h WHERE hukou_status = '正常' "
            "AND EXISTS (SELECT 1 FROM links l JOIN src_population b ON b.person_id = l.person_id "
            "WHERE l.source = 'hukou' AND l.source_record_id = h.record_id "
            "AND b.status = '正常')"
        )
        active = store.scalar("SELECT count(*) FROM src_population WHERE status = '正常'")
    assert fig["run_id"] == "run-1"  # the ledger's run id
    assert {f["source"]: f["rows_in"] for f in fig["files"]} == ledger
    assert {(r["source"], r["role"]): (r["records"], r["linked"]) for r in fig["links"]} == links
    head = {h["figure"]: h for h in fig["headline"]}
    assert (head["coverage"]["numerator"], head["coverage"]["denominator"]) == (
        covered,
        active_hukou,
    )
    assert {c["persons"] for c in fig["completeness"]} == {active}
    assert head["completeness"]["denominator"] == active * 10
    assert fig["previous_run"] is None and "首次运行" in html
    assert fig["tasks"] is None and "尚未下发核查任务" in html
    assert fig["labels"] is None
    assert len(fig["townships"]) == 2


def test_page_is_self_contained_and_embeds_the_libraries_once(home: Path, tmp_path: Path) -> None:
    html, _ = _build(home, tmp_path / "r.html")
    assert not re.search(r'<(script|link|img)[^>]+(src|href)="(https?:)?//', html)
    for name, source in chart_libraries().items():
        assert html.count(source[:300]) == 1, name
    assert charts(html), "no chart specs"
    assert html.count("vegaEmbed(el, specs[id]") == 1


def test_no_id_number_reaches_the_page(home: Path, tmp_path: Path) -> None:
    html, _ = _build(home, tmp_path / "r.html")
    assert id_numbers_in(html) == 0
    # a department put an ID where a township belongs: the report refuses to go out
    with Store(home) as store:
        store.con.execute(
            "UPDATE person_records SET township = ? WHERE record_id = 'P01'",
            [ident("19600101", "011")],
        )
        with pytest.raises(RenkouError, match="unmasked ID number"):
            build_report(store, tmp_path / "bad.html", as_of=AS_OF, model_charts=False)
    assert not (tmp_path / "bad.html").exists()


def test_id_guard_counts_only_real_numbers() -> None:
    good = ident("19900101", "031")
    assert id_numbers_in(f"<td>{good}</td>") == 1
    assert id_numbers_in(f"<td>{good[:6]}********{good[-4:]}</td>") == 0
    assert id_numbers_in(f"<td>{good[:17]}{'0' if good[-1] != '0' else '1'}</td>") == 0
    assert id_numbers_in(f"0.{good}") == 0  # a long float in a library is no ID
    with pytest.raises(RenkouError):
        assert_no_id_numbers(good, "page")


def test_second_run_shows_what_changed(home: Path, tmp_path: Path) -> None:
    _build(home, tmp_path / "r1.html", run_id="night-1")
    with Store(home) as store:  # the 户籍 person K2 was registered in the base meanwhile
        store.con.execute("UPDATE links SET person_id = 'P03' WHERE source_record_id = 'K2'")
    html, fig = _build(home, tmp_path / "r2.html", run_id="night-2")
    assert fig["previous_run"] == "night-1"
    change = {(c["figure"], c["scope"]): c for c in fig["changes"]}
    assert change[("coverage", "county")]["previous"] == 0.5
    assert change[("coverage", "county")]["current"] == 1.0
    assert change[("linked", "hukou/person")]["change"] == 1
    # building night-2 again compares with night-1, not with itself
    _, again = _build(home, tmp_path / "r2b.html", run_id="night-2")
    assert again["previous_run"] == "night-1"
    with Store(home) as store:
        runs = store.frame("SELECT DISTINCT run_id FROM report_snapshots ORDER BY run_id")
    assert runs["run_id"].to_list() == ["night-1", "night-2"]
    assert "上次运行 previous run" in html


def test_field_work_from_the_task_tables(tmp_path: Path) -> None:
    home, _ = copy_answered(tmp_path / "county")
    out = tmp_path / "r.html"
    with Store(home) as store:
        build_report(store, out, as_of=TODAY, model_charts=False)
        sent = dict(
            store.frame(
                "SELECT township, count(DISTINCT finding_id)::BIGINT "
                "FROM task_assignments GROUP BY township"
            ).rows()
        )
        returned = dict(
            store.frame(
                "SELECT a.township, count(DISTINCT r.finding_id)::BIGINT FROM task_results r "
                "JOIN task_assignments a USING (finding_id, export_id) GROUP BY a.township"
            ).rows()
        )
        confirmed = store.scalar("SELECT count(*) FROM labels WHERE status = 'confirmed'")
    fig = figures(out.read_text("utf-8"))
    tasks = {t["township"]: t for t in fig["tasks"]}
    assert {k: v["sent"] for k, v in tasks.items() if k != "合计"} == sent
    assert {k: v["returned"] for k, v in tasks.items() if k != "合计" and v["returned"]} == {
        k: v for k, v in returned.items() if v
    }
    assert tasks["合计"]["sent"] == sum(sent.values())
    assert fig["tasks_target"] == 0.95
    assert sum(row["confirmed"] for row in fig["labels"]) == confirmed


def test_cli_writes_the_nightly_files(home: Path) -> None:
    result = CliRunner().invoke(app, ["--home", str(home), "report", "--no-model-charts"])
    assert result.exit_code == 0, result.output
    assert (home / "reports" / "report-run-1.html").exists()
    assert (home / "reports" / "latest.html").read_text("utf-8") == (
        home / "reports" / "report-run-1.html"
    ).read_text("utf-8")
    for word in ("张伟", "王芳"):  # counts and paths only on the console
        assert word not in result.output


def test_nothing_to_report_without_a_base(tmp_path: Path) -> None:
    with Store(tmp_path / "empty") as store, pytest.raises(RenkouError, match="renkou ingest"):
        build_report(store, tmp_path / "r.html")


def test_the_run_table_reads_in_chinese(home: Path, tmp_path: Path) -> None:
    from linkage import tables

    with Store(home) as store:
        tables.ensure(store.con, "runs")
        store.con.execute(
            """INSERT INTO runs (run_id, started_at, status, mode, seconds, files, rows_loaded,
                   links, findings_new, model_versions, summary)
               VALUES ('night-7', TIMESTAMP '2026-06-01 02:00:05', 'partial', 'incremental',
                       31.5, 4, 120, 900, 12, '{"hukou": "v0003"}', '{"stages": []}')"""
        )
    html, _ = _build(home, tmp_path / "r.html")
    runs = html[html.index("最近运行") :]
    assert "结果 outcome" in runs and "部分成功 partial" in runs and "2026-06-01 02:00" in runs
    assert "31.50" in runs and "新线索 new cases" in runs
    assert "model_versions" not in runs and '{"stages"' not in runs  # no raw columns, no JSON


def test_answers_refresh_the_report_an_analyst_opens(home: Path, tmp_path: Path) -> None:
    from linkage.report import nightly_report, refresh_latest

    with Store(home) as store:
        assert refresh_latest(store) is None  # no report yet: nothing to refresh
        first = nightly_report(store, "run-1", model_charts=False)
        latest = store.home / "reports" / "latest.html"
        latest.write_text("stale", "utf-8")
        again = refresh_latest(store)
    assert again == first and latest.read_text("utf-8") != "stale"
    assert "本页不含完整身份证号" in latest.read_text("utf-8")
