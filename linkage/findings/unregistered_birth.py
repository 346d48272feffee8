"""出生未登记: a birth the base does not have, told by a birth certificate, an immunisation
record, a school roll or a maternity claim.

Plan 003: 卫健 (birth certificates) and 人社/医保 (maternity insurance) data are compared
with the base and verified; plan 001 adds vaccination and school data, to remove every
under-report (消除各种漏报、瞒报). A child (certificate, immunisation record, school roll)
counts when it links to nobody and its mother is a base person (linked as the mother, or a
linked guardian who is a woman of a mother's age): births to mothers from elsewhere are not
this county's. One child is one case however many records show it
(``linkage.findings._children``); twins are separate records, so two unregistered twins are
two cases and one registered twin leaves one. A claim counts when its mother links and
neither a certificate of hers nor a base person of her household is within the delivery
window.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage.findings._children import child_cases, unregistered_children
from linkage.findings.base import (
    FindingType,
    Links,
    Row,
    TaskContext,
    as_candidates,
    base_persons,
    candidates,
    evidence,
    text,
)
from linkage.store import Store
from linkage.tables import PERSON_TABLE, source_table


def also_shown(f: Row, ctx: TaskContext) -> str:
    """The other records that show the same child, as the clue names them (empty for
    none)."""
    shown = evidence(f.get("evidence")).get("shown_by") or []
    others = [str(r).split("|", 1)[0] for r in shown[1:]]
    return ("；另见" + "、".join(ctx.source_zh(s) for s in others)) if others else ""


#: the sources of children (linkage.catalog's household roles), and the role of the record
#: that names the mother
CHILD_SOURCES = ("birth_certificate", "vaccination", "school")
MOTHER_ROLE = {"birth_certificate": "mother", "vaccination": "mother"}
#: how far (days) a claim's delivery date may lie from a certificate of the same mother
DELIVERY_WINDOW_DAYS = 45
#: how far (days) a base person's birth date may lie from a claim's delivery date
HOUSEHOLD_BIRTH_DAYS = 3


class UnregisteredBirth(FindingType):
    key = "unregistered_birth"
    zh = "出生未登记"
    short = "birth"
    action = "补登出生"
    action_zh = "核实新生儿情况，属实的补登出生信息"
    change = "补登"
    change_item = "出生登记"
    evaluation = "record"
    labels = (True, False)  # a rejected birth may be a registered child, not a wrong mother

    def applies(self, store: Store, tables: Links) -> bool:
        return any(store.has_table(source_table(s)) for s in self._sources(store))

    @staticmethod
    def _sources(store: Store) -> list[str]:
        return [
            s for s in (*CHILD_SOURCES, "maternity_insurance") if store.has_table(source_table(s))
        ]

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        sources = self._sources(store)
        if any(s in sources for s in CHILD_SOURCES):
            yield self._from_children(store, tables.links)
        if "maternity_insurance" in sources:
            yield self._from_claims(store, tables.links, "birth_certificate" in sources)

    def _from_children(self, store: Store, links: str) -> pl.DataFrame:
        children = unregistered_children(store, links).filter(pl.col("mother").is_not_null())
        frame = child_cases(
            children,
            self.key,
            self.action,
            parent="mother",
            priority=pl.when(pl.col("match_probability") >= 0.99)
            .then(pl.lit("high"))
            .otherwise(pl.lit("normal")),
            evidence=[
                pl.col("mother"),
                pl.col("match_probability").alias("mother_link_probability"),
            ],
        )
        return as_candidates(frame)

    def _from_claims(self, store: Store, links: str, certificates: bool) -> pl.DataFrame:
        certificate_clause = (
            f"""
              AND NOT EXISTS (
                  SELECT 1 FROM {links} ml JOIN {PERSON_TABLE} c
                    ON c.source = 'birth_certificate' AND c.role = 'mother'
                   AND c.record_id = ml.source_record_id
                  WHERE ml.source = 'birth_certificate' AND ml.role = 'mother'
                    AND ml.person_id = l.person_id
                    AND abs(date_diff('day', c.event_date, r.event_date))
                        <= {DELIVERY_WINDOW_DAYS})
            """
            if certificates
            else ""
        )
        return candidates(
            store,
            f"""
            SELECT '{self.key}' AS finding_type,
                   'maternity_insurance|' || r.record_id AS case_key,
                   'maternity_insurance' AS source, r.record_id AS source_record_id,
                   'person' AS role, b.person_id AS other_person_id, l.match_probability,
                   b.township, b.village, '{self.action}' AS suggested_action,
                   'normal' AS priority,
                   to_json({{delivery_date: CAST(r.event_date AS VARCHAR), mother: b.person_id}})
                       AS evidence
            FROM {links} l
            JOIN {PERSON_TABLE} r ON r.source = 'maternity_insurance'
                                 AND r.record_id = l.source_record_id
            JOIN {base_persons()} ON b.person_id = l.person_id
            WHERE l.source = 'maternity_insurance'
              {certificate_clause}
              AND NOT EXISTS (
                  SELECT 1 FROM {base_persons("k")}
                  WHERE k.household_id = b.household_id AND k.person_id <> b.person_id
                    AND abs(date_diff('day', k.birth_date, r.event_date))
                        <= {HOUSEHOLD_BIRTH_DAYS})
            """,
        )

    # the case rests on the mother's link: the child has no base person yet
    def link_pair(self, f: Row) -> tuple[str, str | None]:
        source = f.get("source")
        role = (
            MOTHER_ROLE.get(source or "", "guardian")
            if source in CHILD_SOURCES
            else f.get("role") or "person"
        )
        return role, f.get("other_person_id")

    def clue(self, f: Row, ctx: TaskContext) -> str:
        rows = ctx.rows(f)
        row = rows[0] if rows else {}
        mother = ctx.base_person(f.get("other_person_id")).get("name") or ""
        if f.get("source") == "maternity_insurance":
            babies = row.get("babies")
            return (
                f"生育保险 {text(row.get('delivery_date'))} 生育"
                + (f"（{babies}胎）" if babies else "")
                + f"；母亲 {mother}"
            )
        sex = f"（{row['sex']}）" if row.get("sex") else ""
        place = f"，{row['birth_place']}" if row.get("birth_place") else ""
        if f.get("source") != "birth_certificate":
            place = next((f"，{row[c]}" for c in ("clinic", "school") if row.get(c)), "") + (
                f" {row['grade']}" if row.get("grade") else ""
            )
        said = (
            f"{ctx.source_zh(f.get('source') or '')} {text(row.get('birth_date'))} "
            f"出生{sex}{place}；母亲 {mother}"
        )
        return said + also_shown(f, ctx)

    def subject(self, f: Row, ctx: TaskContext) -> tuple[str, str, str]:
        mother = ctx.base_person(f.get("other_person_id"))
        child = ctx.person(f).get("name") if f.get("source") in CHILD_SOURCES else None
        name = f"{child or '新生儿（未取名）'}（母：{mother.get('name') or ''}）"
        masked = ctx.mask(mother.get("id_number"))
        return name, f"母：{masked}" if masked else "", mother.get("address") or ""

    def basis(self, f: Row, ctx: TaskContext) -> str:
        return f"母亲比对：{self.link_explained(f, ctx) or '已匹配'}；人口库中未找到该新生儿"

    def label_pairs(self, label: Row) -> list[Row]:
        role, mother = self.link_pair(label)
        return [
            {
                "source": label["source"],
                "source_record_id": label["source_record_id"],
                "role": role,
                "person_id": mother,
            }
        ]

    def change_row(self, task: Row) -> Row:
        return {
            **(super().change_row(task) or {}),
            "人员编号": "",
            "新值": f"母亲人员编号 {task.get('other_person_id')}；"
            f"{task.get('source')} {task.get('source_record_id')}",
        }


FINDING = UnregisteredBirth()
