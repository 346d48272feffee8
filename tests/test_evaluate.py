"""`renkou evaluate` scoring on tiny hand-made truths with known precision and recall."""

from __future__ import annotations

import polars as pl
import pytest

from linkage.evaluate import Score, score_destinations, score_findings, score_links

BASE_MAP = pl.DataFrame(
    {
        "person_id": ["P1", "P2", "P2b", "P3", "P4"],
        "true_pid": ["H1", "H2", "H2", "H3", "H4"],  # P2 and P2b are one human (a duplicate)
    }
)


def _links(rows: list[tuple[str, str, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["source", "source_record_id", "role", "person_id"], orient="row"
    )


def test_score_arithmetic() -> None:
    s = Score(tp=8, fp=2, fn=8)
    assert (s.precision, s.recall) == (0.8, 0.5)
    assert s.f1 == pytest.approx(2 * 0.8 * 0.5 / 1.3)
    assert Score(0, 0, 0).f1 == 1.0  # nothing to find and nothing claimed


def test_links_right_wrong_missing_and_duplicates() -> None:
    truth = pl.DataFrame(
        {
            "source": ["death"] * 5,
            "source_record_id": ["d1", "d2", "d3", "d4", "d5"],
            "role": ["person"] * 5,
            "true_pid": ["H1", "H2", "H3", "H9", "H4"],
            "person_id_truth": ["P1", "P2", "P3", "", "P4"],  # d4: a non-resident, in no base row
        }
    )
    predicted = _links(
        [
            ("death", "d1", "person", "P1"),  # right
            ("death", "d2", "person", "P2b"),  # right: the other row of the same human
            ("death", "d3", "person", "P4"),  # wrong: FP and FN
            ("death", "d4", "person", "P3"),  # a non-resident linked: FP
            ("death", "d5", "person", None),  # missed: FN
        ]
    )
    scores = score_links(predicted, truth, BASE_MAP)
    assert scores["death/person"] == Score(tp=2, fp=2, fn=2)


def test_links_scored_per_role() -> None:
    truth = pl.DataFrame(
        {
            "source": ["marriage", "marriage"],
            "source_record_id": ["m1", "m1"],
            "role": ["husband", "wife"],
            "true_pid": ["H1", "H7"],
            "person_id_truth": ["P1", ""],
        }
    )
    scores = score_links(_links([("marriage", "m1", "husband", "P1")]), truth, BASE_MAP)
    assert scores == {"marriage/husband": Score(1, 0, 0), "marriage/wife": Score(0, 0, 0)}


def _findings(rows: list[dict[str, str | None]]) -> pl.DataFrame:
    cols = ["finding_type", "person_id", "other_person_id", "source", "source_record_id", "field"]
    return pl.DataFrame(
        [{c: r.get(c) for c in cols} for r in rows], schema={c: pl.String for c in cols}
    )


def test_findings_keys_per_type() -> None:
    truth = _findings(
        [
            {"finding_type": "suspected_death", "person_id": "P1"},
            {"finding_type": "suspected_death", "person_id": "P2"},
            {"finding_type": "attribute_conflict", "person_id": "P3", "field": "birth_date"},
            {"finding_type": "unregistered_person", "source": "hukou", "source_record_id": "h1"},
            {"finding_type": "duplicate_person", "person_id": "P2", "other_person_id": "P2b"},
        ]
    )
    predicted = _findings(
        [
            {"finding_type": "suspected_death", "person_id": "P2b"},  # same human as P2: right
            {"finding_type": "suspected_death", "person_id": "P4"},  # wrong
            {"finding_type": "attribute_conflict", "person_id": "P3", "field": "ethnicity"},
            {"finding_type": "unregistered_person", "source": "hukou", "source_record_id": "h1"},
            {"finding_type": "duplicate_person", "person_id": "P2b", "other_person_id": "P2"},
            {"finding_type": "duplicate_person", "person_id": "P1", "other_person_id": "P3"},
        ]
    )
    scores = score_findings(predicted, truth, BASE_MAP)
    assert scores["suspected_death"] == Score(tp=1, fp=1, fn=1)
    assert scores["attribute_conflict"] == Score(tp=0, fp=1, fn=1)
    assert scores["unregistered_person"] == Score(tp=1, fp=0, fn=0)
    assert scores["duplicate_person"] == Score(tp=1, fp=1, fn=0)
    assert scores["moved_out"] == Score(0, 0, 0)


def test_duplicate_pairs_found_transitively() -> None:
    base_map = pl.DataFrame({"person_id": ["A", "B", "C"], "true_pid": ["H", "H", "H"]})
    truth = _findings(
        [
            {"finding_type": "duplicate_person", "person_id": a, "other_person_id": b}
            for a, b in (("A", "B"), ("A", "C"), ("B", "C"))
        ]
    )
    predicted = _findings(
        [
            {"finding_type": "duplicate_person", "person_id": "A", "other_person_id": "B"},
            {"finding_type": "duplicate_person", "person_id": "A", "other_person_id": "C"},
        ]
    )
    assert score_findings(predicted, truth, base_map)["duplicate_person"] == Score(3, 0, 0)


def _queries(rows: list[tuple[str, str, str, str | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema=["source_record_id", "role", "destination", "person_id"], orient="row"
    ).with_columns(
        finding_type=pl.lit("cross_county_query"),
        source=pl.lit("marriage"),
        other_person_id=pl.lit(None, pl.String),
    )


def test_queries_scored_per_role_and_on_where_they_go() -> None:
    truth = _queries(
        [
            ("m1", "husband", "440106", None),
            ("m1", "wife", "520303", None),  # a couple from elsewhere: two queries
            ("m2", "wife", "430102", None),
            ("m3", "wife", "", None),  # the truth knows no county to ask
        ]
    )
    predicted = _queries(
        [
            ("m1", "husband", "440106", None),  # right, sent right
            ("m1", "wife", "520302", None),  # right, sent to a wrong county
            ("m2", "wife", None, None),  # right, sent nowhere yet
            ("m4", "husband", "440106", None),  # no such query
        ]
    )
    assert score_findings(predicted, truth, BASE_MAP)["cross_county_query"] == Score(3, 1, 1)
    assert score_destinations(predicted, truth, BASE_MAP)["cross_county_query"] == Score(1, 1, 1)
