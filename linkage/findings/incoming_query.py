"""外县协查待核实: a query from another county whose match in the base is doubtful.

Plan 004: 现居住地负责对户籍地发送的协查信息进行反馈 … 确实查找不到的，也要进行信息反馈. A
received query (``renkou exchange import``) that the 户籍 model neither links to a base
person nor rules out (its best candidate falls in the clerical band) is visited: the township
checks whether the candidate is the person asked about. 属实 answers the asking county 本县有此人
(or 已注销 with the person's status); 不属实 answers 本县无此人 (``renkou exchange answers``).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage.findings.base import (
    FindingType,
    Links,
    Row,
    TaskContext,
    base_persons,
    candidates,
    evidence,
    text,
)
from linkage.standardise.places import full_name
from linkage.store import Store
from linkage.tables import EXCHANGE_RECEIVED

#: 需入户核实: the conclusion that makes a visit
VISIT = "需入户核实"


class IncomingQuery(FindingType):
    key = "incoming_query"
    zh = "外县协查待核实"
    short = "incoming"
    action = "入户核实"
    action_zh = "入户核实此人是否即外县协查所问之人：是，填属实；不是，填不属实并说明"
    change = "协查反馈"
    evaluation = "record"
    labels = None  # the query is no delivered record: its answer teaches no link

    def applies(self, store: Store, tables: Links) -> bool:
        return store.has_table(EXCHANGE_RECEIVED)

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        yield candidates(
            store,
            f"""
            SELECT '{self.key}' AS finding_type, x.from_county || '|' || x.query_id AS case_key,
                   'exchange' AS source, x.from_county || '|' || x.query_id AS source_record_id,
                   'person' AS role, b.person_id, x.match_probability, b.township, b.village,
                   '{self.action}' AS suggested_action,
                   CASE WHEN x.urgency = '紧急' THEN 'high' ELSE 'normal' END AS priority,
                   to_json({{from_county: x.from_county, query_id: x.query_id,
                            query_type: x.query_type, due_on: CAST(x.due_on AS VARCHAR)}})
                       AS evidence
            FROM {EXCHANGE_RECEIVED} x JOIN {base_persons()} ON b.person_id = x.person_id
            WHERE x.conclusion = '{VISIT}'
            """,
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        ev = evidence(f.get("evidence"))
        asking = full_name(ev.get("from_county")) or ev.get("from_county") or "外县"
        return (
            f"{asking}协查（{ev.get('query_type') or ''}，编号 {ev.get('query_id') or ''}），"
            f"反馈期限 {text(ev.get('due_on'))}：比对存疑"
        )

    def basis(self, f: Row, ctx: TaskContext) -> str:
        probability = f.get("match_probability")
        said = f"与人口库此人比对概率 {float(probability):.0%}" if probability is not None else ""
        return said + "，介于确认与排除之间"

    def change_row(self, task: Row) -> Row | None:
        return None  # the answer goes back to the asking county, not into the base


FINDING = IncomingQuery()
