"""The children the base lacks, one per child whatever records show them.

Plans 001 and 003: births, immunisation and school data are compared with the base to find
every child it misses (摸清近十年的出生人口底数，消除各种漏报). A child appears on a birth
certificate, an immunisation record and a school roll under three record numbers, often
without an ID and at first without a name; these are one child, so one case. Every child
role of ``linkage.catalog`` (``household_roles``) that links to no base person is grouped
here by family (the household of its linked mother, else of its linked guardian or father)
and merged across sources: two records can be one child when they come from different sources,
their birth dates lie within :data:`SAME_CHILD_DAYS`, and neither their IDs nor sexes
disagree; a record joins the child it fits best (names agreeing, then a name missing, then
names differing: a certificate's name is often changed later). Two records of one source are
two children (twins have two certificates).

The merged child's own record is the first of certificate, immunisation record, school roll
(then the smaller record number): its ``source|record_id`` is the case key, so a case keeps
its id when a later record joins it.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from linkage.findings.base import in_hukou
from linkage.graph import components
from linkage.store import Store
from linkage.tables import PERSON_TABLE, source_table

#: how far (days) two records' birth dates of one child may lie apart (a typed date is off)
SAME_CHILD_DAYS = 3
#: the parent roles whose link says the mother is a base person
MOTHER_ROLES = ("mother",)
#: ages at the birth at which a linked female guardian is taken as the mother
GUARDIAN_AS_MOTHER = (15, 50)

SCHEMA: dict[str, pl.DataType] = {
    "source": pl.String(),
    "source_record_id": pl.String(),
    "role": pl.String(),
    "mother": pl.String(),
    "guardian": pl.String(),
    "match_probability": pl.Float64(),
    "township": pl.String(),
    "village": pl.String(),
    "birth_date": pl.Date(),
    "sex": pl.String(),
    "in_hukou": pl.Boolean(),
    "evidence_records": pl.List(pl.String),
}


def _records(store: Store, links: str) -> pl.DataFrame:
    """Every unlinked child record with its family's linked parents."""
    from linkage.catalog import CHILD_ROLES, SOURCES  # the catalog imports the findings

    parts = []
    for source, role in CHILD_ROLES:
        if not store.has_table(source_table(source)):
            continue
        parents = SOURCES[source].household_roles[role]
        mothers = ", ".join(f"'{r}'" for r in parents if r in MOTHER_ROLES) or "NULL"
        others = ", ".join(f"'{r}'" for r in parents if r not in MOTHER_ROLES) or "NULL"
        parts.append(f"""
            SELECT c.source, c.record_id AS source_record_id, c.role, c.birth_date, c.sex,
                   c.name_key, c.name_py,
                   CASE WHEN c.id_status IN ('valid', 'upgraded_15') THEN c.id_number END
                       AS id_number,
                   {in_hukou(store, "c")} AS in_hukou,
                   (SELECT min(m.person_id) FROM {links} m WHERE m.source = c.source
                      AND m.source_record_id = c.record_id AND m.role IN ({mothers})
                      AND m.person_id IS NOT NULL) AS mother,
                   (SELECT max(m.match_probability) FROM {links} m WHERE m.source = c.source
                      AND m.source_record_id = c.record_id AND m.role IN ({mothers})
                      AND m.person_id IS NOT NULL) AS mother_probability,
                   (SELECT min(g.person_id) FROM {links} g WHERE g.source = c.source
                      AND g.source_record_id = c.record_id AND g.role IN ({others})
                      AND g.person_id IS NOT NULL) AS guardian,
                   (SELECT max(g.match_probability) FROM {links} g WHERE g.source = c.source
                      AND g.source_record_id = c.record_id AND g.role IN ({others})
                      AND g.person_id IS NOT NULL) AS guardian_probability
            FROM {PERSON_TABLE} c
            WHERE c.source = '{source}' AND c.role = '{role}'
              AND NOT EXISTS (SELECT 1 FROM {links} l WHERE l.source = c.source
                              AND l.role = c.role AND l.source_record_id = c.record_id
                              AND l.person_id IS NOT NULL)""")
    if not parts:
        return pl.DataFrame()
    return store.frame(f"""
        WITH r AS ({" UNION ALL ".join(parts)}),
        base AS (SELECT record_id AS person_id, household_id, township, village, sex,
                        coalesce(birth_date, id_birth_date) AS born
                 FROM {PERSON_TABLE} WHERE source = 'population')
        SELECT r.* REPLACE (
                   -- a guardian who is a woman of a mother's age at the birth is the mother
                   coalesce(r.mother, CASE WHEN g.sex = '女' AND date_diff('year', g.born,
                       r.birth_date) BETWEEN {GUARDIAN_AS_MOTHER[0]} AND {GUARDIAN_AS_MOTHER[1]}
                       THEN r.guardian END) AS mother),
               m.household_id AS mother_household, g.household_id AS guardian_household,
               coalesce(m.township, g.township) AS township,
               coalesce(m.village, g.village) AS village
        FROM r LEFT JOIN base m ON m.person_id = r.mother
               LEFT JOIN base g ON g.person_id = r.guardian
        WHERE r.mother IS NOT NULL OR r.guardian IS NOT NULL
    """)


def _families(rows: pl.DataFrame) -> list[str]:
    """Each record's family: the connected component of its linked mother and guardian and
    their 户号 (a mother whose base row stayed in her parents' household is still the family
    of a child whose guardian is the father). Every record has a mother or a guardian."""
    pairs: list[tuple[str, str]] = []
    nodes: list[str] = []
    columns = ("mother", "guardian", "mother_household", "guardian_household")
    for mother, guardian, mh, gh in rows.select(columns).iter_rows():
        m = f"p:{mother}" if mother else None
        g = f"p:{guardian}" if guardian else None
        edges = [(m, g), (m, f"h:{mh}" if mh else None), (g, f"h:{gh}" if gh else None)]
        pairs += [(a, b or a) for a, b in edges if a]
        nodes.append(m or g or "")
    family = components(pairs)
    return [family.get(n, n) for n in nodes]


def _same_child(a: dict[str, Any], b: dict[str, Any]) -> int | None:
    """How well two records fit one child: None when they cannot (same source, birth dates
    apart, IDs or sexes disagree); else 2 when their names agree (key or pinyin), 1 when a
    name is missing, 0 when the names differ (a certificate's name is often changed later)."""
    if a["source"] == b["source"]:
        return None
    if a["birth_date"] is None or b["birth_date"] is None:
        return None
    if abs((a["birth_date"] - b["birth_date"]).days) > SAME_CHILD_DAYS:
        return None
    for col in ("id_number", "sex"):
        if a[col] and b[col] and a[col] != b[col]:
            return None
    if a["name_key"] and b["name_key"]:
        return 2 if a["name_key"] == b["name_key"] or a["name_py"] == b["name_py"] else 0
    return 1


def _fit(row: dict[str, Any], members: list[dict[str, Any]]) -> int | None:
    """How well ``row`` fits the child of ``members``: its weakest fit with any of them."""
    fits = [_same_child(row, m) for m in members]
    return None if any(f is None for f in fits) else min(f for f in fits if f is not None)


def unregistered_children(store: Store, links: str) -> pl.DataFrame:
    """One row per child the base lacks (:data:`SCHEMA`): its own record (source, record,
    role), the linked base mother and guardian (either may be null), the strongest parent
    link's probability, the family's township, whether 户籍 knows the child, and every
    record that shows it (``source|record_id``)."""
    rows = _records(store, links)
    if rows.is_empty():
        return pl.DataFrame(schema=SCHEMA)
    rows = rows.with_columns(pl.Series("family", _families(rows), dtype=pl.String))
    from linkage.catalog import CHILD_ROLES

    order = {s: i for i, (s, _) in enumerate(CHILD_ROLES)}
    rows = rows.with_columns(
        pl.col("source").replace_strict(order, return_dtype=pl.Int32).alias("_order")
    ).sort("family", "_order", "source_record_id")
    children: list[list[dict[str, Any]]] = []
    family: Any = object()
    open_: list[list[dict[str, Any]]] = []
    for row in rows.iter_rows(named=True):
        if row["family"] != family:
            family, open_ = row["family"], []
        fitting = [(f, i) for i, c in enumerate(open_) if (f := _fit(row, c)) is not None]
        home = open_[max(fitting, key=lambda p: (p[0], -p[1]))[1]] if fitting else None
        if home is None:
            home = []
            open_.append(home)
            children.append(home)
        home.append(row)
    out = []
    for members in children:
        own = members[0]
        mother = next((m["mother"] for m in members if m["mother"]), None)
        guardian = next((m["guardian"] for m in members if m["guardian"]), None)
        probability = max(
            (
                p
                for m in members
                for p in (m["mother_probability"], m["guardian_probability"])
                if p is not None
            ),
            default=None,
        )
        out.append(
            {
                "source": own["source"],
                "source_record_id": own["source_record_id"],
                "role": own["role"],
                "mother": mother,
                "guardian": guardian,
                "match_probability": probability,
                "township": own["township"],
                "village": own["village"],
                "birth_date": own["birth_date"],
                "sex": next((m["sex"] for m in members if m["sex"]), None),
                "in_hukou": any(m["in_hukou"] for m in members),
                "evidence_records": [f"{m['source']}|{m['source_record_id']}" for m in members],
            }
        )
    return pl.DataFrame(out, schema=SCHEMA)


def child_cases(
    children: pl.DataFrame,
    finding_type: str,
    action: str,
    *,
    parent: str,
    priority: pl.Expr,
    evidence: list[pl.Expr],
) -> pl.DataFrame:
    """The finding rows of ``children`` (from :func:`unregistered_children`): one case per
    child, keyed by its first record, ``parent`` (``mother`` or ``guardian``) the base person
    named beside it; the evidence holds the birth date, the sex, ``evidence`` and every record
    that shows the child (``shown_by``)."""
    return children.select(
        pl.lit(finding_type).alias("finding_type"),
        pl.concat_str("source", "source_record_id", separator="|").alias("case_key"),
        "source",
        "source_record_id",
        "role",
        pl.col(parent).alias("other_person_id"),
        "match_probability",
        "township",
        "village",
        pl.lit(action).alias("suggested_action"),
        priority.alias("priority"),
        pl.struct(
            pl.col("birth_date").cast(pl.String),
            "sex",
            *evidence,
            pl.col("evidence_records").alias("shown_by"),
        )
        .struct.json_encode()
        .alias("evidence"),
    )
