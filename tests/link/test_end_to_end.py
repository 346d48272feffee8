"""The link stage end to end on a generated county: accuracy against truth, beating the
exact-ID baseline, reproducible training, and m re-estimated from field labels."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage import pipeline, tables
from linkage.evaluate import evaluate
from linkage.link import link_all
from linkage.link import model as models
from linkage.store import Store
from synth import generate_county

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def linked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Path]:
    root = tmp_path_factory.mktemp("county")
    generate_county(persons=8000, seed=5, out=root / "county")
    store = Store(root / "home")
    pipeline.ingest(store, root / "county" / "inbox")
    pipeline.link(store)
    pipeline.findings(store, "test")
    return store, root / "county" / "truth"


def test_links_are_accurate_and_beat_the_baseline(linked: tuple[Store, Path]) -> None:
    store, truth = linked
    result = evaluate(store, truth)
    for key, score in result.links.items():
        base = result.baseline_links[key]
        assert score.tp + score.fn >= 10, key  # enough true links to mean something
        assert score.f1 >= 0.97, (key, score)
        assert score.f1 >= base.f1, (key, score, base)
    assert result.links["death/person"].precision >= 0.995
    assert result.findings["suspected_death"].precision >= 0.99
    for kind, score in result.findings.items():
        assert score.f1 >= result.baseline_findings[kind].f1, kind


def test_every_record_and_role_has_one_row(linked: tuple[Store, Path]) -> None:
    store, _ = linked
    dupes = store.scalar(
        "SELECT count(*) FROM (SELECT source, source_record_id, role "
        "FROM links GROUP BY ALL HAVING count(*) > 1)"
    )
    assert dupes == 0
    expected = store.scalar("SELECT count(*) FROM person_records WHERE source <> 'population'")
    assert store.scalar("SELECT count(*) FROM links") == expected


def test_training_is_reproducible_for_a_seed(linked: tuple[Store, Path]) -> None:
    store, _ = linked
    first = json.loads(models.latest_model(store.home, "death")[1].read_text("utf-8"))
    link_all(store, retrain=True)
    second = json.loads(models.latest_model(store.home, "death")[1].read_text("utf-8"))
    assert models.latest_model(store.home, "death")[0] == "v0002"
    first.pop("linker_uid"), second.pop("linker_uid")  # a random id per Linker object
    assert first == second


def test_m_is_reestimated_from_confirmed_pairs(
    linked: tuple[Store, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, _ = linked
    confirmed = store.frame("""
        SELECT source, source_record_id, role, person_id, true AS is_match,
               source || '|' || source_record_id || '|' || role AS rec_key_l,
               'population|' || person_id || '|person' AS rec_key_r
        FROM links WHERE source = 'death' AND person_id IS NOT NULL
    """)
    import linkage.labels as labels

    monkeypatch.setattr(labels, "link_labels", lambda _store: confirmed)
    store.con.execute("CREATE TABLE IF NOT EXISTS labels (finding_id VARCHAR)")
    store.con.execute(
        "CREATE OR REPLACE TABLE tmp_renkou_link_base AS SELECT * FROM "
        "person_records WHERE source = 'population'"
    )
    store.con.execute(
        "CREATE OR REPLACE TABLE tmp_renkou_link_death AS SELECT * FROM "
        "person_records WHERE source = 'death'"
    )
    tables = ["tmp_renkou_link_base", "tmp_renkou_link_death"]
    linker = models.saved_linker(store, tables, models.latest_model(store.home, "death")[1])
    before = linker.misc.save_model_to_json()
    used = models._m_from_field_labels(store, linker, "death", tables, minimum=10)
    after = linker.misc.save_model_to_json()
    assert used == confirmed.height >= 10
    assert before["comparisons"] != after["comparisons"]
    assert models._m_from_field_labels(store, linker, "death", tables, minimum=10**6) == 0
    linker.table_management.delete_tables_created_by_splink_from_db()
    assert pl.DataFrame(after["comparisons"][0]["comparison_levels"]).height > 0


def _home_copy(store: Store, to: Path, *, labels: bool = False) -> Store:
    store.con.execute("CHECKPOINT")
    shutil.copytree(store.home, to, ignore=shutil.ignore_patterns("*.lock", "*.wal"))
    copy = Store(to)
    if not labels:
        copy.con.execute("DROP TABLE IF EXISTS labels")  # a stand-in an earlier test made
    return copy


def test_incremental_after_field_answers_equals_a_full_run(
    linked: tuple[Store, Path], tmp_path: Path
) -> None:
    """Township staff reject a death link and a duplicate pair: the next (incremental) run
    decides those records again and ends exactly where a full rescoring does."""
    store, _ = linked
    night = _home_copy(store, tmp_path / "night")
    death = night.frame(
        "SELECT source_record_id, person_id FROM links WHERE source = 'death' "
        "AND decided_by = 'model' AND person_id IS NOT NULL "
        "ORDER BY source_record_id LIMIT 1"
    ).row(0)
    dup = night.frame("SELECT person_id_l, person_id_r FROM dedupe_pairs ORDER BY ALL LIMIT 1").row(
        0
    )
    tables.ensure(night.con, "tasks")
    night.con.execute(
        """
        INSERT INTO labels (finding_id, finding_type, person_id, other_person_id, source,
                            source_record_id, role, status)
        VALUES ('F1', 'suspected_death', $1, NULL, 'death', $2, 'person', 'rejected'),
               ('F2', 'duplicate_person', $3, $4, 'population', $3, 'person', 'rejected')
    """,
        [death[1], death[0], dup[0], dup[1]],
    )
    full = _home_copy(night, tmp_path / "full", labels=True)
    assert link_all(night).mode == "incremental"
    assert link_all(full, full=True).mode == "full"
    for table in ("links", "dedupe_pairs", "base_clusters", "clerical"):
        got, want = (
            s.frame(f"SELECT * EXCLUDE (explanation) FROM {table} ORDER BY ALL")
            if table in ("links", "clerical")
            else s.frame(f"SELECT * FROM {table} ORDER BY ALL")
            for s in (night, full)
        )
        assert_frame_equal(got, want, check_exact=False)
    assert (
        night.scalar(
            "SELECT count(*) FROM links WHERE source = 'death' AND "
            "source_record_id = $1 AND person_id = $2",
            list(death),
        )
        == 0
    )
    assert (
        night.scalar(
            "SELECT count(*) FROM dedupe_pairs WHERE person_id_l = $1 AND person_id_r = $2",
            list(dup),
        )
        == 0
    )
    night.close(), full.close()


def test_incremental_runs_keep_the_last_run_s_models(
    linked: tuple[Store, Path], tmp_path: Path
) -> None:
    """A newer model file (say from a retrain that failed half-way) is adopted by the next
    full run, not by an incremental one scoring a few records with it."""
    store, _ = linked
    night = _home_copy(store, tmp_path / "night")
    used = dict(night.frame("SELECT source, version FROM model_versions").rows())
    path = models.saved_model(night.home, "death", used["death"])[1]
    shutil.copyfile(path, path.with_name("v0099.json"))
    night.con.execute(
        "DELETE FROM link_decisions WHERE rec_key = (SELECT min(rec_key) "
        "FROM link_decisions WHERE source = 'death')"
    )  # one record to score
    report = link_all(night)
    assert report.mode == "incremental" and report.scored["death"] == 1
    assert report.models["death"] == used["death"]
    assert link_all(night, full=True).models["death"] == "v0099"
    night.close()
