"""户籍人口未入库: an active 户籍 person linked to nobody in the base, or a child of a county
family whom neither the base nor 户籍 knows (黑户).

Plan 000: persons of 公安 not in the base are visited and 补录. The township is read from
the 户籍 address, else from base persons of the same household. Plan 001: immunisation and
school records find the children no register counts: a child of these records (or of a birth
certificate) who links to nobody, whose mother is no base person but whose guardian (the
father, a grandparent) is, and whom 户籍 does not hold either, is one case per child
(``linkage.findings._children``): 补录, and 落户 to coordinate with 公安. A child 户籍 does
hold is the 户籍 record's case already.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage.findings._children import child_cases, unregistered_children
from linkage.findings.base import (
    ACTIVE,
    FindingType,
    Links,
    Row,
    TaskContext,
    as_candidates,
    candidates,
    text,
)
from linkage.findings.unregistered_birth import CHILD_SOURCES, also_shown
from linkage.store import Store
from linkage.tables import PERSON_TABLE, source_table


class UnregisteredPerson(FindingType):
    key = "unregistered_person"
    zh = "户籍人口未入库"
    short = "unregist."
    action = "补录人口"
    action_zh = "核实是否常住本地，属实的补录入人口库"
    change = "补录"
    change_item = "人口信息补录"
    evaluation = "record"
    labels = None

    def applies(self, store: Store, tables: Links) -> bool:
        return any(store.has_table(source_table(s)) for s in ("hukou", *CHILD_SOURCES))

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        if any(store.has_table(source_table(s)) for s in CHILD_SOURCES):
            yield self._children(store, tables.links)
        if store.has_table(source_table("hukou")):
            yield self._from_hukou(store, tables)

    def _children(self, store: Store, links: str) -> pl.DataFrame:
        children = unregistered_children(store, links).filter(
            pl.col("mother").is_null() & pl.col("guardian").is_not_null() & ~pl.col("in_hukou")
        )
        frame = child_cases(
            children,
            self.key,
            self.action,
            parent="guardian",
            priority=pl.lit("normal"),
            evidence=[
                pl.col("guardian"),
                pl.lit(True).alias("unregistered_in_hukou"),  # 黑户: 落户 with 公安
            ],
        )
        return as_candidates(frame)

    def _from_hukou(self, store: Store, tables: Links) -> pl.DataFrame:
        return candidates(
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
        if f.get("source") != "hukou":
            row = (ctx.rows(f) or [{}])[0]
            guardian = ctx.base_person(f.get("other_person_id")).get("name") or ""
            return (
                f"{ctx.source_zh(f.get('source') or '')} {text(row.get('birth_date'))} 出生；"
                f"监护人 {guardian}；人口库和公安户籍均无此儿童（黑户，协调公安落户）"
                + also_shown(f, ctx)
            )
        rows = ctx.rows(f)
        household = (rows[0] if rows else {}).get("household_id")
        return "公安户籍在册" + (f"（户号 {household}）" if household else "") + "，人口库无此人"

    def subject(self, f: Row, ctx: TaskContext) -> tuple[str, str, str]:
        if f.get("source") != "hukou":
            guardian = ctx.base_person(f.get("other_person_id"))
            child = ctx.person(f).get("name") or "儿童（未取名）"
            masked = ctx.mask(guardian.get("id_number"))
            return (
                f"{child}（监护人：{guardian.get('name') or ''}）",
                f"监护人：{masked}" if masked else "",
                guardian.get("address") or "",
            )
        person = ctx.person(f)
        row = ctx.src.get((f.get("source") or "", f.get("source_record_id") or ""), {})
        return (
            person.get("name") or "",
            ctx.mask(person.get("id_number")),
            row.get("hukou_address") or person.get("address") or "",
        )

    def link_pair(self, f: Row) -> tuple[str, str | None]:
        if f.get("source") != "hukou":  # rests on the guardian's link
            return "guardian", f.get("other_person_id")
        return f.get("role") or "person", None  # rests on no link

    def basis(self, f: Row, ctx: TaskContext) -> str:
        if f.get("source") != "hukou":
            said = self.link_explained(f, ctx) or "已匹配"
            return f"监护人比对：{said}；人口库和公安户籍中均未找到该儿童"
        return "户籍在册、户口状态正常，人口库中未找到对应人员"

    def label_pairs(self, label: Row) -> list[Row]:
        return []

    def change_row(self, task: Row) -> Row:
        source = task.get("source")
        said = (
            f"公安户籍记录 {task.get('source_record_id')}"
            if source == "hukou"
            else f"监护人人员编号 {task.get('other_person_id')}；{source} "
            f"{task.get('source_record_id')}（落户待公安办理）"
        )
        return {**(super().change_row(task) or {}), "人员编号": "", "新值": said}


FINDING = UnregisteredPerson()
