"""What moved_out and transfer share: 户籍 迁出注销 of a base person still 正常, placed by
where it went (``linkage.standardise.places``) against the county's own province."""

from __future__ import annotations

import polars as pl

from linkage.findings.base import ACTIVE, Row, TaskContext, as_candidates, base_persons, text
from linkage.standardise.places import place
from linkage.store import Store

#: the 户籍 status of a person who moved away
MOVED = "迁出注销"


def moves(store: Store, links: str, kind: str, action: str, reason: str | None) -> pl.DataFrame:
    """The moves of ``kind``: ``moved_out`` (placed in another province) or ``transfer``
    (placed in the county's own province, or not placed at all: then ``destination`` is
    empty and the task asks for it; nothing is cancelled on a guess)."""
    frame = store.frame(f"""
        SELECT '{kind}' AS finding_type, b.person_id AS case_key, 'hukou' AS source,
               l.source_record_id, 'person' AS role, b.person_id, l.match_probability,
               b.township, b.village, '{action}' AS suggested_action, 'normal' AS priority,
               h.moved_to, CAST(h.change_date AS VARCHAR) AS change_date, h.household_id,
               l.explanation AS reason
        FROM {links} l
        JOIN src_hukou h ON h.record_id = l.source_record_id
        JOIN {base_persons()} ON b.person_id = l.person_id
        WHERE l.source = 'hukou' AND h.hukou_status = '{MOVED}' AND b.status = '{ACTIVE}'
        QUALIFY row_number() OVER (PARTITION BY b.person_id ORDER BY h.change_date DESC) = 1
    """)
    home = store.settings.county_code[:2]
    places = {m: place(m) for m in frame["moved_to"].unique().to_list()}
    province = [places[m].province for m in frame["moved_to"]]
    county = [places[m].county for m in frame["moved_to"]]
    keep = [
        (p is not None and p != home) if kind == "moved_out" else (p is None or p == home)
        for p in province
    ]
    placed = frame.with_columns(
        pl.Series(
            "destination", county if kind == "transfer" else [None] * len(county), dtype=pl.String
        ),
        pl.lit(reason, pl.String).alias("cancellation_reason"),
    ).filter(pl.Series(keep, dtype=pl.Boolean))
    # a household that moved together to one place is one 整户移交: each case lists them all
    together = pl.col("person_id").sort().implode().over("household_id", "destination")
    placed = placed.with_columns(
        pl.when(pl.col("household_id").is_not_null())
        .then(together)
        .otherwise(pl.concat_list("person_id"))
        .alias("household_members")
    ).with_columns(
        pl.struct("moved_to", "change_date", "household_id", "household_members", "reason")
        .struct.json_encode()
        .alias("evidence")
    )
    return as_candidates(placed)


def moved_clue(f: Row, ctx: TaskContext) -> str:
    rows = ctx.rows(f)
    row = rows[0] if rows else {}
    said = f"公安户籍 {text(row.get('change_date'))} 迁出注销"
    return said + (f"，迁往{row['moved_to']}" if row.get("moved_to") else "")
