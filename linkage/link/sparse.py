"""Sparse records: a name, a sex and an address, nothing else.

Rural death records (火化 of a person who died at home, a village doctor's 死亡医学证明) often
carry no ID number and no birth date: only the name, the sex and where the person lived, down
to the 组 and the house number (号). The model cannot link them: a name and a village are not
worth a 0.99 match probability when the name is 王秀英. But a village is small, and a name that
only one person in it carries is the county clerk's own evidence: plan 001 has staff verify a
death against the household, and the household is where the address points.

A sparse record of a source whose config has ``[sparse] enabled = true`` is linked to a base
person when:

- the person is the only one in the record's township and village with that name (the same
  folded name, pinyin or transcription sound) and a sex that does not contradict — counting
  every base row of the village but those cancelled as duplicates or errors, so that a
  namesake already cancelled as dead still makes the name ambiguous;
- or, where several share the name, the only one of them at the record's 组 and 号;
- and that person is still in the base (正常, or already 死亡注销 for a death re-recorded) and
  was born by the event, at an age within ``[sparse] min_age``–``max_age`` at the event.

Otherwise, when there are candidates, the record is a clerical pair (for an analyst to settle,
``renkou review``) with the best candidate: the one at the same 组/号 if any. Rows of one
duplicated person (one cluster of the base dedupe) count as one candidate. A pair rejected in
the field is no candidate.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from linkage.errors import ConfigError
from linkage.link.decide import DECISION_COLUMNS, not_rejected
from linkage.store import Store

#: base statuses that do not hide a namesake: a row cancelled as a duplicate or an error is
#: no second person
_COUNTED = ("正常", "死亡注销", "迁出注销")
#: base statuses a sparse record may link to
_LINKABLE = ("正常", "死亡注销")


def sparse_settings(section: dict[str, Any], origin: str) -> tuple[bool, int, int]:
    """``(enabled, min_age, max_age)`` from a source's ``[sparse]`` table."""
    enabled = section.get("enabled", False)
    lo, hi = section.get("min_age", 0), section.get("max_age", 120)
    if not isinstance(enabled, bool):
        raise ConfigError(f"{origin}: [sparse] enabled = {enabled!r}. Fix: true or false")
    if not (isinstance(lo, int) and isinstance(hi, int) and 0 <= lo <= hi <= 150):
        raise ConfigError(
            f"{origin}: [sparse] min_age = {lo!r}, max_age = {hi!r}. "
            "Fix: whole years with 0 <= min_age <= max_age <= 150"
        )
    return enabled, lo, hi


def sparse_links(
    store: Store, records: str, base: str, clusters: str, section: dict[str, Any], origin: str
) -> pl.DataFrame:
    """Decisions (:data:`DECISION_COLUMNS`) for the sparse records of ``records``: ``link``
    or ``clerical`` as the module says; a sparse record with no candidate has no row."""
    enabled, lo, hi = sparse_settings(section, origin)
    if not enabled:
        return pl.DataFrame(schema={c: pl.String for c in DECISION_COLUMNS})
    counted = ", ".join(f"'{s}'" for s in _COUNTED)
    linkable = ", ".join(f"'{s}'" for s in _LINKABLE)
    born = "coalesce(b.birth_date, b.id_birth_date)"
    age = f"date_diff('year', {born}, s.event_date)"
    return store.frame(f"""
        WITH s AS (
            SELECT *, record_id AS source_record_id FROM {records}
            WHERE (id_number IS NULL OR id_status NOT IN ('valid', 'upgraded_15'))
              AND birth_date IS NULL AND name_key IS NOT NULL
              AND township IS NOT NULL AND village IS NOT NULL
        ),
        c AS (
            SELECT s.source, s.source_record_id, s.role, b.record_id AS person_id,
                   coalesce(k.cluster_id, b.record_id) AS cluster,
                   b.status IN ({linkable})
                       AND (s.event_date IS NULL OR {born} IS NULL
                            OR ({born} <= s.event_date AND {age} BETWEEN {lo} AND {hi}))
                       AS fits,
                   s.village_group IS NOT NULL AND s.house_number IS NOT NULL
                       AND b.village_group = s.village_group
                       AND b.house_number = s.house_number AS same_house
            FROM s JOIN {base} b
              ON b.township = s.township AND b.village = s.village
             AND (b.name_key = s.name_key OR b.name_py = s.name_py OR b.name_snd = s.name_snd)
            LEFT JOIN {clusters} k ON k.person_id = b.record_id
            WHERE coalesce(b.status, '正常') IN ({counted})
              AND (s.sex IS NULL OR b.sex IS NULL OR s.sex = b.sex)
              AND {not_rejected("s", "b.record_id")}
        ),
        per_record AS (
            SELECT source, source_record_id, role,
                   count(DISTINCT cluster) AS namesakes,
                   count(DISTINCT cluster) FILTER (WHERE same_house) AS at_house,
                   min(person_id) FILTER (WHERE same_house) AS house_person,
                   bool_and(fits) FILTER (WHERE same_house) AS house_fits,
                   min(person_id) AS first_person, bool_and(fits) AS all_fit
            FROM c GROUP BY ALL
        )
        SELECT source, source_record_id, role,
               coalesce(house_person, first_person) AS person_id,
               1.0 / namesakes AS match_probability, NULL::DOUBLE AS match_weight,
               NULL::DOUBLE AS second_weight,
               CASE WHEN namesakes = 1 AND all_fit THEN 'link'
                    WHEN at_house = 1 AND house_fits THEN 'link'
                    ELSE 'clerical' END AS decision,
               'sparse' AS decided_by,
               'name, sex and address only: ' ||
               CASE WHEN namesakes = 1 THEN 'the only one of this name in the village'
                    WHEN at_house = 1 THEN namesakes || ' of this name in the village, '
                                           || 'one at this 组/号'
                    ELSE namesakes || ' of this name in the village' END
               || CASE WHEN (namesakes = 1 AND NOT all_fit)
                            OR (namesakes > 1 AND at_house = 1 AND NOT house_fits)
                       THEN '; status or age at the event does not fit' ELSE '' END
               AS explanation
        FROM per_record
    """).select(DECISION_COLUMNS)
