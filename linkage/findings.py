"""Links → findings: one function per finding type of docs/interfaces.md.

Each function takes the store and the name of a links table (the system's ``links`` or the
baseline's) and returns candidate findings as a polars frame with the export columns plus
``case_key`` (what makes the case the same case across nights), ``evidence`` (JSON: records,
probabilities, reasons), ``priority`` and ``suggested_action``. ``linkage.casework`` merges
candidates into the persistent ``findings`` table and keeps their status.
"""

from __future__ import annotations

import polars as pl

from linkage.persons import PERSON_TABLE
from linkage.store import Store

COLUMNS = [
    "finding_type",
    "case_key",
    "source",
    "source_record_id",
    "role",
    "person_id",
    "other_person_id",
    "field",
    "base_value",
    "source_value",
    "match_probability",
    "township",
    "village",
    "suggested_action",
    "cancellation_reason",
    "priority",
    "evidence",
]

ACTIVE = "正常"
MARRIED = ("初婚", "再婚", "复婚", "已婚")

#: birth-related windows in days (how far a claim's delivery date may be from a certificate)
DELIVERY_WINDOW_DAYS = 45


def _base(alias: str = "b") -> str:
    return f"""(SELECT record_id AS person_id, name, sex, id_number, birth_date, ethnicity,
               household_id, address, township, village, status, marital_status, name_key
               FROM {PERSON_TABLE} WHERE source = 'population') {alias}"""


def _frame(store: Store, sql: str) -> pl.DataFrame:
    frame = store.frame(sql)
    missing = [c for c in COLUMNS if c not in frame.columns]
    return frame.with_columns(pl.lit(None, pl.String).alias(c) for c in missing).select(
        [pl.col(c).cast(pl.Float64 if c == "match_probability" else pl.String) for c in COLUMNS]
    )


def suspected_deaths(store: Store, links: str) -> pl.DataFrame:
    """A death record linked to a base person still 正常; one finding per person."""
    return _frame(
        store,
        f"""
        SELECT 'suspected_death' AS finding_type, b.person_id AS case_key,
               'death' AS source, min(l.source_record_id) AS source_record_id, 'person' AS role,
               b.person_id, max(l.match_probability) AS match_probability,
               any_value(b.township) AS township, any_value(b.village) AS village,
               '人口死亡登记' AS suggested_action, '人口死亡登记' AS cancellation_reason,
               CASE WHEN count(*) > 1 OR max(l.match_probability) >= 0.999 THEN 'high'
                    ELSE 'normal' END AS priority,
               to_json({{records: list(l.source_record_id ORDER BY l.source_record_id),
                        death_dates: list(CAST(d.event_date AS VARCHAR)
                                          ORDER BY l.source_record_id),
                        probabilities: list(l.match_probability ORDER BY l.source_record_id),
                        reasons: list(l.explanation ORDER BY l.source_record_id)}})
                   AS evidence
        FROM {links} l
        JOIN {PERSON_TABLE} d ON d.source = 'death' AND d.record_id = l.source_record_id
        JOIN {_base()} ON b.person_id = l.person_id
        WHERE l.source = 'death' AND b.status = '{ACTIVE}'
        GROUP BY b.person_id
    """,
    )


def moved_out(store: Store, links: str) -> pl.DataFrame:
    """户籍 says 迁出注销 while the linked base person is still 正常."""
    return _frame(
        store,
        f"""
        SELECT 'moved_out' AS finding_type, b.person_id AS case_key, 'hukou' AS source,
               l.source_record_id, 'person' AS role, b.person_id, l.match_probability,
               b.township, b.village, '移交' AS suggested_action,
               '移交外省管理' AS cancellation_reason, 'normal' AS priority,
               to_json({{moved_to: h.moved_to, change_date: CAST(h.change_date AS VARCHAR),
                        reason: l.explanation}}) AS evidence
        FROM {links} l
        JOIN src_hukou h ON h.record_id = l.source_record_id
        JOIN {_base()} ON b.person_id = l.person_id
        WHERE l.source = 'hukou' AND h.hukou_status = '迁出注销' AND b.status = '{ACTIVE}'
        QUALIFY row_number() OVER (PARTITION BY b.person_id ORDER BY h.change_date DESC) = 1
    """,
    )


def unregistered_persons(store: Store, links: str) -> pl.DataFrame:
    """An active 户籍 person linked to nobody in the base.

    The township is read from the 户籍 address, else from base persons of the same household.
    """
    return _frame(
        store,
        f"""
        WITH unlinked AS (
            SELECT h.record_id, h.household_id FROM src_hukou h
            WHERE h.hukou_status = '{ACTIVE}'
              AND NOT EXISTS (SELECT 1 FROM {links} l WHERE l.source = 'hukou'
                              AND l.source_record_id = h.record_id AND l.person_id IS NOT NULL)
        ),
        hh AS (  -- only the households of unlinked persons, not every household of the base
            SELECT household_id, any_value(township) AS township, any_value(village) AS village
            FROM {PERSON_TABLE}
            WHERE source = 'population' AND township IS NOT NULL
              AND household_id IN (SELECT household_id FROM unlinked)
            GROUP BY household_id
        )
        SELECT 'unregistered_person' AS finding_type, 'hukou|' || u.record_id AS case_key,
               'hukou' AS source, u.record_id AS source_record_id, 'person' AS role,
               coalesce(p.township, hh.township) AS township,
               coalesce(p.village, hh.village) AS village,
               '补录人口' AS suggested_action, 'normal' AS priority,
               to_json({{household_id: u.household_id}}) AS evidence
        FROM unlinked u
        JOIN {PERSON_TABLE} p ON p.source = 'hukou' AND p.record_id = u.record_id
        LEFT JOIN hh ON hh.household_id = u.household_id
    """,
    )


def unregistered_births(store: Store, links: str) -> pl.DataFrame:
    """A birth certificate whose mother links to the base and whose child links to nobody.

    Births to mothers from elsewhere (no mother link) are not this county's. Twins are
    separate certificates, so two unregistered twins are two findings and one registered twin
    leaves one.
    """
    return _frame(
        store,
        f"""
        SELECT 'unregistered_birth' AS finding_type,
               'birth_certificate|' || c.record_id AS case_key,
               'birth_certificate' AS source, c.record_id AS source_record_id, 'child' AS role,
               b.person_id AS other_person_id, ml.match_probability,
               b.township, b.village, '补登出生' AS suggested_action,
               CASE WHEN ml.match_probability >= 0.99 THEN 'high' ELSE 'normal' END AS priority,
               to_json({{birth_date: CAST(c.event_date AS VARCHAR), sex: c.sex,
                        mother: b.person_id, mother_link_probability: ml.match_probability,
                        mother_link_reason: ml.explanation}})
                   AS evidence
        FROM {PERSON_TABLE} c
        JOIN {links} ml ON ml.source = 'birth_certificate' AND ml.role = 'mother'
                       AND ml.source_record_id = c.record_id
        JOIN {_base()} ON b.person_id = ml.person_id
        WHERE c.source = 'birth_certificate' AND c.role = 'child'
          AND NOT EXISTS (SELECT 1 FROM {links} cl WHERE cl.source = 'birth_certificate'
                          AND cl.role = 'child' AND cl.source_record_id = c.record_id
                          AND cl.person_id IS NOT NULL)
    """,
    )


def unregistered_births_from_claims(store: Store, links: str) -> pl.DataFrame:
    """A maternity claim of a base mother with no certificate and no child in the base.

    Covered when a certificate of the same mother lies within the delivery window, or a base
    person of her household was born within three days of the delivery.
    """
    has_certificates = store.has_table("src_birth_certificate")
    certificate_clause = (
        f"""
          AND NOT EXISTS (
              SELECT 1 FROM {links} ml JOIN {PERSON_TABLE} c
                ON c.source = 'birth_certificate' AND c.role = 'mother'
               AND c.record_id = ml.source_record_id
              WHERE ml.source = 'birth_certificate' AND ml.role = 'mother'
                AND ml.person_id = l.person_id
                AND abs(date_diff('day', c.event_date, r.event_date)) <= {DELIVERY_WINDOW_DAYS})
    """
        if has_certificates
        else ""
    )
    return _frame(
        store,
        f"""
        SELECT 'unregistered_birth' AS finding_type,
               'maternity_insurance|' || r.record_id AS case_key,
               'maternity_insurance' AS source, r.record_id AS source_record_id,
               'person' AS role, b.person_id AS other_person_id, l.match_probability,
               b.township, b.village, '补登出生' AS suggested_action, 'normal' AS priority,
               to_json({{delivery_date: CAST(r.event_date AS VARCHAR), mother: b.person_id}})
                   AS evidence
        FROM {links} l
        JOIN {PERSON_TABLE} r ON r.source = 'maternity_insurance'
                             AND r.record_id = l.source_record_id
        JOIN {_base()} ON b.person_id = l.person_id
        WHERE l.source = 'maternity_insurance'
          {certificate_clause}
          AND NOT EXISTS (
              SELECT 1 FROM {_base("k")}
              WHERE k.household_id = b.household_id AND k.person_id <> b.person_id
                AND abs(date_diff('day', k.birth_date, r.event_date)) <= 3)
    """,
    )


#: hukou ↔ base identity fields: (field, base column, comparable base expr, comparable hukou expr)
_HUKOU_FIELDS = (
    ("name", "b.name", "b.name_key", "p.name_key", "p.name"),
    ("sex", "b.sex", "b.sex", "p.sex", "p.sex"),
    (
        "birth_date",
        "CAST(b.birth_date AS VARCHAR)",
        "b.birth_date",
        "p.birth_date",
        "CAST(p.birth_date AS VARCHAR)",
    ),
    ("ethnicity", "b.ethnicity", "b.ethnicity", "p.ethnicity", "p.ethnicity"),
    ("id_number", "b.id_number", "b.id_number", "p.id_number", "p.id_number"),
    ("household_id", "b.household_id", "b.household_id", "p.household_id", "p.household_id"),
)


def attribute_conflicts(store: Store, links: str) -> pl.DataFrame:
    """A linked pair disagreeing on one field, one row per field.

    Compared on standardised values, so width, spacing, traditional forms, date formats and a
    15- vs 18-digit ID of the same person are not conflicts. A side with no value is no
    conflict either (that is completeness, reported elsewhere).
    """
    # one join of the linked pairs, then one row per field (not one join per field)
    fields = ", ".join(
        f"{{field: '{field}', base_value: CAST({base_value} AS VARCHAR), "
        f"source_value: CAST({src_value} AS VARCHAR), base_cmp: CAST({base_cmp} AS VARCHAR), "
        f"source_cmp: CAST({src_cmp} AS VARCHAR)}}"
        for field, base_value, base_cmp, src_cmp, src_value in _HUKOU_FIELDS
    )
    differs = " OR ".join(
        f"{base_cmp} <> {src_cmp}" for _, _, base_cmp, src_cmp, _ in _HUKOU_FIELDS
    )
    parts = [
        f"""
        SELECT 'attribute_conflict' AS finding_type, person_id || '|' || f.field AS case_key,
               'hukou' AS source, source_record_id, 'person' AS role, person_id,
               f.field AS field, f.base_value AS base_value, f.source_value AS source_value,
               match_probability, township, village, '属性更正' AS suggested_action,
               'normal' AS priority, to_json({{reason: explanation}}) AS evidence
        FROM (SELECT l.source_record_id, l.match_probability, l.explanation, b.person_id,
                     b.township, b.village, unnest([{fields}]) AS f
              FROM {links} l
              JOIN {PERSON_TABLE} p ON p.source = 'hukou' AND p.record_id = l.source_record_id
              JOIN {_base()} ON b.person_id = l.person_id
              WHERE l.source = 'hukou' AND p.status = '{ACTIVE}' AND b.status = '{ACTIVE}'
                AND ({differs}))
        WHERE f.base_cmp IS NOT NULL AND f.source_cmp IS NOT NULL
          AND f.base_cmp <> f.source_cmp"""
    ]
    married = ", ".join(f"'{m}'" for m in MARRIED)
    parts.append(f"""
        SELECT 'attribute_conflict' AS finding_type, b.person_id || '|marital_status',
               'marriage', l.source_record_id, l.role, b.person_id, 'marital_status',
               b.marital_status,
               CASE WHEN m.registration_type = '结婚' THEN '已婚' ELSE '离婚' END,
               l.match_probability, b.township, b.village, '属性更正', 'normal',
               to_json({{registration_type: m.registration_type,
                        registration_date: CAST(m.registration_date AS VARCHAR)}})
        FROM {links} l
        JOIN src_marriage m ON m.record_id = l.source_record_id
        JOIN {_base()} ON b.person_id = l.person_id
        WHERE l.source = 'marriage' AND b.status = '{ACTIVE}' AND b.marital_status IS NOT NULL
          AND ((m.registration_type = '结婚' AND b.marital_status NOT IN ({married}))
            OR (m.registration_type = '离婚' AND b.marital_status <> '离婚'))
        QUALIFY row_number() OVER (PARTITION BY b.person_id
                                   ORDER BY m.registration_date DESC) = 1""")
    marriage_part = parts.pop()
    chosen = parts if store.has_table("src_hukou") else []
    if store.has_table("src_marriage"):
        chosen.append(marriage_part)
    if not chosen:
        return _frame(store, "SELECT NULL AS finding_type WHERE false")
    return _frame(store, " UNION ALL ".join(chosen))


def duplicates(store: Store, pairs: str) -> pl.DataFrame:
    """Two active base persons that are the same person, with the row to keep.

    ``pairs`` holds ``person_id_l, person_id_r, match_probability`` from the base dedupe.
    ``person_id`` is the row to cancel (重复人口注销), ``other_person_id`` the row to keep: the
    one with a valid ID, then the more complete one, then the smaller id.
    """
    return _frame(
        store,
        f"""
        WITH quality AS (
            SELECT record_id AS person_id,
                   (id_status IN ('valid', 'upgraded_15'))::INT * 100
                   + (name IS NOT NULL)::INT + (birth_date IS NOT NULL)::INT
                   + (ethnicity IS NOT NULL)::INT + (household_id IS NOT NULL)::INT AS q
            FROM {PERSON_TABLE} WHERE source = 'population'
        ),
        decided AS (
            SELECT d.match_probability,
                   CASE WHEN ql.q > qr.q OR (ql.q = qr.q AND d.person_id_l < d.person_id_r)
                        THEN d.person_id_l ELSE d.person_id_r END AS keep,
                   CASE WHEN ql.q > qr.q OR (ql.q = qr.q AND d.person_id_l < d.person_id_r)
                        THEN d.person_id_r ELSE d.person_id_l END AS drop
            FROM {pairs} d
            JOIN quality ql ON ql.person_id = d.person_id_l
            JOIN quality qr ON qr.person_id = d.person_id_r
        )
        SELECT 'duplicate_person' AS finding_type,
               least(keep, drop) || '|' || greatest(keep, drop) AS case_key,
               'population' AS source, drop AS source_record_id, 'person' AS role,
               drop AS person_id, keep AS other_person_id, match_probability,
               b.township, b.village, '重复人口注销' AS suggested_action,
               '重复人口注销' AS cancellation_reason, 'normal' AS priority,
               to_json({{keep: keep}}) AS evidence
        FROM decided
        JOIN {_base()} ON b.person_id = decided.drop
        JOIN {_base("o")} ON o.person_id = decided.keep
        WHERE b.status = '{ACTIVE}' AND o.status = '{ACTIVE}'
    """,
    )


def derive_findings(store: Store, links: str, dedupe_pairs: str | None) -> pl.DataFrame:
    """Every candidate finding from ``links`` (and the base dedupe pairs, when given)."""
    parts = [
        suspected_deaths(store, links) if store.has_table("src_death") else None,
        moved_out(store, links) if store.has_table("src_hukou") else None,
        unregistered_persons(store, links) if store.has_table("src_hukou") else None,
        unregistered_births(store, links) if store.has_table("src_birth_certificate") else None,
        unregistered_births_from_claims(store, links)
        if store.has_table("src_maternity_insurance")
        else None,
        attribute_conflicts(store, links),
        duplicates(store, dedupe_pairs) if dedupe_pairs else None,
    ]
    return pl.concat([p for p in parts if p is not None])
