"""The data-quality figures on a ten-person base whose every problem is known
(tests/report_fixture.py): each figure compared with its value worked out by hand."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage.report import quality
from linkage.store import Store
from tests.report.fixture import AS_OF, LX, SC, build_home


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    home = build_home(tmp_path_factory.mktemp("report-quality"))
    with Store(home) as s:
        yield s


def _expected(rows: list[tuple], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def test_completeness_per_item(store: Store) -> None:
    result = quality.completeness(store, as_of=AS_OF)
    valid = {
        "name": 10,
        "id_number": 8,
        "sex": 10,
        "birth_date": 10,
        "ethnicity": 9,
        "hukou_address": 10,
        "current_address": 9,
        "marital_status": 10,
        "hukou_type": 9,
        "relation_to_head": 9,
    }
    expected = pl.DataFrame(
        {
            "item": list(valid),
            "item_zh": [quality.ITEM_ZH[k] for k in valid],
            "persons": [10] * 10,
            "valid": list(valid.values()),
            "rate": [v / 10 for v in valid.values()],
        }
    )
    assert_frame_equal(result, expected)


def test_consistency_per_rule(store: Store) -> None:
    result = quality.consistency(store, as_of=AS_OF)
    # (rule, checked, passed) — see the comments in report_fixture.BASE
    rows = [
        ("id_birth_date", 9, 8),
        ("id_sex", 9, 8),
        ("marital_age", 6, 4),
        ("spouse_ages", 4, 2),
        ("child_parent_gap", 3, 1),
    ]
    expected = pl.DataFrame(
        {
            "rule": [r[0] for r in rows],
            "rule_zh": [quality.RULE_ZH[r[0]] for r in rows],
            "checked": [r[1] for r in rows],
            "passed": [r[2] for r in rows],
            "rate": [r[2] / r[1] for r in rows],
        }
    )
    assert_frame_equal(result, expected)


def test_id_validity_and_coverage(store: Store) -> None:
    assert quality.id_validity(store, as_of=AS_OF).row(0) == (10, 9, 8, 8 / 9)
    # K1 linked (灵溪镇), K2 not linked (首车镇 from its address), K3 moved out: not counted
    assert quality.coverage(store).row(0) == (2, 1, 0.5)
    by_town = quality.coverage(store, by_township=True)
    assert sorted(by_town.rows()) == sorted([(SC, 1, 0, 0.0), (LX, 1, 1, 1.0)])


def test_per_township_adds_up_to_the_county(store: Store) -> None:
    county = quality.consistency(store, as_of=AS_OF)
    towns = quality.consistency(store, as_of=AS_OF, by_township=True)
    summed = towns.group_by("rule").agg(pl.col("checked").sum(), pl.col("passed").sum())
    assert_frame_equal(county.select("rule", "checked", "passed").sort("rule"), summed.sort("rule"))
    comp = quality.completeness(store, as_of=AS_OF, by_township=True)
    assert set(comp["township"]) == {LX, SC}
    assert comp.filter(pl.col("item") == "name")["persons"].sum() == 10


def test_headline_and_ranking(store: Store) -> None:
    head = quality.headline(store, as_of=AS_OF)
    values = {r["figure"]: r for r in head.iter_rows(named=True)}
    assert values["completeness"]["numerator"] == 94
    assert values["completeness"]["denominator"] == 100
    assert values["consistency"]["numerator"] == 24  # 23 of 31 base checks + P01 (K1 正常)
    assert values["consistency"]["denominator"] == 33  # + P01, P08 (K3 迁出注销): status_events
    assert values["consistency"]["meets_target"] is False
    assert values["coverage"]["value"] == 0.5
    assert values["id_validity"]["target"] is None
    assert (values["matching_rate"]["numerator"], values["matching_rate"]["denominator"]) == (1, 10)
    assert values["accuracy"]["value"] == 1.0  # K1 and P01 agree on every field
    ranking = quality.township_ranking(store, as_of=AS_OF)
    assert ranking["rank"].to_list() == [1, 2]
    assert ranking["targets_missed"].to_list() == sorted(
        ranking["targets_missed"].to_list(), reverse=True
    )
    # 首车镇: coverage 0 %, consistency worst: it comes first
    assert ranking["township"][0] == SC


def test_matching_rate_counts_base_persons_matched_by_an_active_hukou_record(
    store: Store,
) -> None:
    # only K1 (active) links to a base person (P01, 灵溪镇); K3 links P08 but has moved out
    by_town = quality.matching_rate(store, by_township=True)
    assert by_town.rows() == [(LX, 6, 1, 1 / 6), (SC, 4, 0, 0.0)]
    assert quality.matching_rate(store).rows() == [(10, 1, 0.1)]


def test_accuracy_is_agreement_with_hukou_over_the_fields_compared(tmp_path: Path) -> None:
    with Store(build_home(tmp_path)) as s:
        # 公安 says K1 is 苗族; and K2 (刘洋, another birth date, ID and 户号) is linked to P03
        s.con.execute(
            "UPDATE person_records SET ethnicity = '苗族' WHERE source = 'hukou' "
            "AND record_id = 'K1'"
        )
        s.con.execute("UPDATE links SET person_id = 'P03' WHERE source_record_id = 'K2'")
        fields = {r["field"]: (r["compared"], r["agreed"]) for r in quality.accuracy(s).to_dicts()}
        county = quality.headline(s, as_of=AS_OF).filter(pl.col("figure") == "accuracy")
        matched = quality.matching_rate(s).rows()
    # K1↔P01 agrees on 6 of 7 fields; K2↔P03 on sex, ethnicity and 户口性质 only
    assert fields == {
        "name": (2, 1),
        "sex": (2, 2),
        "birth_date": (2, 1),
        "ethnicity": (2, 1),
        "id_number": (2, 1),
        "household_id": (2, 1),
        "hukou_type": (2, 2),
    }
    assert county.select("numerator", "denominator", "meets_target").row(0) == (9, 14, False)
    assert matched == [(10, 2, 0.2)]


def test_timeliness_counts_the_events_the_base_reflects_in_time(tmp_path: Path) -> None:
    with Store(build_home(tmp_path)) as s:
        # K3 moved P08 (首车镇) out on 2025-08-01; the base still holds her as 正常
        assert quality.timeliness(s, as_of=AS_OF).rows() == [("move", 1, 0, 0.0)]
        s.con.execute(
            "UPDATE src_population SET status = '迁出注销', updated_at = DATE '2025-08-20' "
            "WHERE person_id = 'P08'"
        )
        assert quality.timeliness(s, as_of=AS_OF).rows() == [("move", 1, 1, 1.0)]
        s.con.execute(  # 45 days after the move: reflected, but late
            "UPDATE src_population SET updated_at = DATE '2025-09-15' WHERE person_id = 'P08'"
        )
        assert quality.timeliness(s, as_of=AS_OF).rows() == [("move", 1, 0, 0.0)]
        # 公安 cancelled P01 (灵溪镇) as dead on 2026-03-01; the base has not
        s.con.execute(
            "UPDATE src_hukou SET hukou_status = '死亡注销', change_date = DATE '2026-03-01' "
            "WHERE record_id = 'K1'"
        )
        assert quality.timeliness(s, as_of=AS_OF, by_township=True).rows() == [
            (LX, "death", 1, 0, 0.0),
            (SC, "move", 1, 0, 0.0),
        ]
        head = quality.headline(s, as_of=AS_OF).filter(pl.col("figure") == "timeliness")
        assert head.select("numerator", "denominator").row(0) == (0, 2)
        # a death of the last 30 days is not judged yet: its window is still open
        s.con.execute("UPDATE src_hukou SET change_date = DATE '2026-06-15' WHERE record_id = 'K1'")
        assert quality.timeliness(s, as_of=AS_OF).rows() == [("move", 1, 0, 0.0)]


def test_the_assessment_json_says_what_the_report_says(tmp_path: Path) -> None:
    import json

    from typer.testing import CliRunner

    from linkage.cli import app

    home = build_home(tmp_path)
    with Store(home) as s:
        result = quality.assessment(s, as_of=AS_OF)
        head = {r["figure"]: r["value"] for r in quality.headline(s, as_of=AS_OF).to_dicts()}
    county = result["county"]
    assert list(county) == [*quality.ASSESSED, *quality.EXCHANGE_ASSESSED]
    assert county["exchange_feedback_rate"] is None  # no 协查 query received
    for figure in ("coverage", "matching_rate", "completeness", "consistency", "accuracy"):
        assert county[figure] == pytest.approx(head[figure]), figure
    assert county["timeliness"] == 0.0  # P08's move is not in the base
    assert county["feedback_rate"] is None  # no task list sent: nothing to count
    assert result["townships"][LX]["matching_rate"] == pytest.approx(1 / 6)
    assert result["townships"][SC]["coverage"] == 0.0
    assert (
        result["not_measurable"]["count"] == 7 and "文化程度" in result["not_measurable"]["items"]
    )
    shown = CliRunner().invoke(
        app, ["--home", str(home), "figures", "--as-of", AS_OF.isoformat(), "--json"]
    )
    assert shown.exit_code == 0, shown.output
    assert json.loads(shown.output) == json.loads(json.dumps(result))


def test_the_status_agrees_with_the_departments_events(store: Store) -> None:
    # P01 is linked to K1 (户籍 正常): consistent; P08 to K3 (迁出注销) while the base says 正常
    assert quality.status_consistency(store).select("checked", "passed").row(0) == (2, 1)
    towns = quality.status_consistency(store, by_township=True)
    assert towns.select("township", "checked", "passed").rows() == [(LX, 1, 1), (SC, 1, 0)]
    head = quality.headline(store, as_of=AS_OF).filter(pl.col("figure") == "consistency")
    assert head.select("numerator", "denominator").row(0) == (24, 33)


def test_empty_frames_without_hukou(tmp_path: Path) -> None:
    with Store(tmp_path) as s:
        assert quality.coverage(s).is_empty()
        assert quality.matching_rate(s).is_empty() and quality.accuracy(s).is_empty()
