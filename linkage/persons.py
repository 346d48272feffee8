"""Source rows → person-level records by role, standardised for comparison.

A marriage record yields a husband and a wife; a birth certificate a child, a mother and a
father; every other source one ``person``. Each role record carries the same standardised
columns (``linkage.standardise.person_frame``) so that one set of comparisons serves all.
"""

from __future__ import annotations

import logging

import polars as pl

from linkage.catalog import SOURCES
from linkage.standardise import PERSON_COLUMNS, dates, ids, person_frame
from linkage.store import Store
from linkage.tables import PERSON_TABLE, source_table

log = logging.getLogger(__name__)

#: a mother's age at the birth when the source's settings do not say
MOTHER_MIN_AGE, MOTHER_MAX_AGE = 15, 50


def mother_id(column: str, ages: tuple[int, int] = (MOTHER_MIN_AGE, MOTHER_MAX_AGE)) -> pl.Expr:
    """A guardian's ID as the mother's: kept where its sex digit says 女 and its birth date
    makes her ``ages`` (inclusive) at the record's ``birth_date``; else null (a father's ID
    is evidence for the father, not the mother)."""
    sex = ids.id_sex_expr(pl.col(column))
    born = ids.id_birth_date_expr(pl.col(column))
    child = dates.parse_date_expr(pl.col("birth_date"))
    age = (child.dt.year() - born.dt.year()).cast(pl.Int32)
    plausible = (sex == "女") & age.is_between(ages[0], ages[1])
    return pl.when(plausible.fill_null(False)).then(pl.col(column))


def role_frame(
    source: str, rows: pl.DataFrame, mother_ages: tuple[int, int] | None = None
) -> pl.DataFrame:
    """One frame of unstandardised person columns for every role of ``source``;
    ``mother_ages`` bounds a guardian's ID taken as the mother's (``("mother_id", column)``)."""
    parts = []
    declared = SOURCES[source]
    for role, mapping in declared.roles.items():
        exprs = [
            pl.lit(source).alias("source"),
            pl.lit(role).alias("role"),
            pl.col("_load_id").alias("load_id"),
        ]
        for target, origin in mapping.items():
            if isinstance(origin, tuple) and origin[0] == "mother_id":
                exprs.append(
                    mother_id(origin[1], mother_ages or (MOTHER_MIN_AGE, MOTHER_MAX_AGE)).alias(
                        target
                    )
                )
            elif isinstance(origin, tuple):
                exprs.append(pl.lit(origin[1]).alias(target))
            else:
                exprs.append(pl.col(origin).alias(target))
        part = rows.select(exprs)
        if role in declared.optional_roles:  # an unnamed father is no person
            have = [pl.col(c).is_not_null() for c in ("name", "id_number") if c in part.columns]
            part = part.filter(pl.any_horizontal(have))
        parts.append(part)
    return pl.concat(parts, how="diagonal_relaxed")


def _mother_ages(store: Store, source: str) -> tuple[int, int] | None:
    """``[mother_from_guardian]`` min_age/max_age of a source that takes a guardian's ID as
    the mother's; None for the others."""
    if not any(
        isinstance(o, tuple) and o[0] == "mother_id"
        for m in SOURCES[source].roles.values()
        for o in m.values()
    ):
        return None
    cfg = store.settings.source(source).section("mother_from_guardian")
    return int(cfg.get("min_age", MOTHER_MIN_AGE)), int(cfg.get("max_age", MOTHER_MAX_AGE))


def refresh_person_records(store: Store, sources: set[str] | None = None) -> int:
    """(Re)build the person records of ``sources`` (None: every loaded source; an empty set:
    nothing, as on a night when no delivery changed anything). Returns rows written.

    Person records written by an older release, which lack a column this one standardises,
    are all rebuilt: the link stage compares every column of every record."""
    if store.has_table(PERSON_TABLE):
        have = set(store.frame(f"SELECT * FROM {PERSON_TABLE} LIMIT 0").columns)
        if set(PERSON_COLUMNS) - have:
            log.info("person records of an older release: standardising every source again")
            sources = None
    if sources is None:
        sources = {s for s in SOURCES if store.has_table(source_table(s))}
    written = 0
    for source in sorted(sources):
        if not store.has_table(source_table(source)):
            continue
        rows = store.table(source_table(source))
        roles = role_frame(source, rows, _mother_ages(store, source))
        # which delivery each record version came from: incremental linking keys on it
        versions = roles.select(
            pl.concat_str("source", "record_id", "role", separator="|").alias("rec_key"),
            pl.col("load_id"),
        )
        records = person_frame(roles.drop("load_id")).join(versions, on="rec_key", how="left")
        if store.has_table(PERSON_TABLE):
            store.con.execute(f"DELETE FROM {PERSON_TABLE} WHERE source = ?", [source])
        store.append(PERSON_TABLE, records)
        written += records.height
        log.info("person records for %s: %d", source, records.height)
    return written
