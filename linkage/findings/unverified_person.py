"""未通过公安比对: an active base person whom no 户籍 record confirms.

Plan 000: 未通过公安比对认证的全员人口身份证信息（不包括外省婚入且户籍未迁入人员），进行入户
核实并补录; 经核实确为虚假人口的，予以注销，注销原因为"错误信息注销"，相关联的出生信息按统计口径
同时予以删除.

Judged only against a 户籍 delivery that is the county's whole register (``[delivery]
snapshot = true`` in ``sources/hukou.toml``): a partial delivery proves no absence. Not
raised for a person a death record tells dead, one of several base rows of a person (that is
``duplicate_person``), or a spouse from another province whose 户口 has not moved in (a valid
ID of another province and a married status). The evidence says what it looks like: a
``newborn`` (under one year: 落户 not done, coordinate with 公安), a person registered
``elsewhere`` (an ID of another county), or ``no_trace`` (a possible 虚假人口: confirmed, it
is cancelled as 错误信息注销 with the base children whose births it mothered).
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
from linkage.standardise.places import full_name
from linkage.store import Store
from linkage.tables import source_table

#: marital statuses of a married person (the 外省婚入 exemption)
MARRIED = ("初婚", "再婚", "复婚", "已婚")
KIND_ZH = {
    "newborn": "新生儿未落户",
    "elsewhere": "户籍在外县",
    "no_trace": "公安无此人，疑似虚假人口",
}


class UnverifiedPerson(FindingType):
    key = "unverified_person"
    zh = "公安比对未通过"
    short = "unverified"
    requires = ("hukou",)
    action = "入户核实"
    action_zh = (
        "入户核实：确属虚假人口的注销（错误信息注销）；新生儿未落户的协调公安落户；"
        "户籍在外县的告知户籍地"
    )
    cancellation_reason = "错误信息注销"
    change = "注销"
    labels = None  # the case rests on no link

    def applies(self, store: Store, tables: Links) -> bool:
        return super().applies(store, tables) and store.settings.source("hukou").snapshot

    def not_raised(self, store: Store) -> str | None:
        if store.has_table(source_table("hukou")) and not store.settings.source("hukou").snapshot:
            return (
                "no unverified_person: the 户籍 delivery is not declared the county's whole "
                "register ([delivery] snapshot in sources/hukou.toml), so it proves no absence"
            )
        return None

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        county = store.settings.county_code
        dead = (
            f"SELECT person_id FROM {tables.links} WHERE source = 'death'"
            if store.has_table(source_table("death"))
            else "SELECT NULL AS person_id WHERE false"
        )
        duplicated = (
            f"SELECT person_id_l AS person_id FROM {tables.dedupe_pairs} "
            f"UNION SELECT person_id_r FROM {tables.dedupe_pairs}"
            if tables.dedupe_pairs and store.has_table(tables.dedupe_pairs)
            else "SELECT NULL AS person_id WHERE false"
        )
        married = ", ".join(f"'{m}'" for m in MARRIED)
        valid = "b.id_status IN ('valid', 'upgraded_15')"
        yield candidates(
            store,
            f"""
            WITH explained AS (
                SELECT person_id FROM {tables.links}
                WHERE source = 'hukou' AND person_id IS NOT NULL
                UNION SELECT person_id FROM ({dead}) WHERE person_id IS NOT NULL
                UNION SELECT person_id FROM ({duplicated}) WHERE person_id IS NOT NULL
            ),
            children AS (  -- base children whose birth certificate's mother is this person
                SELECT m.person_id AS mother, list(DISTINCT c.person_id ORDER BY c.person_id)
                    AS births
                FROM {tables.links} m JOIN {tables.links} c
                  ON c.source = 'birth_certificate' AND c.role = 'child'
                 AND c.source_record_id = m.source_record_id AND c.person_id IS NOT NULL
                WHERE m.source = 'birth_certificate' AND m.role = 'mother'
                  AND m.person_id IS NOT NULL
                GROUP BY m.person_id
            )
            SELECT '{self.key}' AS finding_type, b.person_id AS case_key,
                   'population' AS source, b.person_id AS source_record_id,
                   'person' AS role, b.person_id, b.township, b.village,
                   '{self.action}' AS suggested_action, 'normal' AS priority,
                   to_json({{
                       looks_like: CASE
                           WHEN b.birth_date > current_date - INTERVAL 1 YEAR THEN 'newborn'
                           WHEN {valid} AND substr(b.id_number, 1, 6) <> '{county}'
                               THEN 'elsewhere'
                           ELSE 'no_trace' END,
                       id_region: CASE WHEN {valid} THEN substr(b.id_number, 1, 6) END,
                       births: coalesce(ch.births, [])
                   }}) AS evidence
            FROM {base_persons()}
            LEFT JOIN children ch ON ch.mother = b.person_id
            WHERE b.status = '{ACTIVE}'
              AND b.person_id NOT IN (SELECT person_id FROM explained)
              AND NOT ({valid} AND substr(b.id_number, 1, 2) <> '{county[:2]}'
                       AND b.marital_status IN ({married}))
            """,
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        ev = evidence(f.get("evidence"))
        said = "公安户籍库中无此人；" + KIND_ZH.get(ev.get("looks_like") or "", "")
        region = full_name(ev.get("id_region"))
        if ev.get("looks_like") == "elsewhere" and region:
            said += f"（身份证号属{region}）"
        return said

    def change_row(self, task: Row) -> Row | None:
        """Only a confirmed false entry changes the base: 错误信息注销, with its births."""
        ev = evidence(task.get("evidence"))
        if ev.get("looks_like") != "no_trace":
            return None
        row = dict(super().change_row(task) or {})
        births = ev.get("births") or []
        if births:
            row["依据"] = (
                f"{task.get('线索来源及内容') or ''}；相关联的出生信息一并删除："
                + "、".join(str(b) for b in births)
            )
        return row


FINDING = UnverifiedPerson()
