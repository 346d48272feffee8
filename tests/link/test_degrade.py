"""``renkou link`` degrades instead of failing on thin deliveries: a source with no rows, an
ID column read empty, a comparison column empty, a base without one usable ID, a training
block that finds no pair. The stage completes, the other sources link, and a note names
what was skipped or degraded (sources, columns, comparisons; never values)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from linkage import pipeline
from linkage.link.run import LinkReport
from linkage.store import Store
from synth import generate_county

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("degrade")
    generate_county(persons=2000, seed=3, out=root / "county")
    with Store(root / "home") as store:
        pipeline.ingest(store, root / "county" / "inbox")
        store.con.execute("CHECKPOINT")
    return root / "home"


def _link(ingested: Path, to: Path, *sql: str) -> tuple[Store, LinkReport]:
    shutil.copytree(ingested, to, ignore=shutil.ignore_patterns("*.lock", "*.wal"))
    store = Store(to)
    for statement in sql:
        store.con.execute(statement)
    return store, pipeline.link(store)


def _linked(store: Store, source: str) -> int:
    return int(
        store.scalar(
            "SELECT count(*) FROM links WHERE source = ? AND person_id IS NOT NULL", [source]
        )
        or 0
    )


def test_a_source_with_no_rows_is_skipped(ingested: Path, tmp_path: Path) -> None:
    store, report = _link(
        ingested, tmp_path / "h", "DELETE FROM person_records WHERE source = 'marriage'"
    )
    assert "source marriage delivered no rows: not linked" in report.notes
    assert _linked(store, "hukou") > 0 and _linked(store, "marriage") == 0


def test_an_empty_id_column_drops_its_training_block(ingested: Path, tmp_path: Path) -> None:
    store, report = _link(
        ingested,
        tmp_path / "h",
        "UPDATE person_records SET id_number = NULL, id_status = 'missing', "
        "id_birth_date = NULL WHERE source = 'marriage'",
    )
    notes = "\n".join(report.notes)
    assert "source marriage: column id_number has no usable value" in notes
    assert "model marriage: training block id_number found no record pairs: dropped" in notes
    assert _linked(store, "marriage") > 0 and _linked(store, "hukou") > 0


def test_an_empty_comparison_column_is_fixed_not_fatal(ingested: Path, tmp_path: Path) -> None:
    store, report = _link(
        ingested,
        tmp_path / "h",
        "UPDATE person_records SET birth_date = NULL, birth_date_lunar_alt = NULL, "
        "id_birth_date = NULL WHERE source = 'death'",
    )
    notes = "\n".join(report.notes)
    assert "source death: column birth_date is empty" in notes
    assert "model death: training block name_py+birth_date found no record pairs" in notes
    assert _linked(store, "death") > 0 and _linked(store, "hukou") > 0


def test_a_base_without_usable_ids_links_on_the_rest(ingested: Path, tmp_path: Path) -> None:
    store, report = _link(
        ingested,
        tmp_path / "h",
        "UPDATE person_records SET id_number = NULL, id_status = 'missing', "
        "id_birth_date = NULL WHERE source = 'population'",
    )
    notes = "\n".join(report.notes)
    assert "source population: column id_number has no usable value" in notes
    assert "model population: training block id_number found no record pairs: dropped" in notes
    assert "comparison name: m not estimated" in notes
    assert _linked(store, "hukou") > 0


def test_a_training_block_without_pairs_is_dropped(ingested: Path, tmp_path: Path) -> None:
    # every death's birth date a day off: the name+birth date block finds no pair, the data
    # is there; the model still trains on the ID block and the sources link
    store, report = _link(
        ingested,
        tmp_path / "h",
        "UPDATE person_records SET birth_date = birth_date + INTERVAL 1 DAY, "
        "birth_date_lunar_alt = NULL WHERE source = 'death'",
    )
    notes = "\n".join(report.notes)
    assert "model death: training block name_py+birth_date found no record pairs: dropped" in notes
    assert _linked(store, "death") > 0 and _linked(store, "hukou") > 0
