"""``linkage.link.newborns.link_newborns`` on hand-made households: a certificate child is
linked to a base person of its linked parent's household born within the window (inclusive;
a day more is no candidate), scored with additive log2 weights (exact or near birth date, sex,
name key or pinyin, a parent's surname), linked from ``match_weight`` and sent to review from
``clerical_weight`` (both inclusive); twins are assigned one to one (strongest first, then
record and person id, whatever the row order); rejected pairs and unlinked parents give no
candidate; every certificate child gets a row."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from linkage.link.newborns import link_newborns
from linkage.persons import PERSON_TABLE
from linkage.store import Store
from tests.link.tables import KEY, S, decisions, prob, put, reject

PARENTS = "tmp_test_parent_links"
CFG: dict[str, object] = {"birth_date_window_days": 3, "match_weight": 6.0, "clerical_weight": 2.0}
DAY = dt.date(2024, 3, 10)

#: a person record: (source, record_id, role, household_id, birth_date, sex, name_key,
#: name_py, surname)
Person = tuple[object, ...]


def base(
    person: str,
    household: str,
    born: dt.date | None,
    sex: str | None,
    name: str = "",
    py: str = "",
    surname: str = "",
) -> Person:
    """A base person (empty strings are null)."""
    return ("population", person, "person", household, born, sex) + tuple(
        v or None for v in (name, py, surname)
    )


def child(record: str, born: dt.date, sex: str | None, name: str = "", py: str = "") -> Person:
    """A certificate child (no household, surname unread)."""
    return ("birth_certificate", record, "child", None, born, sex, name or None, py or None, None)


def _tables(store: Store, people: list[Person], links: list[tuple[str, str, str, str]]) -> None:
    """Person records and the parents' decisions: (record, role, person, decision)."""
    schema = {
        "source": S,
        "record_id": S,
        "role": S,
        "household_id": S,
        "birth_date": pl.Date,
        "sex": S,
        "name_key": S,
        "name_py": S,
        "surname": S,
    }
    put(store, PERSON_TABLE, schema, people)
    # the date inside a base person's ID: null here unless a test sets it
    store.con.execute(f"ALTER TABLE {PERSON_TABLE} ADD COLUMN id_birth_date DATE")
    put(
        store,
        PARENTS,
        {c: S for c in ("source", "source_record_id", "role", "person_id", "decision")},
        [("birth_certificate", *row) for row in links],
    )


def _newborns(store: Store, cfg: dict[str, object] = CFG) -> pl.DataFrame:
    return link_newborns(store, PARENTS, cfg).sort(KEY)


def _child(
    record: str,
    person: str | None = None,
    weight: float | None = None,
    decision: str = "none",
    why: str | None = None,
    second: float | None = None,
) -> dict[str, object]:
    return {
        "source": "birth_certificate",
        "source_record_id": record,
        "role": "child",
        "person_id": person,
        "match_probability": None if weight is None else prob(weight),
        "match_weight": weight,
        "second_weight": second,
        "decision": decision,
        "decided_by": "newborn",
        "explanation": why,
    }


def _why(via: str = "mother", date: str = "exact", sex: str = "exact", name: str = "") -> str:
    return (
        f"household: same as {via}; birth_date: {date}; sex: {sex}; name: {name or 'not yet named'}"
    )


# ----------------------------------------------------------------------- scoring


@pytest.mark.parametrize(
    ("sex", "name", "py", "weight", "decision", "why"),
    [
        ("男", "", "", 7.5, "link", _why()),
        ("男", "李明", "li ming", 15.5, "link", _why(name="exact")),
        ("男", "黎明", "li ming", 13.5, "link", _why(name="pinyin exact")),
        ("男", "李亮", "li liang", 5.5, "clerical", _why(name="different (renamed?)")),
        (None, "", "", 6.0, "link", _why(sex="null")),  # exactly match_weight
        ("女", "", "", None, "none", None),  # -2.0: below clerical_weight, no candidate
    ],
    ids=["unnamed", "same-name", "same-pinyin", "renamed", "sex-unknown", "other-sex"],
)
def test_a_child_is_scored_through_its_mothers_household(
    store: Store,
    sex: str | None,
    name: str,
    py: str,
    weight: float | None,
    decision: str,
    why: str | None,
) -> None:
    """prior -6, household +6, same birth date +6, sex +1.5 / -8, name +8 / pinyin +6 /
    differs -2 (0 while unnamed); the mother's surname 王 is not the child's."""
    _tables(
        store,
        [
            base("M1", "H1", dt.date(1995, 1, 1), "女", "王丽", "wang li", "王"),
            base("K1", "H1", DAY, "男", "李明", "li ming", "李"),
            child("c1", DAY, sex, name, py),
        ],
        [("c1", "mother", "M1", "link")],
    )
    reject(store)
    expected = _child("c1", "K1" if weight is not None else None, weight, decision, why)
    assert_frame_equal(_newborns(store), decisions([expected]))


def test_a_base_birth_date_typed_wrong_is_read_from_the_id(store: Store) -> None:
    """K1's base row says a year later than the certificate, but the date inside its ID is
    the certificate's: the child is scored as born that day (7.5, a link)."""
    _tables(
        store,
        [
            base("M1", "H1", dt.date(1995, 1, 1), "女", "王丽", "wang li", "王"),
            base("K1", "H1", DAY.replace(year=DAY.year + 1), "男", "李明", "li ming", "李"),
            child("c1", DAY, "男"),
        ],
        [("c1", "mother", "M1", "link")],
    )
    store.con.execute(f"UPDATE {PERSON_TABLE} SET id_birth_date = ? WHERE record_id = 'K1'", [DAY])
    reject(store)
    assert_frame_equal(_newborns(store), decisions([_child("c1", "K1", 7.5, "link", _why())]))


def test_a_renamed_child_alone_in_the_household_is_linked_when_config_weighs_it(
    store: Store,
) -> None:
    """李亮 on the certificate, 李明 in the base (renamed at 落户): 5.5, for review. The only
    child of the household born that day earns ``sole_candidate`` (+1.0 in the shipped
    config): 6.5, a link; with a twin born the same day it would earn nothing."""
    _tables(
        store,
        [
            base("M1", "H1", dt.date(1995, 1, 1), "女", "王丽", "wang li", "王"),
            base("K1", "H1", DAY, "男", "李明", "li ming", "李"),
            child("c1", DAY, "男", "李亮", "li liang"),
        ],
        [("c1", "mother", "M1", "link")],
    )
    reject(store)
    cfg = {**CFG, "weights": {"sole_candidate": 1.0}}
    why = _why(name="different (renamed?)") + "; the only child of the household born then"
    assert_frame_equal(_newborns(store, cfg), decisions([_child("c1", "K1", 6.5, "link", why)]))
    _tables(
        store,
        [
            base("M1", "H1", dt.date(1995, 1, 1), "女", "王丽", "wang li", "王"),
            base("K1", "H1", DAY, "男", "李明", "li ming", "李"),
            base("K2", "H1", DAY, "男", "李强", "li qiang", "李"),
            child("c1", DAY, "男", "李亮", "li liang"),
        ],
        [("c1", "mother", "M1", "link")],
    )
    reject(store)
    assert _newborns(store, cfg)["decision"].to_list() == ["clerical"]


@pytest.mark.parametrize(
    ("cfg", "weight", "decision"),
    [
        ({"match_weight": 7.5}, 7.5, "link"),
        ({"match_weight": 7.75}, 7.5, "clerical"),
        ({"clerical_weight": 7.5, "match_weight": 9.0}, 7.5, "clerical"),
        ({"clerical_weight": 7.75, "match_weight": 9.0}, None, "none"),
        ({"weights": {"prior": -7.0, "sex_agree": 2.0}}, 7.0, "link"),
    ],
    ids=["at-link", "below-link", "at-clerical", "below-clerical", "own-weights"],
)
def test_thresholds_and_weights_come_from_config(
    store: Store, cfg: dict[str, object], weight: float | None, decision: str
) -> None:
    _tables(
        store,
        [base("M1", "H1", None, "女"), base("K1", "H1", DAY, "男"), child("c1", DAY, "男")],
        [("c1", "mother", "M1", "link")],
    )
    reject(store)
    person, why = ("K1", _why()) if weight is not None else (None, None)
    expected = decisions([_child("c1", person, weight, decision, why)])
    assert_frame_equal(_newborns(store, cfg), expected)


@pytest.mark.parametrize("window", [3, 4])
def test_birth_date_window_and_clerical_weight(store: Store, window: int) -> None:
    """One household per certificate. A birth date 1-3 days off scores +1 instead of +6:
    c1 (3 days later, sex agrees) 2.5 and c2 (3 days earlier, sex unknown, the mother's
    surname) 2.0 exactly go to review; c3 (3 days, sex unknown) 1.0 is below it; c4 (4 days)
    is a candidate only with a window of 4; c5 (same day) links."""
    near = DAY + dt.timedelta(days=3)
    people = [
        base("M1", "H1", None, "女", surname="王"),
        base("K1", "H1", near, "男", surname="李"),
        child("c1", DAY, "男"),
        base("M2", "H2", None, "女", surname="陈"),
        base("K2", "H2", DAY - dt.timedelta(days=3), "女", surname="陈"),
        child("c2", DAY, None),
        base("M3", "H3", None, "女", surname="王"),
        base("K3", "H3", near, "女", surname="李"),
        child("c3", DAY, None),
        base("M4", "H4", None, "女", surname="王"),
        base("K4", "H4", DAY + dt.timedelta(days=4), "男", surname="李"),
        child("c4", DAY, "男"),
        base("M5", "H5", None, "女", surname="王"),
        base("K5", "H5", DAY, "男", surname="李"),
        child("c5", DAY, "男"),
    ]
    links = [(f"c{i}", "mother", f"M{i}", "link") for i in range(1, 6)]
    _tables(store, people, links)
    reject(store)
    within = f"within {window} days"
    expected = [
        _child("c1", "K1", 2.5, "clerical", _why(date=within)),
        _child("c2", "K2", 2.0, "clerical", _why(date=within, sex="null")),
        _child("c3"),
        _child("c4", "K4", 2.5, "clerical", _why(date=within)) if window == 4 else _child("c4"),
        _child("c5", "K5", 7.5, "link", _why()),
    ]
    cfg = {**CFG, "birth_date_window_days": window}
    assert_frame_equal(_newborns(store, cfg), decisions(expected))


# ------------------------------------------------------------------ twins, one to one


@pytest.mark.parametrize("reverse", [False, True], ids=["as-listed", "reversed"])
def test_unnamed_twins_of_one_sex_go_to_review(store: Store, reverse: bool) -> None:
    """Two unnamed boys, one mother, one day; the base holds T1 and T2, both boys. Every pair
    scores 7.5: nothing tells which boy is which, so neither is linked (a coin flip would be
    wrong half the time: a township checks). They are still kept apart: c1 (smaller record
    id) is proposed with T1 (smaller person id), c2 with the one left. c1's second_weight is
    T2's score; c2 has no other candidate left."""
    people = [
        base("M1", "H1", None, "女"),
        base("T1", "H1", DAY, "男", "李一", "li yi", "李"),
        base("T2", "H1", DAY, "男", "李二", "li er", "李"),
        child("c1", DAY, "男"),
        child("c2", DAY, "男"),
    ]
    links = [("c1", "mother", "M1", "link"), ("c2", "mother", "M1", "link")]
    _tables(store, people[::-1] if reverse else people, links[::-1] if reverse else links)
    reject(store)
    expected = [
        _child("c1", "T1", 7.5, "clerical", _why(), second=7.5),
        _child("c2", "T2", 7.5, "clerical", _why()),
    ]
    assert_frame_equal(_newborns(store), decisions(expected))


def test_twins_of_two_sexes_and_a_name(store: Store) -> None:
    """A girl and a boy: sex decides, whatever the ids; a name already on the certificate
    outweighs sex."""
    people = [
        base("M1", "H1", None, "女"),
        base("T1", "H1", DAY, "女", "李一", "li yi", "李"),
        base("T2", "H1", DAY, "男", "李二", "li er", "李"),
        child("c1", DAY, "男"),
        child("c2", DAY, "女"),
        base("M2", "H2", None, "女"),
        base("T3", "H2", DAY, "女", "张一", "zhang yi", "张"),
        base("T4", "H2", DAY, "女", "张二", "zhang er", "张"),
        child("c3", DAY, "女", "张二", "zhang er"),
        child("c4", DAY, "女"),
    ]
    links = [(c, "mother", m, "link") for c, m in [("c1", "M1"), ("c2", "M1")]] + [
        (c, "mother", "M2", "link") for c in ("c3", "c4")
    ]
    _tables(store, people, links)
    reject(store)
    expected = [
        _child("c1", "T2", 7.5, "link", _why()),
        _child("c2", "T1", 7.5, "link", _why()),
        _child("c3", "T4", 15.5, "link", _why(name="exact"), second=5.5),  # T3 renamed?
        # T4 scores as much for c4 (its second_weight) but was taken by the stronger c3
        _child("c4", "T3", 7.5, "link", _why(), second=7.5),
    ]
    assert_frame_equal(_newborns(store), decisions(expected))


def test_a_rejected_pair_leaves_the_twin(store: Store) -> None:
    """c1-T1 was rejected in the field: c1 takes T2 and c2 the T1 left."""
    people = [
        base("M1", "H1", None, "女"),
        base("T1", "H1", DAY, "男"),
        base("T2", "H1", DAY, "男"),
        child("c1", DAY, "男"),
        child("c2", DAY, "男"),
    ]
    _tables(store, people, [("c1", "mother", "M1", "link"), ("c2", "mother", "M1", "link")])
    reject(store, ("birth_certificate", "c1", "child", "T1"))
    expected = [
        _child("c1", "T2", 7.5, "link", _why()),
        _child("c2", "T1", 7.5, "link", _why(), second=7.5),
    ]
    assert_frame_equal(_newborns(store), decisions(expected))


# ---------------------------------------------------------------------- the parents


def test_only_a_linked_parent_leads_to_the_household(store: Store) -> None:
    """c1: the father alone is linked (his surname +1). c2: the mother is only in review.
    c3: no parent decision at all. c4: a 'link' of another source is not a parent's."""
    people = [
        base("F1", "H1", None, "男", surname="李"),
        base("K1", "H1", DAY, "男", surname="李"),
        child("c1", DAY, "男"),
        base("M2", "H2", None, "女"),
        base("K2", "H2", DAY, "男"),
        child("c2", DAY, "男"),
        base("M3", "H3", None, "女"),
        base("K3", "H3", DAY, "男"),
        child("c3", DAY, "男"),
        base("M4", "H4", None, "女"),
        base("K4", "H4", DAY, "男"),
        child("c4", DAY, "男"),
    ]
    _tables(store, people, [("c1", "father", "F1", "link"), ("c2", "mother", "M2", "clerical")])
    store.con.execute(f"INSERT INTO {PARENTS} VALUES ('hukou', 'c4', 'mother', 'M4', 'link')")
    reject(store)
    expected = [
        _child("c1", "K1", 8.5, "link", _why(via="father")),
        _child("c2"),
        _child("c3"),
        _child("c4"),
    ]
    assert_frame_equal(_newborns(store), decisions(expected))


def test_a_child_reached_through_both_parents_has_no_rival(store: Store) -> None:
    people = [
        base("M1", "H1", None, "女", surname="王"),
        base("F1", "H1", None, "男", surname="李"),
        base("K1", "H1", DAY, "男", surname="李"),
        child("c1", DAY, "男"),
    ]
    _tables(store, people, [("c1", "mother", "M1", "link"), ("c1", "father", "F1", "link")])
    reject(store)
    result = _newborns(store).select("person_id", "match_weight", "second_weight", "decision")
    expected = pl.DataFrame(
        [("K1", 8.5, None, "link")],
        schema={
            "person_id": S,
            "match_weight": pl.Float64,
            "second_weight": pl.Float64,
            "decision": S,
        },
        orient="row",
    )
    assert_frame_equal(result, expected)


def test_a_name_not_compared_is_not_called_different(store: Store) -> None:
    people = [
        base("M1", "H1", None, "女"),
        base("K1", "H1", DAY, "男"),
        child("c1", DAY, "男", "李明"),
    ]
    _tables(store, people, [("c1", "mother", "M1", "link")])
    reject(store)
    row = _newborns(store).row(0, named=True)
    assert (row["person_id"], row["match_weight"]) == ("K1", 7.5)  # the name counted 0
    assert "name: different" not in row["explanation"]
