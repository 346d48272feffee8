"""The model check (``renkou model check``): how far each saved model's m and u can be trusted.

Offline, not part of the night. Each model the last run used (every source's, and the base
dedupe ``population``) is estimated again with the night's own training
(:func:`linkage.link.model.fit`) on the night's data:

- with ``[model_check] seeds`` seeds on all records (the first is ``[linkage] seed``, so it
  gives the saved model again when the data has not changed): how much a level's weight moves
  with the random sample behind u is its **stability**;
- on ``resamples`` resamples, each a ``resample_share`` of the source's records (of the base
  rows for the dedupe), chosen by another seed: with the seed runs, the spread of the
  estimates gives each level an **interval** (the ``interval`` quantiles of all runs; with
  fewer than ten runs that is their lowest and highest value);
- the **support** behind each level: for m, the matching pairs EM counted at the level (its
  expected count Σ P(match) over the training blocks' pairs); for u, the non-matching pairs
  the random sample drew at it (pairs at the level less the true matches λ·m·n among them).

A level is flagged when a trained m or u has less than ``min_support`` pairs behind it (the fix:
an explicit prior, ``fixed_m``/``fixed_u`` on its level key in ``sources/<source>.toml``), when
its weight moves more than ``max_weight_spread`` bits across seeds, or when the saved model's
weight lies outside the interval (the data moved since the model was trained: retrain). Levels
fixed in config are shown, not flagged for what they fix.

Results: ``HOME/model_checks/<source>.json`` (levels, labels and numbers; no record), shown in
the report's model section. The counts behind m and u are read from Splink's own EM and
random-sampling steps while they run (:class:`_Counts`); the names it hooks are those of the
installed Splink 5.0 and a test fails if they stop answering.

Example::

    results = check_models(store)              # every model of the last run
    results["death"]["levels"][0]["flags"]     # e.g. ["m_unsupported"]
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from splink.internals import estimate_u, expectation_maximisation

from linkage.comparisons import comparison_from_config, level_gammas
from linkage.errors import RenkouError
from linkage.link import model as models
from linkage.link.run import BASE, LINK_SOURCES, link_columns
from linkage.persons import PERSON_TABLE
from linkage.settings import ModelCheckSettings, Training
from linkage.store import Store

log = logging.getLogger(__name__)

#: the folder of a home that holds the check's results, one JSON file per model
CHECK_DIR = "model_checks"
BASE_SOURCE = "population"
#: why a level is flagged (keys of the JSON's ``flags``)
FLAGS = {
    "m_unsupported": "too few matching pairs behind m",
    "u_unsupported": "too few non-matching pairs behind u",
    "unstable": "weight moves across seeds",
    "saved_outside": "saved model outside the interval",
}
_SAMPLE = "tmp_renkou_check_sample"
#: the Splink function that turns counts into m and u (see :class:`_Counts`)
_HOOKED = "compute_proportions_for_new_parameters"


def check_path(home: Path, source: str) -> Path:
    """Where the check of ``source``'s model is kept."""
    return home / CHECK_DIR / f"{source}.json"


def load_check(home: Path, source: str) -> dict[str, Any] | None:
    """The last check of ``source``'s model, or None when none was run."""
    path = check_path(home, source)
    return json.loads(path.read_text("utf-8")) if path.exists() else None


class _Counts:
    """The pair counts behind each level, read from Splink's training while it runs.

    Splink turns counts into proportions in one function, called by random sampling with the
    u counts of one comparison and by each EM iteration with the m counts of every comparison
    it estimates; wrapped in both modules while :meth:`recording`, it hands the counts here.
    """

    def __init__(self) -> None:
        self.u: dict[str, dict[int, float]] = {}  # comparison → gamma → sampled pairs
        self.m: dict[str, dict[int, float]] = {}  # comparison → gamma → Σ P(match), all blocks
        self._iteration: dict[str, dict[int, float]] = {}  # EM's last iteration

    def _read(self, df_params: Any) -> list[dict[str, Any]]:
        return [
            r
            for r in df_params.as_record_list()
            if r["output_column_name"] != "_probability_two_random_records_match"
            and int(r["comparison_vector_value"]) >= 0
        ]

    def _u(self, df_params: Any) -> None:
        for r in self._read(df_params):
            level = self.u.setdefault(r["output_column_name"], {})
            level[int(r["comparison_vector_value"])] = float(r["u_count"] or 0.0)

    def _em(self, df_params: Any) -> None:
        self._iteration = {}
        for r in self._read(df_params):
            level = self._iteration.setdefault(r["output_column_name"], {})
            level[int(r["comparison_vector_value"])] = float(r["m_count"] or 0.0)

    def block_done(self, _block: str) -> None:
        """An EM session ended: its last iteration's counts add to the support."""
        for name, levels in self._iteration.items():
            total = self.m.setdefault(name, {})
            for gamma, n in levels.items():
                total[gamma] = total.get(gamma, 0.0) + n
        self._iteration = {}

    @contextmanager
    def recording(self) -> Iterator[_Counts]:
        proportions = expectation_maximisation.compute_proportions_for_new_parameters

        def wrap(read: Callable[[Any], None]) -> Callable[[Any], Any]:
            def counted(df_params: Any) -> Any:
                read(df_params)
                return proportions(df_params)

            return counted

        hooked = ((estimate_u, self._u), (expectation_maximisation, self._em))
        for module, read in hooked:
            setattr(module, _HOOKED, wrap(read))
        try:
            yield self
        finally:
            for module, _ in hooked:
                setattr(module, _HOOKED, proportions)


def _levels(cfg_comparisons: list[dict[str, Any]], model: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per non-null level of ``model``: comparison, its config type, level key, gamma,
    label, m, u and whether m/u are fixed in config."""
    rows = []
    for entry, comparison in zip(cfg_comparisons, model["comparisons"], strict=True):
        built = comparison_from_config(entry)
        gammas = level_gammas(built)
        keys = [k for k in built.level_keys if k != "null"]
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        for key, lv in zip(keys, levels, strict=True):
            rows.append(
                {
                    "comparison": comparison["output_column_name"],
                    "type": entry["type"],
                    "level": key,
                    "gamma": gammas[key],
                    "label": lv.get("label_for_charts", key),
                    "m": lv.get("m_probability"),
                    "u": lv.get("u_probability"),
                    "m_fixed": bool(lv.get("fix_m_probability")),
                    "u_fixed": bool(lv.get("fix_u_probability")),
                }
            )
    return rows


def weight(m: float | None, u: float | None) -> float | None:
    """The level's match weight log2(m/u) in bits (None when either is not positive)."""
    if m is None or u is None or m <= 0 or u <= 0:
        return None
    return math.log2(m / u)


def interval(values: list[float], low: float, high: float) -> tuple[float, float] | None:
    """The ``low``–``high`` quantiles of ``values`` by nearest rank outwards (so with fewer
    than ten values: their minimum and maximum)."""
    if not values:
        return None
    ordered = sorted(values)
    last = len(ordered) - 1
    return ordered[math.floor(low * last)], ordered[math.ceil(high * last)]


def _support(run: dict[str, Any], row: dict[str, Any]) -> tuple[float, float]:
    """(m support, u support) of one level in one run (see the module)."""
    counts: _Counts = run["counts"]
    m_support = counts.m.get(row["comparison"], {}).get(row["gamma"], 0.0)
    sampled = counts.u.get(row["comparison"], {})
    pairs = sum(sampled.values())
    lam = float(run["model"].get("probability_two_random_records_match", 0.0))
    u_support = sampled.get(row["gamma"], 0.0) - lam * float(row["m"] or 0.0) * pairs
    return m_support, max(u_support, 0.0)


def summarise(
    saved: list[dict[str, Any]],
    runs: list[dict[str, Any]],
    cfg: ModelCheckSettings,
    training: Training,
    *,
    source_file: str,
) -> list[dict[str, Any]]:
    """Per level of the ``saved`` model (rows of :func:`_levels`): the saved m, u and weight,
    their intervals over ``runs`` (each ``{"kind": "seed"|"resample", "levels": rows of
    _levels, "counts": _Counts, "model": dict}``), support, spread across seed runs, the
    flags and the fix.

    An m or u the saved model holds at ``training``'s floor (``m_floor``, ``u_floor``: EM saw
    next to no match there, or sampling no non-match) is that configured prior, not an
    estimate: marked ``floor``, it needs no support of its own as long as the other of the
    two has its support (else the level's weight is the ratio of two floors)."""
    low, high = cfg.interval
    out = []
    for i, row in enumerate(saved):
        at = [r["levels"][i] for r in runs]
        seeds = [r for r in runs if r["kind"] == "seed"]
        weights = [w for lv in at if (w := weight(lv["m"], lv["u"])) is not None]
        seed_weights = [
            w for r in seeds if (w := weight(r["levels"][i]["m"], r["levels"][i]["u"])) is not None
        ]
        supports = [_support(r, r["levels"][i]) for r in seeds]
        m_support = _median([s[0] for s in supports])
        u_support = _median([s[1] for s in supports])
        spread = max(seed_weights) - min(seed_weights) if len(seed_weights) > 1 else 0.0
        saved_weight = weight(row["m"], row["u"])
        w_interval = interval(weights, low, high)
        m_floor = not row["m_fixed"] and _at(row["m"], training.m_floor)
        u_floor = not row["u_fixed"] and _at(row["u"], training.u_floor)
        m_ok = row["m_fixed"] or m_support >= cfg.min_support
        u_ok = row["u_fixed"] or u_support >= cfg.min_support
        flags = []
        # a floor stands for "next to none here" only when the other side has data: a level
        # with m and u both at their floors weighs log2(m_floor/u_floor) on no data at all
        if not m_ok and not (m_floor and u_ok):
            flags.append("m_unsupported")
        if not u_ok and not (u_floor and m_ok):
            flags.append("u_unsupported")
        if spread > cfg.max_weight_spread:
            flags.append("unstable")
        if (
            saved_weight is not None
            and w_interval is not None
            and not w_interval[0] - 1e-6 <= saved_weight <= w_interval[1] + 1e-6
        ):
            flags.append("saved_outside")
        out.append(
            {
                "comparison": row["comparison"],
                "type": row["type"],
                "level": row["level"],
                "label": row["label"],
                "m": {
                    **_estimate(row["m"], [lv["m"] for lv in at], low, high, row["m_fixed"]),
                    "floor": m_floor,
                },
                "u": {
                    **_estimate(row["u"], [lv["u"] for lv in at], low, high, row["u_fixed"]),
                    "floor": u_floor,
                },
                "weight": {"saved": saved_weight, "interval": w_interval},
                "weight_spread_seeds": spread,
                "m_support": round(m_support, 1),
                "u_support": round(u_support, 1),
                "flags": flags,
                "fix": _fix(row, flags, source_file, spread),
            }
        )
    return out


def _at(value: float | None, floor: float) -> bool:
    """``value`` is the floor (floor_m_probabilities rescales floored m a little below it)."""
    return value is not None and value <= floor * (1 + 1e-3)


def _median(values: list[float]) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _estimate(
    saved: float | None, values: list[float | None], low: float, high: float, fixed: bool
) -> dict[str, Any]:
    return {
        "saved": saved,
        "interval": interval([v for v in values if v is not None], low, high),
        "fixed": fixed,
    }


def _fix(row: dict[str, Any], flags: list[str], source_file: str, spread: float) -> str | None:
    """What to do about a flagged level, in one sentence (levels and numbers, no record)."""
    if not flags:
        return None
    where = f'the [[comparisons]] type = "{row["type"]}" of {source_file}'
    fixes = []
    unsupported = [p for p in ("m", "u") if f"{p}_unsupported" in flags]
    if unsupported:
        priors = ", ".join(f"fixed_{p} = {{ {row['level']} = {row[p]:.3g} }}" for p in unsupported)
        fixes.append(f"give it an explicit prior: {priors} on {where}")
    if "unstable" in flags and not unsupported:
        fixes.append(
            f"its weight moves {spread:.1f} bits with the seed: raise [linkage] u_max_pairs, "
            f"or give it an explicit prior (fixed_m = {{ {row['level']} = {row['m']:.3g} }}, "
            f"fixed_u = {{ {row['level']} = {row['u']:.3g} }}) on {where}"
        )
    if "saved_outside" in flags:
        fixes.append("the data moved since the model was trained: retrain (renkou run --retrain)")
    return "; ".join(fixes)


def _models_of_last_run(store: Store) -> dict[str, str]:
    if store.has_table("model_versions"):
        rows = store.frame("SELECT source, version FROM model_versions").rows()
        return {s: v for s, v in rows if v}
    found = {}
    for name in (*LINK_SOURCES, BASE_SOURCE):
        latest = models.latest_model(store.home, name)
        if latest:
            found[name] = latest[0]
    return found


def _stage_tables(store: Store, source: str) -> tuple[list[str], str]:
    """The tables the night trains ``source`` on, under the night's names (the sample drawn
    with a seed depends on them): ``(tables, link_type)``."""
    cols = link_columns(store)
    store.drop(BASE)
    store.con.execute(
        f"CREATE TABLE {BASE} AS SELECT {cols} FROM {PERSON_TABLE} WHERE source = 'population'"
    )
    if source == BASE_SOURCE:
        return [BASE], "dedupe_only"
    table = f"tmp_renkou_link_{source}"
    store.con.execute(
        f"CREATE OR REPLACE TABLE {table} AS SELECT {cols} FROM {PERSON_TABLE} p "
        f"WHERE source = ? AND role <> 'child'",
        [source],
    )
    return [BASE, table], "link_only"


def _resampled(store: Store, table: str, seed: int, share: float) -> str:
    """A resample of ``table``: the rows whose key hashes with ``seed`` below ``share``."""
    store.con.execute(
        f"CREATE OR REPLACE TABLE {_SAMPLE} AS SELECT * FROM {table} "
        f"WHERE hash(rec_key, $seed::BIGINT) % 1000000 < $cut",
        {"seed": seed, "cut": int(share * 1_000_000)},
    )
    return _SAMPLE


def check_model(store: Store, source: str, version: str) -> dict[str, Any]:
    """The check of model ``version`` of ``source`` (see the module), written to
    :func:`check_path` and returned."""
    s = store.settings
    cfg = s.model_check
    found = models.saved_model(store.home, source, version)
    if found is None:
        raise RenkouError(
            f"no saved model of {source} in {store.home / 'models'}. Fix: run a night first "
            f"(renkou --home {store.home} run --inbox DIR)"
        )
    version, path = found
    source_cfg = s.source(source)
    comparisons = list(source_cfg.raw["comparisons"])
    try:
        saved = _levels(comparisons, json.loads(path.read_text("utf-8")))
    except (ValueError, KeyError):  # zip(strict=True): other comparisons or levels
        raise RenkouError(
            f"the saved model {source} {version} has other comparisons or levels than "
            f"{source_cfg.origin}, so it cannot be checked against them. Fix: retrain "
            f"(renkou --home {store.home} run --inbox DIR --retrain), then check"
        ) from None
    start = time.perf_counter()
    tables, link_type = _stage_tables(store, source)
    notes: list[str] = []
    runs: list[dict[str, Any]] = []
    plan = [("seed", s.seed + i, 1.0) for i in range(cfg.seeds)] + [
        ("resample", s.seed + cfg.seeds + i, cfg.resample_share) for i in range(cfg.resamples)
    ]
    try:
        if not store.scalar(f"SELECT count(*) FROM {tables[-1]}"):
            raise RenkouError(
                f"source {source} has no records in {store.path}, so its model cannot be "
                f"checked. Fix: deliver its records (inbox/{source}/) and run a night"
            )
        for kind, seed, share in plan:
            used = list(tables)
            if kind == "resample":
                used[-1] = _resampled(store, tables[-1], seed, share)
            counts = _Counts()
            with counts.recording():
                fitted = models.fit(
                    store,
                    source,
                    used,
                    source_cfg,
                    seed=seed,
                    u_max_pairs=s.u_max_pairs,
                    link_type=link_type,
                    saved=None,
                    saved_version=None,
                    note=notes.append,
                    em_done=counts.block_done,
                )
            runs.append(
                {
                    "kind": kind,
                    "seed": seed,
                    "share": share,
                    "levels": _levels(comparisons, fitted),
                    "counts": counts,
                    "model": fitted,
                }
            )
            log.info("model check %s: %s run with seed %d done", source, kind, seed)
    finally:
        for table in {*tables, _SAMPLE}:
            store.drop(table)
    levels = summarise(saved, runs, cfg, source_cfg.training, source_file=f"sources/{source}.toml")
    result = {
        "source": source,
        "model_version": version,
        "checked_at": dt.datetime.now().isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - start, 1),
        "settings": {
            "seeds": cfg.seeds,
            "resamples": cfg.resamples,
            "resample_share": cfg.resample_share,
            "interval": list(cfg.interval),
            "min_support": cfg.min_support,
            "max_weight_spread": cfg.max_weight_spread,
            "u_max_pairs": s.u_max_pairs,
        },
        "runs": [{"kind": r["kind"], "seed": r["seed"], "share": r["share"]} for r in runs],
        "levels": levels,
        "flagged": sum(1 for lv in levels if lv["flags"]),
        "notes": sorted(set(notes)),
    }
    target = check_path(store.home, source)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2, ensure_ascii=False), "utf-8")
    return result


def check_models(store: Store, sources: tuple[str, ...] = ()) -> dict[str, dict[str, Any]]:
    """Check the models of the last run (only ``sources`` when given): source → result."""
    used = _models_of_last_run(store)
    if not used:
        raise RenkouError(
            f"no saved model in {store.home / 'models'}. Fix: run a night first "
            f"(renkou --home {store.home} run --inbox DIR)"
        )
    unknown = sorted(set(sources) - set(used))
    if unknown:
        raise RenkouError(
            f"no model of {', '.join(unknown)} in the last run. Fix: one of {', '.join(used)}"
        )
    order = [s for s in (*LINK_SOURCES, BASE_SOURCE) if s in used] + sorted(
        set(used) - {*LINK_SOURCES, BASE_SOURCE}
    )
    return {s: check_model(store, s, used[s]) for s in order if not sources or s in sources}
