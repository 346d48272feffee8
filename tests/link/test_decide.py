"""``linkage.link.decide`` on tiny hand-made score tables: the decision of each record
(``match_probability`` and ``clerical_probability`` are inclusive bounds, the margin of match
weight over the best candidate of another person, duplicated base rows not rivals, ties on
weight broken by person id, pairs rejected in the field dropped, each role decided apart,
the explanation from gamma levels) and the exact-ID cascade (``exact_links``)."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage.link.decide import decide, exact_links
from linkage.settings import Thresholds
from linkage.standardise.ids import check_char
from linkage.store import Store
from tests.link.tables import KEY, S, decisions, people, put, reject

PREDICTIONS = "tmp_test_predictions"
CLUSTERS = "tmp_test_clusters"
TH = Thresholds(
    match_probability=0.95, clerical_probability=0.5, min_weight_margin=3.0, one_to_one=False
)
LABELS = {
    "name": {0: "different", 1: "pinyin exact", 2: "exact"},
    "id_number": {0: "different", 1: "one edit", 2: "exact"},
}
EXACT = "name: exact; id_number: exact"

#: a candidate pair: (source, record_id, role, person_id, match_weight, match_probability),
#: optionally followed by (gamma_name, gamma_id_number); both gammas 2 when left out
Candidate = tuple[object, ...]


def _predictions(store: Store, candidates: list[Candidate], *, base_left: bool = True) -> None:
    """Splink's prediction table: base person on the left (or right), source record opposite."""
    rows = []
    for source, record, role, person, weight, probability, *gammas in candidates:
        base = ("population", person, "person")
        other = (source, record, role)
        left, right = (base, other) if base_left else (other, base)
        g_name, g_id = gammas or (2, 2)
        rows.append((*left, *right, weight, probability, g_name, g_id))
    schema = {
        **{f"{c}_{side}": S for side in ("l", "r") for c in ("source", "record_id", "role")},
        "match_weight": pl.Float64,
        "match_probability": pl.Float64,
        "gamma_name": pl.Int32,
        "gamma_id_number": pl.Int32,
    }
    put(store, PREDICTIONS, schema, rows)


def _clusters(store: Store, *rows: tuple[str, str]) -> None:
    put(store, CLUSTERS, {"person_id": S, "cluster_id": S}, rows)


def _decide(
    store: Store,
    candidates: list[Candidate],
    th: Thresholds = TH,
    *,
    base_left: bool = True,
    clusters: tuple[tuple[str, str], ...] = (),
    rejected: tuple[tuple[str, str, str, str], ...] = (),
    labels: dict[str, dict[int, str]] | None = None,
) -> pl.DataFrame:
    _predictions(store, candidates, base_left=base_left)
    _clusters(store, *clusters)
    reject(store, *rejected)
    return decide(store, PREDICTIONS, CLUSTERS, th, LABELS if labels is None else labels).sort(KEY)


def _model(
    record: str, person: str | None, weight: float, probability: float, **kw: object
) -> dict[str, object]:
    """An expected decision of the model on a death record."""
    return {
        "source": "death",
        "source_record_id": record,
        "role": "person",
        "person_id": person,
        "match_weight": weight,
        "match_probability": probability,
        "decided_by": "model",
        "explanation": EXACT,
        **kw,
    }


def test_probability_thresholds_are_inclusive(store: Store) -> None:
    result = _decide(
        store,
        [
            ("death", "d1", "person", "P1", 4.25, 0.95),  # exactly the match threshold
            ("death", "d2", "person", "P2", 4.2, 0.9499),  # just below it
            ("death", "d3", "person", "P3", 0.0, 0.5),  # exactly the clerical threshold
            ("death", "d4", "person", "P4", -0.1, 0.4999),  # just below it
        ],
    )
    expected = decisions(
        [
            _model("d1", "P1", 4.25, 0.95, decision="link"),
            _model("d2", "P2", 4.2, 0.9499, decision="clerical"),
            _model("d3", "P3", 0.0, 0.5, decision="clerical"),
            _model("d4", "P4", -0.1, 0.4999, decision="none"),
        ]
    )
    assert_frame_equal(result, expected)


def test_thresholds_come_from_the_dataclass(store: Store) -> None:
    """The same scores against stricter thresholds: 0.95 is now clerical, 0.5 none."""
    strict = Thresholds(
        match_probability=0.99, clerical_probability=0.9, min_weight_margin=3.0, one_to_one=False
    )
    result = _decide(
        store,
        [
            ("death", "d1", "person", "P1", 4.25, 0.95),
            ("death", "d2", "person", "P2", 0.0, 0.5),
            ("death", "d3", "person", "P3", 6.7, 0.99),
        ],
        strict,
    )
    assert result.select("source_record_id", "decision").rows() == [
        ("d1", "clerical"),
        ("d2", "none"),
        ("d3", "link"),
    ]


def test_margin_over_the_runner_up_is_inclusive(store: Store) -> None:
    p = 0.9998
    result = _decide(
        store,
        [
            ("death", "d1", "person", "P1", 12.5, p),
            ("death", "d1", "person", "P2", 9.5, p),  # margin exactly 3.0: linked
            ("death", "d2", "person", "P1", 12.5, p),
            ("death", "d2", "person", "P2", 9.75, p),  # margin 2.75: review
            ("death", "d3", "person", "P3", 5.0, 0.97),
            ("death", "d3", "person", "P1", 12.5, p),
            ("death", "d3", "person", "P2", 9.5, p),  # the strongest rival counts, not the last
            ("death", "d4", "person", "P4", 12.5, p),  # no rival at all
        ],
    )
    expected = decisions(
        [
            _model("d1", "P1", 12.5, p, second_weight=9.5, decision="link"),
            _model("d2", "P1", 12.5, p, second_weight=9.75, decision="clerical"),
            _model("d3", "P1", 12.5, p, second_weight=9.5, decision="link"),
            _model("d4", "P4", 12.5, p, decision="link"),
        ]
    )
    assert_frame_equal(result, expected)


def test_ambiguous_below_the_clerical_band_is_none(store: Store) -> None:
    """A margin too small sends the record to review only if it is in the clerical band."""
    result = _decide(
        store,
        [
            ("death", "d1", "person", "P1", -0.5, 0.45),
            ("death", "d1", "person", "P2", -0.75, 0.4),
        ],
    )
    expected = decisions([_model("d1", "P1", -0.5, 0.45, second_weight=-0.75, decision="none")])
    assert_frame_equal(result, expected)


@pytest.mark.parametrize("reverse", [False, True], ids=["P1-first", "P2-first"])
def test_tie_on_weight_is_broken_by_person_id(store: Store, reverse: bool) -> None:
    """Two people score the same: the smaller person id is the best candidate whatever the
    row order, and with a margin of 0 it is linked."""
    tied: list[Candidate] = [
        ("death", "d1", "person", "P1", 12.5, 0.9998),
        ("death", "d1", "person", "P2", 12.5, 0.9998),
    ]
    rows = tied[::-1] if reverse else tied
    margin0 = Thresholds(0.95, 0.5, 0.0, False)
    expected = decisions([_model("d1", "P1", 12.5, 0.9998, second_weight=12.5)])
    assert_frame_equal(_decide(store, rows), expected.with_columns(decision=pl.lit("clerical")))
    assert_frame_equal(
        _decide(store, rows, margin0), expected.with_columns(decision=pl.lit("link"))
    )


def test_rows_of_one_duplicated_person_are_not_rivals(store: Store) -> None:
    """P1 and P1b are one person (one cluster): only a candidate of another cluster is a
    rival; a base person in no cluster is its own."""
    p = 0.9999
    result = _decide(
        store,
        [
            ("death", "d1", "person", "P1", 12.5, p),
            ("death", "d1", "person", "P1b", 12.0, p),
            ("death", "d2", "person", "P1b", 13.0, p),
            ("death", "d2", "person", "P1", 12.5, p),
            ("death", "d2", "person", "P3", 10.5, p),  # margin 2.5 to another person
            ("death", "d3", "person", "P1b", 13.0, p),
            ("death", "d3", "person", "P1", 12.5, p),
            ("death", "d3", "person", "P3", 10.0, p),  # margin 3.0
        ],
        clusters=(("P1", "P1"), ("P1b", "P1")),
    )
    expected = decisions(
        [
            _model("d1", "P1", 12.5, p, decision="link"),
            _model("d2", "P1b", 13.0, p, second_weight=10.5, decision="clerical"),
            _model("d3", "P1b", 13.0, p, second_weight=10.0, decision="link"),
        ]
    )
    assert_frame_equal(result, expected)


def test_pairs_rejected_in_the_field_are_no_candidates(store: Store) -> None:
    """d1's best pair was rejected: the runner-up decides alone. d2 has no candidate left
    (no row). A rejection of the same ids in another source does not apply."""
    p = 0.9998
    result = _decide(
        store,
        [
            ("death", "d1", "person", "P1", 12.5, p),
            ("death", "d1", "person", "P2", 11.0, p),
            ("death", "d2", "person", "P2", 12.5, p),
            ("death", "d3", "person", "P3", 12.5, p),
            ("death", "d3", "person", "P4", 11.0, p),
        ],
        rejected=(
            ("death", "d1", "person", "P1"),
            ("death", "d2", "person", "P2"),
            ("hukou", "d3", "person", "P3"),
        ),
    )
    expected = decisions(
        [
            _model("d1", "P2", 11.0, p, decision="link"),
            _model("d3", "P3", 12.5, p, second_weight=11.0, decision="clerical"),
        ]
    )
    assert_frame_equal(result, expected)


@pytest.mark.parametrize("base_left", [True, False], ids=["base-left", "base-right"])
def test_either_side_and_only_base_against_source(store: Store, base_left: bool) -> None:
    """The base person may be on either side of a pair; a pair of two base rows or of two
    source records is no candidate (it would otherwise outscore P1)."""
    p = 0.9998
    result = _decide(store, [("death", "d1", "person", "P1", 12.5, p)], base_left=base_left)
    store.con.execute(
        f"""INSERT INTO {PREDICTIONS} VALUES
            ('death', 'd1', 'person', 'death', 'd9', 'person', 30.0, 1.0, 2, 2),
            ('population', 'P7', 'person', 'population', 'P8', 'person', 30.0, 1.0, 2, 2)"""
    )
    again = decide(store, PREDICTIONS, CLUSTERS, TH, LABELS)
    expected = decisions([_model("d1", "P1", 12.5, p, decision="link")])
    assert_frame_equal(result, expected)
    assert_frame_equal(again, expected)


def test_each_role_of_a_record_is_decided_apart(store: Store) -> None:
    """Husband and wife of one marriage record are not each other's rivals."""
    p = 0.9998
    result = _decide(
        store,
        [
            ("marriage", "m1", "husband", "P1", 12.5, p),
            ("marriage", "m1", "wife", "P2", 11.0, p),
        ],
    )
    expected = decisions(
        [
            {**_model("m1", "P1", 12.5, p), "source": "marriage", "role": "husband"},
            {**_model("m1", "P2", 11.0, p), "source": "marriage", "role": "wife"},
        ]
    ).with_columns(decision=pl.lit("link"))
    assert_frame_equal(result, expected)


def test_explanation_names_the_level_of_each_comparison(store: Store) -> None:
    p = 0.9998
    candidates: list[Candidate] = [
        ("death", "d1", "person", "P1", 12.5, p, 1, 2),
        ("death", "d2", "person", "P2", 12.5, p, 0, 9),  # a level the labels do not know
    ]
    result = _decide(store, candidates)
    assert result.select("source_record_id", "explanation").rows() == [
        ("d1", "name: pinyin exact; id_number: exact"),
        ("d2", "name: different; id_number: ?"),
    ]
    no_labels = _decide(store, candidates, labels={})
    assert no_labels["explanation"].to_list() == [None, None]
    assert no_labels["decision"].to_list() == ["link", "link"]


# ---------------------------------------------------------------- the exact-ID cascade

RECORDS = "tmp_test_records"
BASE = "tmp_test_base"


def _exact(store: Store) -> pl.DataFrame:
    result = exact_links(store, RECORDS, BASE).sort(KEY)
    # DuckDB types the literal 1.0 DECIMAL(2,1); the run concatenates it with the model's
    # Float64 (vertical_relaxed), so only the value matters here
    return result.with_columns(pl.col("match_probability").cast(pl.Float64))


def _id(body17: str) -> str:
    return body17 + check_char(body17)


def test_exact_links_need_a_valid_id_and_the_same_name_key(store: Store) -> None:
    base = [
        ("P1", "ID1", "张伟"),
        ("P2", "ID2", "李娜"),
        ("P3", "ID3", "王芳"),
        ("P4", "ID4", "刘洋"),
        ("P5b", "ID5", "陈静"),  # the base holds this person twice
        ("P5", "ID5", "陈静"),
        ("P6", "ID6", "杨帆"),
        ("P7", "ID7", "赵磊"),
        ("P7b", "ID7", "赵磊"),
    ]
    people(
        store,
        BASE,
        "population",
        [{"record_id": r, "id_number": i, "name": n, "id_status": "valid"} for r, i, n in base],
    )
    records = [
        ("d1", "ID1", "张伟", "valid"),
        ("d2", "ID2", "李娜", "upgraded_15"),
        ("d3", "ID3", "王芳", "bad_check"),  # not a valid ID
        ("d4", "ID4", "刘力", "valid"),  # another name: two characters of 刘洋 differ
        ("d5", "ID5", "陈静", "valid"),  # the smaller person id
        ("d6", "ID6", "杨帆", "valid"),  # rejected in the field
        ("d7", "ID7", "赵磊", "valid"),  # P7 rejected: P7b is left
    ]
    people(
        store,
        RECORDS,
        "death",
        [{"record_id": r, "id_number": i, "name": n, "id_status": s} for r, i, n, s in records],
    )
    reject(store, ("death", "d6", "person", "P6"), ("death", "d7", "person", "P7"))
    exact = {
        "source": "death",
        "role": "person",
        "match_probability": 1.0,
        "decision": "link",
        "decided_by": "exact",
        "explanation": "id_number: exact; name: exact key",
    }
    expected = decisions(
        [
            {**exact, "source_record_id": r, "person_id": p}
            for r, p in [("d1", "P1"), ("d2", "P2"), ("d5", "P5"), ("d7", "P7b")]
        ]
    )
    assert_frame_equal(_exact(store), expected)


ZUO = _id("65010119900501002")  # a woman born 1990-05-01
PA = _id("65010119880312004")
FATHER = _id("43312719500101001")  # a man born 1950-01-01
SON = _id("43312719800202003")  # his son, born 1980-02-02
ABDULLA = _id("65010119700707005")  # a man born 1970-07-07


def test_an_exact_valid_id_is_not_vetoed_by_a_name_written_differently(store: Store) -> None:
    """Exact-ID practice links these; so must renkou (issue 18). A relative's ID on a record
    of another name, or a sex that contradicts, is still left to the model."""
    people(
        store,
        BASE,
        "population",
        [
            {"record_id": "P1", "name": "佐日古丽·卡德尔", "sex": "女", "id_number": ZUO},
            {"record_id": "P2", "name": "帕提古丽·艾力", "sex": "女", "id_number": PA},
            {"record_id": "P3", "name": "张国强", "sex": "男", "id_number": FATHER},
            {"record_id": "P4", "name": "张小明", "sex": "男", "id_number": SON},
            {"record_id": "P5", "name": "阿布都拉", "sex": "男", "id_number": ABDULLA},
        ],
    )
    people(
        store,
        RECORDS,
        "death",
        [
            # transliterated with other characters, no birth date on the record: linked
            {"record_id": "r1", "name": "佐日古丽·喀迪尔", "sex": "女", "id_number": ZUO},
            # 。 typed for ·: the same name key
            {"record_id": "r2", "name": "帕提古丽。艾力", "sex": "女", "id_number": PA},
            # the father's death recorded with the son's ID and no birth date: not linked
            {"record_id": "r3", "name": "张国强", "sex": "男", "id_number": SON},
            # ... nor with the father's own birth date
            {
                "record_id": "r4",
                "name": "张国强",
                "sex": "男",
                "id_number": SON,
                "birth_date": "1950-01-01",
            },
            # the reading of 卜 and 都, but a sex that contradicts: left to the model
            {"record_id": "r5", "name": "阿卜杜拉", "sex": "女", "id_number": ABDULLA},
            # one character different and the birth date the ID's: linked
            {
                "record_id": "r6",
                "name": "张晓明",
                "sex": "男",
                "id_number": SON,
                "birth_date": "1980-02-02",
            },
            # the same reading of 卜 and 都, sex fits: linked
            {"record_id": "r7", "name": "阿卜杜拉", "sex": "男", "id_number": ABDULLA},
        ],
    )
    reject(store)
    result = _exact(store)
    assert dict(result.select("source_record_id", "person_id").iter_rows()) == {
        "r1": "P1",
        "r2": "P2",
        "r6": "P4",
        "r7": "P5",
    }
    written = result.filter(pl.col("source_record_id") == "r1")["explanation"].item()
    assert written == "id_number: exact; name: written differently (alike); sex and birth date fit"
