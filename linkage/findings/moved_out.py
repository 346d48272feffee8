"""迁出未注销: 户籍 says 迁出注销 while the linked base person is still 正常.

Plan 000: only those who left the province are cancelled as 移交外省管理; transfers are
confirmed by the receiver within 7 working days.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage.findings.base import (
    ACTIVE,
    Deadline,
    FindingType,
    Links,
    Row,
    TaskContext,
    base_persons,
    candidates,
    text,
)
from linkage.store import Store


class MovedOut(FindingType):
    key = "moved_out"
    zh = "迁出未注销"
    short = "moved out"
    requires = ("hukou",)
    action = "移交"
    action_zh = "核实是否已迁出，属实的办理迁出注销（移交外省管理）"
    cancellation_reason = "移交外省管理"
    deadline = Deadline(7, "working")
    change = "注销"

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        yield candidates(
            store,
            f"""
            SELECT '{self.key}' AS finding_type, b.person_id AS case_key, 'hukou' AS source,
                   l.source_record_id, 'person' AS role, b.person_id, l.match_probability,
                   b.township, b.village, '{self.action}' AS suggested_action,
                   '{self.cancellation_reason}' AS cancellation_reason, 'normal' AS priority,
                   to_json({{moved_to: h.moved_to, change_date: CAST(h.change_date AS VARCHAR),
                            reason: l.explanation}}) AS evidence
            FROM {tables.links} l
            JOIN src_hukou h ON h.record_id = l.source_record_id
            JOIN {base_persons()} ON b.person_id = l.person_id
            WHERE l.source = 'hukou' AND h.hukou_status = '迁出注销' AND b.status = '{ACTIVE}'
            QUALIFY row_number() OVER (PARTITION BY b.person_id ORDER BY h.change_date DESC) = 1
            """,
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        rows = ctx.rows(f)
        row = rows[0] if rows else {}
        said = f"公安户籍 {text(row.get('change_date'))} 迁出注销"
        return said + (f"，迁往{row['moved_to']}" if row.get("moved_to") else "")


FINDING = MovedOut()
