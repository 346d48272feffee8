"""信息不一致: a linked pair disagreeing on one field, one case per person and field.

Plan 002: accuracy and logical consistency of the basic items. Compared on standardised
values, so width, spacing, traditional forms, date formats and a 15- vs 18-digit ID of the
same person are no conflict; a side with no value is none either (that is completeness, a
figure of the report). 户籍 is compared field by field (户口性质 included: where 公安 has
unified it as 居民 and the base still says 农业, the base is stale); a marriage registration
against the base's marital status.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage.findings.base import (
    ACTIVE,
    FindingType,
    Links,
    Row,
    TaskContext,
    base_persons,
    candidates,
    evidence,
)
from linkage.store import Store
from linkage.tables import PERSON_TABLE

#: the base's ID as it stands: the 15-digit number as delivered, not its 18-digit upgrade
_BASE_ID = "CASE WHEN b.id_status = 'upgraded_15' THEN b.id_raw ELSE b.id_number END"
#: 户籍 ↔ base fields: (field, base value, base value compared, 户籍 value compared, 户籍 value).
#: The ID is verified only against a valid 18-digit 户籍 number, and then a missing or
#: 15-digit base ID differs from it too (plan 000: 身份证信息 通过公安比对认证).
HUKOU_FIELDS = (
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
    (
        "id_number",
        _BASE_ID,
        f"coalesce({_BASE_ID}, '')",
        "CASE WHEN p.id_status = 'valid' THEN p.id_number END",
        "p.id_number",
    ),
    ("household_id", "b.household_id", "b.household_id", "p.household_id", "p.household_id"),
    ("hukou_type", "b.hukou_type", "b.hukou_type", "p.hukou_type", "p.hukou_type"),
)
#: marital statuses that agree with a 结婚 registration
MARRIED = ("初婚", "再婚", "复婚", "已婚")


class AttributeConflict(FindingType):
    key = "attribute_conflict"
    zh = "信息不一致"
    short = "conflict"
    action = "属性更正"
    action_zh = "核对证件，以户口簿/身份证为准更正"
    change = "更正"
    evaluation = "person_field"
    labels = (True, False)  # a rejected conflict is a wrong value, not a wrong link

    def applies(self, store: Store, tables: Links) -> bool:
        return store.has_table("src_hukou") or store.has_table("src_marriage")

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        if store.has_table("src_hukou"):
            yield self._hukou(store, tables.links)
        if store.has_table("src_marriage"):
            yield self._marriage(store, tables.links)

    def _hukou(self, store: Store, links: str) -> pl.DataFrame:
        # one join of the linked pairs, then one row per field (not one join per field)
        fields = ", ".join(
            f"{{field: '{field}', base_value: CAST({base_value} AS VARCHAR), "
            f"source_value: CAST({src_value} AS VARCHAR), "
            f"base_cmp: CAST({base_cmp} AS VARCHAR), source_cmp: CAST({src_cmp} AS VARCHAR)}}"
            for field, base_value, base_cmp, src_cmp, src_value in HUKOU_FIELDS
        )
        differs = " OR ".join(f"{b} <> {s}" for _, _, b, s, _ in HUKOU_FIELDS)
        return candidates(
            store,
            f"""
            SELECT '{self.key}' AS finding_type, person_id || '|' || f.field AS case_key,
                   'hukou' AS source, source_record_id, 'person' AS role, person_id,
                   f.field AS field, f.base_value AS base_value,
                   f.source_value AS source_value, match_probability, township, village,
                   '{self.action}' AS suggested_action, 'normal' AS priority,
                   to_json({{reason: explanation}}) AS evidence
            FROM (SELECT l.source_record_id, l.match_probability, l.explanation, b.person_id,
                         b.township, b.village, unnest([{fields}]) AS f
                  FROM {links} l
                  JOIN {PERSON_TABLE} p ON p.source = 'hukou'
                                       AND p.record_id = l.source_record_id
                  JOIN {base_persons()} ON b.person_id = l.person_id
                  WHERE l.source = 'hukou' AND p.status = '{ACTIVE}' AND b.status = '{ACTIVE}'
                    AND ({differs}))
            WHERE f.base_cmp IS NOT NULL AND f.source_cmp IS NOT NULL
              AND f.base_cmp <> f.source_cmp
            """,
        )

    def _marriage(self, store: Store, links: str) -> pl.DataFrame:
        married = ", ".join(f"'{m}'" for m in MARRIED)
        return candidates(
            store,
            f"""
            SELECT '{self.key}' AS finding_type,
                   b.person_id || '|marital_status' AS case_key, 'marriage' AS source,
                   l.source_record_id, l.role, b.person_id, 'marital_status' AS field,
                   b.marital_status AS base_value,
                   CASE WHEN m.registration_type = '结婚' THEN '已婚' ELSE '离婚' END
                       AS source_value,
                   l.match_probability, b.township, b.village,
                   '{self.action}' AS suggested_action, 'normal' AS priority,
                   to_json({{registration_type: m.registration_type,
                            registration_date: CAST(m.registration_date AS VARCHAR)}})
                       AS evidence
            FROM {links} l
            JOIN src_marriage m ON m.record_id = l.source_record_id
            JOIN {base_persons()} ON b.person_id = l.person_id
            WHERE l.source = 'marriage' AND b.status = '{ACTIVE}'
              AND b.marital_status IS NOT NULL
              AND ((m.registration_type = '结婚' AND b.marital_status NOT IN ({married}))
                OR (m.registration_type = '离婚' AND b.marital_status <> '离婚'))
            QUALIFY row_number() OVER (PARTITION BY b.person_id
                                       ORDER BY m.registration_date DESC) = 1
            """,
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        old, new = f.get("base_value"), f.get("source_value")
        if f.get("field") == "id_number":
            said = id_difference(old, new)
            old, new = ctx.mask(old) or "（无）", ctx.mask(new)
            if said:
                new = f"{new}（{said}）"
        if f.get("source") == "marriage":
            ev = evidence(f.get("evidence"))
            return (
                f"婚姻登记 {ev.get('registration_date') or ''} "
                f"{ev.get('registration_type') or ''}；人口库婚姻状况：{old or ''}"
            )
        source = ctx.source_zh(f.get("source") or "")
        return f"{source}{self.field_zh(f)}：{new or ''}；人口库：{old or ''}"

    def basis(self, f: Row, ctx: TaskContext) -> str:
        said = super().basis(f, ctx)
        return (said + "；" if said else "") + f"{self.field_zh(f)}不一致"

    def change_row(self, task: Row) -> Row:
        return {
            "变更类型": self.change,
            "变更项目": self.field_zh(task),
            "原值": task.get("base_value") or "",
            "新值": task.get("source_value") or "",
        }


def id_difference(base: str | None, hukou: str | None) -> str:
    """How a base ID differs from the 户籍 one, in words that show it once both are masked:
    ``人口库无身份证号``, ``人口库为15位旧号``, ``第15位不同``, ``第8、9位不同``."""
    if not base:
        return "人口库无身份证号"
    if not hukou:
        return ""
    if len(base) == 15 and len(hukou) == 18:
        return "人口库为15位旧号"
    if len(base) != len(hukou):
        return f"人口库为{len(base)}位"
    places = [str(i + 1) for i, (a, b) in enumerate(zip(base, hukou, strict=True)) if a != b]
    return f"第{'、'.join(places)}位不同" if places else ""


FINDING = AttributeConflict()
