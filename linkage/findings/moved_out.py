"""迁出未注销: 户籍 says 迁出注销 to another province while the base person is still 正常.

Plan 000: 因婚嫁外省或户口迁出外省，不属本省管理的人员，予以注销，注销原因填写"移交外省管理".
Moves within the province are transfers (``transfer``), not cancellations.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage.findings._moves import moved_clue, moves
from linkage.findings.base import FindingType, Links, Row, TaskContext
from linkage.store import Store


class MovedOut(FindingType):
    key = "moved_out"
    zh = "迁出外省未注销"
    short = "moved out"
    requires = ("hukou",)
    action = "移交外省管理"
    action_zh = "核实是否已迁出外省，属实的办理注销（移交外省管理）"
    cancellation_reason = "移交外省管理"
    change = "注销"

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        yield moves(store, tables.links, self.key, self.action, self.cancellation_reason)

    def clue(self, f: Row, ctx: TaskContext) -> str:
        return moved_clue(f, ctx)


FINDING = MovedOut()
