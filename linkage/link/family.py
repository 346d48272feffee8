"""Family consistency: one parent's link vouches for the other's on a birth certificate (or
the guardian's for the mother on an immunisation record).

A mother written without her ID, or with a name that differs from the base, is often
ambiguous on her own (王丹 is common; the model sends her to review). When the father on the
same certificate is linked, the mother is almost surely the one woman of his household whose
name (hanzi key or pinyin) or ID agrees, and the other way round. A role known by its ID
alone (an immunisation record's guardian) is found there by an ID one digit off, or, where
the base row lacks the ID, by the birth date and sex the ID encodes. Such a parent is linked
with ``decided_by = 'family'`` and a match weight of the model's score for that person (0
when the model had none) plus a configured household bonus.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from linkage.link.decide import DECISION_COLUMNS, REJECTED
from linkage.persons import PERSON_TABLE
from linkage.sql import one_substitution_or_swap
from linkage.store import Store


def family_links(
    store: Store,
    decisions: str,
    cfg: dict[str, Any],
    source: str = "birth_certificate",
    roles: tuple[str, ...] = ("mother", "father"),
) -> pl.DataFrame:
    """New decisions (``DECISION_COLUMNS``) for undecided parents (``roles`` of ``source``)
    of the table ``decisions``, linked through another of ``roles`` on the same record."""
    role_list = ", ".join(f"'{r}'" for r in roles)
    bonus = float(cfg.get("household_bonus", 6.0))
    threshold = float(cfg.get("match_weight", 3.0))
    found = store.frame(f"""
            WITH d AS (SELECT * FROM {decisions}
                       WHERE source = '{source}' AND role IN ({role_list})),
            base AS (SELECT record_id AS person_id, household_id, sex, name_key, name_py,
                            id_number, birth_date
                     FROM {PERSON_TABLE} WHERE source = 'population'),
            linked AS (SELECT d.source_record_id, d.role, b.household_id
                       FROM d JOIN base b ON b.person_id = d.person_id
                       WHERE d.decision = 'link' AND b.household_id IS NOT NULL),
            cand AS (
                SELECT o.source_record_id, o.role, b.person_id,
                       CASE WHEN o.person_id = b.person_id THEN coalesce(o.match_weight, 0)
                            ELSE 0 END + {bonus} AS match_weight,
                       concat_ws('; ', 'household: same as linked ' || k.role,
                           CASE WHEN b.id_number = r.id_number THEN 'id_number: exact'
                                WHEN r.name_key IS NULL AND b.birth_date = r.id_birth_date
                                    THEN 'birth_date: as in the ID'
                                WHEN r.name_key IS NULL THEN 'id_number: one digit off' END,
                           CASE WHEN b.name_key = r.name_key THEN 'name: exact key'
                                WHEN b.name_py = r.name_py THEN 'name: pinyin exact' END)
                           AS explanation
                FROM d o
                JOIN linked k ON k.source_record_id = o.source_record_id AND k.role <> o.role
                JOIN {PERSON_TABLE} r ON r.source = '{source}'
                     AND r.record_id = o.source_record_id AND r.role = o.role
                JOIN base b ON b.household_id = k.household_id
                WHERE o.decision <> 'link' AND (b.sex = r.sex OR r.sex IS NULL)
                  AND (b.name_key = r.name_key OR b.name_py = r.name_py
                       OR b.id_number = r.id_number
                       -- a role known by its ID alone (a guardian): the ID one digit off, or
                       -- the base row without it but born on the ID's date, of its sex
                       OR (r.name_key IS NULL AND r.id_number IS NOT NULL
                           AND ({one_substitution_or_swap("b.id_number", "r.id_number")}
                                OR (b.birth_date = r.id_birth_date
                                    AND b.sex = r.id_sex))))
                  AND NOT EXISTS (SELECT 1 FROM {REJECTED} x
                                  WHERE x.source = '{source}'
                                    AND x.source_record_id = o.source_record_id
                                    AND x.role = o.role AND x.person_id = b.person_id)
            )
            SELECT source_record_id, role, any_value(person_id) AS person_id,
                   any_value(match_weight) AS match_weight,
                   any_value(explanation) AS explanation
            FROM cand GROUP BY source_record_id, role
            HAVING count(DISTINCT person_id) = 1 AND any_value(match_weight) >= {threshold}
        """)
    return found.with_columns(
        pl.lit(source).alias("source"),
        pl.lit("link").alias("decision"),
        pl.lit("family").alias("decided_by"),
        pl.lit(None, pl.Float64).alias("second_weight"),
        (2 ** pl.col("match_weight") / (1 + 2 ** pl.col("match_weight"))).alias(
            "match_probability"
        ),
    ).select(DECISION_COLUMNS)
