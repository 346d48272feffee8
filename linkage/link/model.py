"""Build, train, save and load the Splink model of one source (or of the base dedupe).

Models are trained unsupervised: the prior from deterministic rules, u by random sampling,
m by expectation maximisation on blocks named in the source's config. A trained model is a
versioned JSON file under ``$RENKOU_HOME/models/<name>/`` (``v0001.json`` plus
``v0001.meta.json`` with the training date, data counts and seed); later runs reuse the newest
version unless asked to retrain. Training is reproducible for a seed.

The backend (``[linkage] backend``) decides only where Splink runs: on DuckDB over the store's
own tables, or on Spark over the same tables moved as Parquet (linkage.spark), with the
comparison and blocking SQL translated (``linkage.sql.to_dialect``). A saved model always
holds the DuckDB SQL, so a model trained on either backend predicts on either; predictions
always come back as a DuckDB table (:func:`predict`).

Training degrades rather than fails on thin data (a column delivered empty, IDs unusable): a
prior rule that finds no pair gives way to the saved model's prior (else one match per record
of the source), an EM block that finds no pair is dropped, and a comparison EM could not
estimate keeps the saved model's m/u (else :data:`PRIOR_M`). Each degradation is a note
(names of models, blocks and comparisons, never values) for the link report and the log.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from splink import DuckDBAPI, Linker, block_on
from splink.internals.exceptions import EMTrainingException
from splink.internals.splink_dataframe import SplinkDataFrame

from linkage import spark
from linkage.comparisons import (
    BLOCKING_KEYS,
    build_settings,
    comparison_from_config,
    settings_from_model,
)
from linkage.settings import SourceSettings, Training
from linkage.sql import to_dialect
from linkage.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str
    path: Path
    trained_at: str
    trained_now: bool


def _model_dir(home: Path, name: str) -> Path:
    return home / "models" / name


def latest_model(home: Path, name: str) -> tuple[str, Path] | None:
    """The newest saved version of a model, or None."""
    folder = _model_dir(home, name)
    versions = sorted(p for p in folder.glob("v*.json") if not p.name.endswith(".meta.json"))
    return (versions[-1].stem, versions[-1]) if versions else None


def saved_model(home: Path, name: str, version: str | None = None) -> tuple[str, Path] | None:
    """Version ``version`` of a model when its file is there, else the newest saved one."""
    if version:
        path = _model_dir(home, name) / f"{version}.json"
        if path.exists():
            return version, path
    return latest_model(home, name)


def _next_version(home: Path, name: str) -> tuple[str, Path]:
    latest = latest_model(home, name)
    number = int(latest[0][1:]) + 1 if latest else 1
    version = f"v{number:04d}"
    return version, _model_dir(home, name) / f"{version}.json"


#: significant digits a saved model keeps of each probability
SIGNIFICANT_DIGITS = 9
_PROBABILITIES = ("m_probability", "u_probability", "probability_two_random_records_match")


def rounded(model: Any) -> Any:
    """The model with every probability to :data:`SIGNIFICANT_DIGITS` significant digits.

    DuckDB sums in parallel, so two trainings on the same data and seed differ in the last
    bits (1e-14 relative, measured); beyond nine digits a probability is that noise, and the
    same data and seed must give the same model file.
    """
    if isinstance(model, dict):
        return {
            k: float(f"{v:.{SIGNIFICANT_DIGITS}g}")
            if k in _PROBABILITIES and isinstance(v, float)
            else rounded(v)
            for k, v in model.items()
        }
    if isinstance(model, list):
        return [rounded(v) for v in model]
    return model


def _block(keys: Sequence[str], dialect: str) -> Any:
    return block_on(*(to_dialect(BLOCKING_KEYS[k], dialect) for k in keys))


def _rules(keys_list: Sequence[Sequence[str]], dialect: str = "duckdb") -> list[Any]:
    return [_block(keys, dialect) for keys in keys_list]


def settings_dict(settings: Any) -> dict[str, Any]:
    """Splink settings (a ``SettingsCreator``, a saved model's dict or path) as a dict in the
    DuckDB dialect, the form models are saved in."""
    if isinstance(settings, str | Path):
        return dict(json.loads(Path(settings).read_text("utf-8")))
    if isinstance(settings, dict):
        return json.loads(json.dumps(settings))
    return dict(settings.create_settings_dict(sql_dialect_str="duckdb"))


def in_dialect(model: dict[str, Any], dialect: str) -> dict[str, Any]:
    """A model dict (DuckDB SQL) with every level condition and blocking rule in ``dialect``."""
    out = json.loads(json.dumps(model))
    for comparison in out.get("comparisons", []):
        for level in comparison["comparison_levels"]:
            level["sql_condition"] = to_dialect(level["sql_condition"], dialect)
    rules = []
    for rule in out.get("blocking_rules_to_generate_predictions", []):
        text = rule["blocking_rule"] if isinstance(rule, dict) else rule
        rules.append({**(rule if isinstance(rule, dict) else {}), "blocking_rule":
                      to_dialect(text, dialect), "sql_dialect": dialect})  # fmt: skip
    if rules:
        out["blocking_rules_to_generate_predictions"] = rules
    out["sql_dialect"] = dialect
    return out


def with_duckdb_sql(trained: dict[str, Any], canonical: dict[str, Any]) -> dict[str, Any]:
    """A model trained on another engine with the SQL of ``canonical`` (its DuckDB settings):
    saved models hold DuckDB SQL whichever backend trained them."""
    out = json.loads(json.dumps(trained))
    for comparison, source in zip(out["comparisons"], canonical["comparisons"], strict=True):
        for level, original in zip(
            comparison["comparison_levels"], source["comparison_levels"], strict=True
        ):
            level["sql_condition"] = original["sql_condition"]
    out["blocking_rules_to_generate_predictions"] = canonical.get(
        "blocking_rules_to_generate_predictions", []
    )
    out["sql_dialect"] = "duckdb"
    return out


def backend_of(store: Store, backend: str | None = None) -> str:
    """``backend`` when given, else the home's ``[linkage] backend``."""
    return backend or store.settings.backend


def make_linker(
    store: Store,
    tables: list[str],
    settings: Any,
    *,
    validate: bool = False,
    backend: str | None = None,
) -> Linker:
    """A Linker over the store's ``tables``: on DuckDB over the tables themselves (no copy,
    the store's connection); on Spark over their Parquet copies, with the model's SQL in
    Spark's dialect. ``backend`` defaults to the home's ``[linkage] backend``.

    ``validate`` runs Splink's settings checks (a SQL parse of every comparison, ~0.3 s);
    worth it when training from config, not for a saved model that passed them then.
    """
    db_api: Any
    if backend_of(store, backend) == "spark":
        from splink.backends.spark import SparkAPI

        cfg = store.settings.spark
        db_api = SparkAPI(
            spark_session=spark.session(store.settings),
            break_lineage_method="persist",
            num_partitions_on_repartition=cfg.shuffle_partitions,
        )
        registered = [
            db_api.register(spark.to_spark(store, t), dataset_display_name=t) for t in tables
        ]
        settings = settings_from_model(in_dialect(settings_dict(settings), "spark"))
    else:
        db_api = DuckDBAPI(store.con)
        registered = [db_api.register(t, dataset_display_name=t) for t in tables]
    return Linker(
        registered if len(registered) > 1 else registered[0],
        settings,
        log_level=logging.ERROR,
        validate_settings=validate,
    )


def dialect_of(linker: Linker) -> str:
    """``"spark"`` for a linker :func:`make_linker` built on Spark, else ``"duckdb"``."""
    return "duckdb" if isinstance(linker._db_api, DuckDBAPI) else "spark"


def register(store: Store, linker: Linker, table: str) -> Any:
    """The store's ``table`` registered with ``linker``'s engine (moved as Parquet to Spark)."""
    db_api = linker._db_api
    if dialect_of(linker) == "spark":
        return db_api.register(spark.to_spark(store, table), dataset_display_name=table)
    return db_api.register(table, dataset_display_name=table)


def release(store: Store, linker: Linker) -> None:
    """Drop what Splink made for ``linker`` (and, on Spark, the Parquet files in transit and
    the predictions' DuckDB copy)."""
    linker.table_management.delete_tables_created_by_splink_from_db()
    if dialect_of(linker) == "spark":
        store.con.execute(f"DROP TABLE IF EXISTS {SPARK_PREDICTIONS}")
        spark.cleanup(store)


def saved_linker(
    store: Store, tables: list[str], model_path: Path, *, backend: str | None = None
) -> Linker:
    """A Linker over ``tables`` that predicts with the saved model at ``model_path``."""
    return make_linker(store, tables, settings_from_model(model_path), backend=backend)


def train(
    store: Store,
    name: str,
    tables: list[str],
    cfg: SourceSettings,
    *,
    seed: int,
    u_max_pairs: int,
    link_type: str,
    notes: list[str] | None = None,
) -> ModelInfo:
    """Train a fresh model on ``tables`` and save it as the next version; what had to be
    degraded (see the module) is appended to ``notes``."""
    said: list[str] = []

    def note(text: str) -> None:
        said.append(text)
        log.warning("%s", text)

    previous = latest_model(store.home, name)
    saved = json.loads(previous[1].read_text("utf-8")) if previous else None
    model = fit(
        store,
        name,
        tables,
        cfg,
        seed=seed,
        u_max_pairs=u_max_pairs,
        link_type=link_type,
        saved=saved,
        saved_version=previous[0] if previous else None,
        note=note,
    )
    version, path = _next_version(store.home, name)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(model, indent=2, ensure_ascii=False), "utf-8")
    trained_at = dt.datetime.now().isoformat(timespec="seconds")
    counts = {t: int(store.scalar(f'SELECT count(*) FROM "{t}"') or 0) for t in tables}
    path.with_suffix(".meta.json").write_text(
        json.dumps(
            {
                "name": name,
                "version": version,
                "trained_at": trained_at,
                "seed": seed,
                "u_max_pairs": u_max_pairs,
                "rows": counts,
                "link_type": link_type,
                "degraded": said,
            },
            indent=2,
            ensure_ascii=False,
        ),
        "utf-8",
    )
    log.info("trained model %s %s", name, version)
    if notes is not None:
        notes.extend(said)
    return ModelInfo(name, version, path, trained_at, True)


def fit(
    store: Store,
    name: str,
    tables: list[str],
    cfg: SourceSettings,
    *,
    seed: int,
    u_max_pairs: int,
    link_type: str,
    saved: dict[str, Any] | None,
    saved_version: str | None,
    note: Callable[[str], None],
    em_done: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """The model :func:`train` saves, estimated on ``tables`` and returned (nothing written):
    λ from the prior rules, u by random sampling (``seed``), m by EM on each training block,
    m from field labels when there are enough, then :func:`fill_unestimated` (from ``saved``),
    :func:`correct_u_for_matches` and :func:`floor_m_probabilities`, rounded. The model check
    (``linkage.link.check``) re-estimates with it, so it measures the night's own training;
    ``em_done`` is called with each training block's name after its EM session."""
    settings = build_settings(cfg.raw, link_type, origin=cfg.origin)
    linker = make_linker(store, tables, settings, validate=True)
    dialect = dialect_of(linker)
    training = cfg.training
    try:
        _estimate_prior(store, linker, name, tables, training, link_type, saved, note, dialect)
        linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
        for keys in training.em_blocks:
            # Splink's EM session filters the linker's own comparisons (those its block uses
            # up) and rescales its λ before it finds no pair; only a successful session puts
            # them back. A failed one would leave the model without them: keep a copy.
            before = linker._settings_obj.core_model_settings.copy()
            try:
                linker.training.estimate_parameters_using_expectation_maximisation(
                    _block(keys, dialect), fix_u_probabilities=True
                )
            except EMTrainingException:
                linker._settings_obj.core_model_settings = before
                note(
                    f"model {name}: training block {'+'.join(keys)} found no record pairs: "
                    f"dropped (its column is empty or never agrees)"
                )
            if em_done is not None:
                em_done("+".join(keys))
        _m_from_field_labels(store, linker, name, tables, training.min_labels_for_m)
        model = linker.misc.save_model_to_json()
        if dialect != "duckdb":  # saved models hold DuckDB SQL, whichever engine trained
            model = with_duckdb_sql(model, settings_dict(settings))
    finally:
        release(store, linker)
    model = fill_unestimated(model, saved, saved_version, name, note)
    model = correct_u_for_matches(model, training.u_floor)
    model = floor_m_probabilities(model, training.m_floor)
    return rounded(model)


def _estimate_prior(
    store: Store,
    linker: Linker,
    name: str,
    tables: list[str],
    training: Training,
    link_type: str,
    saved: dict[str, Any] | None,
    note: Callable[[str], None],
    dialect: str = "duckdb",
) -> None:
    """λ, the probability that two random records match, from the prior rules; when they find
    no pair at all (λ = 0 would veto every link): the saved model's λ, else one match per
    record of the source (link) or per hundred base rows (dedupe)."""
    linker.training.estimate_probability_two_random_records_match(
        _rules(training.prior_rules, dialect), recall=training.prior_recall
    )
    settings = linker._settings_obj
    if settings._probability_two_random_records_match > 0:
        return
    rules = ", ".join("+".join(keys) for keys in training.prior_rules)
    if saved and saved.get("probability_two_random_records_match"):
        lam = float(saved["probability_two_random_records_match"])
        how = "the saved model's"
    else:
        n_base = int(store.scalar(f'SELECT count(*) FROM "{tables[0]}"') or 0)
        if link_type == "link_only":
            lam = 1.0 / max(n_base, 1)
            how = "one match per record (prior)"
        else:
            lam = 0.02 / max(n_base - 1, 1)
            how = "one duplicate per hundred rows (prior)"
    settings._probability_two_random_records_match = lam
    note(f"model {name}: prior rules {rules} found no record pairs: λ fixed at {how}")


#: m of a comparison EM could not estimate and no saved model knows: the first (most exact)
#: level takes this share of the matches, the else level 1 %, the levels between the rest
PRIOR_M = 0.9


def _prior_m(count: int) -> list[float]:
    if count == 1:
        return [1.0]
    if count == 2:
        return [PRIOR_M, 1 - PRIOR_M]
    middle = (1 - PRIOR_M - 0.01) / (count - 2)
    return [PRIOR_M, *([middle] * (count - 2)), 0.01]


def fill_unestimated(
    model: dict[str, Any],
    saved: dict[str, Any] | None,
    saved_version: str | None,
    name: str,
    note: Callable[[str], None],
) -> dict[str, Any]:
    """Comparisons with no estimated m on any level (EM never saw a pair with data on their
    columns): m and u of those levels from the same comparison of the ``saved`` model when it
    has the same levels, else m from :func:`_prior_m` and a missing u set to that m (the level
    weighs nothing). Levels fixed in config are left as set. In the other comparisons a level
    with no m or u (never seen) gets 0, which the floors then raise (a saved null would
    break prediction the first time a pair falls on that level)."""
    by_name = {
        c["output_column_name"]: c["comparison_levels"]
        for c in (saved or {}).get("comparisons", [])
    }
    for comparison in model["comparisons"]:
        out = comparison["output_column_name"]
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        estimated = [
            lv
            for lv in levels
            if lv.get("m_probability") is not None and not lv.get("fix_m_probability")
        ]
        if estimated or all(lv.get("fix_m_probability") for lv in levels):
            for lv in levels:  # a level EM never saw: 0 here, then m_floor / u_floor
                for key in ("m_probability", "u_probability"):
                    if lv.get(key) is None:
                        lv[key] = 0.0
            continue
        old = [lv for lv in by_name.get(out, []) if not lv.get("is_null_level")]
        usable = len(old) == len(levels) and all(lv.get("m_probability") is not None for lv in old)
        prior = _prior_m(len(levels))
        for i, lv in enumerate(levels):
            if not lv.get("fix_m_probability"):
                lv["m_probability"] = old[i]["m_probability"] if usable else prior[i]
            if lv.get("u_probability") is None:
                u = old[i].get("u_probability") if usable else None
                lv["u_probability"] = u if u is not None else lv["m_probability"]
        how = f"the saved model {saved_version}'s values" if usable else "the prior"
        note(
            f"model {name}: comparison {out}: m not estimated (no training pair with data "
            f"on its columns): fixed at {how}"
        )
    return model


def correct_u_for_matches(model: dict[str, Any], floor: float) -> dict[str, Any]:
    """Remove the true matches that random sampling drew from the u estimates.

    u is estimated on random pairs as if none matched, but a fraction λ of them do, and they
    agree on (say) the ID number with probability m. For most levels λ·m is negligible; for an
    exact valid ID it is the whole of the observed agreement (IDs are unique: random non-matches
    almost never share one), so the uncorrected u makes the strongest evidence in the data
    worth no more than the prior against a match. Corrected: u = (u_obs − λ·m) / (1 − λ),
    never below ``floor``. Levels with a u fixed in config are left as set.
    """
    lam = float(model.get("probability_two_random_records_match", 0.0))
    for comparison in model["comparisons"]:
        for lv in comparison["comparison_levels"]:
            if lv.get("is_null_level") or lv.get("fix_u_probability"):
                continue
            u, m = lv.get("u_probability"), lv.get("m_probability")
            if u is None or m is None:
                continue
            lv["u_probability"] = max((u - lam * m) / (1 - lam), floor)
    return model


def floor_m_probabilities(model: dict[str, Any], floor: float) -> dict[str, Any]:
    """No trained m below ``floor``; each comparison's m renormalised to sum to 1.

    EM on a few hundred records happily estimates m = 1e-27 for a level it never saw among
    matches ("same township, other village"), which makes that level an absolute veto
    (-84 bits) against any evidence. A small floor keeps such levels strongly negative but
    answerable. Levels whose m was fixed in config are left as set.
    """
    for comparison in model["comparisons"]:
        levels = [
            lv
            for lv in comparison["comparison_levels"]
            if not lv.get("is_null_level") and lv.get("m_probability") is not None
        ]
        trained = [lv for lv in levels if not lv.get("fix_m_probability")]
        for lv in trained:
            lv["m_probability"] = max(lv["m_probability"], floor)
        fixed_total = sum(lv["m_probability"] for lv in levels if lv.get("fix_m_probability"))
        total = sum(lv["m_probability"] for lv in trained)
        if trained and total > 0:
            scale = max(1.0 - fixed_total, floor) / total
            for lv in trained:
                lv["m_probability"] *= scale
    return model


def _m_from_field_labels(
    store: Store, linker: Linker, name: str, tables: list[str], minimum: int
) -> int:
    """Re-estimate m from pairs township staff confirmed (and analysts judged a match in
    ``renkou review``), once there are enough of them.

    Confirmed findings are the best labels the model will get: real matches with the real
    mix of typos. Below ``minimum`` confirmed pairs the EM estimate stands. Returns the number
    of labelled pairs used (0 when none).
    """
    from linkage.labels import link_labels

    labels = link_labels(store).filter(pl.col("is_match") & (pl.col("source") == name))
    if labels.height < minimum:
        return 0
    base, other = tables[0], tables[-1]
    pairs = labels.select(
        # columns named after the unique id column (rec_key), as Splink joins on them
        pl.lit(base).alias("source_dataset_l"),
        pl.col("rec_key_r").alias("rec_key_l"),
        pl.lit(other).alias("source_dataset_r"),
        pl.col("rec_key_l").alias("rec_key_r"),
    )
    store.replace_table("tmp_renkou_m_labels", pairs)
    if dialect_of(linker) == "duckdb":
        linker.training.estimate_m_from_pairwise_labels("tmp_renkou_m_labels")
    else:
        labelled = register(store, linker, "tmp_renkou_m_labels")
        linker.training.estimate_m_from_pairwise_labels(labelled.physical_name)
    store.con.execute("DROP TABLE IF EXISTS tmp_renkou_m_labels")
    log.info("model %s: m re-estimated from %d confirmed pairs", name, labels.height)
    return labels.height


def saved_or_trained(
    store: Store,
    name: str,
    tables: list[str],
    cfg: SourceSettings,
    *,
    seed: int,
    u_max_pairs: int,
    link_type: str,
    retrain: bool = False,
    version: str | None = None,
    notes: list[str] | None = None,
) -> ModelInfo:
    """Saved model ``version`` of ``name`` (default: the newest); a new one trained on
    ``tables`` when ``retrain`` or none exists. Predict with ``saved_linker(store, tables,
    info.path)``: the saved (floored) model, exactly as a later run will. What training had to
    degrade is appended to ``notes``."""
    latest = None if retrain else saved_model(store.home, name, version)
    if latest is not None and version is None and not _same_levels(latest[1], cfg):
        text = (
            f"model {name}: the saved model {latest[0]} has other comparison levels than "
            f"{cfg.origin} (a new release or a config change): trained afresh"
        )
        log.warning("%s", text)
        if notes is not None:
            notes.append(text)
        latest = None
    if latest is None:
        return train(
            store,
            name,
            tables,
            cfg,
            seed=seed,
            u_max_pairs=u_max_pairs,
            link_type=link_type,
            notes=notes,
        )
    version, path = latest
    meta_path = path.with_suffix(".meta.json")
    meta = json.loads(meta_path.read_text("utf-8")) if meta_path.exists() else {}
    return ModelInfo(name, version, path, meta.get("trained_at", ""), False)


def _same_levels(model_path: Path, cfg: SourceSettings) -> bool:
    """Whether a saved model has the comparisons, and as many levels in each, as the config
    builds now: a model saved before a level was added cannot score the new one."""
    saved = {
        c["output_column_name"]: len(c["comparison_levels"])
        for c in json.loads(model_path.read_text("utf-8"))["comparisons"]
    }
    built = {}
    for i, entry in enumerate(cfg.raw.get("comparisons", [])):
        comparison = comparison_from_config(entry, where=f"{cfg.origin}: comparisons[{i}]")
        built[comparison._output_column_name] = len(comparison.level_keys)
    return saved == built


#: the DuckDB table the predictions of a Spark linker come back into
SPARK_PREDICTIONS = "tmp_renkou_spark_predictions"


def predict(store: Store, linker: Linker, threshold: float) -> str:
    """The DuckDB table of scored candidate pairs above ``threshold``: Splink's own table on
    DuckDB; on Spark, the predictions brought back as Parquet (:data:`SPARK_PREDICTIONS`).
    :func:`release` drops it."""
    predictions: SplinkDataFrame = linker.inference.predict(threshold_match_probability=threshold)
    if dialect_of(linker) == "duckdb":
        return predictions.physical_name
    return spark.to_duckdb(store, predictions.as_spark_dataframe(), SPARK_PREDICTIONS)


def level_labels(model_path: Path) -> dict[str, dict[int, str]]:
    """``gamma_<comparison>`` value → level label, from a saved model (for explanations)."""
    model = json.loads(model_path.read_text("utf-8"))
    labels: dict[str, dict[int, str]] = {}
    for comparison in model["comparisons"]:
        name = comparison["output_column_name"]
        levels = comparison["comparison_levels"]
        non_null = [lv for lv in levels if not lv.get("is_null_level")]
        mapping = {-1: "null"}
        for i, level in enumerate(non_null):
            mapping[len(non_null) - 1 - i] = level.get("label_for_charts", f"level {i}")
        labels[name] = mapping
    return labels


def tf_columns(model_path: Path) -> list[str]:
    """Columns whose term frequencies adjust match weights in a saved model."""
    model = json.loads(model_path.read_text("utf-8"))
    return sorted(
        {
            lv["tf_adjustment_column"]
            for c in model["comparisons"]
            for lv in c["comparison_levels"]
            if lv.get("tf_adjustment_column")
        }
    )


#: ``base_tf_<column>``: term frequencies of the base, kept between runs (see below)
TF_PREFIX = "base_tf_"


def drop_base_term_frequencies(store: Store) -> None:
    """Forget the kept term frequencies: the base changed (a full link run starts here)."""
    for (table,) in store.frame(
        "SELECT table_name FROM duckdb_tables() WHERE starts_with(table_name, $1)", [TF_PREFIX]
    ).rows():
        store.con.execute(f'DROP TABLE IF EXISTS "{table}"')


def use_base_term_frequencies(
    store: Store, linker: Linker, base_table: str, model_path: Path
) -> None:
    """Term frequencies from the base alone, registered for prediction.

    Splink would otherwise compute them over the base *and* tonight's records, so the same
    pair could score differently in a full and an incremental run. The base is also the right
    reference population: how common is this name among the county's people.

    Each column's table (``base_tf_<column>``) is computed from ``base_table`` once and kept:
    every model of a run, the next incremental runs (same base) and the report's charts (the
    weights the run decided on) reuse it until :func:`drop_base_term_frequencies`.
    """
    for col in tf_columns(model_path):
        table = f"{TF_PREFIX}{col}"
        if not store.has_table(table):
            store.con.execute(f"""
                CREATE TABLE {table} AS
                SELECT "{col}", count(*) / sum(count(*)) OVER () AS "tf_{col}"
                FROM {base_table} WHERE "{col}" IS NOT NULL GROUP BY "{col}"
            """)
        linker.table_management.register_term_frequency_lookup(register(store, linker, table), col)
