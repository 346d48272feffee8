"""婚嫁外省: a base person who married someone from another province, a clue to verify.

Plan 000: 因婚嫁外省或户口迁出外省，不属本省管理的人员，予以注销，注销原因填写"移交外省管理".
A marriage is not a move: a couple still living here is managed here (the spouse as floating
population), so the registration only raises a task to verify where the couple lives, and
only a confirmed answer cancels the base row as 移交外省管理.

Raised for an active base person whose latest 婚姻登记 is a 结婚 with a spouse whose valid ID
was issued in another province, when that spouse is neither in the base (婚入, living here)
nor in the 户籍 register (户口 moved in), and no 户籍 or death record already speaks about the
person (``moved_out``, ``transfer`` and ``suspected_death`` do).
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
    in_hukou,
    text,
)
from linkage.standardise.places import full_name
from linkage.store import Store
from linkage.tables import PERSON_TABLE, source_table

#: an ID whose address code names where it was issued
VALID_ID = "s.id_status IN ('valid', 'upgraded_15')"


class MarriedOut(FindingType):
    key = "married_out"
    zh = "婚嫁外省待核实"
    short = "married out"
    requires = ("marriage",)
    action = "核实婚后居住地"
    action_zh = (
        "入户核实婚后是否随配偶在外省居住：属实的注销（移交外省管理）；"
        "仍在本县居住的不注销，配偶按流动人口登记"
    )
    cancellation_reason = "移交外省管理"
    change = "注销"
    labels = (True, False)  # a couple still living here is not a wrong link

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        province = store.settings.county_code[:2]
        spoken = [
            f"SELECT person_id FROM {tables.links} WHERE source = 'death'"
            if store.has_table(source_table("death"))
            else "SELECT NULL AS person_id WHERE false"
        ]
        if store.has_table(source_table("hukou")):
            spoken.append(
                f"""SELECT l.person_id FROM {tables.links} l
                    JOIN {source_table("hukou")} h ON h.record_id = l.source_record_id
                    WHERE l.source = 'hukou' AND h.hukou_status <> '{ACTIVE}'"""
            )
        yield candidates(
            store,
            f"""
            WITH latest AS (  -- each base person's latest registration, 结婚 or 离婚
                SELECT l.source_record_id, l.role, l.person_id, l.match_probability,
                       l.explanation, m.registration_type,
                       CAST(m.registration_date AS VARCHAR) AS registration_date
                FROM {tables.links} l
                JOIN {source_table("marriage")} m ON m.record_id = l.source_record_id
                WHERE l.source = 'marriage' AND l.person_id IS NOT NULL
                QUALIFY row_number() OVER (PARTITION BY l.person_id
                                           ORDER BY m.registration_date DESC) = 1
            )
            SELECT '{self.key}' AS finding_type, b.person_id AS case_key,
                   'marriage' AS source, x.source_record_id, x.role, b.person_id,
                   x.match_probability, b.township, b.village,
                   '{self.action}' AS suggested_action, 'normal' AS priority,
                   '{self.cancellation_reason}' AS cancellation_reason,
                   to_json({{registration_date: x.registration_date,
                            spouse_region: substr(s.id_number, 1, 6),
                            reason: x.explanation}}) AS evidence
            FROM latest x
            JOIN {base_persons()} ON b.person_id = x.person_id
            JOIN {PERSON_TABLE} s
              ON s.source = 'marriage' AND s.record_id = x.source_record_id
             AND s.role = CASE x.role WHEN 'husband' THEN 'wife' ELSE 'husband' END
            WHERE x.registration_type = '结婚' AND b.status = '{ACTIVE}'
              AND {VALID_ID} AND substr(s.id_number, 1, 2) <> '{province}'
              AND NOT EXISTS (SELECT 1 FROM {tables.links} o
                              WHERE o.source = 'marriage'
                                AND o.source_record_id = x.source_record_id
                                AND o.role = s.role AND o.person_id IS NOT NULL)
              AND NOT {in_hukou(store, "s")}
              AND b.person_id NOT IN (SELECT person_id FROM ({" UNION ".join(spoken)})
                                      WHERE person_id IS NOT NULL)
            """,
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        ev = evidence(f.get("evidence"))
        code = str(ev.get("spouse_region") or "")
        region = full_name(code) or full_name(code[:2] + "0000") or "外省"
        return (
            f"婚姻登记 {text(ev.get('registration_date'))} 结婚，配偶身份证号属{region}，"
            "配偶不在本县人口库，户口未迁入"
        )


FINDING = MarriedOut()
