"""待核实配对: a clerical pair no analyst decided in time, for the township to check.

The link stage leaves a record whose best base candidate is plausible but not sure in the
clerical band (``clerical``); the analyst decides such pairs with ``renkou review`` (match,
non-match). One still undecided ``[review] undecided_working_days`` working days (configs/
renkou.toml; Monday to Friday less public holidays, plus 调休 make-up days, as every deadline:
``linkage.tasks.workdays``) after it first arose (``clerical_seen``) becomes this case: the
township checks at the household whether the record is that person. A skip is no decision.

Its answer is a label like any link's: 属实 (the same person) is a match — the next night links
the pair as the analyst's match would — and 不属实 a non-match, excluded from then on. The case
closes by itself once the pair is no longer clerical (decided, or linked otherwise).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage import tables as names
from linkage.findings.base import FindingType, Links, Row, TaskContext, as_candidates, text
from linkage.store import Store
from linkage.tasks.workdays import working_days_before


class UncertainLink(FindingType):
    key = "uncertain_link"
    zh = "待核实配对"
    short = "uncertain"
    action = "入户核实"
    action_zh = "入户核实此记录是否即此人：是，填属实；不是，填不属实"
    change = "核实"
    evaluation = "record_role"

    def applies(self, store: Store, tables: Links) -> bool:
        return (
            tables.clerical is not None
            and store.has_table(tables.clerical)
            and store.has_table(names.CLERICAL_SEEN)
        )

    def rules(self, store: Store, tables: Links) -> Iterable[pl.DataFrame]:
        from linkage.review.pairs import decided_sql, pair_key_sql

        days = store.settings.review_undecided_days
        since = working_days_before(tables.day, days)
        decided = (
            f"SELECT pair_key FROM {decided_sql()}"
            if store.has_table(names.REVIEW_DECISIONS)
            else "SELECT NULL AS pair_key WHERE false"
        )
        yield as_candidates(
            store.frame(
                f"""
            WITH c AS (SELECT *, {pair_key_sql("k")} AS pair_key FROM {tables.clerical} k
                       WHERE k.person_id IS NOT NULL)
            SELECT '{self.key}' AS finding_type, c.pair_key AS case_key, c.source,
                   c.source_record_id, c.role, c.person_id, c.match_probability,
                   b.township, b.village, '{self.action}' AS suggested_action,
                   'normal' AS priority,
                   to_json({{pair_key: c.pair_key, first_seen: s.first_seen,
                             working_days: $days, explanation: c.explanation}}) AS evidence
            FROM c JOIN {names.CLERICAL_SEEN} s USING (pair_key)
            LEFT JOIN {names.PERSON_TABLE} b
              ON b.rec_key = 'population|' || c.person_id || '|person'
            WHERE s.first_seen <= $since AND c.pair_key NOT IN ({decided})
            """,
                {"since": since, "days": days},
            )
        )

    def clue(self, f: Row, ctx: TaskContext) -> str:
        rows = ctx.rows(f)
        record = rows[0] if rows else {}
        event = record.get("death_date") or record.get("birth_date") or ""
        probability = f.get("match_probability")
        said = f"{ctx.source_zh(f.get('source') or '')}记录 {f.get('source_record_id') or ''}"
        if event:
            said += f"（{text(event)}）"
        if probability is not None:
            said += f"；系统判断可能是此人（匹配概率 {float(probability):.2f}），人工复核未定"
        return said

    def change_row(self, task: Row) -> Row | None:
        """A confirmed pair changes nothing in the base itself: the link it makes raises the
        cases that do (a death, a birth) the next night."""
        return None


FINDING = UncertainLink()
