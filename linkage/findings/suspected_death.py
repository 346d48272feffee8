"""疑似死亡未注销: a base person still 正常 whom a death or cremation record links to, or whom
公安 has already cancelled as 死亡注销 in 户籍.

Plan 000: 以与公安、民政、人社、妇幼、疾控信息比对结果为基础，核实疑似死亡人员信息，并及时予以注销，
注销原因填写"人口死亡登记". One case per person, however many records (a cremation, a medical
certificate, the 户籍 cancellation) tell it; the case's source is ``death`` when a death
record exists, else ``hukou``.
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
    text,
)
from linkage.store import Store
from linkage.tables import PERSON_TABLE

#: death record origin → how the clue names it
ORIGIN_ZH = {"火化": "殡葬记录", "死亡医学证明": "死亡医学证明"}
#: the 户籍 status of a person 公安 has cancelled as dead
HUKOU_DEATH = "死亡注销"


class SuspectedDeath(FindingType):
    key = "suspected_death"
    zh = "疑似死亡未注销"
    short = "death"
    action = "人口死亡登记"
    action_zh = "入户核实死亡情况，属实的办理死亡注销（人口死亡登记）"
    cancellation_reason = "人口死亡登记"
    change = "注销"

    def applies(self, store: Store, tables: Links) -> bool:
        return store.has_table("src_death") or store.has_table("src_hukou")

    def _told(self, store: Store, links: str) -> str:
        """SQL: every record telling a death, with the base person it links to."""
        parts = []
        if store.has_table("src_death"):
            parts.append(f"""
                SELECT l.person_id, 'death' AS source, l.source_record_id, l.match_probability,
                       l.explanation, d.event_date AS death_date
                FROM {links} l
                JOIN {PERSON_TABLE} d ON d.source = 'death' AND d.record_id = l.source_record_id
                WHERE l.source = 'death' AND l.person_id IS NOT NULL""")
        if store.has_table("src_hukou"):
            parts.append(f"""
                SELECT l.person_id, 'hukou' AS source, l.source_record_id, l.match_probability,
                       l.explanation, h.change_date AS death_date
                FROM {links} l JOIN src_hukou h ON h.record_id = l.source_record_id
                WHERE l.source = 'hukou' AND l.person_id IS NOT NULL
                  AND h.hukou_status = '{HUKOU_DEATH}'""")
        return " UNION ALL ".join(parts)

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        # the case's own records are those of its source (death records when there are
        # any); the 户籍 cancellation is listed beside them
        yield candidates(
            store,
            f"""
            WITH told AS ({self._told(store, tables.links)}),
            per_person AS (
                SELECT person_id,
                       CASE WHEN bool_or(source = 'death') THEN 'death' ELSE 'hukou' END
                           AS source
                FROM told GROUP BY person_id
            )
            SELECT '{self.key}' AS finding_type, b.person_id AS case_key,
                   p.source, min(t.source_record_id) FILTER (WHERE t.source = p.source)
                       AS source_record_id,
                   'person' AS role, b.person_id,
                   max(t.match_probability) AS match_probability,
                   any_value(b.township) AS township, any_value(b.village) AS village,
                   '{self.action}' AS suggested_action,
                   '{self.cancellation_reason}' AS cancellation_reason,
                   CASE WHEN count(*) > 1 OR max(t.match_probability) >= 0.999 THEN 'high'
                        ELSE 'normal' END AS priority,
                   to_json({{
                       records: list(t.source_record_id ORDER BY t.source_record_id)
                                FILTER (WHERE t.source = p.source),
                       death_dates: list(CAST(t.death_date AS VARCHAR)
                                         ORDER BY t.source_record_id)
                                    FILTER (WHERE t.source = p.source),
                       probabilities: list(t.match_probability ORDER BY t.source_record_id)
                                      FILTER (WHERE t.source = p.source),
                       reasons: list(t.explanation ORDER BY t.source_record_id)
                                FILTER (WHERE t.source = p.source),
                       hukou_records: list(t.source_record_id ORDER BY t.source_record_id)
                                      FILTER (WHERE t.source = 'hukou'),
                       hukou_dates: list(CAST(t.death_date AS VARCHAR)
                                         ORDER BY t.source_record_id)
                                    FILTER (WHERE t.source = 'hukou')
                   }}) AS evidence
            FROM told t
            JOIN per_person p USING (person_id)
            JOIN {base_persons()} ON b.person_id = t.person_id
            WHERE b.status = '{ACTIVE}'
            GROUP BY b.person_id, p.source
            """,
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        parts = []
        if f.get("source") == "death":
            for r in ctx.rows(f) or [{}]:
                origin = r.get("origin")
                label = ORIGIN_ZH.get(origin or "", ctx.source_zh("death"))
                what = "火化" if origin == "火化" else "死亡"
                parts.append(f"{label} {text(r.get('death_date'))} {what}".replace("  ", " "))
        dates = evidence(f.get("evidence")).get("hukou_dates") or []
        parts += [f"公安户籍 {d or ''} 死亡注销".replace("  ", " ") for d in dates]
        return "；".join(parts)


FINDING = SuspectedDeath()
