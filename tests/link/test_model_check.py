"""``renkou model check`` on a small generated county: every level of every model with its
intervals (which hold the saved model's estimate: the first seed run is the night's training
again), the pairs behind m and u, a level made unsupported by emptying its column flagged with
its fix, the exit code with and without ``--strict``, and the report's model section.

One county for the module (1,500 persons; u sampling cut to 100,000 pairs and the check to
two seeds and two resamples through a ``$RENKOU_CONFIG`` folder, so each training takes a
second or two).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from linkage import pipeline
from linkage.catalog import LINK_SOURCES
from linkage.cli._common import EXIT_FLAGGED, EXIT_MISTAKE, EXIT_OK
from linkage.link import check
from linkage.link import model as models
from linkage.link.check import check_models, load_check, summarise
from linkage.report import build_report
from linkage.report.model_charts import ModelSection
from linkage.report.render import Page
from linkage.report.sections import _model_check
from linkage.settings import ModelCheckSettings, Training
from linkage.store import Store
from synth import generate_county
from tests.conftest import Renkou
from tests.report.test_build import figures

#: every model a night trains: the base dedupe and each linked source of the catalog
SOURCES = (*LINK_SOURCES, "population")
#: the models the module checks (the others are left unchecked: the report says so)
CHECKED = ("death", "marriage", "population")


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    configs = tmp_path_factory.mktemp("check-configs")
    (configs / "renkou.toml").write_text(
        "[linkage]\nu_max_pairs = 100_000\n\n[model_check]\nseeds = 2\nresamples = 2\n",
        "utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RENKOU_CONFIG", str(configs))
        yield configs


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory, config_dir: Path) -> Path:
    """A home after ingest and link, its database closed (tests copy it)."""
    root = tmp_path_factory.mktemp("check-county")
    generate_county(persons=1500, seed=21, out=root / "county")
    with Store(root / "home") as store:
        pipeline.ingest(store, root / "county" / "inbox")
        pipeline.link(store)
    return root / "home"


@pytest.fixture(scope="module")
def checked(linked: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the linked home, the models of :data:`CHECKED` checked."""
    home = _copy(linked, tmp_path_factory.mktemp("checked") / "home")
    with Store(home) as store:
        check_models(store, CHECKED)
    return home


def _copy(home: Path, to: Path) -> Path:
    shutil.copytree(home, to, ignore=shutil.ignore_patterns("*.lock", "*.wal"))
    return to


def _within(value: float, bounds: list[float]) -> bool:
    slack = 1e-6 * max(abs(value), 1e-12)
    return bounds[0] - slack <= value <= bounds[1] + slack


@pytest.mark.slow
def test_every_level_has_intervals_holding_the_saved_model(checked: Path) -> None:
    for source in CHECKED:
        result = load_check(checked, source)
        assert result is not None, source
        saved = json.loads(models.latest_model(checked, source)[1].read_text("utf-8"))
        non_null = [
            lv
            for c in saved["comparisons"]
            for lv in c["comparison_levels"]
            if not lv.get("is_null_level")
        ]
        assert len(result["levels"]) == len(non_null), source
        assert [r["kind"] for r in result["runs"]] == ["seed", "seed", "resample", "resample"]
        for level, model_level in zip(result["levels"], non_null, strict=True):
            where = (source, level["comparison"], level["level"])
            assert level["m"]["saved"] == model_level["m_probability"], where
            assert level["u"]["saved"] == model_level["u_probability"], where
            # the first seed run is the night's own training: the saved value is among the runs
            for p in ("m", "u", "weight"):
                assert _within(level[p]["saved"], level[p]["interval"]), (where, p, level[p])
            assert "saved_outside" not in level["flags"], where
            assert level["m_support"] >= 0 and level["u_support"] >= 0, where
        # resamples see other data: some trained level's interval is not a single point
        widths = [
            lv["weight"]["interval"][1] - lv["weight"]["interval"][0] for lv in result["levels"]
        ]
        # (marriage: a handful of records in this county, and every resample agrees)
        assert max(widths) > 0 or source == "marriage", source
    assert load_check(checked, "hukou") is None  # only the models asked for


@pytest.mark.slow
def test_support_is_counted_from_the_training(checked: Path) -> None:
    result = load_check(checked, "death")
    assert result is not None
    with Store(checked) as store:
        pairs = (
            "SELECT count(*) FROM person_records b JOIN person_records d ON d.source = 'death' "
            "AND d.role <> 'child' AND b.source = 'population'"
        )
        same_id = store.scalar(f"{pairs} AND b.id_number = d.id_number")
        named = store.scalar(f"{pairs} AND b.name IS NOT NULL AND d.name IS NOT NULL")
    name = [lv for lv in result["levels"] if lv["comparison"] == "name"]
    # m of the name levels is trained on the ID block only (the other block uses the name):
    # its matches are those pairs, nearly every one a true match
    assert 0.9 * same_id <= sum(lv["m_support"] for lv in name) <= same_id + 0.5
    # u: this county's base × death pairs are fewer than u_max_pairs, so all are sampled;
    # less the true matches among them (λ·m·n, about one per death record)
    assert named - 100 <= sum(lv["u_support"] for lv in name) <= named + 0.5
    # the ID's one-edit u is fixed in death.toml: shown as fixed, never flagged for its u
    one_edit = next(lv for lv in result["levels"] if lv["level"] == "one_edit")
    assert one_edit["u"]["fixed"] and "u_unsupported" not in one_edit["flags"]
    assert one_edit["u"]["interval"] == [1e-7, 1e-7]


@pytest.mark.slow
def test_a_level_with_no_pairs_is_flagged_with_its_prior(linked: Path, tmp_path: Path) -> None:
    home = _copy(linked, tmp_path / "home")
    with Store(home) as store:  # the death records' township column arrives empty
        store.con.execute(
            "UPDATE person_records SET township = NULL, village = NULL WHERE source = 'death'"
        )
        result = check_models(store, ("death",))["death"]
    address = [lv for lv in result["levels"] if lv["comparison"] == "address"]
    assert address and all(lv["m_support"] == 0 and lv["u_support"] == 0 for lv in address)
    for lv in address:
        assert {"m_unsupported", "u_unsupported"} <= set(lv["flags"]), lv
        assert "fixed_m = { " + lv["level"] + " = " in lv["fix"]
        assert 'type = "address" of sources/death.toml' in lv["fix"]
    # the other comparisons still have their pairs
    name_exact = next(lv for lv in result["levels"] if lv["level"] == "exact")
    sex_exact = next(lv for lv in result["levels"] if lv["comparison"] == "sex")
    assert name_exact["m_support"] > 0 and sex_exact["u_support"] >= 100


def _run(kind: str, m: float, u: float, *, m_count: float, u_count: float) -> dict[str, Any]:
    counts = check._Counts()
    counts.m = {"sex": {1: m_count, 0: 0.0}}
    counts.u = {"sex": {1: u_count, 0: 1000.0}}
    levels = [
        {
            "comparison": "sex",
            "type": "sex",
            "level": "exact",
            "gamma": 1,
            "label": "Same sex",
            "m": m,
            "u": u,
            "m_fixed": False,
            "u_fixed": False,
        }
    ]
    return {"kind": kind, "levels": levels, "counts": counts, "model": {}}


@pytest.mark.parametrize(("count", "flagged"), [(29.0, True), (30.0, False)])
def test_support_below_the_minimum_is_flagged(count: float, flagged: bool) -> None:
    saved = _run("seed", 0.9, 0.5, m_count=count, u_count=500)["levels"]
    runs = [_run("seed", 0.9, 0.5, m_count=count, u_count=500)]
    cfg = ModelCheckSettings(min_support=30)
    (level,) = summarise(saved, runs, cfg, Training(), source_file="sources/x.toml")
    assert ("m_unsupported" in level["flags"]) is flagged
    assert "u_unsupported" not in level["flags"]


def test_a_weight_moving_across_seeds_is_flagged() -> None:
    saved = _run("seed", 0.9, 0.5, m_count=100, u_count=500)["levels"]
    runs = [
        _run("seed", 0.9, 0.5, m_count=100, u_count=500),  # log2(1.8) = 0.85 bits
        _run("seed", 0.9, 0.2, m_count=100, u_count=500),  # log2(4.5) = 2.17 bits
        _run("resample", 0.9, 0.05, m_count=50, u_count=500),  # not a seed run: no spread
    ]
    (level,) = summarise(
        saved, runs, ModelCheckSettings(max_weight_spread=1.0), Training(), source_file="x"
    )
    assert level["weight_spread_seeds"] == pytest.approx(1.3219, abs=1e-3)
    assert level["flags"] == ["unstable"]
    assert list(level["weight"]["interval"]) == pytest.approx([0.848, 4.170], abs=1e-3)
    (calm,) = summarise(
        saved, runs, ModelCheckSettings(max_weight_spread=2.0), Training(), source_file="x"
    )
    assert calm["flags"] == []


@pytest.mark.slow
def test_cli_warns_and_strict_fails_on_flagged_levels(
    linked: Path, tmp_path: Path, renkou: Renkou
) -> None:
    home = _copy(linked, tmp_path / "home")
    with Store(home) as store:
        store.con.execute(
            "UPDATE person_records SET township = NULL, village = NULL WHERE source = 'death'"
        )
    result = renkou("--home", home, "model", "check", "--source", "death")
    assert result.code == EXIT_OK, result.text
    assert "address" in result.out and "fixed_m = { township_village = " in result.out
    assert "levels flagged" in result.err and "Traceback" not in result.text
    assert (home / "model_checks" / "death.json").exists()
    assert not (home / "model_checks" / "hukou.json").exists()  # only the model asked for
    strict = renkou("--home", home, "model", "check", "--source", "death", "--strict")
    assert strict.code == EXIT_FLAGGED, strict.text
    entries = [
        json.loads(line)
        for line in (home / "audit" / "audit.jsonl").read_text("utf-8").splitlines()
    ]
    audited = [e["details"] for e in entries if e["action"] == "model.check"]
    assert len(audited) == 2 and all(d["flagged"]["death"] > 0 for d in audited)
    assert set(audited[0]["files"]) == {"death.json"}


@pytest.mark.slow
def test_cli_names_the_fix_for_an_unknown_model(
    linked: Path, tmp_path: Path, renkou: Renkou
) -> None:
    home = _copy(linked, tmp_path / "home")
    result = renkou("--home", home, "model", "check", "--source", "school_roll_of_1990")
    assert result.code == EXIT_MISTAKE
    assert "no model of school_roll_of_1990 in the last run. Fix: one of" in result.err
    assert "Traceback" not in result.text


class _Tables(HTMLParser):
    """The rows of every table following a "Model check" heading, per model section."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[list[list[str]]] = []
        self._in_check = False
        self._cell: list[str] | None = None
        self._row: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "details":
            self._in_check = False
        elif tag == "tr" and self._in_check:
            self._row = []
        elif tag == "td" and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "td" and self._cell is not None and self._row is not None:
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if self._row:
                self.sections[-1].append(self._row)
            self._row = None
        elif tag == "table":
            self._in_check = False

    def handle_data(self, data: str) -> None:
        if "Model check" in data:
            self._in_check = True
            self.sections.append([])
        if self._cell is not None:
            self._cell.append(data)


@pytest.mark.slow
def test_the_report_shows_each_model_s_check(checked: Path, tmp_path: Path) -> None:
    with Store(checked) as store:
        out = build_report(store, tmp_path / "report.html", model_charts=True)
    html = out.read_text("utf-8")
    assert html.count("no model check yet") == len(SOURCES) - len(CHECKED)
    models_json = {m["source"]: m for m in figures(html)["models"]}
    parser = _Tables()
    parser.feed(html)
    assert len(parser.sections) == len(models_json) == len(SOURCES)
    for section, (source, shown) in zip(parser.sections, models_json.items(), strict=True):
        result = load_check(checked, source)
        assert shown["check"] == result
        if source not in CHECKED:
            assert result is None and section == [], source
            continue
        assert len(section) == len(result["levels"]), source
        for row, level in zip(section, result["levels"], strict=True):
            assert row[0] == f"{level['comparison']} / {level['level']}"
            assert row[2].startswith(f"{level['m']['saved']:.3g}")
            flags = row[8]
            assert (flags == "—") is (not level["flags"]), (source, row)


def test_without_a_check_the_report_says_how_to_run_one() -> None:
    text = _model_check(Page(), ModelSection("death", "v0001"))
    assert "no model check yet" in text and "renkou --home HOME model check" in text


def test_a_floor_needs_the_other_side_s_support() -> None:
    training = Training(m_floor=0.001, u_floor=1e-8)
    cfg = ModelCheckSettings(min_support=30)
    # no match seen, u from thousands of pairs: m at its floor is the prior, not a flag
    one_side = _run("seed", 0.001, 0.5, m_count=0.0, u_count=5000)
    (level,) = summarise(one_side["levels"], [one_side], cfg, training, source_file="x")
    assert level["m"]["floor"] and level["flags"] == []
    # neither a match nor a non-match: +16.6 bits from two floors is flagged on both sides
    nothing = _run("seed", 0.001, 1e-8, m_count=0.0, u_count=0.0)
    (level,) = summarise(nothing["levels"], [nothing], cfg, training, source_file="x")
    assert level["weight"]["saved"] == pytest.approx(16.61, abs=0.01)
    assert level["flags"] == ["m_unsupported", "u_unsupported"]
    assert "fixed_m = { exact = 0.001 }, fixed_u = { exact = 1e-08 }" in level["fix"]
