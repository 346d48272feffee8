"""The link stage: base dedupe, every source against the base, newborns, the ``links`` table.

Per source: the cascade (valid ID + same name key → linked without scoring, when the source's
config enables it), then the Splink model on the remaining records, then decisions. The base
dedupe runs first so that rows of one duplicated person do not make each other ambiguous.

Tables written (replaced as a whole, in the caller's transaction):
``links``         one row per source record and role (person_id null when linked to nobody)
``clerical``      ambiguous best candidates, for review
``dedupe_pairs``  pairs of base rows judged the same person
``base_clusters`` base person_id → cluster_id (rows of one person share it)
``model_versions`` the model version used per source in this run
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from linkage.config import settings, source_config
from linkage.link import model as models
from linkage.link.decide import DECISION_COLUMNS, Thresholds, decide, exact_links
from linkage.link.newborns import link_newborns
from linkage.persons import PERSON_TABLE
from linkage.store import Store

log = logging.getLogger(__name__)

LINK_SOURCES = ("hukou", "death", "marriage", "birth_certificate", "maternity_insurance")
BASE = "tmp_renkou_link_base"


@dataclass
class LinkReport:
    seconds: dict[str, float] = field(default_factory=dict)
    decisions: dict[str, dict[str, int]] = field(default_factory=dict)
    models: dict[str, str] = field(default_factory=dict)
    trained: list[str] = field(default_factory=list)


def _link_columns(store: Store) -> str:
    cols = [c for c in store.frame(f"SELECT * FROM {PERSON_TABLE} LIMIT 0").columns]
    return ", ".join(f'"{c}"' for c in cols)


def _clusters(store: Store) -> None:
    """Connected components of the dedupe pairs → ``base_clusters``."""
    pairs = store.frame("SELECT person_id_l, person_id_r FROM dedupe_pairs")
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs.iter_rows():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    frame = pl.DataFrame({"person_id": list(parent), "cluster_id": [find(p) for p in parent]},
                         schema={"person_id": pl.String, "cluster_id": pl.String})
    store.replace_table("base_clusters", frame)


def dedupe_base(store: Store, *, retrain: bool, report: LinkReport) -> None:
    cfg = source_config("population")
    s = settings()
    linker, info = models.load_or_train(
        store, "population", [BASE], cfg, seed=s.seed, u_max_pairs=s.u_max_pairs,
        link_type="dedupe_only", retrain=retrain)
    report.models["population"] = info.version
    if info.trained_now:
        report.trained.append("population")
    threshold = float(cfg.get("decision", {}).get("match_probability", 0.95))
    models.use_base_term_frequencies(store, linker, BASE, info.path)
    pred = models.predict(linker, threshold)
    store.con.execute(f"""
        CREATE OR REPLACE TABLE dedupe_pairs AS
        SELECT least(record_id_l, record_id_r) AS person_id_l,
               greatest(record_id_l, record_id_r) AS person_id_r,
               match_probability, match_weight
        FROM {pred.physical_name}
    """)
    linker.table_management.delete_tables_created_by_splink_from_db()
    _clusters(store)


def link_source(store: Store, source: str, *, retrain: bool,
                report: LinkReport) -> pl.DataFrame:
    """Decisions for every non-child record of ``source``."""
    cfg = source_config(source)
    s = settings()
    table = f"tmp_renkou_link_{source}"
    cols = _link_columns(store)
    store.con.execute(f"CREATE OR REPLACE TABLE {table} AS SELECT {cols} FROM {PERSON_TABLE} "
                      f"WHERE source = ? AND role <> 'child'", [source])
    if not store.scalar(f"SELECT count(*) FROM {table}"):
        return pl.DataFrame(schema={c: pl.String for c in DECISION_COLUMNS})
    # train on all records of the source (the model should see easy pairs too)
    linker, info = models.load_or_train(
        store, source, [BASE, table], cfg, seed=s.seed, u_max_pairs=s.u_max_pairs,
        link_type="link_only", retrain=retrain)
    report.models[source] = info.version
    if info.trained_now:
        report.trained.append(source)
    parts = []
    if cfg.get("cascade", False):
        exact = exact_links(store, source, PERSON_TABLE)
        parts.append(exact)
        store.con.register("tmp_renkou_exact", exact.select("source_record_id", "role"))
        store.con.execute(f"""DELETE FROM {table} t USING tmp_renkou_exact e
                              WHERE t.record_id = e.source_record_id AND t.role = e.role""")
        store.con.unregister("tmp_renkou_exact")
        linker.table_management.delete_tables_created_by_splink_from_db()
        linker = models.make_linker(store, [BASE, table],
                                    models.settings_from_model(info.path))
    th = Thresholds.from_config(cfg)
    if store.scalar(f"SELECT count(*) FROM {table}"):
        models.use_base_term_frequencies(store, linker, BASE, info.path)
        pred = models.predict(linker, min(th.clerical_probability, th.match_probability))
        parts.append(decide(store, pred.physical_name, "base_clusters", th,
                            models.level_labels(info.path)))
    linker.table_management.delete_tables_created_by_splink_from_db()
    records = store.frame(f"SELECT DISTINCT source, record_id AS source_record_id, role "
                          f"FROM {PERSON_TABLE} WHERE source = ? AND role <> 'child'", [source])
    decided = pl.concat([p.select(DECISION_COLUMNS) for p in parts], how="vertical_relaxed")
    store.con.execute(f"DROP TABLE IF EXISTS {table}")
    return records.join(decided, on=["source", "source_record_id", "role"], how="left")


def link_all(store: Store, *, retrain: bool = False,
             sources: tuple[str, ...] = LINK_SOURCES) -> LinkReport:
    """Run the whole link stage and (re)write ``links``, ``clerical`` and ``model_versions``."""
    report = LinkReport()
    start = time.perf_counter()
    cols = _link_columns(store)
    store.con.execute(f"CREATE OR REPLACE TABLE {BASE} AS SELECT {cols} FROM {PERSON_TABLE} "
                      f"WHERE source = 'population'")
    dedupe_base(store, retrain=retrain, report=report)
    report.seconds["dedupe"] = time.perf_counter() - start
    decisions: list[pl.DataFrame] = []
    present = {r[0] for r in store.frame(
        f"SELECT DISTINCT source FROM {PERSON_TABLE}").iter_rows()}
    for source in sources:
        if source not in present:
            continue
        t0 = time.perf_counter()
        decisions.append(link_source(store, source, retrain=retrain, report=report))
        report.seconds[source] = time.perf_counter() - t0
    all_decisions = pl.concat(decisions, how="vertical_relaxed") if decisions else None
    if all_decisions is not None and "birth_certificate" in present:
        t0 = time.perf_counter()
        store.con.register("tmp_renkou_parent_links", all_decisions)
        children = link_newborns(store, "tmp_renkou_parent_links",
                                 source_config("birth_certificate").get("newborns", {}))
        store.con.unregister("tmp_renkou_parent_links")
        all_decisions = pl.concat([all_decisions, children], how="vertical_relaxed")
        report.seconds["newborns"] = time.perf_counter() - t0
    _write(store, all_decisions, report)
    store.con.execute(f"DROP TABLE IF EXISTS {BASE}")
    report.seconds["total"] = time.perf_counter() - start
    return report


def _write(store: Store, decisions: pl.DataFrame | None, report: LinkReport) -> None:
    if decisions is None:
        decisions = pl.DataFrame(schema={c: pl.String for c in DECISION_COLUMNS})
    decisions = decisions.with_columns(pl.col("decision").fill_null("none"))
    linked = pl.col("decision") == "link"
    links = decisions.select(
        "source", "source_record_id", "role",
        pl.when(linked).then(pl.col("person_id")).alias("person_id"),
        pl.when(linked).then(pl.col("match_probability")).alias("match_probability"),
        pl.when(linked).then(pl.col("match_weight")).alias("match_weight"),
        "decided_by", "explanation",
        pl.col("source").replace_strict(report.models, default=None,
                                        return_dtype=pl.String).alias("model_version"),
    )
    store.replace_table("links", links)
    store.replace_table("clerical", decisions.filter(pl.col("decision") == "clerical"))
    counts = decisions.group_by("source", "role", "decision").len()
    for row in counts.iter_rows(named=True):
        report.decisions.setdefault(f"{row['source']}/{row['role']}", {})[row["decision"]] = \
            row["len"]
    store.replace_table("model_versions", pl.DataFrame(
        {"source": list(report.models), "version": list(report.models.values())},
        schema={"source": pl.String, "version": pl.String}))


