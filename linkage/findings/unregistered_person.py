"""户籍人口未入库: an active 户籍 person linked to nobody in the base.

Plan 000: persons of 公安 not in the base are visited and 补录. The township is read from
the 户籍 address, else from base persons of the same household.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage.findings.base import ACTIVE, FindingType, Links, Row, TaskContext, candidates
from linkage.store import Store
from linkage.tables import PERSON_TABLE


class UnregisteredPerson(FindingType):
    key = "unregistered_person"
    zh = "户籍人口未入库"
    short = "unregist."
    requires = ("hukou",)
    action = "补录人口"
    action_zh = "核实是否常住本地，属实的补录入人口库"
    change = "补录"
    change_item = "人口信息补录"
    evaluation = "record"
    labels = None

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        yield candidates(
            store,
            f"""
            WITH unlinked AS (
                SELECT h.record_id, h.household_id FROM src_hukou h
                WHERE h.hukou_status = '{ACTIVE}'
                  AND NOT EXISTS (SELECT 1 FROM {tables.links} l WHERE l.source = 'hukou'
                                  AND l.source_record_id = h.record_id
                                  AND l.person_id IS NOT NULL)
            ),
            hh AS (  -- only the households of unlinked persons, not every household
                SELECT household_id, any_value(township) AS township,
                       any_value(village) AS village
                FROM {PERSON_TABLE}
                WHERE source = 'population' AND township IS NOT NULL
                  AND household_id IN (SELECT household_id FROM unlinked)
                GROUP BY household_id
            )
            SELECT '{self.key}' AS finding_type, 'hukou|' || u.record_id AS case_key,
                   'hukou' AS source, u.record_id AS source_record_id, 'person' AS role,
                   coalesce(p.township, hh.township) AS township,
                   coalesce(p.village, hh.village) AS village,
                   '{self.action}' AS suggested_action, 'normal' AS priority,
                   to_json({{household_id: u.household_id}}) AS evidence
            FROM unlinked u
            JOIN {PERSON_TABLE} p ON p.source = 'hukou' AND p.record_id = u.record_id
            LEFT JOIN hh ON hh.household_id = u.household_id
            """,
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        rows = ctx.rows(f)
        household = (rows[0] if rows else {}).get("household_id")
        return "公安户籍在册" + (f"（户号 {household}）" if household else "") + "，人口库无此人"

    def subject(self, f: Row, ctx: TaskContext) -> tuple[str, str, str]:
        person = ctx.person(f)
        row = ctx.src.get((f.get("source") or "", f.get("source_record_id") or ""), {})
        return (
            person.get("name") or "",
            ctx.mask(person.get("id_number")),
            row.get("hukou_address") or person.get("address") or "",
        )

    def link_pair(self, f: Row) -> tuple[str, str | None]:
        return f.get("role") or "person", None  # rests on no link

    def basis(self, f: Row, ctx: TaskContext) -> str:
        return "户籍在册、户口状态正常，人口库中未找到对应人员"

    def label_pairs(self, label: Row) -> list[Row]:
        return []

    def change_row(self, task: Row) -> Row:
        return {
            **(super().change_row(task) or {}),
            "人员编号": "",
            "新值": f"公安户籍记录 {task.get('source_record_id')}",
        }


FINDING = UnregisteredPerson()
