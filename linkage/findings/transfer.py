"""省内迁移待移交: 户籍 says 迁出注销 to another county of the same province while the base
person is still 正常: not a cancellation but a hand-over to the unit where they now live.

Plan 000: 省内人员户籍变更后，按照现户籍地和现居住地一致的原则，通过整户移交功能，重新明确管理单位。
接收方须在7个工作日内进行确认. ``destination`` is the 6-digit code of the county it went to;
empty when the 迁往地址 cannot be placed, and then the task asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage.findings._moves import moved_clue, moves
from linkage.findings.base import Deadline, FindingType, Links, Row, TaskContext, evidence
from linkage.standardise.places import full_name
from linkage.store import Store


class Transfer(FindingType):
    key = "transfer"
    zh = "省内迁移待移交"
    short = "transfer"
    requires = ("hukou",)
    action = "整户移交"
    action_zh = "核实现户籍地，属实的整户移交现户籍地管理（接收方7个工作日内确认）"
    deadline = Deadline(7, "working")
    change = "移交"
    change_item = "管理单位"

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        yield moves(store, tables.links, self.key, self.action, None)

    def clue(self, f: Row, ctx: TaskContext) -> str:
        said = moved_clue(f, ctx)
        where = full_name(f.get("destination"))
        said += f"（{where}）" if where else "；迁往地无法确定，请核实现户籍地"
        return said + household_note(f)

    def change_row(self, task: Row) -> Row:
        code = task.get("destination") or ""
        return {
            **(super().change_row(task) or {}),
            "原值": "本县",
            "新值": (f"{full_name(code)} {code}".strip() or "（待核实）") + household_note(task),
        }


def household_note(f: Row) -> str:
    """``；整户移交（户号 H1，同户3人）`` when members of one household moved together."""
    ev = evidence(f.get("evidence"))
    members = ev.get("household_members") or []
    if len(members) < 2:
        return ""
    return f"；整户移交（户号 {ev.get('household_id') or ''}，同户{len(members)}人）"


FINDING = Transfer()
