"""疑似重复登记: two active base rows that are the same person, and which one to keep.

Plan 000 and 002: one ID number is one person; the extra row is cancelled as 重复人口注销.
``person_id`` is the row to cancel, ``other_person_id`` the row to keep: the one with a valid
ID, then the more complete one, then the smaller id.
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
)
from linkage.store import Store
from linkage.tables import PERSON_TABLE
from linkage.wording import compare_zh


class DuplicatePerson(FindingType):
    key = "duplicate_person"
    zh = "疑似重复登记"
    short = "duplicate"
    requires = ("population",)
    action = "重复人口注销"
    action_zh = "核实是否同一人，属实的注销重复记录（重复人口注销）"
    cancellation_reason = "重复人口注销"
    change = "注销"
    evaluation = "pair"

    def applies(self, store: Store, tables: Links) -> bool:
        return tables.dedupe_pairs is not None and super().applies(store, tables)

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        yield candidates(
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
                FROM {tables.dedupe_pairs} d
                JOIN quality ql ON ql.person_id = d.person_id_l
                JOIN quality qr ON qr.person_id = d.person_id_r
            )
            SELECT '{self.key}' AS finding_type,
                   least(keep, drop) || '|' || greatest(keep, drop) AS case_key,
                   'population' AS source, drop AS source_record_id, 'person' AS role,
                   drop AS person_id, keep AS other_person_id, match_probability,
                   b.township, b.village, '{self.action}' AS suggested_action,
                   '{self.cancellation_reason}' AS cancellation_reason, 'normal' AS priority,
                   to_json({{keep: keep}}) AS evidence
            FROM decided
            JOIN {base_persons()} ON b.person_id = decided.drop
            JOIN {base_persons("o")} ON o.person_id = decided.keep
            WHERE b.status = '{ACTIVE}' AND o.status = '{ACTIVE}'
            """,
        )

    # the case rests on the link of the row to cancel to the row to keep
    def link_pair(self, f: Row) -> tuple[str, str | None]:
        return f.get("role") or "person", f.get("other_person_id")

    def clue(self, f: Row, ctx: TaskContext) -> str:
        keep = ctx.base_person(f.get("other_person_id"))
        return (
            f"人口库另有记录 {f.get('other_person_id') or ''}：{keep.get('name') or ''}，"
            f"身份证号 {ctx.mask(keep.get('id_number'))}"
        )

    def basis(self, f: Row, ctx: TaskContext) -> str:
        return self.link_explained(f, ctx) or compare_zh(
            ctx.base_person(f.get("person_id")), ctx.base_person(f.get("other_person_id"))
        )

    def label_pairs(self, label: Row) -> list[Row]:
        a, b = label["person_id"], label["other_person_id"]
        return [
            {"source": "population", "source_record_id": x, "role": "person", "person_id": y}
            for x, y in ((a, b), (b, a))
            if x and y
        ]

    def change_row(self, task: Row) -> Row:
        return {
            **(super().change_row(task) or {}),
            "依据": f"与人员编号 {task.get('other_person_id')} 为同一人，保留该记录",
        }


FINDING = DuplicatePerson()
