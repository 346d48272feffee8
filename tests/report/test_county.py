"""The report of a generated county after the whole night (ingest, link, findings): its figures
against independent SQL, Splink's charts (waterfall weights = the weights the run decided on),
the comparison viewers (masked, offline), no working tables left behind, and — when Chromium is
installed — the page opened offline in a headless browser.

One county for the module (3,000 persons; u sampling cut to 100,000 pairs through a copy of
``configs/`` so that training takes seconds).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from linkage import pipeline
from linkage.report import build_report, model_charts
from linkage.report.render import id_numbers_in
from linkage.store import Store
from synth import generate_county
from tests.report.test_build import charts, figures

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
TODAY = dt.date.today()


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, Path]]:
    root = tmp_path_factory.mktemp("report-county")
    configs = root / "configs"  # one key over the shipped defaults
    configs.mkdir()
    (configs / "renkou.toml").write_text("[linkage]\nu_max_pairs = 100_000\n", "utf-8")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RENKOU_CONFIG", str(configs))
        generate_county(persons=3000, seed=8, out=root / "county")
        with Store(root / "home") as store:
            pipeline.ingest(store, root / "county" / "inbox", run_id="night-1", full=True)
            pipeline.link(store)
            pipeline.findings(store, "night-1")
            out = build_report(store, root / "out" / "report.html", as_of=TODAY)
            yield store, out


def test_headline_figures_equal_sql(county: tuple[Store, Path]) -> None:
    store, out = county
    fig = figures(out.read_text("utf-8"))
    head = {h["figure"]: h for h in fig["headline"]}
    hukou = store.frame("""
        SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM links l
                   JOIN src_population b ON b.person_id = l.person_id
                   WHERE l.source = 'hukou' AND l.source_record_id = h.record_id
                     AND b.status = '正常')) AS linked,
               count(*) AS active
        FROM src_hukou h WHERE hukou_status = '正常'""").row(0)
    assert (head["coverage"]["numerator"], head["coverage"]["denominator"]) == hukou
    # completeness of the ID and consistency of ID vs sex, recomputed in polars
    base = store.frame("""SELECT p.id_status, p.id_sex, s.sex FROM src_population s
                          JOIN person_records p ON p.source = 'population'
                           AND p.record_id = s.person_id WHERE s.status = '正常'""")
    items = {c["item"]: c for c in fig["completeness"]}
    assert items["id_number"]["persons"] == base.height
    assert (
        items["id_number"]["valid"]
        == base.filter(pl.col("id_status").is_in(["valid", "upgraded_15"])).height
    )
    rules = {r["rule"]: r for r in fig["consistency"]}
    both = base.filter(pl.col("id_sex").is_not_null() & pl.col("sex").is_not_null())
    assert rules["id_sex"]["checked"] == both.height
    assert rules["id_sex"]["passed"] == both.filter(pl.col("id_sex") == pl.col("sex")).height
    townships = fig["townships"]
    assert sum(t["persons"] for t in townships) == base.height
    assert [t["rank"] for t in townships] == list(range(1, len(townships) + 1))


def test_night_figures_equal_sql(county: tuple[Store, Path]) -> None:
    store, out = county
    fig = figures(out.read_text("utf-8"))
    ledger = store.frame(
        "SELECT source, count(*) AS files, sum(rows_in)::BIGINT AS rows_in, "
        "sum(rows_quarantined)::BIGINT AS q FROM load_ledger GROUP BY source"
    )
    assert {
        (f["source"], f["files"], f["rows_in"], f["rows_quarantined"]) for f in fig["files"]
    } == set(ledger.rows())
    quarantined = store.scalar("SELECT count(*) FROM quarantine")
    assert sum(f["rows_quarantined"] for f in fig["files"]) == quarantined
    links = store.frame(
        "SELECT source, role, count(*) AS n, count(person_id) AS k, "
        "count(person_id) FILTER (WHERE decided_by = 'model') AS m "
        "FROM links GROUP BY ALL"
    )
    assert {
        (r["source"], r["role"], r["records"], r["linked"], r["model"]) for r in fig["links"]
    } == set(links.rows())
    found = store.frame(
        "SELECT finding_type, count(*) FROM findings WHERE status <> 'closed' GROUP BY ALL"
    )
    shown: dict[str, int] = {}
    for row in fig["findings_by_type_township"]:
        shown[row["finding_type"]] = shown.get(row["finding_type"], 0) + row["findings"]
    assert shown == dict(found.rows())
    assert fig["previous_run"] is None and fig["run_id"] == "night-1"


def test_model_charts_show_the_run_s_weights(county: tuple[Store, Path]) -> None:
    store, out = county
    html = out.read_text("utf-8")
    fig, specs = figures(html), charts(html)
    used = dict(store.frame("SELECT source, version FROM model_versions").rows())
    models = {m["source"]: m for m in fig["models"]}
    assert set(models) == set(used)
    for source, m in models.items():
        assert m["problem"] is None, (source, m["problem"])
        assert m["version"] == used[source] and m["trained_at"]
        assert {"match_weights", "m_u"} <= set(m["charts"])
    weakest = store.frame("""SELECT match_weight FROM links WHERE source = 'hukou'
                             AND decided_by = 'model' AND person_id IS NOT NULL
                             ORDER BY match_weight LIMIT 10""")["match_weight"].to_list()
    hukou = models["hukou"]
    assert hukou["waterfall_shown"]["near_threshold"] == len(weakest) > 0
    spec = specs[fig["chart_ids"]["hukou/waterfall_near_threshold"]]
    bars = pl.DataFrame(spec["data"]["values"]).filter(pl.col("log2_bayes_factor").is_not_null())
    parts = (
        bars.filter(pl.col("column_name") != "Final score")
        .group_by("record_number")
        .agg(pl.col("log2_bayes_factor").sum())
        .sort("record_number")
    )
    final = bars.filter(pl.col("column_name") == "Final score").sort("record_number")
    assert parts["log2_bayes_factor"].to_list() == pytest.approx(
        final["log2_bayes_factor"].to_list(), abs=1e-9
    )
    assert sorted(final["log2_bayes_factor"]) == pytest.approx(sorted(weakest), abs=1e-6)


def test_viewers_are_masked_offline_and_linked(county: tuple[Store, Path]) -> None:
    _, out = county
    html = out.read_text("utf-8")
    fig = figures(html)
    viewers = [m["viewer_file"] for m in fig["models"] if m["viewer_file"]]
    assert viewers
    for name in viewers:
        assert f'href="{name}"' in html
        text = (out.parent / name).read_text("utf-8")
        assert id_numbers_in(text) == 0
        assert re.search(r"\d{6}\*{8}[0-9X]{4}", text), "masked IDs expected in the viewer"
        assert "fonts.googleapis.com" not in text
    assert id_numbers_in(html) == 0


def test_working_tables_are_cleaned_up(county: tuple[Store, Path]) -> None:
    store, _ = county
    left = store.frame(
        "SELECT table_name FROM information_schema.tables WHERE "
        "table_name LIKE '__splink__%' OR table_name LIKE 'tmp_renkou_report%'"
    )
    assert left.is_empty(), left["table_name"].to_list()


@pytest.mark.skipif(shutil.which("chromium") is None, reason="chromium not installed")
def test_the_page_renders_offline_in_chromium(county: tuple[Store, Path], tmp_path: Path) -> None:
    _, out = county
    shot = tmp_path / "report.png"
    done = subprocess.run(
        [
            sys.executable,
            str(REPO / "scripts" / "screenshot_report.py"),
            str(out),
            "--out",
            str(shot),
            "--height",
            "1200",
            "--timeout",
            "60",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    summary = json.loads(done.stdout)
    assert done.returncode == 0, json.dumps(summary, ensure_ascii=False, indent=1)[:3000]
    page = summary["page"]
    assert page["charts"] == page["rendered"] > 10
    assert not page["console_errors"] and not page["network_requests"]
    assert shot.stat().st_size > 10_000


def test_unchanged_model_sections_are_reused_changed_ones_redrawn(
    county: tuple[Store, Path], tmp_path: Path
) -> None:
    """The next report draws again only the models whose decisions changed."""
    store, first = county
    drawn: list[str] = []
    real_fill = model_charts._fill

    def counting_fill(store_: Store, section: Any, *args: Any) -> None:
        drawn.append(section.source)
        real_fill(store_, section, *args)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(model_charts, "_fill", counting_fill)
        second = build_report(store, tmp_path / "second.html", as_of=TODAY)
        assert drawn == []
        before = {m["source"]: m for m in figures(first.read_text("utf-8"))["models"]}
        after = {m["source"]: m for m in figures(second.read_text("utf-8"))["models"]}
        assert sum(1 for m in after.values() if m["viewer_file"]) >= 4
        for source, m in after.items():
            if before[source]["viewer_file"] is None:  # no pairs to show
                assert m["viewer_file"] is None
                continue
            assert m["viewer_file"] == f"second.viewer-{source}.html"
            assert (tmp_path / m["viewer_file"]).read_text("utf-8") == (
                first.parent / before[source]["viewer_file"]
            ).read_text("utf-8")
            assert {k: v for k, v in m.items() if k != "viewer_file"} == {
                k: v for k, v in before[source].items() if k != "viewer_file"
            }
        store.con.execute("""UPDATE links SET match_weight = match_weight - 0.5
                             WHERE source = 'death' AND decided_by = 'model'""")
        build_report(store, tmp_path / "third.html", as_of=TODAY)
        assert drawn == ["death"]
        store.con.execute("""UPDATE links SET match_weight = match_weight + 0.5
                             WHERE source = 'death' AND decided_by = 'model'""")


def test_the_same_page_written_again_by_a_relative_path(
    county: tuple[Store, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers imported later write the run's page again; its viewers are already there."""
    store, first = county
    monkeypatch.chdir(first.parent.parent)
    again = build_report(store, Path(first.parent.name) / first.name, as_of=TODAY)
    assert again.resolve() == first.resolve()
    assert figures(first.read_text("utf-8"))["models"]


def test_base_figures_are_computed_once_per_base(
    county: tuple[Store, Path], tmp_path: Path
) -> None:
    """Base-only figures come back from the cache until a base record changes."""
    from linkage.report import quality

    store, _ = county
    passes: list[int] = []
    real = quality.person_flags

    def counting(*args: Any, **kwargs: Any) -> pl.DataFrame:
        passes.append(1)
        return real(*args, **kwargs)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(quality, "person_flags", counting)
        first = build_report(store, tmp_path / "a.html", as_of=TODAY, model_charts=False)
        build_report(store, tmp_path / "b.html", as_of=TODAY, model_charts=False)
        assert len(passes) <= 1  # the module's first report may have filled the cache
        assert (
            figures(first.read_text("utf-8"))["headline"]
            == figures((tmp_path / "b.html").read_text("utf-8"))["headline"]
        )
        passes.clear()
        store.con.execute(
            "UPDATE person_records SET load_id = load_id + 1000 WHERE rec_key = "
            "(SELECT min(rec_key) FROM person_records WHERE source = 'population')"
        )
        build_report(store, tmp_path / "c.html", as_of=TODAY, model_charts=False)
        assert passes == [1]
        store.con.execute(
            "UPDATE person_records SET load_id = load_id - 1000 WHERE rec_key = "
            "(SELECT min(rec_key) FROM person_records WHERE source = 'population')"
        )


def _delivered(inbox: Path, source: str, key: str, status: str) -> pl.DataFrame:
    """A source's records as delivered, the later file winning for a record sent twice."""
    from linkage.ingest.readers import read_any

    frames = [read_any(f)[0] for f in sorted((inbox / source).iterdir())]
    rows = pl.concat([f.select(key, status) for f in frames])
    return rows.unique(key, keep="last", maintain_order=True).rename({key: "id", status: "status"})


def test_coverage_and_matching_rate_agree_with_the_exports(
    county: tuple[Store, Path], tmp_path: Path
) -> None:
    """``renkou figures --json`` against a recomputation from links.csv and the inbox files."""
    from linkage.exports import write_links
    from linkage.report.quality import assessment

    store, out = county
    inbox = out.parent.parent / "county" / "inbox"
    write_links(store, tmp_path / "links.csv")
    links = pl.read_csv(tmp_path / "links.csv", infer_schema=False).filter(
        (pl.col("source") == "hukou") & pl.col("person_id").is_not_null()
    )
    hukou = _delivered(inbox, "hukou", "户籍记录编号", "户口状态")
    base = _delivered(inbox, "population", "人员编号", "人员状态")
    active_hukou = hukou.filter(pl.col("status") == "正常")
    active_base = base.filter(pl.col("status") == "正常")
    linked = active_hukou.join(links, left_on="id", right_on="source_record_id").filter(
        pl.col("person_id").is_in(active_base["id"].implode())
    )
    coverage = linked.height / active_hukou.height
    matched = active_base.filter(pl.col("id").is_in(linked["person_id"].implode()))
    matching = matched.height / active_base.height
    county_figures = assessment(store, as_of=TODAY)["county"]
    assert county_figures["coverage"] == pytest.approx(coverage)
    assert county_figures["matching_rate"] == pytest.approx(matching)
