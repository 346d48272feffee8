"""``linkage.link.family.family_links`` on a hand-made household: an undecided parent of a
birth certificate is linked to the one person of the linked other parent's household whose
sex agrees and whose name key, pinyin or ID agrees. The household bonus lifts the model's
weight for that person (0 when the model had another candidate or none) and must reach the
configured weight (inclusive); two such people, a rejected pair, another sex or no linked
other parent give no family link."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage.link.family import family_links
from linkage.persons import PERSON_TABLE
from linkage.store import Store
from tests.link.tables import KEY, S, decisions, prob, put, reject

DECIDED = "tmp_test_decided"
CFG = {"household_bonus": 6.0, "match_weight": 3.0}

#: the base: household H1 (李强, 王丹 and their daughter), H2 (another 王丹), H3 (张伟 and
#: two women whose names both read wang dan)
BASE = [
    # record_id, household_id, sex, name_key, name_py, id_number
    ("F1", "H1", "男", "李强", "li qiang", "ID-F1"),
    ("M1", "H1", "女", "王丹", "wang dan", "ID-M1"),
    ("K1", "H1", "女", "李娜", "li na", None),
    ("M2", "H2", "女", "王丹", "wang dan", "ID-M2"),
    ("F3", "H3", "男", "张伟", "zhang wei", "ID-F3"),
    ("M3", "H3", "女", "王丹", "wang dan", "ID-M3"),
    ("M3b", "H3", "女", "汪丹", "wang dan", "ID-M3b"),
]


def _tables(
    store: Store,
    parents: list[tuple[str, str, str | None, str | None, str | None]],
    decided: list[tuple[str, str, str | None, float | None, str]],
) -> None:
    """Person records (the base above and the certificates' ``parents``: record, role, name
    key, pinyin, ID) and the decisions so far: (record, role, person, weight, decision)."""
    schema = {
        c: S
        for c in (
            "source",
            "record_id",
            "role",
            "household_id",
            "sex",
            "name_key",
            "name_py",
            "id_number",
        )
    } | {"birth_date": pl.Date, "id_birth_date": pl.Date, "id_sex": S}
    sex = {"mother": "女", "father": "男"}
    rows = [("population", r, "person", *rest, None, None, None) for r, *rest in BASE] + [
        ("birth_certificate", r, role, None, sex[role], key, py, id_number, None, None, None)
        for r, role, key, py, id_number in parents
    ]
    put(store, PERSON_TABLE, schema, rows)
    put(
        store,
        DECIDED,
        {
            "source": S,
            "source_record_id": S,
            "role": S,
            "person_id": S,
            "match_weight": pl.Float64,
            "decision": S,
        },
        [("birth_certificate", *row) for row in decided],
    )


def _family(store: Store, cfg: dict[str, float] = CFG) -> pl.DataFrame:
    return family_links(store, DECIDED, cfg).sort(KEY)


def _link(record: str, role: str, person: str, weight: float, why: str) -> dict[str, object]:
    return {
        "source": "birth_certificate",
        "source_record_id": record,
        "role": role,
        "person_id": person,
        "match_probability": prob(weight),
        "match_weight": weight,
        "decision": "link",
        "decided_by": "family",
        "explanation": why,
    }


def test_the_household_bonus_lifts_an_undecided_parent(store: Store) -> None:
    """c1: the mother went to review on the other 王丹 (M2); the father's household has one
    王丹, M1: bonus only. c2: the model's own candidate is M1: its weight plus the bonus.
    c3: the father had no candidate at all; the linked mother's household has a man of his
    ID (name written otherwise). c4: both parents already linked: nothing to add."""
    _tables(
        store,
        parents=[
            ("c1", "father", "李强", "li qiang", "ID-F1"),
            ("c1", "mother", "王丹", "wang dan", None),
            ("c2", "father", "李强", "li qiang", None),
            ("c2", "mother", "王丹", "wang dan", "ID-M1"),
            ("c3", "father", "李墙", "li qiang", "ID-F1"),
            ("c3", "mother", "王丹", "wang dan", "ID-M1"),
            ("c4", "father", "李强", "li qiang", "ID-F1"),
            ("c4", "mother", "王丹", "wang dan", "ID-M1"),
        ],
        decided=[
            ("c1", "father", "F1", None, "link"),
            ("c1", "mother", "M2", 4.0, "clerical"),
            ("c2", "father", "F1", 9.0, "link"),
            ("c2", "mother", "M1", 1.5, "clerical"),
            ("c3", "father", None, None, "none"),
            ("c3", "mother", "M1", None, "link"),
            ("c4", "father", "F1", None, "link"),
            ("c4", "mother", "M1", None, "link"),
        ],
    )
    reject(store)
    expected = decisions(
        [
            _link("c1", "mother", "M1", 6.0, "household: same as linked father; name: exact key"),
            _link(
                "c2",
                "mother",
                "M1",
                7.5,
                "household: same as linked father; id_number: exact; name: exact key",
            ),
            _link(
                "c3",
                "father",
                "F1",
                6.0,
                "household: same as linked mother; id_number: exact; name: pinyin exact",
            ),
        ]
    )
    assert_frame_equal(_family(store), expected)


@pytest.mark.parametrize(
    ("model_weight", "linked"),
    [(-3.0, True), (-3.25, False)],
    ids=["exactly-the-weight", "just-below"],
)
def test_the_weight_to_link_is_inclusive(store: Store, model_weight: float, linked: bool) -> None:
    """The model's weight for M1 plus the bonus of 6 against ``match_weight = 3``."""
    _tables(
        store,
        parents=[("c1", "father", "李强", "li qiang", None), ("c1", "mother", "王丹", None, None)],
        decided=[
            ("c1", "father", "F1", 12.0, "link"),
            ("c1", "mother", "M1", model_weight, "none"),
        ],
    )
    reject(store)
    weight = model_weight + 6.0
    why = "household: same as linked father; name: exact key"
    expected = decisions([_link("c1", "mother", "M1", weight, why)] if linked else [])
    assert_frame_equal(_family(store), expected)


@pytest.mark.parametrize(
    ("bonus", "linked"), [(3.0, True), (2.75, False)], ids=["bonus-at-weight", "bonus-below"]
)
def test_the_bonus_comes_from_config(store: Store, bonus: float, linked: bool) -> None:
    _tables(
        store,
        parents=[("c1", "father", "李强", None, None), ("c1", "mother", None, None, "ID-M1")],
        decided=[("c1", "father", "F1", 12.0, "link"), ("c1", "mother", None, None, "none")],
    )
    reject(store)
    result = _family(store, {"household_bonus": bonus, "match_weight": 3.0})
    why = "household: same as linked father; id_number: exact"
    expected = decisions([_link("c1", "mother", "M1", bonus, why)] if linked else [])
    assert_frame_equal(result, expected)


def test_no_family_link_without_one_clear_person(store: Store) -> None:
    """c1: H3 holds two women read wang dan (王丹, 汪丹): ambiguous. c2: M1 was rejected in
    the field. c3: the father is not linked (review). c5: the only name match in H1 is the
    father himself, a man. c6: a rejection of another certificate does not apply (linked)."""
    _tables(
        store,
        parents=[
            ("c1", "father", "张伟", None, None),
            ("c1", "mother", "王丹", "wang dan", None),
            ("c2", "father", "李强", None, None),
            ("c2", "mother", "王丹", None, None),
            ("c3", "father", "李强", None, None),
            ("c3", "mother", "王丹", None, None),
            ("c5", "father", "李强", None, None),
            ("c5", "mother", "李强", None, None),
            ("c6", "father", "李强", None, None),
            ("c6", "mother", "王丹", None, None),
        ],
        decided=[
            ("c1", "father", "F3", 12.0, "link"),
            ("c1", "mother", "M3", 2.0, "clerical"),
            ("c2", "father", "F1", 12.0, "link"),
            ("c2", "mother", None, None, "none"),
            ("c3", "father", "F1", 2.0, "clerical"),
            ("c3", "mother", "M1", 2.0, "clerical"),
            ("c5", "father", "F1", 12.0, "link"),
            ("c5", "mother", None, None, "none"),
            ("c6", "father", "F1", 12.0, "link"),
            ("c6", "mother", None, None, "none"),
        ],
    )
    reject(store, ("birth_certificate", "c2", "mother", "M1"))
    why = "household: same as linked father; name: exact key"
    assert_frame_equal(_family(store), decisions([_link("c6", "mother", "M1", 6.0, why)]))
