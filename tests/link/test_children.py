"""The household rule on the children of immunisation records and school rolls: pupils
without an ID linked through their guardian's household, twins at one school told apart by
name, a base person the person model already gave to another pupil not offered again, and a
name with one character mistyped still linked."""

from __future__ import annotations

import datetime as dt

import polars as pl

from linkage.link.newborns import link_newborns
from linkage.persons import PERSON_TABLE
from linkage.store import Store
from tests.link.tables import S, put, reject

PARENTS = "tmp_test_decisions"
CFG: dict[str, object] = {"birth_date_window_days": 3, "match_weight": 6.0, "clerical_weight": 2.0}
DAY = dt.date(2019, 6, 6)
COLUMNS = ("source", "record_id", "role", "household_id", "birth_date", "sex", "name_key",
           "name_py", "surname")  # fmt: skip


def _people(store: Store, rows: list[tuple[object, ...]]) -> None:
    schema = {c: (pl.Date if c == "birth_date" else S) for c in COLUMNS}
    put(store, PERSON_TABLE, schema, rows)
    store.con.execute(f"ALTER TABLE {PERSON_TABLE} ADD COLUMN id_birth_date DATE")


def _decisions(store: Store, rows: list[tuple[str, str, str, str]]) -> None:
    """(record, role, person, decision) of school records."""
    cols = ("source", "source_record_id", "role", "person_id", "decision")
    put(store, PARENTS, {c: S for c in cols}, [("school", *r) for r in rows])


def _linked(store: Store) -> dict[str, str | None]:
    out = link_newborns(store, PARENTS, CFG, "school", "person", ("guardian",))
    return {
        r["source_record_id"]: (r["person_id"] if r["decision"] == "link" else None)
        for r in out.iter_rows(named=True)
    }


def test_twins_at_one_school_are_told_apart_by_name(store: Store) -> None:
    _people(
        store,
        [
            (
                "population",
                "M1",
                "person",
                "H1",
                dt.date(1991, 5, 5),
                "女",
                "周敏",
                "zhou min",
                "周",
            ),
            ("population", "T1", "person", "H1", DAY, "男", "周子涵", "zhou zi han", "周"),
            ("population", "T2", "person", "H1", DAY, "男", "周子轩", "zhou zi xuan", "周"),
            ("school", "S2", "person", None, DAY, "男", "周子轩", "zhou zi xuan", "周"),
            ("school", "S1", "person", None, DAY, "男", "周子涵", "zhou zi han", "周"),
        ],
    )
    _decisions(store, [("S1", "guardian", "M1", "link"), ("S2", "guardian", "M1", "link")])
    reject(store)
    assert _linked(store) == {"S1": "T1", "S2": "T2"}


def test_a_pupil_the_model_linked_keeps_its_person_from_the_twin(store: Store) -> None:
    """S1 was linked by its ID to T1; S2 (no ID, no name yet on the roll) may only take T2,
    and S1 gets no second decision here."""
    _people(
        store,
        [
            (
                "population",
                "M1",
                "person",
                "H1",
                dt.date(1991, 5, 5),
                "女",
                "周敏",
                "zhou min",
                "周",
            ),
            ("population", "T1", "person", "H1", DAY, "男", "周子涵", "zhou zi han", "周"),
            ("population", "T2", "person", "H1", DAY, "男", "周子轩", "zhou zi xuan", "周"),
            ("school", "S1", "person", None, DAY, "男", "周子涵", "zhou zi han", "周"),
            ("school", "S2", "person", None, DAY, "男", None, None, None),
        ],
    )
    _decisions(
        store,
        [
            ("S1", "person", "T1", "link"),
            ("S1", "guardian", "M1", "link"),
            ("S2", "guardian", "M1", "link"),
        ],
    )
    reject(store)
    assert _linked(store) == {"S2": "T2"}


def test_a_name_with_one_character_mistyped_still_links(store: Store) -> None:
    """周子涵 typed 周子函 (形近字): +3 instead of -2, so the household links it (10.5; 5.5
    would only go to review); a two-character name one character apart is a rename, not a
    typo: -2, review. The guardians are mothers of other surnames (no surname bonus)."""
    _people(
        store,
        [
            (
                "population",
                "F1",
                "person",
                "H1",
                dt.date(1988, 4, 4),
                "女",
                "王丽",
                "wang li",
                "王",
            ),
            ("population", "K1", "person", "H1", DAY, "男", "周子涵", "zhou zi han", "周"),
            ("school", "S1", "person", None, DAY, "男", "周子函", "zhou zi han2", "周"),
            (
                "population",
                "F2",
                "person",
                "H2",
                dt.date(1988, 4, 4),
                "女",
                "张丽",
                "zhang li",
                "张",
            ),
            ("population", "K2", "person", "H2", DAY, "男", "李明", "li ming", "李"),
            ("school", "S2", "person", None, DAY, "男", "李亮", "li liang", "李"),
        ],
    )
    _decisions(store, [("S1", "guardian", "F1", "link"), ("S2", "guardian", "F2", "link")])
    reject(store)
    assert _linked(store) == {"S1": "K1", "S2": None}


def test_a_guardian_known_by_a_damaged_id_is_found_in_the_mothers_household(
    store: Store,
) -> None:
    """Immunisation records: the mother linked by name, the guardian (the father) known by
    his ID alone. G1's ID is one digit off his base ID; the base row of G2's father has no ID,
    but his birth date and sex are those the ID encodes; G3's ID fits nobody there."""
    from linkage.link.family import family_links

    day = dt.date(1988, 4, 4)
    schema = {
        c: (pl.Date if c in ("birth_date", "id_birth_date") else S)
        for c in (
            "source",
            "record_id",
            "role",
            "household_id",
            "sex",
            "name_key",
            "name_py",
            "id_number",
            "birth_date",
            "id_birth_date",
            "id_sex",
        )  # fmt: skip
    }
    base = [
        (
            "population",
            f"M{i}",
            "person",
            f"H{i}",
            "女",
            "王丽",
            "wang li",
            f"43312719900101002{i}",
            dt.date(1990, 1, 1),
            None,
            None,
        )  # fmt: skip
        for i in (1, 2, 3)
    ] + [
        (
            "population",
            "F1",
            "person",
            "H1",
            "男",
            "周强",
            "zhou qiang",
            "433127198804040311",
            day,
            None,
            None,
        ),  # fmt: skip
        ("population", "F2", "person", "H2", "男", "李强", "li qiang", None, day, None, None),
        (
            "population",
            "F3",
            "person",
            "H3",
            "男",
            "张强",
            "zhang qiang",
            "433127198804040511",
            day,
            None,
            None,
        ),  # fmt: skip
    ]
    records = [
        (
            "vaccination",
            "V1",
            "guardian",
            None,
            None,
            None,
            None,
            "433127198804040312",
            None,
            day,
            "男",
        ),  # fmt: skip
        (
            "vaccination",
            "V2",
            "guardian",
            None,
            None,
            None,
            None,
            "433127198804040331",
            None,
            day,
            "男",
        ),  # fmt: skip
        (
            "vaccination",
            "V3",
            "guardian",
            None,
            None,
            None,
            None,
            "433127197001010331",
            None,
            dt.date(1970, 1, 1),
            "男",
        ),  # fmt: skip
    ]
    put(store, PERSON_TABLE, schema, base + records)
    cols = {"source": S, "source_record_id": S, "role": S, "person_id": S,
            "match_weight": pl.Float64, "decision": S}  # fmt: skip
    decided = [("vaccination", f"V{i}", "mother", f"M{i}", 20.0, "link") for i in (1, 2, 3)]
    decided += [("vaccination", f"V{i}", "guardian", None, None, "none") for i in (1, 2, 3)]
    put(store, PARENTS, cols, decided)
    reject(store)
    found = family_links(store, PARENTS, {}, "vaccination", ("mother", "guardian"))
    assert dict(found.select("source_record_id", "person_id").iter_rows()) == {
        "V1": "F1",
        "V2": "F2",
    }
