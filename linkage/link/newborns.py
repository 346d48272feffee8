"""Children on birth certificates, immunisation records and school rolls, linked through
their parents' (or guardians') links.

The same rule serves every child role of ``linkage.catalog`` (``household_roles``): on an
immunisation record or a school roll a child with an ID is scored by the person model first,
and only those it does not link come here; a base person the model already gave to a child
of the same source is not offered again (twins).

A birth certificate's child has no ID number and often no name yet, so Splink's person model
cannot link it. Instead the candidates are base persons in the household of the linked mother
(or father) born within a few days of the certificate's date; each candidate is scored with
additive log2 weights from config (household, birth date, sex, name when present: exact,
same pinyin, one character different, or different). Twins: the
assignment is one-to-one per mother, strongest pairs first, so two children of one mother on
one day never link to the same base person; and a child not yet named whose best candidate
beats another by less than ``min_weight_margin`` (twins of one sex: nothing tells them apart)
is left for review rather than linked to a twin at random.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from linkage.link.decide import DECISION_COLUMNS, REJECTED
from linkage.persons import PERSON_TABLE
from linkage.sql import one_char_different
from linkage.store import Store

DEFAULT_WEIGHTS = {
    "same_household": 6.0,
    "birth_date_exact": 6.0,
    "birth_date_near": 1.0,
    "sex_agree": 1.5,
    "sex_disagree": -8.0,
    "name_exact": 8.0,
    "name_pinyin": 6.0,
    "name_one_char": 3.0,  # one character mistyped (形近字): weaker than pinyin, above differs
    "name_differs": -2.0,
    "surname_of_parent": 1.0,
    # the only child of the parents' household born within the window: a certificate issued
    # before the naming, or a name changed at 落户, still points at this child (off unless
    # config weighs it: configs/sources/birth_certificate.toml)
    "sole_candidate": 0.0,
    "prior": -6.0,
}


def link_newborns(
    store: Store,
    parent_links: str,
    cfg: dict[str, Any],
    source: str = "birth_certificate",
    child_role: str = "child",
    parent_roles: tuple[str, ...] = ("mother", "father"),
) -> pl.DataFrame:
    """Decisions for the children (``child_role`` of ``source``) that ``parent_links`` does
    not already link, through the households of the linked ``parent_roles`` (the first of them
    is the mother, if any)."""
    role_list = ", ".join(f"'{r}'" for r in parent_roles)
    mother_role = parent_roles[0]
    w = {**DEFAULT_WEIGHTS, **cfg.get("weights", {})}
    window = int(cfg.get("birth_date_window_days", 3))
    threshold = float(cfg.get("match_weight", 6.0))
    clerical = float(cfg.get("clerical_weight", 2.0))
    margin = float(cfg.get("min_weight_margin", 2.0))
    scored = store.frame(f"""
        WITH base AS (
            SELECT record_id AS person_id, household_id, birth_date, sex, name_key, name_py,
                   surname, id_birth_date
            FROM {PERSON_TABLE} WHERE source = 'population'
        ),
        parents AS (
            SELECT l.source_record_id, l.role, l.person_id, b.household_id, b.surname
            FROM {parent_links} l JOIN base b ON b.person_id = l.person_id
            WHERE l.source = '{source}' AND l.role IN ({role_list})
              AND l.decision = 'link'
        ),
        taken AS (  -- base persons the model already linked a child of this source to
            SELECT DISTINCT person_id FROM {parent_links}
            WHERE source = '{source}' AND role = '{child_role}' AND decision = 'link'
        ),
        child AS (
            SELECT record_id, birth_date, sex, name_key, name_py, surname
            FROM {PERSON_TABLE} p WHERE source = '{source}' AND role = '{child_role}'
              AND NOT EXISTS (SELECT 1 FROM {parent_links} d WHERE d.source = '{source}'
                              AND d.role = '{child_role}' AND d.source_record_id = p.record_id
                              AND d.decision = 'link')
        ),
        cand AS (
            SELECT DISTINCT c.record_id, b.person_id, p.role AS via, c.name_key AS c_key,
                   c.name_py AS c_py, c.sex AS c_sex, c.birth_date AS c_birth,
                   b.name_key, b.name_py, b.sex, b.surname,
                   -- the base's date, or the one inside its ID when that is the record's (a
                   -- base date typed wrong while the ID is right)
                   CASE WHEN b.id_birth_date = c.birth_date THEN b.id_birth_date
                        ELSE b.birth_date END AS birth_date,
                   (SELECT list(surname) FROM parents q WHERE q.source_record_id = c.record_id)
                       AS parent_surnames,
                   (SELECT min(person_id) FROM parents q WHERE q.source_record_id = c.record_id
                      AND q.role = '{mother_role}') AS mother
            FROM child c
            JOIN parents p ON p.source_record_id = c.record_id
            JOIN base b ON b.household_id = p.household_id
            WHERE b.person_id <> p.person_id
              AND b.person_id NOT IN (SELECT person_id FROM taken)
              AND least(abs(date_diff('day', b.birth_date, c.birth_date)),
                        abs(date_diff('day', b.id_birth_date, c.birth_date))) <= {window}
              AND NOT EXISTS (SELECT 1 FROM {REJECTED} x WHERE x.source = '{source}'
                              AND x.role = '{child_role}' AND x.source_record_id = c.record_id
                              AND x.person_id = b.person_id)
        )
        SELECT record_id, person_id, coalesce(mother, record_id) AS mother,
               ({w["prior"]}
               + {w["same_household"]}
               + CASE WHEN birth_date = c_birth THEN {w["birth_date_exact"]}
                      ELSE {w["birth_date_near"]} END
               + CASE WHEN sex IS NULL OR c_sex IS NULL THEN 0
                      WHEN sex = c_sex THEN {w["sex_agree"]} ELSE {w["sex_disagree"]} END
               + CASE WHEN c_key IS NULL OR name_key IS NULL THEN 0
                      WHEN c_key = name_key THEN {w["name_exact"]}
                      WHEN c_py = name_py THEN {w["name_pinyin"]}
                      WHEN {one_char_different("c_key", "name_key", min_length=3)}
                          THEN {w["name_one_char"]}
                      ELSE {w["name_differs"]} END
               + CASE WHEN list_contains(parent_surnames, surname) THEN {w["surname_of_parent"]}
                      ELSE 0 END
               + CASE WHEN count(DISTINCT person_id) OVER (PARTITION BY record_id) = 1
                      THEN {w["sole_candidate"]} ELSE 0 END)::DOUBLE AS match_weight,
               concat_ws('; ', 'household: same as ' || via,
                   'birth_date: ' || CASE WHEN birth_date = c_birth THEN 'exact'
                                          ELSE 'within ' || {window} || ' days' END,
                   'sex: ' || CASE WHEN sex IS NULL OR c_sex IS NULL THEN 'null'
                                   WHEN sex = c_sex THEN 'exact' ELSE 'different' END,
                   'name: ' || CASE WHEN c_key IS NULL THEN 'not yet named'
                                    WHEN name_key IS NULL THEN 'null'
                                    WHEN c_key = name_key THEN 'exact'
                                    WHEN c_py = name_py THEN 'pinyin exact'
                                    WHEN {one_char_different("c_key", "name_key", min_length=3)}
                                        THEN 'one character different'
                                    ELSE 'different (renamed?)' END,
                   CASE WHEN {w["sole_candidate"]} <> 0
                             AND count(DISTINCT person_id) OVER (PARTITION BY record_id) = 1
                        THEN 'the only child of the household born then' END) AS explanation
        FROM cand
    """)
    children = store.frame(
        f"SELECT record_id, name_key IS NULL AS unnamed FROM {PERSON_TABLE} p "
        f"WHERE source = ? AND role = ? "
        f"AND NOT EXISTS (SELECT 1 FROM {parent_links} d WHERE d.source = p.source "
        f"AND d.role = p.role AND d.source_record_id = p.record_id AND d.decision = 'link')",
        [source, child_role],
    )
    chosen = _assign(scored, clerical, margin)
    out = children.join(chosen, on="record_id", how="left").with_columns(
        pl.lit(source).alias("source"),
        pl.lit(child_role).alias("role"),
        pl.col("record_id").alias("source_record_id"),
        (2 ** pl.col("match_weight") / (1 + 2 ** pl.col("match_weight"))).alias(
            "match_probability"
        ),
        pl.when(
            (pl.col("match_weight") >= threshold)
            & ~(pl.col("unnamed") & pl.col("tied").fill_null(False))
        )
        .then(pl.lit("link"))
        .when(pl.col("match_weight") >= clerical)
        .then(pl.lit("clerical"))
        .otherwise(pl.lit("none"))
        .alias("decision"),
        pl.lit("newborn").alias("decided_by"),
    )
    return out.select(DECISION_COLUMNS)


def _assign(scored: pl.DataFrame, floor: float, margin: float = 2.0) -> pl.DataFrame:
    """Greedy one-to-one assignment, strongest first: a person and a certificate used once.

    ``tied``: another person (a rival) scores within ``margin`` of the one chosen, and is
    either left to nobody or was taken by a certificate that had a rival of its own: the two
    could have been swapped, so the choice was a toss (unnamed twins of one sex). A rival
    taken by a certificate with no other choice (by name, sex, a field rejection) is none.

    Small (one row per plausible child candidate), so a plain loop over sorted rows is fine.
    """
    scored = scored.filter(pl.col("match_weight") >= floor).sort(
        ["match_weight", "record_id", "person_id", "explanation"],
        descending=[True, False, False, False],
    )  # total order: full and incremental agree
    taken_people: set[str] = set()
    done: dict[str, str] = {}  # certificate → the person it took
    rows: list[dict[str, Any]] = []
    second: dict[str, float] = {}
    for row in scored.iter_rows(named=True):
        rec, person = row["record_id"], row["person_id"]
        if rec in done:
            # the same person reached again (via the mother, via the father) is no rival
            if person != done[rec]:
                second.setdefault(rec, row["match_weight"])
            continue
        if person in taken_people:
            continue
        done[rec] = person
        taken_people.add(person)
        rows.append(row)
    chosen_at = {r["record_id"]: r["match_weight"] for r in rows}
    owner = {person: rec for rec, person in done.items()}
    rivals: dict[str, set[str]] = {rec: set() for rec in done}
    for row in scored.iter_rows(named=True):
        rec, person = row["record_id"], row["person_id"]
        if rec in done and person != done[rec] and row["match_weight"] > chosen_at[rec] - margin:
            rivals[rec].add(person)
    tied = {
        rec
        for rec, others in rivals.items()
        if any(p not in owner or rivals[owner[p]] for p in others)
    }
    schema = {
        "record_id": pl.String,
        "person_id": pl.String,
        "match_weight": pl.Float64,
        "second_weight": pl.Float64,
        "explanation": pl.String,
        "tied": pl.Boolean,
    }
    if not rows:
        return pl.DataFrame(schema=schema)
    chosen = pl.DataFrame(rows).select("record_id", "person_id", "match_weight", "explanation")
    return chosen.with_columns(
        pl.col("record_id")
        .replace_strict(second, default=None, return_dtype=pl.Float64)
        .alias("second_weight"),
        pl.col("record_id").is_in(list(tied)).alias("tied"),
    ).select(list(schema))
