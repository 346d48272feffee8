"""Why the model decides as it does: Splink's charts for every model of the last run.

Per source (and the base dedupe, ``population``): the saved model of the version the run used
(``model_versions``, else the newest saved), its training date from ``vNNNN.meta.json``,
Splink's match-weights and m/u charts, a histogram of the weights behind tonight's decisions,
waterfall charts for the weakest model links (those nearest the threshold) and for clerical
pairs, and Splink's comparison viewer as a separate HTML file.

Fast on a 1M-person base because nothing is predicted again: the pairs to show are read from
``links``/``clerical``/``dedupe_pairs`` and only they are scored, with
``linker.inference.score_pairs`` on small working tables of just their records and with term
frequencies of the base the run linked against (``linkage.link.model.
use_base_term_frequencies`` keeps them), so the weights shown are the weights the run decided
on.

Each section also carries the last ``renkou model check`` of its model
(``HOME/model_checks/<source>.json``, read afresh for every report, never cached).

Privacy: the ID comparison runs on real numbers; the values the charts and the viewer display
are masked afterwards (first 6 + last 4 kept, ``configs/renkou.toml`` [privacy]). Names stay:
an analyst judging a pair needs them, and the report stays in the data office.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from linkage import tables
from linkage.link import model as models
from linkage.link.check import load_check
from linkage.link.run import LINK_SOURCES
from linkage.persons import PERSON_TABLE
from linkage.settings import Settings
from linkage.standardise.ids import mask_id, mask_ids_in_text
from linkage.store import Store
from linkage.tables import REPORT_MODEL_CACHE

log = logging.getLogger(__name__)

BASE_SOURCE = "population"
NEAR_THRESHOLD = 10  # weakest model links shown as waterfalls
CLERICAL_CAP = 20  # clerical pairs shown as waterfalls (at most)
VIEWER_SAMPLE = 100  # further model links in the comparison viewer
_PREFIX = "tmp_renkou_report_"
_PAIRS, _LEFT, _RIGHT = f"{_PREFIX}pairs", f"{_PREFIX}left", f"{_PREFIX}right"
_SCORED, _VIEWER, _BASE_VIEW = f"{_PREFIX}scored", f"{_PREFIX}viewer", f"{_PREFIX}base"
#: displayed columns holding ID numbers (``<col>_l``/``<col>_r`` in Splink's output)
ID_COLUMNS = ("id_number", "id_raw")
_REMOTE_LINK = re.compile(r"<link[^>]*https?://fonts\.(?:googleapis|gstatic)\.com[^>]*>")


@dataclass
class ModelSection:
    """What the report shows of one model."""

    source: str
    version: str | None = None
    trained_at: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    match_probability: float | None = None
    clerical_probability: float | None = None
    charts: dict[str, dict[str, Any]] = field(default_factory=dict)
    weights: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={"decision": pl.String, "match_weight": pl.Float64}
        )
    )
    shown: dict[str, int] = field(default_factory=dict)  # waterfall kind → pairs shown
    totals: dict[str, int] = field(default_factory=dict)  # waterfall kind → pairs in the run
    exact_links: int = 0
    viewer_file: str | None = None
    viewer_pairs: int = 0
    problem: str | None = None
    #: the last ``renkou model check`` of this model's source (``linkage.link.check``), or None
    check: dict[str, Any] | None = None


def used_models(store: Store) -> list[tuple[str, str, Path]]:
    """(source, version, model path) of the models of the last run, base dedupe last."""
    if store.has_table("model_versions"):
        rows = store.frame("SELECT source, version FROM model_versions").rows()
    else:
        rows = []
        for folder in sorted((store.home / "models").glob("*")):
            latest = models.latest_model(store.home, folder.name)
            if latest:
                rows.append((folder.name, latest[0]))
    order = {s: i for i, s in enumerate((*LINK_SOURCES, BASE_SOURCE))}
    rows.sort(key=lambda r: (order.get(r[0], len(order)), r[0]))
    return [(s, v, store.home / "models" / s / f"{v}.json") for s, v in rows if v]


def model_sections(store: Store, out_dir: Path, stem: str) -> list[ModelSection]:
    """One section per model of the last run; viewers written to ``out_dir``.

    A section whose inputs are unchanged since the last report (same model file, same
    decisions of its source, same base; see :func:`_inputs`) is taken from
    ``report_model_cache`` and its viewer copied: on a night that brought only deaths, only
    the death model is drawn again.
    """
    sections = []
    for source, version, path in used_models(store):
        section = ModelSection(source, version)
        key = _inputs(store, source, path)
        cached = _cached(store, key, out_dir, stem)
        if cached is not None:
            cached.check = load_check(store.home, source)  # read afresh: run at any time
            sections.append(cached)
            continue
        section.check = load_check(store.home, source)
        try:
            _fill(store, section, path, out_dir, stem)
        except Exception as err:  # one model's charts must not cost the whole report
            log.warning("report: charts of the %s model failed (%s)", source, type(err).__name__)
            section.problem = (
                f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"
                if str(err)
                else type(err).__name__
            )
        finally:
            _drop_working_tables(store)
        if section.problem is None:
            try:
                _cache(store, key, section, out_dir)
            except (TypeError, ValueError, duckdb.Error) as err:  # next report draws it again
                log.warning(
                    "report: the %s section was not cached (%s)", source, type(err).__name__
                )
        sections.append(section)
    return sections


#: bump when a section's content changes shape (cached sections of older code are redrawn)
_CACHE_VERSION = "1"


def _inputs(store: Store, source: str, path: Path) -> str:
    """A digest of everything a section is drawn from: the model file, the thresholds and
    masking in force, the base linked against, and the decisions of its source."""
    s = store.settings
    parts: list[object] = [
        _CACHE_VERSION,
        source,
        path.name,
        s.mask_keep_head,
        s.mask_keep_tail,
        store.settings.source(source).decision,
    ]
    if path.exists():
        stat = path.stat()
        parts += [stat.st_size, stat.st_mtime_ns]
    if store.has_table("link_state"):
        parts.append(store.scalar("SELECT any_value(base_fingerprint) FROM link_state"))
    digest = "SELECT count(*), sum(hash({cols}) % 1000000007) FROM {table} {where}"
    queries = (
        [("dedupe_pairs", "person_id_l, person_id_r, match_weight", "")]
        if source == BASE_SOURCE
        else [
            (
                "links",
                "source_record_id, role, person_id, match_weight, decided_by",
                "WHERE source = $1",
            ),
            ("clerical", "source_record_id, role, person_id, match_weight", "WHERE source = $1"),
        ]
    )
    for table, cols, where in queries:
        if store.has_table(table):
            sql = digest.format(cols=cols, table=table, where=where)
            parts.append(store.frame(sql, [source] if where else None).row(0))
    return hashlib.sha256(repr(parts).encode("utf-8")).hexdigest()


def _cache(store: Store, key: str, section: ModelSection, out_dir: Path) -> None:
    data = {k: v for k, v in section.__dict__.items() if k not in ("weights", "check")}
    data["weights"] = section.weights.to_dict(as_series=False)
    data["viewer_path"] = str(out_dir / section.viewer_file) if section.viewer_file else None
    tables.ensure(store.con, "report")
    store.con.execute(f"DELETE FROM {REPORT_MODEL_CACHE} WHERE source = ?", [section.source])
    store.con.execute(
        f"INSERT INTO {REPORT_MODEL_CACHE} VALUES (?, ?, ?)",
        [section.source, key, json.dumps(data, ensure_ascii=False)],
    )


def _cached(store: Store, key: str, out_dir: Path, stem: str) -> ModelSection | None:
    """The cached section for ``key`` with its viewer copied under this report's name, or
    None (nothing cached, or its viewer file is gone)."""
    if not store.has_table(REPORT_MODEL_CACHE):
        return None
    text = store.scalar(f"SELECT section FROM {REPORT_MODEL_CACHE} WHERE key = ?", [key])
    if text is None:
        return None
    data = json.loads(str(text))
    viewer_path = data.pop("viewer_path")
    weights = pl.DataFrame(data.pop("weights"), schema=ModelSection("").weights.schema)
    section = ModelSection(**data, weights=weights)
    if section.viewer_file:
        old = Path(viewer_path)
        if not old.exists():
            return None
        section.viewer_file = f"{stem}.viewer-{section.source}.html"
        # the same run's page written again: its viewer is already in place (a home named
        # by a relative path the first time and an absolute one now is the same file)
        if old.resolve() != (out_dir / section.viewer_file).resolve():
            shutil.copyfile(old, out_dir / section.viewer_file)
    return section


def _fill(store: Store, section: ModelSection, path: Path, out_dir: Path, stem: str) -> None:
    source = section.source
    if not path.exists():
        section.problem = f"model file {path.name} is missing under models/{source}/"
        return
    meta_path = path.with_suffix(".meta.json")
    section.meta = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
    section.trained_at = section.meta.get("trained_at")
    th = store.settings.source(source).decision
    section.match_probability = th.match_probability
    section.clerical_probability = None if source == BASE_SOURCE else th.clerical_probability
    section.weights = _decision_weights(store, source)
    pairs = _pairs(store, source, section)
    cols = ", ".join(f'"{c}"' for c in store.frame(f"SELECT * FROM {PERSON_TABLE} LIMIT 0").columns)
    con = store.con
    con.execute(
        f"CREATE OR REPLACE VIEW {_BASE_VIEW} AS SELECT {cols} FROM {PERSON_TABLE} "
        f"WHERE source = '{BASE_SOURCE}'"
    )
    store.replace_table(_PAIRS, pairs)
    # by source too: person records are stored source by source, so DuckDB skips the rest
    for table, side, of in ((_LEFT, "rec_key_l", BASE_SOURCE), (_RIGHT, "rec_key_r", source)):
        con.execute(
            f"CREATE OR REPLACE TABLE {table} AS SELECT {cols} FROM {PERSON_TABLE} "
            f"WHERE source = ? AND rec_key IN (SELECT {side} FROM {_PAIRS})",
            [of],
        )
    dedupe = source == BASE_SOURCE
    # the charts read a few hundred pairs the report picked: DuckDB, whatever the backend
    linker = models.saved_linker(
        store, [_LEFT] if dedupe else [_LEFT, _RIGHT], path, backend="duckdb"
    )
    try:
        section.charts["match_weights"] = linker.visualisations.match_weights_chart().chart_dict
        section.charts["m_u"] = linker.visualisations.m_u_parameters_chart().chart_dict
        if pairs.is_empty():
            return
        models.use_base_term_frequencies(store, linker, _BASE_VIEW, path)
        db_api = linker._db_api  # the DuckDBAPI make_linker built (as in link.run)
        scored = linker.inference.score_pairs(
            db_api.register(_LEFT, table_name=f"{_LEFT}_scoring"),
            db_api.register(_RIGHT, table_name=f"{_RIGHT}_scoring"),
        )
        con.execute(f"""CREATE OR REPLACE TABLE {_SCORED} AS
                        SELECT s.*, p.kind FROM {scored.physical_name} s
                        JOIN {_PAIRS} p USING (rec_key_l, rec_key_r)""")
        shown = _masked(
            store.settings, store.frame(f"SELECT * FROM {_SCORED} ORDER BY kind, match_weight")
        )
        for kind in ("near_threshold", "clerical"):
            records = shown.filter(pl.col("kind") == kind).drop("kind").to_dicts()
            if records:
                chart = linker.visualisations.waterfall_chart(records)
                section.charts[f"waterfall_{kind}"] = chart.chart_dict
        viewer = shown.unique(["rec_key_l", "rec_key_r"], keep="first", maintain_order=True).drop(
            "kind"
        )
        store.replace_table(_VIEWER, viewer)
        section.viewer_pairs = viewer.height
        section.viewer_file = f"{stem}.viewer-{source}.html"
        # the viewer's SQL reads its input under the name Splink gives predictions
        linker.visualisations.comparison_viewer_dashboard(
            db_api.table_to_splink_dataframe("__splink__df_predict", _VIEWER),
            str(out_dir / section.viewer_file),
            overwrite=True,
        )
        _offline(out_dir / section.viewer_file)
    finally:
        linker.table_management.delete_tables_created_by_splink_from_db()


def _offline(viewer: Path) -> None:
    """Drop the viewer's Google-font links: the page must not call out (it falls back to a
    local font), neither for an offline office nor for the privacy of who opens it."""
    text = viewer.read_text("utf-8")
    viewer.write_text(_REMOTE_LINK.sub("", text), "utf-8")


def _masked(s: Settings, frame: pl.DataFrame) -> pl.DataFrame:
    """ID numbers masked in every displayed ``<id column>_l/_r`` (after scoring), and an ID
    delivered in another column (a name, a record key) masked inside its text."""
    cols = [c for c in frame.columns if any(c in (f"{base}_l", f"{base}_r") for base in ID_COLUMNS)]
    texts = [c for c, t in frame.schema.items() if t == pl.String and c not in cols]
    return frame.with_columns(
        *(
            mask_id(pl.col(c).cast(pl.String), s.mask_keep_head, s.mask_keep_tail).alias(c)
            for c in cols
        ),
        *(mask_ids_in_text(pl.col(c), s.mask_keep_head, s.mask_keep_tail) for c in texts),
    )


def _decision_weights(store: Store, source: str) -> pl.DataFrame:
    """The match weights the run decided on: model links and clerical pairs (dedupe pairs
    for the base), for the histogram."""
    if source == BASE_SOURCE:
        if not store.has_table("dedupe_pairs"):
            return ModelSection(source).weights
        return store.frame("SELECT 'duplicate' AS decision, match_weight FROM dedupe_pairs")
    parts = []
    if store.has_table("links"):
        parts.append(
            "SELECT 'link' AS decision, match_weight FROM links "
            "WHERE source = $1 AND decided_by = 'model' AND match_weight IS NOT NULL"
        )
    if store.has_table("clerical"):
        parts.append(
            "SELECT 'clerical' AS decision, match_weight FROM clerical "
            "WHERE source = $1 AND match_weight IS NOT NULL"
        )
    if not parts:
        return ModelSection(source).weights
    return store.frame(" UNION ALL ".join(parts), [source])


def _pairs(store: Store, source: str, section: ModelSection) -> pl.DataFrame:
    """(kind, rec_key_l = base record, rec_key_r = other record) of the pairs to show."""
    if source == BASE_SOURCE:
        if not store.has_table("dedupe_pairs"):
            return pl.DataFrame(
                schema={"kind": pl.String, "rec_key_l": pl.String, "rec_key_r": pl.String}
            )
        base = (
            "SELECT 'population|' || person_id_l || '|person' AS rec_key_l, "
            "'population|' || person_id_r || '|person' AS rec_key_r, match_weight "
            "FROM dedupe_pairs"
        )
        section.totals["near_threshold"] = int(
            store.scalar("SELECT count(*) FROM dedupe_pairs") or 0
        )
        links, clerical = base, None
    else:
        rec = "$1 || '|' || l.source_record_id || '|' || l.role"  # person_records.rec_key
        pid = "'population|' || l.person_id || '|person'"
        links = (
            f"SELECT {pid} AS rec_key_l, {rec} "
            f"AS rec_key_r, l.match_weight FROM links l "
            "WHERE l.source = $1 AND l.decided_by = 'model' "
            f"AND l.person_id IS NOT NULL AND l.match_weight IS NOT NULL"
        )
        clerical = (
            (
                f"SELECT {pid} AS rec_key_l, {rec} "
                f"AS rec_key_r, l.match_weight FROM clerical l "
                "WHERE l.source = $1 AND l.person_id IS NOT NULL "
                f"AND l.match_weight IS NOT NULL"
            )
            if store.has_table("clerical")
            else None
        )
        section.totals["near_threshold"] = int(
            store.scalar(f"SELECT count(*) FROM ({links})", [source]) or 0
        )
        section.exact_links = int(
            store.scalar(
                "SELECT count(*) FROM links WHERE source = ? AND decided_by = 'exact' "
                "AND person_id IS NOT NULL",
                [source],
            )
            or 0
        )
    parts = [
        f"SELECT 'near_threshold' AS kind, rec_key_l, rec_key_r FROM ({links}) "
        f"ORDER BY match_weight, rec_key_r LIMIT {NEAR_THRESHOLD}",
        f"SELECT 'sample' AS kind, rec_key_l, rec_key_r FROM ({links}) "
        f"ORDER BY hash(rec_key_r || rec_key_l) LIMIT {VIEWER_SAMPLE}",
    ]
    if clerical:
        section.totals["clerical"] = int(
            store.scalar(f"SELECT count(*) FROM ({clerical})", [source]) or 0
        )
        parts.append(
            f"SELECT 'clerical' AS kind, rec_key_l, rec_key_r FROM ({clerical}) "
            f"ORDER BY match_weight DESC, rec_key_r LIMIT {CLERICAL_CAP}"
        )
    sql = " UNION ALL ".join(f"({p})" for p in parts)
    pairs = store.frame(sql, [source] if "$1" in sql else None)
    pairs = pairs.filter(pl.col("rec_key_l").is_not_null() & pl.col("rec_key_r").is_not_null())
    for kind in ("near_threshold", "clerical"):
        if kind in section.totals:
            section.shown[kind] = pairs.filter(pl.col("kind") == kind).height
    return pairs


def _drop_working_tables(store: Store) -> None:
    store.con.execute(f"DROP VIEW IF EXISTS {_BASE_VIEW}")
    for table in (_PAIRS, _LEFT, _RIGHT, _SCORED, _VIEWER):
        store.con.execute(f"DROP TABLE IF EXISTS {table}")
