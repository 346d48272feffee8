"""Pairwise scores → decisions: at most one base person per source record and role.

For each record the best-scoring base person is *linked* when its probability reaches the
source's match threshold and it beats every other candidate by a margin of match weight;
*clerical* (kept for review, not forced) when it is plausible but ambiguous; otherwise nothing.
Candidates that are rows of one duplicated person (the base dedupe put them in one cluster) do
not make each other ambiguous. (One-to-one sources are resolved across all decisions of a run
in ``linkage.link.run``.)
"""

from __future__ import annotations

import polars as pl

from linkage import sql
from linkage.settings import Thresholds
from linkage.store import Store

DECISION_COLUMNS = [
    "source",
    "source_record_id",
    "role",
    "person_id",
    "match_probability",
    "match_weight",
    "second_weight",
    "decision",
    "decided_by",
    "explanation",
]


REJECTED = "tmp_renkou_rejected_pairs"


def not_rejected(alias: str, person: str | None = None) -> str:
    """SQL condition: the pair (source, source_record_id, role, person) was not rejected in
    the field (``linkage.labels.rejected_pairs``, staged by the link stage)."""
    return (
        f"NOT EXISTS (SELECT 1 FROM {REJECTED} x WHERE x.source = {alias}.source "
        f"AND x.source_record_id = {alias}.source_record_id AND x.role = {alias}.role "
        f"AND x.person_id = {person or alias + '.person_id'})"
    )


def decide(
    store: Store, predictions: str, clusters: str, th: Thresholds, labels: dict[str, dict[int, str]]
) -> pl.DataFrame:
    """Decisions for every source record that has at least one candidate in ``predictions``.

    ``predictions`` is Splink's output with ``source``/``record_id``/``role`` retained;
    ``clusters`` maps base ``person_id`` → ``cluster_id`` (rows of one duplicated person).
    """
    gammas = [f"gamma_{name}" for name in labels]
    gamma_sel = ", ".join(f"p.{g}" for g in gammas)
    frame = store.frame(f"""
        WITH c AS (
            SELECT CASE WHEN p.source_l = 'population' THEN p.record_id_l ELSE p.record_id_r
                   END AS person_id,
                   CASE WHEN p.source_l = 'population' THEN p.source_r ELSE p.source_l
                   END AS source,
                   CASE WHEN p.source_l = 'population' THEN p.record_id_r ELSE p.record_id_l
                   END AS source_record_id,
                   CASE WHEN p.source_l = 'population' THEN p.role_r ELSE p.role_l END AS role,
                   p.match_weight, p.match_probability{", " + gamma_sel if gammas else ""}
            FROM {predictions} p
            WHERE (p.source_l = 'population') <> (p.source_r = 'population')
        ),
        ranked AS (
            SELECT c.*, coalesce(k.cluster_id, c.person_id) AS cluster,
                   row_number() OVER (PARTITION BY source, source_record_id, role
                                      ORDER BY match_weight DESC, person_id) AS rk
            FROM c LEFT JOIN {clusters} k USING (person_id)
            WHERE {not_rejected("c")}
        ),
        best AS (SELECT * FROM ranked WHERE rk = 1),
        runner AS (
            SELECT r.source, r.source_record_id, r.role, max(r.match_weight) AS second_weight
            FROM ranked r JOIN best b USING (source, source_record_id, role)
            WHERE r.rk > 1 AND r.cluster <> b.cluster
            GROUP BY ALL
        )
        SELECT best.*, runner.second_weight,
               CASE WHEN best.match_probability >= {th.match_probability}
                         AND (runner.second_weight IS NULL
                              OR best.match_weight - runner.second_weight
                                 >= {th.min_weight_margin}) THEN 'link'
                    WHEN best.match_probability >= {th.clerical_probability} THEN 'clerical'
                    ELSE 'none' END AS decision
        FROM best LEFT JOIN runner USING (source, source_record_id, role)
    """)
    return frame.with_columns(
        explain(frame, labels).alias("explanation"),
        pl.lit("model").alias("decided_by"),
    ).select(DECISION_COLUMNS)


def explain(frame: pl.DataFrame, labels: dict[str, dict[int, str]]) -> pl.Expr:
    """``name: <level>; id_number: <level>; …`` from the gamma columns."""
    parts = []
    for name, mapping in labels.items():
        col = f"gamma_{name}"
        if col not in frame.columns:
            continue
        parts.append(
            pl.lit(f"{name}: ")
            + pl.col(col).replace_strict(
                {k: v for k, v in mapping.items()}, default="?", return_dtype=pl.String
            )
        )
    return pl.concat_str(parts, separator="; ") if parts else pl.lit(None, pl.String)


def exact_links(store: Store, records: str, base: str) -> pl.DataFrame:
    """The cascade: a valid ID the base holds, with a name that is the same person's, needs no
    probabilistic scoring.

    Exact-ID practice links on the ID alone; the model must never do worse. A name merely
    written differently (a transliteration, a separator, a one-character slip, a renamed given
    name) is not evidence against an exact valid ID with a plausible sex and age, so such a
    record is linked here rather than left to a name level that the model weighs as "all
    other names". The name must still be the same person's name in some way, so that a
    record carrying a relative's ID is not linked to the relative:

    - the same folded name (``name_key``): linked, as always;
    - the same pinyin or transcription sound, one character different, a former name, or a
      ``·`` name with one part the same and the other alike: linked when the sex does not
      contradict and the birth date (if the record has one) is the base person's;
    - only the same surname, or one part of a ``·`` name: linked only when the record's birth
      date is the base person's.

    The base person must have been born by the record's event. A pair rejected in the field
    is not linked here either (it goes to the model, whose decision excludes it too). When
    the base holds the person twice (a duplicate), the smaller person_id is taken.
    """
    one_char = sql.one_char_different("s.name_key", "b.name_key", min_length=3)
    one_part_alike = sql.one_name_part_alike("s.name_snd_parts", "b.name_snd_parts", 0.8)
    one_part_same = sql.one_name_part_same("s.name_snd_parts", "b.name_snd_parts")
    born = "coalesce(b.birth_date, b.id_birth_date)"
    birth_same = (
        f"s.birth_date IS NOT NULL AND (s.birth_date = {born} OR s.birth_date = b.id_birth_date "
        "OR s.birth_date = b.birth_date_lunar_alt OR s.birth_date_lunar_alt = b.birth_date)"
    )
    return store.frame(f"""
        WITH pairs AS (
            SELECT s.source, s.source_record_id, s.role, b.record_id AS person_id,
                   s.name_key = b.name_key AS same_key,
                   s.name_py = b.name_py OR s.name_snd = b.name_snd OR {one_char}
                       OR b.former_name_key = s.name_key
                       OR (s.name_snd_parts IS NOT NULL AND b.name_snd_parts IS NOT NULL
                           AND ({one_part_alike})) AS alike,
                   s.surname_py = b.surname_py
                       OR (s.name_snd_parts IS NOT NULL AND b.name_snd_parts IS NOT NULL
                           AND ({one_part_same})) AS related,
                   coalesce({birth_same}, false) AS birth_same,
                   s.birth_date IS NULL AS birth_unknown,
                   s.sex IS NULL OR b.sex IS NULL OR s.sex = b.sex AS sex_fits,
                   s.event_date IS NULL OR {born} IS NULL OR {born} <= s.event_date AS born_by
            FROM (SELECT *, record_id AS source_record_id FROM {records}) s JOIN {base} b
              ON b.id_number = s.id_number
            WHERE s.id_status IN ('valid', 'upgraded_15') AND s.name_key IS NOT NULL
              AND {not_rejected("s", "b.record_id")}
        )
        SELECT source, source_record_id, role,
               coalesce(min(person_id) FILTER (WHERE same_key), min(person_id)) AS person_id,
               1.0 AS match_probability, NULL::DOUBLE AS match_weight,
               NULL::DOUBLE AS second_weight, 'link' AS decision, 'exact' AS decided_by,
               CASE WHEN bool_or(same_key) THEN 'id_number: exact; name: exact key'
                    ELSE 'id_number: exact; name: written differently (' ||
                         CASE WHEN bool_or(alike) THEN 'alike' ELSE 'same surname or part' END
                         || '); sex and birth date fit' END AS explanation
        FROM pairs
        WHERE same_key
           OR (born_by AND sex_fits AND alike AND (birth_same OR birth_unknown))
           OR (born_by AND sex_fits AND related AND birth_same)
        GROUP BY source, source_record_id, role
    """)
