"""Helpers of the link-rule tests: input tables and expected decision frames from a few
hand-made rows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import polars as pl

from linkage.link.decide import DECISION_COLUMNS, REJECTED
from linkage.standardise import person_frame
from linkage.store import Store

Row = Sequence[object]

S = pl.String
F = pl.Float64

#: the decision columns with their types (what every rule returns)
DECISION_SCHEMA: dict[str, pl.DataType] = {
    c: (F if c in ("match_probability", "match_weight", "second_weight") else S)
    for c in DECISION_COLUMNS
}
KEY = ["source", "source_record_id", "role"]


def put(store: Store, name: str, schema: Mapping[str, pl.DataType], rows: Iterable[Row]) -> None:
    """Create table ``name`` of ``schema`` holding ``rows`` (tuples in schema order)."""
    frame = pl.DataFrame(list(rows), schema=dict(schema), orient="row")
    store.replace_table(name, frame)


def reject(store: Store, *pairs: tuple[str, str, str, str]) -> None:
    """The staged table of pairs rejected in the field: (source, record, role, person)."""
    put(store, REJECTED, {c: S for c in (*KEY, "person_id")}, pairs)


def decisions(rows: Iterable[Mapping[str, object]]) -> pl.DataFrame:
    """A frame of ``DECISION_COLUMNS`` (missing keys are null), sorted by record and role."""
    data = [{c: row.get(c) for c in DECISION_COLUMNS} for row in rows]
    return pl.DataFrame(data, schema=DECISION_SCHEMA).sort(KEY)


def prob(weight: float) -> float:
    """The match probability of a log2 match weight (as the rules compute it)."""
    return 2**weight / (1 + 2**weight)


def people(store: Store, name: str, source: str, rows: list[dict[str, object]]) -> None:
    """Table ``name`` of standardised person records (the real standardiser) from ``rows``;
    an ``id_status`` given in a row overrides the one the standardiser finds."""
    raw = [
        {"source": source, "role": "person", **{k: v for k, v in r.items() if k != "id_status"}}
        for r in rows
    ]
    frame = person_frame(pl.DataFrame(raw, infer_schema_length=None))
    forced = [r.get("id_status") for r in rows]
    frame = frame.with_columns(
        id_status=pl.coalesce(pl.lit(pl.Series(forced, dtype=pl.String)), pl.col("id_status")),
        id_number=pl.Series([r.get("id_number") for r in rows], dtype=pl.String),
    )
    store.replace_table(name, frame)
