"""Learning from the field: township answers as labels for the linkage.

An answer speaks about a *pair* (a source record and a base person) only for some finding
types, and only in some directions:

| finding_type | 属实/已处理 (confirmed) | 不属实 (rejected) |
|---|---|---|
| suspected_death | every death record ↔ person: match | non-match (the person is alive) |
| moved_out | hukou record ↔ person: match | non-match |
| married_out | the marriage record ↔ person: match | — (the couple lives here) |
| duplicate_person | the two base rows: match | non-match |
| attribute_conflict | the linked record ↔ person: match (same person, one field differs) | — |
| unregistered_birth | the mother's record ↔ mother: match | — (child may be registered) |
| unregistered_person | — (no pair) | — |

The analyst's decisions on clerical pairs (``renkou review import``, :mod:`linkage.review`)
are labels too (``finding_type`` ``review``): a match, a non-match; a non-match is a rejected
pair like a field rejection.

``rejected_pairs`` are pairs the linkage must not propose again: they stay excluded while the
source record is unchanged (same ``_row_hash`` as when it was rejected); a corrected or
re-delivered record is new evidence and may link again (and ``casework.merge`` reopens the
finding when a *new* record arrives).
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from linkage import tables
from linkage.catalog import FINDING_TYPES, delivered_table
from linkage.store import Store


def row_hashes(store: Store, records: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """Current ``_row_hash`` of source records: a changed hash means the record changed."""
    wanted: dict[str, set[str]] = {}
    for source, record_id in records:
        wanted.setdefault(source, set()).add(record_id)
    out: dict[tuple[str, str], str] = {}
    for source, ids in wanted.items():
        known = delivered_table(source)
        if known is None:
            continue
        table, key = known
        rows = store.rows_by_ids(table, key, ids, f'"{key}", _row_hash')
        out.update({(source, k): r["_row_hash"] for k, r in rows.items()})
    return out


PAIR_COLUMNS = {
    "source": pl.String,
    "source_record_id": pl.String,
    "role": pl.String,
    "person_id": pl.String,
}
LINK_LABEL_COLUMNS = {
    **PAIR_COLUMNS,
    "is_match": pl.Boolean,
    "finding_id": pl.String,
    "finding_type": pl.String,
    "rec_key_l": pl.String,
    "rec_key_r": pl.String,
}

#: the columns of ``labels`` (besides ``labelled_at``)
LABEL_SCHEMA = {
    "finding_id": pl.String,
    "finding_type": pl.String,
    "person_id": pl.String,
    "other_person_id": pl.String,
    "source": pl.String,
    "source_record_id": pl.String,
    "role": pl.String,
    "records": pl.String,
    "source_row_hash": pl.String,
    "match_probability": pl.Float64,
    "result": pl.String,
    "status": pl.String,
    "verifier": pl.String,
    "verified_on": pl.Date,
    "import_id": pl.String,
}


def labels_frame(store: Store) -> pl.DataFrame:
    """The current answer of every answered finding (one row per finding)."""
    if not store.has_table(tables.LABELS):
        return pl.DataFrame(schema=LABEL_SCHEMA)
    return store.frame(f"SELECT * FROM {tables.LABELS} ORDER BY finding_id")


def link_labels(store: Store) -> pl.DataFrame:
    """Pairs with ``is_match`` from confirmed and rejected answers (see the module table).

    ``rec_key_l``/``rec_key_r`` are the ``person_records.rec_key`` of the two sides, the
    unique ids Splink's ``estimate_m_from_pairwise_labels`` and accuracy analysis join on.
    ``无法核实`` answers are no label.
    """
    rows = []
    for label in labels_frame(store).iter_rows(named=True):
        kind = FINDING_TYPES.get(label["finding_type"])
        policy = kind.labels if kind else None
        if kind is None or policy is None or label["status"] not in ("confirmed", "rejected"):
            continue
        is_match = label["status"] == "confirmed"
        if not policy[0 if is_match else 1]:
            continue
        for pair in kind.label_pairs(label):
            if pair["person_id"] and pair["source_record_id"]:
                rows.append(
                    {
                        **pair,
                        "is_match": is_match,
                        "finding_id": label["finding_id"],
                        "finding_type": label["finding_type"],
                        "rec_key_l": f"{pair['source']}|{pair['source_record_id']}|{pair['role']}",
                        "rec_key_r": f"population|{pair['person_id']}|person",
                    }
                )
    frame = pl.concat([pl.DataFrame(rows, schema=LINK_LABEL_COLUMNS), _analyst_labels(store)])
    # a later answer about the same pair wins (labels are ordered by finding, not time)
    return frame.unique(
        ["source", "source_record_id", "role", "person_id"], keep="last", maintain_order=True
    )


def rejected_pairs(store: Store) -> pl.DataFrame:
    """(source, source_record_id, role, person_id) the linkage must not propose again.

    Only while the rejected record is unchanged: when its ``src_<source>._row_hash`` differs
    from the one stored with the answer, the record is new evidence and the pair may return.
    Duplicate pairs come in both orders.
    """
    labels = labels_frame(store).filter(pl.col("status") == "rejected")
    current = row_hashes(
        store,
        [(s, r) for s, r in labels.select("source", "source_record_id").iter_rows() if s and r],
    )
    rows: list[dict[str, object]] = []
    for label in labels.iter_rows(named=True):
        kind = FINDING_TYPES.get(label["finding_type"])
        if kind is None or not (kind.labels or (False, False))[1]:
            continue
        stored = label["source_row_hash"]
        if (
            stored is not None
            and current.get((label["source"], label["source_record_id"]), stored) != stored
        ):
            continue
        rows.extend(p for p in kind.label_pairs(label) if p["person_id"] and p["source_record_id"])
    analyst = _analyst_labels(store).filter(~pl.col("is_match")).select(list(PAIR_COLUMNS))
    return pl.concat([pl.DataFrame(rows, schema=PAIR_COLUMNS), analyst]).unique(maintain_order=True)


#: ``finding_type`` of a label that comes from the analyst's review, not from a finding
REVIEW_LABEL = "review"


def _analyst_labels(store: Store) -> pl.DataFrame:
    """The analyst's standing decisions on clerical pairs (``renkou review import``) as
    labels: match → is_match, non-match → not; a skip is none. Like a field answer, one
    lapses when its source record changed since."""
    from linkage.review.pairs import standing_decisions

    decided = standing_decisions(store)
    return decided.select(
        *PAIR_COLUMNS,
        (pl.col("decision") == "match").alias("is_match"),
        pl.col("pair_key").alias("finding_id"),
        pl.lit(REVIEW_LABEL).alias("finding_type"),
        (pl.col("source") + "|" + pl.col("source_record_id") + "|" + pl.col("role")).alias(
            "rec_key_l"
        ),
        ("population|" + pl.col("person_id") + "|person").alias("rec_key_r"),
    ).cast(LINK_LABEL_COLUMNS)  # type: ignore[arg-type]


def accuracy_by_type(store: Store) -> pl.DataFrame:
    """Share of answered findings the township confirmed, per type and probability band.

    The field's precision of the findings: what fraction of leads were real. ``无法核实`` answers
    are counted apart and left out of the rate.
    """
    labels = labels_frame(store)
    band = (
        pl.when(pl.col("match_probability").is_null())
        .then(pl.lit("n/a"))
        .when(pl.col("match_probability") >= 0.999)
        .then(pl.lit(">=0.999"))
        .when(pl.col("match_probability") >= 0.99)
        .then(pl.lit("0.99-0.999"))
        .when(pl.col("match_probability") >= 0.95)
        .then(pl.lit("0.95-0.99"))
        .otherwise(pl.lit("<0.95"))
    )
    return (
        labels.with_columns(band.alias("probability_band"))
        .group_by("finding_type", "probability_band")
        .agg(
            confirmed=(pl.col("status") == "confirmed").sum(),
            rejected=(pl.col("status") == "rejected").sum(),
            unverifiable=(pl.col("status") == "needs_more_info").sum(),
        )
        .with_columns(
            confirmation_rate=pl.col("confirmed") / (pl.col("confirmed") + pl.col("rejected"))
        )
        .sort("finding_type", "probability_band")
    )
