"""The link stage: base dedupe, every source against the base, newborns, the ``links`` table.

Per source: the cascade (valid ID + same name key → linked without scoring, when the source's
config enables it), then the Splink model on the remaining records, then decisions. The base
dedupe runs first so that rows of one duplicated person do not make each other ambiguous.

Full or incremental: a full run rescores everything (and the base dedupe); an incremental run
scores only records whose version (``load_id``) has not been decided yet (or whose pair was
rejected in the field since), against the saved models, with term frequencies from the base.
The rules that weigh decisions against each other (one-to-one, family, newborns) run afresh
over all decisions every time, so an incremental run ends where a full run would. A changed
base, a retrain or ``full=True`` forces a full run.

Splink works outside any transaction (it relies on statements that may fail and be retried,
which would abort one); everything the stage computes goes to ``tmp_renkou_*`` tables and is
published in one transaction at the end, so a failed run leaves the previous night's tables.
Call ``link_all`` outside a transaction.

Tables published:
``link_decisions`` each scored record's own decision with its record version, before the
                  one-to-one/family/newborn rules (the state incremental runs extend)
``links``         one row per source record and role (person_id null when linked to nobody)
``clerical``      ambiguous best candidates, for review (``renkou review``; an analyst's
                  match is a link ``decided_by = 'analyst'``, a non-match is excluded like a
                  field rejection; ``clerical_seen`` keeps the day each pair first arose)
``link_state``    the base fingerprint and mode of the last link run
``dedupe_pairs``  pairs of base rows judged the same person
``base_clusters`` base person_id → cluster_id (rows of one person share it)
``model_versions`` the model version used per source in this run
``base_tf_<col>`` term frequencies of the base (kept while the base is unchanged)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from linkage.catalog import LINK_SOURCES, SOURCES
from linkage.comparisons import id_comparison, level_gammas
from linkage.errors import RenkouError
from linkage.graph import components
from linkage.link import model as models
from linkage.link.decide import (
    DECISION_COLUMNS,
    REJECTED,
    decide,
    exact_links,
    not_rejected,
)
from linkage.link.family import family_links
from linkage.link.newborns import link_newborns
from linkage.link.sparse import sparse_links
from linkage.persons import PERSON_TABLE
from linkage.settings import SourceSettings
from linkage.store import Store

log = logging.getLogger(__name__)

BASE = "tmp_renkou_link_base"
PAIRS = "tmp_renkou_dedupe_pairs"
NEW = "tmp_renkou_link_decisions"  # tonight's decisions (a full run: all of them)
STALE = "tmp_renkou_stale"  # rec_key of earlier decisions that no longer stand
KEPT = "tmp_renkou_kept"  # view: earlier decisions that stand, and tonight's
OVERRIDES = "tmp_renkou_overrides"  # what the rules across records change (few rows)
CHILDREN = "tmp_renkou_children"  # children only the newborn rules link (certificates)
DECIDED = "tmp_renkou_decided"  # view: KEPT after the rules; links and clerical from it
#: bumped when ``link_decisions`` changes meaning: a home from before links in full once
STATE_VERSION = "v2"
#: ``link_decisions``: one row per scored source record (not certificate children)
SCORED_SCHEMA = pl.DataFrame(
    schema={
        **{c: pl.String for c in DECISION_COLUMNS},
        "match_probability": pl.Float64,
        "match_weight": pl.Float64,
        "second_weight": pl.Float64,
        "rec_key": pl.String,
        "load_id": pl.Int32,
        "model_version": pl.String,
    }
)
CLUSTERS = "tmp_renkou_base_clusters"
PUBLISHED = {
    "link_decisions": "tmp_renkou_link_decisions",
    "links": "tmp_renkou_links",
    "clerical": "tmp_renkou_clerical",
    "dedupe_pairs": PAIRS,
    "base_clusters": CLUSTERS,
    "model_versions": "tmp_renkou_model_versions",
    "link_state": "tmp_renkou_link_state",
}


@dataclass
class LinkReport:
    mode: str = "full"
    scored: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    decisions: dict[str, dict[str, int]] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    trained: list[str] = field(default_factory=list)
    pinned: dict[str, str] = field(default_factory=dict)  # incremental: last run's versions
    #: what the stage skipped or degraded (names of sources, columns, comparisons; no values)
    notes: list[str] = field(default_factory=list)

    def note(self, text: str) -> None:
        """Say what was skipped or degraded: in the report and the log."""
        self.notes.append(text)
        log.warning("%s", text)


#: comparison type → the column (SQL on the person records) it cannot do without
_COMPARED = {
    "name": "name",
    "birth_date": "birth_date",
    "sex": "sex",
    "ethnicity": "ethnicity",
    "address": "township",
}


def _empty_columns(store: Store, table: str, cfg: SourceSettings, report: LinkReport) -> None:
    """Note the columns of ``cfg``'s comparisons that are null on every row of ``table``, and
    IDs of which none is usable: the comparisons and blocks on them find nothing there."""
    from linkage.comparisons import USABLE_ID_STATUSES

    usable = ", ".join(f"'{s}'" for s in USABLE_ID_STATUSES)
    checks: dict[str, str] = {}
    for comparison in cfg.raw.get("comparisons", []):
        kind = comparison.get("type")
        if kind == "id":
            checks["id_number"] = f"count(*) FILTER (WHERE id_status IN ({usable}))"
        elif kind == "birth_date" and comparison.get("fallback_to_id_date"):
            checks["birth_date"] = "count(coalesce(birth_date, id_birth_date))"
        elif kind in _COMPARED:
            checks[_COMPARED[kind]] = f'count("{_COMPARED[kind]}")'
    if not checks:
        return
    counts = store.frame(
        "SELECT " + ", ".join(f'{sql} AS "{c}"' for c, sql in checks.items()) + f" FROM {table}"
    ).row(0, named=True)
    for column, n in counts.items():
        if not n:
            what = "has no usable value" if column == "id_number" else "is empty"
            report.note(
                f"source {cfg.name}: column {column} {what}: the comparisons and blocks "
                f"on it find nothing there"
            )


def link_columns(store: Store) -> str:
    """The person-record columns the link stage's tables carry (SQL select list)."""
    cols = [c for c in store.frame(f"SELECT * FROM {PERSON_TABLE} LIMIT 0").columns]
    return ", ".join(f'"{c}"' for c in cols)


def _clusters(store: Store) -> None:
    """Connected components of the dedupe pairs → ``base_clusters``."""
    pairs = store.frame(f"SELECT person_id_l, person_id_r FROM {PAIRS}")
    cluster = components(pairs.iter_rows())
    frame = pl.DataFrame(
        {"person_id": list(cluster), "cluster_id": list(cluster.values())},
        schema={"person_id": pl.String, "cluster_id": pl.String},
    )
    store.replace_table(CLUSTERS, frame)


def dedupe_base(store: Store, *, retrain: bool, report: LinkReport) -> None:
    s = store.settings
    cfg = s.source("population")
    _empty_columns(store, BASE, cfg, report)
    info = models.saved_or_trained(
        store,
        "population",
        [BASE],
        cfg,
        seed=s.seed,
        u_max_pairs=s.u_max_pairs,
        link_type="dedupe_only",
        retrain=retrain,
        notes=report.notes,
    )
    report.models["population"] = info.version
    if info.trained_now:
        report.trained.append("population")
    threshold = cfg.decision.match_probability
    linker = models.saved_linker(store, [BASE], info.path)
    models.use_base_term_frequencies(store, linker, BASE, info.path)
    pred = models.predict(store, linker, threshold)
    # two rows whose IDs are both valid and differ are two people (a sibling given the same
    # name, a namesake in the household): no score makes them one ([dedupe] in config)
    distinct = ""
    if cfg.section("dedupe").get("distinct_valid_ids", False):
        gamma = level_gammas(id_comparison())["valid_but_different"]
        columns = store.frame(f"SELECT * FROM {pred} LIMIT 0").columns
        if "gamma_id_number" in columns:
            distinct = f"AND coalesce(p.gamma_id_number, -1) <> {gamma}"
    store.con.execute(f"""
        CREATE OR REPLACE TABLE {PAIRS} AS
        SELECT least(record_id_l, record_id_r) AS person_id_l,
               greatest(record_id_l, record_id_r) AS person_id_r,
               match_probability, match_weight
        FROM (SELECT *, 'population' AS source, record_id_l AS source_record_id,
                     'person' AS role FROM {pred}) p
        WHERE {not_rejected("p", "p.record_id_r")} {distinct}
    """)
    models.release(store, linker)
    _clusters(store)


def _kept_dedupe(store: Store) -> None:
    """The base is unchanged: last run's duplicate pairs, less those rejected since."""
    store.con.execute(f"""
        CREATE OR REPLACE TABLE {PAIRS} AS SELECT * FROM dedupe_pairs p
        WHERE NOT EXISTS (SELECT 1 FROM {REJECTED} x WHERE x.source = 'population'
                          AND x.role = 'person' AND least(x.source_record_id, x.person_id)
                              = p.person_id_l
                          AND greatest(x.source_record_id, x.person_id) = p.person_id_r)
    """)
    if store.scalar(f"SELECT count(*) FROM {PAIRS}") == store.scalar(
        "SELECT count(*) FROM dedupe_pairs"
    ):
        store.con.execute(f"CREATE OR REPLACE TABLE {CLUSTERS} AS SELECT * FROM base_clusters")
    else:
        _clusters(store)


def _pending(incremental: bool) -> str:
    """SQL condition on person records ``p``: the record needs a decision this run."""
    if not incremental:
        return "TRUE"
    return (
        f"NOT EXISTS (SELECT 1 FROM {KEPT} k WHERE k.rec_key = p.rec_key AND k.load_id = p.load_id)"
    )


def link_source(
    store: Store, source: str, *, retrain: bool, report: LinkReport, incremental: bool
) -> pl.DataFrame:
    """Decisions for the non-child records of ``source`` that need one (all unless
    ``incremental``; then only versions without a kept decision, against the saved model)."""
    s = store.settings
    cfg = s.source(source)
    table = f"tmp_renkou_link_{source}"
    cols = link_columns(store)
    # an incremental run scores with the model its kept decisions came from (a newer file,
    # say from a retrain that failed, is adopted by the next full run, not half-way); a
    # source without a saved model trains on all its records (the model should see the easy
    # pairs too), and all of them are decided again
    pinned = report.pinned.get(source) if incremental else None
    saved = not retrain and models.saved_model(store.home, source, pinned) is not None
    scored = ", ".join(f"'{r}'" for r in SOURCES[source].scored_roles())
    store.con.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT {cols} FROM {PERSON_TABLE} p "
        f"WHERE source = ? AND role IN ({scored}) AND {_pending(saved and incremental)}",
        [source],
    )
    records = store.frame(
        f"SELECT source, record_id AS source_record_id, role, rec_key, load_id FROM {table}"
    )
    report.scored[source] = records.height
    if incremental and not saved:  # rescored as a whole: earlier decisions do not stand
        store.con.execute(
            f"INSERT INTO {STALE} SELECT rec_key FROM link_decisions WHERE source = ?", [source]
        )
    if records.is_empty():
        if not incremental:
            report.note(f"source {source} has no records to link: nothing linked")
        store.con.execute(f"DROP TABLE {table}")
        latest = models.saved_model(store.home, source, pinned)
        report.models[source] = latest[0] if latest else ""
        return records.with_columns(pl.lit(report.models[source]).alias("model_version"))
    info = models.saved_or_trained(
        store,
        source,
        [BASE, table],
        cfg,
        seed=s.seed,
        u_max_pairs=s.u_max_pairs,
        link_type="link_only",
        retrain=retrain,
        version=pinned,
        notes=report.notes,
    )
    report.models[source] = info.version
    if info.trained_now:
        report.trained.append(source)
    if not incremental or not saved:
        _empty_columns(store, table, cfg, report)
    decided = score_records(store, table, BASE, CLUSTERS, cfg, info.path, report, source)
    store.con.execute(f"DROP TABLE IF EXISTS {table}")
    decided = records.join(decided, on=["source", "source_record_id", "role"], how="left")
    return decided.with_columns(
        pl.col("decision").fill_null("none"), pl.lit(info.version).alias("model_version")
    )


def score_records(
    store: Store,
    table: str,
    base: str,
    clusters: str,
    cfg: SourceSettings,
    model: Path,
    report: LinkReport | None = None,
    source: str = "",
) -> pl.DataFrame:
    """Decisions (:data:`DECISION_COLUMNS`) for the person records in ``table`` against the
    base rows in ``base``: the exact cascade when ``cfg`` enables it (those records leave
    ``table``), then the saved Splink model at ``model`` with the base's term frequencies and
    ``cfg``'s thresholds, then the rule for records with only a name, a sex and an address
    (``linkage.link.sparse``) where the model did not link. A record with no candidate has
    no row. ``REJECTED`` must be staged.
    When the model finds no candidate pair at all, ``report`` gets a note naming ``source``.
    """
    parts = []
    if cfg.cascade:
        exact = exact_links(store, table, base)
        parts.append(exact)
        store.con.register("tmp_renkou_exact", exact.select("source_record_id", "role"))
        store.con.execute(f"""DELETE FROM {table} t USING tmp_renkou_exact e
                              WHERE t.record_id = e.source_record_id AND t.role = e.role""")
        store.con.unregister("tmp_renkou_exact")
    th = cfg.decision
    if store.scalar(f"SELECT count(*) FROM {table}"):
        linker = models.saved_linker(store, [base, table], model)
        models.use_base_term_frequencies(store, linker, base, model)
        pred = models.predict(store, linker, min(th.clerical_probability, th.match_probability))
        if report is not None and not store.scalar(f"SELECT count(*) FROM {pred}"):
            report.note(
                f"source {source}: the model found no candidate pair (blocking found none, or "
                f"none scored up to review): it links nothing by model"
            )
        scored = decide(store, pred, clusters, th, models.level_labels(model))
        models.release(store, linker)
        sparse = sparse_links(store, table, base, clusters, cfg.section("sparse"), cfg.origin)
        if sparse.height:  # the model's own link stands; its doubt yields to the rule
            keys = ["source", "source_record_id", "role"]
            sparse = sparse.join(scored.filter(pl.col("decision") == "link"), on=keys, how="anti")
            scored = scored.join(sparse, on=keys, how="anti")
            parts.append(sparse)
        parts.append(scored)
    if not parts:
        return pl.DataFrame(schema={c: pl.String for c in DECISION_COLUMNS})
    return pl.concat([p.select(DECISION_COLUMNS) for p in parts], how="vertical_relaxed")


def base_fingerprint(store: Store) -> str:
    """Changes whenever the base's person records change (new delivery, corrected rows)."""
    row = store.frame(
        f"SELECT count(*) AS n, coalesce(max(load_id), 0) AS m, "
        f"coalesce(sum(hash(rec_key, load_id)) % 1000000007, 0) AS h "
        f"FROM {PERSON_TABLE} WHERE source = 'population'"
    ).row(0)
    return f"{STATE_VERSION}:{row[0]}:{row[1]}:{row[2]}"


def _models_of_last_run(store: Store) -> dict[str, str]:
    return (
        dict(store.frame("SELECT source, version FROM model_versions").rows())
        if store.has_table("model_versions")
        else {}
    )


def _previous_state(store: Store) -> dict[str, str] | None:
    if not store.has_table("link_state") or not store.has_table("link_decisions"):
        return None
    rows = store.frame("SELECT base_fingerprint FROM link_state").rows()
    return {"base_fingerprint": rows[0][0]} if rows else None


def link_all(
    store: Store,
    *,
    retrain: bool = False,
    full: bool = False,
    sources: tuple[str, ...] = LINK_SOURCES,
) -> LinkReport:
    """Run the link stage; incremental unless ``full``, ``retrain`` or the base changed."""
    start = time.perf_counter()
    if not store.has_table(PERSON_TABLE) or not store.scalar(
        f"SELECT count(*) FROM {PERSON_TABLE} WHERE source = 'population'"
    ):
        raise RenkouError(
            f"{store.path}: no population base loaded, so there is nothing to "
            f"link against. Fix: deliver the 全员人口库 export (inbox/population/)"
        )
    fingerprint = base_fingerprint(store)
    previous = _previous_state(store)
    incremental = not (
        full or retrain or previous is None or previous["base_fingerprint"] != fingerprint
    )
    report = LinkReport(mode="incremental" if incremental else "full")
    _stage_rejected_pairs(store)
    cols = link_columns(store)
    # the base scored against: a table when the dedupe scans it many times; a view when only
    # a few new records meet it (a million rows not copied)
    store.drop(BASE)
    store.con.execute(
        f"CREATE {'VIEW' if incremental else 'TABLE'} {BASE} AS "
        f"SELECT {cols} FROM {PERSON_TABLE} WHERE source = 'population'"
    )
    _stage_kept_decisions(store, incremental)
    if incremental:
        report.pinned = _models_of_last_run(store)
        latest = models.saved_model(store.home, "population", report.pinned.get("population"))
        report.models["population"] = latest[0] if latest else ""
        _kept_dedupe(store)
    else:
        models.drop_base_term_frequencies(store)
        dedupe_base(store, retrain=retrain, report=report)
        report.seconds["dedupe"] = time.perf_counter() - start
    present = {r[0] for r in store.frame(f"SELECT DISTINCT source FROM {PERSON_TABLE}").iter_rows()}
    decisions: list[pl.DataFrame] = []
    for source in sources:
        if source not in present:
            report.note(f"source {source} delivered no rows: not linked")
            continue
        t0 = time.perf_counter()
        decisions.append(
            link_source(store, source, retrain=retrain, report=report, incremental=incremental)
        )
        report.seconds[source] = time.perf_counter() - t0
    # the state the next incremental run extends: every record's own decision, before the
    # rules that weigh decisions against each other (one-to-one, family, newborns) — those
    # are applied afresh each run, so an incremental run ends where a full run would
    for frame in decisions:
        store.append(NEW, frame.select(c for c in SCORED_SCHEMA.columns if c in frame.columns))
    _one_to_one(store, sources)
    _decided_view(store)
    _override(store, _analyst_links(store))
    t0 = time.perf_counter()
    for source in sources:
        if source in present and SOURCES[source].household_roles:
            _household_rules(store, source)
    if any(SOURCES[s].household_roles for s in sources if s in present):
        report.seconds["newborns"] = time.perf_counter() - t0
    _stage(store, report)
    store.replace_table(
        PUBLISHED["link_state"],
        pl.DataFrame({"base_fingerprint": [fingerprint], "mode": [report.mode]}),
    )
    store.drop(BASE)
    store.drop(KEPT)
    with store.transaction():  # renamed, not copied: a million links are not written twice
        published = dict(PUBLISHED)
        if incremental:  # the few decisions that changed, not a million rewritten
            del published["link_decisions"]
            store.con.execute(
                f"DELETE FROM link_decisions WHERE rec_key IN (SELECT rec_key FROM {STALE})"
            )
            store.con.execute(f"INSERT INTO link_decisions BY NAME SELECT * FROM {NEW}")
        for final, staged in published.items():
            store.con.execute(f"DROP TABLE IF EXISTS {final}")
            store.con.execute(f"ALTER TABLE {staged} RENAME TO {final}")
        from linkage.review.pairs import record_seen  # the review reads the link package

        record_seen(store)
    for staged in [*PUBLISHED.values(), REJECTED, STALE]:
        store.con.execute(f"DROP TABLE IF EXISTS {staged}")
    report.seconds["total"] = time.perf_counter() - start
    return report


def _household_rules(store: Store, source: str) -> None:
    """The rules across one record's roles (``household_roles`` of the catalog): a parent
    linked through another's household (``[family]``), then each child through the linked
    parents' households (``[newborns]``). A child the person model does not score (no ID
    column) is decided here alone (``CHILDREN``); one it scores is overridden only where
    the household links or reviews it and the model did not link it."""
    declared = SOURCES[source]
    cfg = store.settings.source(source)
    parents = tuple(dict.fromkeys(p for ps in declared.household_roles.values() for p in ps))
    if cfg.raw.get("family") is not None and len(parents) > 1:
        _override(store, family_links(store, DECIDED, cfg.section("family"), source, parents))
    for child_role, parent_roles in declared.household_roles.items():
        children = link_newborns(
            store, DECIDED, cfg.section("newborns"), source, child_role, parent_roles
        )
        if child_role in declared.scored_roles():
            _override(store, children.filter(pl.col("decision") != "none"))
            continue
        versions = store.frame(
            f"SELECT record_id AS source_record_id, rec_key, load_id "
            f"FROM {PERSON_TABLE} WHERE source = ? AND role = ?",
            [source, child_role],
        )
        store.append(
            CHILDREN,
            children.join(versions, on="source_record_id", how="left").with_columns(
                pl.lit("newborn-rules").alias("model_version")
            ),
        )


def _stage_rejected_pairs(store: Store) -> None:
    """Pairs township staff rejected, or an analyst judged no match: never proposed again
    while the evidence is unchanged."""
    from linkage.labels import rejected_pairs

    frame = rejected_pairs(store)
    store.replace_table(REJECTED, frame.select("source", "source_record_id", "role", "person_id"))


def _stage_kept_decisions(store: Store, incremental: bool) -> None:
    """``KEPT``: the decisions of earlier runs that stand (same record version, record still
    present, no pair of it rejected in the field since, not linked to a base row whose
    duplicate pair was rejected — the base person it stood for is two people now; the others
    are ``STALE`` and decided again) and tonight's (``NEW``). A full run keeps none. Also the
    empty ``OVERRIDES`` and ``CHILDREN`` the rules across records fill."""
    store.replace_table(NEW, SCORED_SCHEMA.clear())
    store.replace_table(CHILDREN, SCORED_SCHEMA.clear())
    store.replace_table(OVERRIDES, SCORED_SCHEMA.clear().select(DECISION_COLUMNS))
    store.con.execute(f"CREATE OR REPLACE TABLE {STALE} (rec_key VARCHAR)")
    store.drop(KEPT)
    if not incremental:
        store.con.execute(f"CREATE VIEW {KEPT} AS SELECT * FROM {NEW}")
        return
    store.con.execute(f"""
        INSERT INTO {STALE}
        SELECT d.rec_key FROM link_decisions d
        WHERE NOT EXISTS (SELECT 1 FROM {PERSON_TABLE} p
                          WHERE p.rec_key = d.rec_key AND p.load_id = d.load_id)
           OR EXISTS (SELECT 1 FROM {REJECTED} x WHERE x.source = d.source
                      AND x.source_record_id = d.source_record_id AND x.role = d.role)
           OR EXISTS (SELECT 1 FROM {REJECTED} x WHERE x.source = 'population'
                      AND d.person_id IN (x.source_record_id, x.person_id))
    """)
    store.con.execute(f"""
        CREATE VIEW {KEPT} AS
        SELECT * FROM link_decisions d ANTI JOIN {STALE} s USING (rec_key)
        UNION ALL BY NAME SELECT * FROM {NEW}
    """)


def _one_to_one(store: Store, sources: tuple[str, ...]) -> None:
    """``OVERRIDES`` of the one-to-one rule: where a source is one-to-one, a base
    person linked by several records keeps the strongest link (exact cascade links count as
    strongest; then the smaller record id, so the choice never depends on row order); the
    others go to review."""
    cols = ", ".join(DECISION_COLUMNS)
    one_to_one = [s for s in sources if store.settings.source(s).decision.one_to_one]
    if not one_to_one:
        return
    store.con.execute(f"""
        INSERT INTO {OVERRIDES}
        WITH claimed AS (SELECT {cols} FROM {KEPT} WHERE decision = 'link'
                         AND source IN ({", ".join(repr(s) for s in one_to_one)})),
        contested AS (SELECT * FROM claimed SEMI JOIN (
                          SELECT source, person_id FROM claimed GROUP BY ALL
                          HAVING count(*) > 1) m USING (source, person_id))
        SELECT * REPLACE ('clerical' AS decision) FROM contested
        QUALIFY row_number() OVER (
            PARTITION BY source, person_id
            ORDER BY coalesce(match_weight, 'infinity'::DOUBLE) DESC, source_record_id, role) > 1
    """)


def _override(store: Store, changed: pl.DataFrame) -> None:
    """Rows of ``changed`` (decision columns) replace the decisions of their records."""
    if changed.is_empty():
        return
    key = ["source", "source_record_id", "role"]
    store.con.register("tmp_renkou_changed", changed.select(DECISION_COLUMNS))
    try:
        store.con.execute(
            f"DELETE FROM {OVERRIDES} o USING tmp_renkou_changed c WHERE "
            + " AND ".join(f"o.{k} = c.{k}" for k in key)
        )
        store.con.execute(f"INSERT INTO {OVERRIDES} BY NAME SELECT * FROM tmp_renkou_changed")
    finally:
        store.con.unregister("tmp_renkou_changed")


def _analyst_links(store: Store) -> pl.DataFrame:
    """Pairs judged a match by a person as decisions: an analyst's match (``renkou review
    import``: ``decided_by = 'analyst'``) or a township's 属实 on an ``uncertain_link`` case
    (``'field'``). Each is linked, with the model's probability, weight and explanation when
    the record's own decision names that person. Only records decided tonight (``KEPT``) and
    base persons still in the base."""
    from linkage.labels import REVIEW_LABEL, link_labels

    matches = link_labels(store).filter(
        pl.col("is_match") & pl.col("finding_type").is_in([REVIEW_LABEL, "uncertain_link"])
    )
    if matches.is_empty():
        return pl.DataFrame(schema={c: pl.String for c in DECISION_COLUMNS})
    store.con.register("tmp_renkou_judged", matches)
    try:
        same = "k.person_id IS NOT DISTINCT FROM a.person_id"
        return store.frame(f"""
            SELECT k.source, k.source_record_id, k.role, a.person_id,
                   CASE WHEN {same} THEN k.match_probability END AS match_probability,
                   CASE WHEN {same} THEN k.match_weight END AS match_weight,
                   NULL::DOUBLE AS second_weight, 'link' AS decision,
                   CASE WHEN a.finding_type = '{REVIEW_LABEL}' THEN 'analyst' ELSE 'field'
                   END AS decided_by,
                   CASE WHEN {same} THEN k.explanation END AS explanation
            FROM {KEPT} k JOIN tmp_renkou_judged a USING (source, source_record_id, role)
            WHERE a.person_id IN (SELECT record_id FROM {BASE})
            QUALIFY row_number() OVER (
                PARTITION BY k.source, k.source_record_id, k.role
                ORDER BY a.finding_type = '{REVIEW_LABEL}' DESC, a.person_id) = 1
        """)
    finally:
        store.con.unregister("tmp_renkou_judged")


def _decided_view(store: Store) -> None:
    """``DECIDED``: every decision after the rules across records — ``KEPT`` with
    ``OVERRIDES`` applied, and the certificate children. A view: the million kept
    decisions are not copied again."""
    key = {"source", "source_record_id", "role"}
    picked = ", ".join(
        f"CASE WHEN o.source IS NULL THEN k.{c} ELSE o.{c} END AS {c}"
        for c in DECISION_COLUMNS
        if c not in key
    )
    store.con.execute(f"""
        CREATE OR REPLACE VIEW {DECIDED} AS
        SELECT k.source, k.source_record_id, k.role, {picked}, k.rec_key, k.load_id,
               k.model_version
        FROM {KEPT} k LEFT JOIN {OVERRIDES} o USING (source, source_record_id, role)
        UNION ALL BY NAME SELECT * FROM {CHILDREN}
    """)


def _stage(store: Store, report: LinkReport) -> None:
    """Write the stage's tables under their staging names (published by ``link_all``, which
    also turns ``NEW``/``STALE`` into ``link_decisions``): ``DECIDED`` (after the one-to-one,
    family and newborn rules) gives ``links`` and ``clerical``."""
    linked = "decision = 'link'"
    store.con.execute(f"""
        CREATE OR REPLACE TABLE {PUBLISHED["links"]} AS
        SELECT source, source_record_id, role,
               CASE WHEN {linked} THEN person_id END AS person_id,
               CASE WHEN {linked} THEN match_probability END AS match_probability,
               CASE WHEN {linked} THEN match_weight END AS match_weight,
               decided_by, explanation, model_version
        FROM {DECIDED}
    """)
    store.con.execute(
        f"CREATE OR REPLACE TABLE {PUBLISHED['clerical']} AS "
        f"SELECT * FROM {DECIDED} WHERE decision = 'clerical'"
    )
    counts = store.frame(
        f"SELECT source, role, decision, count(*) AS n FROM {DECIDED} GROUP BY ALL ORDER BY ALL"
    )
    store.con.execute(f"DROP VIEW {DECIDED}")
    store.con.execute(f"DROP TABLE {OVERRIDES}")
    store.con.execute(f"DROP TABLE {CHILDREN}")
    for row in counts.iter_rows(named=True):
        report.decisions.setdefault(f"{row['source']}/{row['role']}", {})[row["decision"]] = row[
            "n"
        ]
    store.replace_table(
        PUBLISHED["model_versions"],
        pl.DataFrame(
            {"source": list(report.models), "version": list(report.models.values())},
            schema={"source": pl.String, "version": pl.String},
        ),
    )
