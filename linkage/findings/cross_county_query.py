"""跨县协查: a departmental record of someone in neither the base nor the 户籍 register.

Plan 004 (流动人口服务管理): 流入地 and 户籍地 exchange what each knows of the other's people
(跨县协查, answered within 15 days when 紧急, else 30); plan 001: a birth here of a mother
registered elsewhere is verified with the county of registration. A death, a birth
certificate's mother, a maternity claim, a spouse of a marriage registration, or the guardian
of a child on an immunisation record or a school roll that links to no base person and whom
the 户籍 register does not hold either (by valid ID, or by name and birth date) is queried to
where that person is registered. A guardian is queried only when no role of the record links
(neither child nor mother): a family registered in another county, living here, whose child
is floating population, not a local case.

Being an outsider is decided by linkage, not by the ID: many residents carry numbers issued
elsewhere. The ID's address code (a county of today's division table), else the record's
address, only names the ``destination``; none gives an empty destination that the office
fills in before the query can go. These cases are not township fieldwork: they leave the
office as query files (``renkou exchange export``, ``linkage.exchange``).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage.findings.base import (
    FindingType,
    Links,
    Row,
    TaskContext,
    as_candidates,
    evidence,
    in_hukou,
    text,
)
from linkage.standardise.places import divisions, full_name, place
from linkage.store import Store
from linkage.tables import PERSON_TABLE, source_table

#: (source, role) of a record that can be queried → 协查类型 (interfaces §4)
QUERY_TYPES = {
    ("death", "person"): "死亡",
    ("birth_certificate", "mother"): "出生",
    ("maternity_insurance", "person"): "出生",
    ("marriage", "husband"): "婚姻",
    ("marriage", "wife"): "婚姻",
    ("vaccination", "guardian"): "流动人口",
    ("school", "guardian"): "流动人口",
}
#: sources whose guardian is queried only when no role of the record links (the child, the
#: mother: a family registered elsewhere, living here)
FAMILY_SOURCES = ("vaccination", "school")
#: level of a county in the division table (1 province, 2 prefecture, 3 county)
COUNTY_LEVEL = 3


class CrossCountyQuery(FindingType):
    key = "cross_county_query"
    zh = "跨县协查"
    short = "query"
    action = "发起协查"
    action_zh = "向户籍地发函协查，按期催收反馈"
    change = "协查"
    evaluation = "record_role"  # a couple from elsewhere is two queries of one record
    labels = None  # the case rests on the absence of a link
    fieldwork = False

    def applies(self, store: Store, tables: Links) -> bool:
        return any(store.has_table(source_table(s)) for s, _ in QUERY_TYPES)

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        queried = " OR ".join(
            f"(l.source = '{s}' AND l.role = '{r}')"
            for s, r in QUERY_TYPES
            if store.has_table(source_table(s))
        )
        families = ", ".join(f"'{s}'" for s in FAMILY_SOURCES)
        kind = " ".join(
            f"WHEN l.source = '{s}' AND l.role = '{r}' THEN '{t}'"
            for (s, r), t in QUERY_TYPES.items()
        )
        frame = store.frame(f"""
            WITH raw AS ({delivered_addresses(store)})
            SELECT '{self.key}' AS finding_type,
                   l.source || '|' || l.source_record_id || '|' || l.role AS case_key,
                   l.source, l.source_record_id, l.role, NULL AS person_id,
                   '{self.action}' AS suggested_action, 'normal' AS priority,
                   CASE {kind} END AS query_type,
                   CASE WHEN p.id_status IN ('valid', 'upgraded_15', 'bad_check')
                        THEN p.id_region END AS id_region,
                   a.address, CAST(p.event_date AS VARCHAR) AS event_date
            FROM {tables.links} l
            JOIN {PERSON_TABLE} p ON p.source = l.source AND p.record_id = l.source_record_id
                                 AND p.role = l.role
            LEFT JOIN raw a ON a.source = l.source AND a.record_id = l.source_record_id
            WHERE l.person_id IS NULL AND ({queried}) AND NOT {in_hukou(store, "p")}
              AND NOT (l.source IN ({families}) AND EXISTS (
                  SELECT 1 FROM {tables.links} o WHERE o.source = l.source
                    AND o.source_record_id = l.source_record_id AND o.person_id IS NOT NULL))
        """)
        home = store.settings.county_code
        table = divisions()
        destination = [
            _destination(code, address, home, table)
            for code, address in frame.select("id_region", "address").iter_rows()
        ]
        frame = frame.with_columns(
            pl.Series("destination", destination, dtype=pl.String),
            pl.struct("query_type", "id_region", "event_date")
            .struct.json_encode()
            .alias("evidence"),
        )
        yield as_candidates(frame)

    def subject(self, f: Row, ctx: TaskContext) -> tuple[str, str, str]:
        person = ctx.person(f)
        return (
            person.get("name") or "",
            ctx.mask(person.get("id_number")),
            person.get("address") or "",
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        ev = evidence(f.get("evidence"))
        said = f"{ctx.source_zh(f.get('source') or '')} {text(ev.get('event_date'))}："
        said += "本县人口库和公安户籍均无此人"
        where = full_name(f.get("destination"))
        return said + (f"；向{where}协查" if where else "；户籍地不明，请补填")

    def change_row(self, task: Row) -> Row | None:
        return None  # a query changes nothing in the base; its answer may raise a finding


def delivered_addresses(store: Store) -> str:
    """SQL: (source, record_id, address) of the queried sources' records, the address as
    delivered (person records keep it without its province and county)."""
    parts = [
        f"SELECT '{s}' AS source, record_id, address FROM {source_table(s)}"
        for s in sorted({s for s, _ in QUERY_TYPES})
        if store.has_table(source_table(s))
        and "address" in store.frame(f"DESCRIBE {source_table(s)}")["column_name"].to_list()
    ]
    return " UNION ALL ".join(parts) or (
        "SELECT NULL AS source, NULL AS record_id, NULL AS address WHERE false"
    )


def _destination(
    code: str | None, address: str | None, home: str, table: dict[str, tuple[int, str, str]]
) -> str | None:
    """The county to query: the ID's address code when it is a county of today's table, else
    the county the address names; None for none, or for the county itself."""
    county = code if code and table.get(code, (0,))[0] == COUNTY_LEVEL else None
    if county is None and address:
        county = place(address).county
    return county if county != home else None


FINDING = CrossCountyQuery()
