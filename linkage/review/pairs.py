"""The clerical band as the analyst sees it: each pair's key, what deciding it would change,
its two sides field by field, and its waterfall.

A **pair** is a source record and role with its best base candidate that the link stage left
in ``clerical`` (plausible, not sure). Its key (:func:`pair_key`, ``RV`` + 12 hex digits of
the SHA-256 of source, record, role and base person) is the same on every night, in every
file and table, so an answer typed into an exported file finds its pair again.

**Order** (:data:`ORDER`): pairs whose decision changes the findings most come first —

1. a match would *cancel a base person*: a death record (a match raises ``suspected_death``),
   or a 户籍 record already cancelled as 死亡注销/迁出注销 (``suspected_death``,
   ``moved_out``/``transfer``), while the base person is still 正常;
2. a match decides a *birth*: the mother's record of a birth certificate or a maternity
   claim (``unregistered_birth`` raised or closed, a 协查 query or none);
3. the number of open findings that rest on the record or the base person (a match or a
   non-match settles them: a ``cross_county_query`` or ``unregistered_person`` about the
   record, a case of the person);
4. the model least sure first (match weight nearest 0), then the pair key.

**Waterfall**: the saved model of the run (``clerical.model_version``) scores the pairs again
(Splink's ``score_pairs`` keeps its intermediate columns); each comparison's partial match
weight is its ``mw_<comparison>`` plus its term-frequency adjustment ``mw_tf_adj_<comparison>``,
and the prior plus the partial weights add up to the match weight the run decided on (term
frequencies of the base, as in the run).
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path
from typing import Any

import polars as pl

from linkage import tables
from linkage.link import model as models
from linkage.persons import PERSON_TABLE
from linkage.store import Store

#: fields shown side by side: person-record column → label (record vs base person)
FIELDS = {
    "name": "姓名",
    "sex": "性别",
    "id_number": "身份证号",
    "birth_date": "出生日期",
    "ethnicity": "民族",
    "address": "地址",
    "township": "乡镇",
    "village": "村(社区)",
    "household_id": "户号",
    "status": "人员状态",
    "event_date": "事件日期",
}
#: what decides the order of the pairs (see the module docstring)
ORDER = ["cancels", "births", "open_cases", "certainty", "pair_key"]
_DESCENDING = [True, True, True, False, False]
#: the answers an analyst gives
DECISIONS = ("match", "non_match", "skip")


def pair_key(source: str, source_record_id: str, role: str, person_id: str) -> str:
    """The pair's key: ``RV`` + the first 12 hex digits (upper case) of SHA-256 of
    ``source|record|role|person`` (:func:`pair_key_sql` computes the same in SQL)."""
    text = f"{source}|{source_record_id}|{role}|{person_id}"
    return "RV" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:12].upper()


def pair_key_sql(alias: str) -> str:
    """SQL: :func:`pair_key` of the row ``alias`` (source, source_record_id, role,
    person_id)."""
    return (
        f"'RV' || upper(substr(sha256({alias}.source || '|' || {alias}.source_record_id || '|' "
        f"|| {alias}.role || '|' || {alias}.person_id), 1, 12))"
    )


def record_seen(store: Store, day_sql: str = "current_date") -> None:
    """Remember the day each clerical pair was first seen (``clerical_seen``): the clock of
    the ``uncertain_link`` finding. Call after the link stage published ``clerical``."""
    if not store.has_table("clerical"):
        return
    tables.ensure(store.con, "review")
    store.con.execute(f"""
        INSERT INTO {tables.CLERICAL_SEEN}
        SELECT DISTINCT {pair_key_sql("c")} AS pair_key, c.source, c.source_record_id, c.role,
               c.person_id, {day_sql}
        FROM clerical c
        WHERE c.person_id IS NOT NULL AND {pair_key_sql("c")} NOT IN
              (SELECT pair_key FROM {tables.CLERICAL_SEEN})
    """)


def decided_sql() -> str:
    """SQL: each pair's standing analyst decision (match or non_match; the latest wins, a
    skip decides nothing), kept only while the source record is the one decided on."""
    return f"""(
        SELECT d.* FROM {tables.REVIEW_DECISIONS} d
        WHERE d.decision IN ('match', 'non_match')
        QUALIFY row_number() OVER (PARTITION BY d.pair_key
                                   ORDER BY d.decided_at DESC, d.import_id DESC) = 1)"""


def standing_decisions(store: Store) -> pl.DataFrame:
    """Every standing decision (:func:`decided_sql`) whose record is unchanged since (same
    ``_row_hash``), with the pair's columns: what the link stage and the labels apply."""
    schema = {
        "pair_key": pl.String,
        "source": pl.String,
        "source_record_id": pl.String,
        "role": pl.String,
        "person_id": pl.String,
        "decision": pl.String,
        "match_probability": pl.Float64,
        "match_weight": pl.Float64,
        "operator": pl.String,
    }
    if not store.has_table(tables.REVIEW_DECISIONS):
        return pl.DataFrame(schema=schema)
    from linkage.labels import row_hashes

    frame = store.frame(f"SELECT * FROM {decided_sql()} ORDER BY pair_key")
    current = row_hashes(store, frame.select("source", "source_record_id").iter_rows())
    keep = [
        current.get((r["source"], r["source_record_id"]), r["source_row_hash"])
        == r["source_row_hash"]
        for r in frame.iter_rows(named=True)
    ]
    return frame.filter(pl.Series(keep, dtype=pl.Boolean)).select(list(schema))


def open_pairs(store: Store, source: str | None = None) -> pl.DataFrame:
    """The clerical pairs no analyst has decided (a skip leaves a pair open), in
    :data:`ORDER`, with what deciding them would change."""
    tables.ensure(store.con, "review")
    findings = (
        f"""(SELECT count(*) FROM {tables.FINDINGS} f
              WHERE f.status NOT IN ('closed', 'rejected')
                AND ((f.source = c.source AND f.source_record_id = c.source_record_id)
                     OR f.person_id = c.person_id))"""
        if store.has_table(tables.FINDINGS)
        else "0"
    )
    frame = store.frame(
        f"""
        WITH c AS (SELECT *, {pair_key_sql("clerical")} AS pair_key FROM clerical
                   WHERE person_id IS NOT NULL AND ($1 IS NULL OR source = $1))
        SELECT c.pair_key, c.source, c.source_record_id, c.role, c.person_id,
               c.match_probability, c.match_weight, c.second_weight, c.model_version,
               s.first_seen,
               (c.source = 'death' OR (c.source = 'hukou' AND r.status IN ('死亡注销', '迁出注销')))
                   AND b.status = '正常' AS cancels,
               c.role = 'mother' OR c.source = 'maternity_insurance' AS births,
               {findings} AS open_cases,
               abs(coalesce(c.match_weight, 0)) AS certainty
        FROM c
        LEFT JOIN {PERSON_TABLE} r ON r.rec_key = c.source || '|' || c.source_record_id
                                                   || '|' || c.role
        LEFT JOIN {PERSON_TABLE} b ON b.rec_key = 'population|' || c.person_id || '|person'
        LEFT JOIN {tables.CLERICAL_SEEN} s ON s.pair_key = c.pair_key
        WHERE c.pair_key NOT IN (SELECT pair_key FROM {decided_sql()})
        """,
        [source],
    )
    return frame.with_columns(
        pl.col("cancels").fill_null(False), pl.col("births").fill_null(False)
    ).sort(ORDER, descending=_DESCENDING)


def impact_zh(pair: dict[str, Any]) -> str:
    """What deciding the pair would change, in words (the order's first three keys)."""
    said = []
    if pair["cancels"]:
        said.append(
            "判为同一人将提出死亡注销核查"
            if pair["source"] == "death"
            else "判为同一人将提出注销核查（户籍已注销）"
        )
    if pair["births"]:
        said.append("关系到出生是否登记")
    if pair["open_cases"]:
        said.append(f"涉及{pair['open_cases']}个未结核查")
    return "；".join(said) or "影响较小"


def sides(store: Store, pairs: pl.DataFrame) -> dict[str, list[tuple[str, str, str]]]:
    """Per pair key: (label, record value, base value) of every :data:`FIELDS` column either
    side has (IDs as stored: the caller masks them)."""
    keys = pairs.select(
        "pair_key",
        (pl.col("source") + "|" + pl.col("source_record_id") + "|" + pl.col("role")).alias("r"),
        ("population|" + pl.col("person_id") + "|person").alias("b"),
    )
    wanted = sorted(set(keys["r"]) | set(keys["b"]))
    if not wanted:
        return {}
    cols = ", ".join(f'"{c}"' for c in FIELDS)
    store.con.register("tmp_renkou_review_keys", pl.DataFrame({"rec_key": wanted}))
    try:
        rows = store.frame(
            f"SELECT rec_key, {cols} FROM {PERSON_TABLE} "
            "WHERE rec_key IN (SELECT rec_key FROM tmp_renkou_review_keys)"
        )
    finally:
        store.con.unregister("tmp_renkou_review_keys")
    by_key = {r["rec_key"]: r for r in rows.iter_rows(named=True)}
    out: dict[str, list[tuple[str, str, str]]] = {}
    for key, rec, base in keys.iter_rows():
        left, right = by_key.get(rec, {}), by_key.get(base, {})
        out[key] = [
            (label, _text(left.get(col)), _text(right.get(col)))
            for col, label in FIELDS.items()
            if left.get(col) is not None or right.get(col) is not None
        ]
    return out


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


_PREFIX = "tmp_renkou_review_"


def waterfalls(store: Store, pairs: pl.DataFrame) -> dict[str, list[tuple[str, str, float]]]:
    """Per pair key: (comparison, level, partial match weight) — the prior first, then every
    comparison (term-frequency adjustment included). A pair whose model file is gone has
    none."""
    out: dict[str, list[tuple[str, str, float]]] = {}
    for (source, version), group in pairs.group_by("source", "model_version"):
        path = store.home / "models" / str(source) / f"{version}.json"
        if version and path.exists():
            out.update(_scored(store, str(source), group, path))
    return out


def _scored(
    store: Store, source: str, pairs: pl.DataFrame, path: Path
) -> dict[str, list[tuple[str, str, float]]]:
    model = json.loads(path.read_text("utf-8"))
    labels = models.level_labels(path)
    lam = float(model["probability_two_random_records_match"])
    prior = math.log2(lam / (1 - lam))
    wanted = pairs.select(
        ("population|" + pl.col("person_id") + "|person").alias("rec_key_l"),
        (pl.lit(source) + "|" + pl.col("source_record_id") + "|" + pl.col("role")).alias(
            "rec_key_r"
        ),
        "pair_key",
    )
    left, right, base = f"{_PREFIX}left", f"{_PREFIX}right", f"{_PREFIX}base"
    cols = ", ".join(f'"{c}"' for c in store.frame(f"SELECT * FROM {PERSON_TABLE} LIMIT 0").columns)
    store.replace_table(f"{_PREFIX}pairs", wanted)
    try:
        for table, side in ((left, "rec_key_l"), (right, "rec_key_r")):
            store.con.execute(
                f"CREATE OR REPLACE TABLE {table} AS SELECT {cols} FROM {PERSON_TABLE} "
                f"WHERE rec_key IN (SELECT {side} FROM {_PREFIX}pairs)"
            )
        store.con.execute(
            f"CREATE OR REPLACE VIEW {base} AS SELECT {cols} FROM {PERSON_TABLE} "
            "WHERE source = 'population'"
        )
        # a few pairs an analyst reads: DuckDB, whatever the backend
        linker = models.saved_linker(store, [left, right], path, backend="duckdb")
        try:
            models.use_base_term_frequencies(store, linker, base, path)
            db_api = linker._db_api
            scored = linker.inference.score_pairs(
                db_api.register(left, table_name=f"{left}_scoring"),
                db_api.register(right, table_name=f"{right}_scoring"),
            )
            frame = store.frame(
                f"SELECT s.*, p.pair_key FROM {scored.physical_name} s "
                f"JOIN {_PREFIX}pairs p USING (rec_key_l, rec_key_r)"
            )
        finally:
            linker.table_management.delete_tables_created_by_splink_from_db()
    finally:
        store.con.execute(f"DROP VIEW IF EXISTS {base}")
        for table in (left, right, f"{_PREFIX}pairs"):
            store.con.execute(f"DROP TABLE IF EXISTS {table}")
    out = {}
    for row in frame.iter_rows(named=True):
        steps = [("先验 prior", "", prior)]
        for name, mapping in labels.items():
            weight = row.get(f"mw_{name}")
            if weight is None:
                continue
            weight += row.get(f"mw_tf_adj_{name}") or 0.0
            gamma = row.get(f"gamma_{name}")
            steps.append((name, mapping.get(-1 if gamma is None else int(gamma), "?"), weight))
        out[row["pair_key"]] = steps
    return out


#: the model's best guess of a pair: a match when its probability is at least this
MODEL_GUESS_PROBABILITY = 0.5


def decision_summary(store: Store) -> pl.DataFrame:
    """Per operator (and a 合计 row): pairs decided (match or non-match), matches,
    non-matches, skips, and the agreement with the model — the share of decided pairs where
    the analyst chose the model's best guess (a match when the pair's probability was at
    least 0.5 when decided, else a non-match). Every accepted decision counts once; the
    operator's registered name comes from ``linkage.operators``."""
    from linkage.operators import load

    schema = {
        "operator": pl.String,
        "name": pl.String,
        "decided": pl.Int64,
        "match": pl.Int64,
        "non_match": pl.Int64,
        "skip": pl.Int64,
        "agreed": pl.Int64,
        "agreement": pl.Float64,
    }
    if not store.has_table(tables.REVIEW_DECISIONS):
        return pl.DataFrame(schema=schema)
    rows = store.frame(
        f"""
        SELECT operator,
               count(*) FILTER (WHERE decision <> 'skip') AS decided,
               count(*) FILTER (WHERE decision = 'match') AS match,
               count(*) FILTER (WHERE decision = 'non_match') AS non_match,
               count(*) FILTER (WHERE decision = 'skip') AS skip,
               count(*) FILTER (WHERE decision <> 'skip' AND (decision = 'match') =
                                (coalesce(match_probability, 0) >= $guess)) AS agreed
        FROM {tables.REVIEW_DECISIONS} GROUP BY ALL ORDER BY operator
        """,
        {"guess": MODEL_GUESS_PROBABILITY},
    )
    if rows.is_empty():
        return pl.DataFrame(schema=schema)
    registry = load(store.home) or {}
    names = {k: o.name for k, o in registry.items()}
    total = rows.select(pl.lit("合计").alias("operator"), pl.all().exclude("operator").sum())
    frame = pl.concat([rows, total], how="vertical_relaxed")
    return (
        frame.with_columns(
            pl.col("operator").replace_strict(names, default="").alias("name"),
            (pl.col("agreed") / pl.col("decided")).alias("agreement"),
        )
        .select(list(schema))
        .cast(schema)  # type: ignore[arg-type]
    )
