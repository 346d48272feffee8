"""疑似死亡未注销: a death or cremation record linked to a base person still 正常.

Plan 000: deaths are cancelled only as 人口死亡登记. One case per person, however many
records (a cremation and a medical certificate of one death) tell it.
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
    text,
)
from linkage.store import Store
from linkage.tables import PERSON_TABLE

#: death record origin → how the clue names it
ORIGIN_ZH = {"火化": "殡葬记录", "死亡医学证明": "死亡医学证明"}


class SuspectedDeath(FindingType):
    key = "suspected_death"
    zh = "疑似死亡未注销"
    short = "death"
    requires = ("death",)
    action = "人口死亡登记"
    action_zh = "入户核实死亡情况，属实的办理死亡注销（人口死亡登记）"
    cancellation_reason = "人口死亡登记"
    change = "注销"

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        yield candidates(
            store,
            f"""
            SELECT '{self.key}' AS finding_type, b.person_id AS case_key,
                   'death' AS source, min(l.source_record_id) AS source_record_id,
                   'person' AS role, b.person_id,
                   max(l.match_probability) AS match_probability,
                   any_value(b.township) AS township, any_value(b.village) AS village,
                   '{self.action}' AS suggested_action,
                   '{self.cancellation_reason}' AS cancellation_reason,
                   CASE WHEN count(*) > 1 OR max(l.match_probability) >= 0.999 THEN 'high'
                        ELSE 'normal' END AS priority,
                   to_json({{records: list(l.source_record_id ORDER BY l.source_record_id),
                            death_dates: list(CAST(d.event_date AS VARCHAR)
                                              ORDER BY l.source_record_id),
                            probabilities: list(l.match_probability
                                                ORDER BY l.source_record_id),
                            reasons: list(l.explanation ORDER BY l.source_record_id)}})
                       AS evidence
            FROM {tables.links} l
            JOIN {PERSON_TABLE} d ON d.source = 'death' AND d.record_id = l.source_record_id
            JOIN {base_persons()} ON b.person_id = l.person_id
            WHERE l.source = 'death' AND b.status = '{ACTIVE}'
            GROUP BY b.person_id
            """,
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        parts = []
        for r in ctx.rows(f) or [{}]:
            origin = r.get("origin")
            label = ORIGIN_ZH.get(origin or "", ctx.source_zh("death"))
            what = "火化" if origin == "火化" else "死亡"
            parts.append(f"{label} {text(r.get('death_date'))} {what}".replace("  ", " "))
        return "；".join(parts)


FINDING = SuspectedDeath()
