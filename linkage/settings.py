"""Settings, layered key by key and loaded once into typed objects.

Three layers, each over the one before:

1. the package defaults (``configs/`` of the checkout, shipped in the wheel as
   ``linkage.configs``): every key with its documented default, written once;
2. the county's home config, ``HOME/config/`` (``renkou init`` writes an editable copy);
3. a folder named by ``$RENKOU_CONFIG`` (a test, a one-off run).

A file of a later layer needs only the keys it changes: tables merge key by key, and a value
that is not a table (a number, a list, an array of tables such as ``[[comparisons]]``)
replaces the earlier one whole. A key the defaults do not know is an error naming the file
(a misspelt key would otherwise silently keep its default), except in tables whose keys are
free (``[deadlines.finding_type]``). Secrets never live here: keys come from the
environment or a key file outside the home.

Example::

    s = load_settings(Path("var/demo/home"))
    s.county_name, s.source("death").decision.match_probability
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from linkage.errors import ConfigError

#: the environment variable naming a folder of settings over the home's
CONFIG_ENV = "RENKOU_CONFIG"
#: the folder of a home that holds its own settings
HOME_CONFIG = "config"
#: per-source linkage settings, one file per source
SOURCES_DIR = "sources"
#: the environment variable holding the task workbooks' sheet-protection password
SHEET_PASSWORD_ENV = "RENKOU_SHEET_PASSWORD"
#: keys that would be secrets: refused in settings files (secrets come from the environment)
_SECRET_KEY = re.compile(r"password|secret|passphrase|(^|_)key$|token", re.IGNORECASE)

UNITS = ("working", "calendar")
SHEET_LAYOUTS = ("village", "finding_type")
BACKENDS = ("duckdb", "spark")


def package_defaults() -> Traversable:
    """The shipped defaults (``configs/`` of the checkout, ``linkage.configs`` when installed)."""
    return resources.files("linkage.configs")


def config_layers(home: Path | None) -> list[Traversable]:
    """The folders settings are read from, defaults first."""
    layers: list[Traversable] = [package_defaults()]
    if home is not None and (home / HOME_CONFIG).is_dir():
        layers.append(home / HOME_CONFIG)
    env = os.environ.get(CONFIG_ENV)
    if env:
        folder = Path(env)
        if not folder.is_dir():
            raise ConfigError(
                f"{CONFIG_ENV}={env} is not a folder. Fix: point it at a folder of TOML "
                f"files (like HOME/{HOME_CONFIG}) or unset it"
            )
        layers.append(folder)
    return layers


def read_toml(path: Traversable | Path) -> dict[str, Any]:
    """Parse one TOML file; a malformed file is a ``ConfigError`` naming it."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing. Fix: restore it (renkou init writes one)") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"{path} is not valid TOML ({err}). Fix the line it names") from None


def merge(
    base: Mapping[str, Any],
    over: Mapping[str, Any],
    where: str,
    *,
    strict: bool = True,
    free: Iterable[str] = (),
    _prefix: str = "",
) -> dict[str, Any]:
    """``over`` merged into ``base`` key by key (tables recursively, other values replaced).

    With ``strict``, a key of ``over`` that ``base`` lacks is a ``ConfigError`` naming
    ``where``, except inside the tables named in ``free`` (dotted paths, e.g.
    ``"deadlines.finding_type"``), whose content replaces the default whole.
    """
    free = frozenset(free)
    merged = dict(base)
    unknown = []
    for key, value in over.items():
        path = f"{_prefix}{key}"
        if path in free:
            merged[key] = value
        elif key not in base:
            if strict:
                unknown.append(path)
            else:
                merged[key] = value
        elif isinstance(value, Mapping) and isinstance(base[key], Mapping):
            merged[key] = merge(
                base[key], value, where, strict=strict, free=free, _prefix=f"{path}."
            )
        else:
            merged[key] = value
    if unknown:
        known = ", ".join(sorted(f"{_prefix}{k}" for k in base))
        raise ConfigError(
            f"{where}: unknown setting(s) {', '.join(unknown)}. Fix: correct the spelling; "
            f"known here: {known}"
        )
    return merged


def _refuse_secrets(values: Mapping[str, Any], where: str, prefix: str = "") -> None:
    """Secrets never live in settings files (they are copied, mailed, committed)."""
    for key, value in values.items():
        if _SECRET_KEY.search(key) and not isinstance(value, Mapping):
            raise ConfigError(
                f"{where}: {prefix}{key} looks like a secret, and secrets are not kept in "
                "settings files. Fix: remove it; renkou reads secrets from the environment "
                f"(e.g. {SHEET_PASSWORD_ENV})"
            )
        if isinstance(value, Mapping):
            _refuse_secrets(value, where, f"{prefix}{key}.")


def layered(
    relative: str,
    home: Path | None,
    *,
    strict: bool = True,
    free: Iterable[str] = (),
) -> tuple[dict[str, Any], str]:
    """One settings file read through every layer: ``(merged values, where they came from)``.

    ``relative`` is the file's path inside a config folder (``"renkou.toml"``,
    ``"sources/death.toml"``). A file no layer has is a ``ConfigError``.
    """
    merged: dict[str, Any] | None = None
    origins = []
    for layer in config_layers(home):
        path = layer.joinpath(*relative.split("/"))
        if not path.is_file():
            continue
        values = read_toml(path)
        _refuse_secrets(values, str(path))
        origins.append(str(path))
        merged = (
            values if merged is None else merge(merged, values, str(path), strict=strict, free=free)
        )
    if merged is None:
        raise ConfigError(
            f"no settings file {relative} in the package, HOME/{HOME_CONFIG} or "
            f"${CONFIG_ENV}. Fix: reinstall renkou, or add {relative} to HOME/{HOME_CONFIG}"
        )
    return merged, " + ".join(origins)


# --------------------------------------------------------------------------- typed settings
@dataclass(frozen=True)
class Thresholds:
    """How a source's scores become decisions (``[decision]`` of its settings file)."""

    match_probability: float = 0.95
    clerical_probability: float = 0.5
    min_weight_margin: float = 3.0
    one_to_one: bool = False


@dataclass(frozen=True)
class Training:
    """How a source's Splink model is trained (``[training]`` of its settings file)."""

    prior_rules: tuple[tuple[str, ...], ...] = (("id_number",),)
    prior_recall: float = 0.8
    em_blocks: tuple[tuple[str, ...], ...] = (("id_number",), ("name_py", "birth_date"))
    m_floor: float = 0.001
    u_floor: float = 1e-8
    min_labels_for_m: int = 100


@dataclass(frozen=True)
class SourceSettings:
    """One source's linkage settings (``sources/<source>.toml`` through the layers).

    ``raw`` is the merged file as read: ``linkage.comparisons.build_settings`` reads its
    comparisons and blocking rules. Tables only one stage reads (``[family]``,
    ``[newborns]``) are had with :meth:`section`; their defaults are in that stage's module.
    """

    name: str
    origin: str
    raw: Mapping[str, Any]
    cascade: bool
    decision: Thresholds
    training: Training
    #: ``[delivery] snapshot``: each delivery is the source's whole register of the county,
    #: so a person missing from it is missing (unverified_person needs that of 户籍)
    snapshot: bool = False
    #: ``[delivery] max_withdraw_share``: a snapshot delivery that would withdraw more than
    #: this share of the source's records is refused until an operator confirms it
    #: (``renkou quarantine confirm-withdrawal``; docs/deliveries.md)
    max_withdraw_share: float = 0.2

    def section(self, name: str) -> dict[str, Any]:
        """A table of the file (``{}`` when absent)."""
        value = self.raw.get(name, {})
        if not isinstance(value, Mapping):
            raise ConfigError(f"{self.origin}: {name} must be a table [{name}]. Fix: write it so")
        return dict(value)


@dataclass(frozen=True)
class TaskSettings:
    """Township tasks (``tasks.toml``): deadlines by priority in ``unit`` days, a finding
    type's own limit where config overrides the catalog's (``type_days``, in the type's unit),
    the feedback target and the workbook layout. ``password`` (sheet protection) comes from
    ``$RENKOU_SHEET_PASSWORD``, never from a file."""

    unit: str
    ordinary_days: int
    high_days: int
    type_days: Mapping[str, int]
    target_rate: float
    sheets: str
    paper: int

    @property
    def password(self) -> str:
        """The sheet-protection password, read from the environment when asked for."""
        return os.environ.get(SHEET_PASSWORD_ENV, "")


@dataclass(frozen=True)
class Limit:
    """A time limit: ``days`` counted in ``unit`` ("working" = 工作日, "calendar" = 日)."""

    days: int
    unit: str


@dataclass(frozen=True)
class ExchangeSettings:
    """Cross-county 协查 (``exchange.toml``): the monthly cycle's submission and answer days,
    the answer limits by 紧急程度 and by 协查类型, and the feedback target."""

    submit_day: int
    answer_day: int
    urgent: Limit
    ordinary: Limit
    query_type: Mapping[str, Limit]
    target_rate: float


@dataclass(frozen=True)
class SparkSettings:
    """``[spark]``: where the link stage runs when ``backend = "spark"``."""

    master: str = "local[2]"
    driver_memory: str = "4g"
    shuffle_partitions: int = 8


@dataclass(frozen=True)
class ModelCheckSettings:
    """``renkou model check`` (``[model_check]`` of renkou.toml; ``linkage.link.check``):
    how many trainings again, how much of the data each sees, and what is flagged."""

    seeds: int = 3
    resamples: int = 4
    resample_share: float = 0.5
    interval: tuple[float, float] = (0.05, 0.95)
    min_support: int = 30
    max_weight_spread: float = 1.0


@dataclass(frozen=True)
class Settings:
    """Everything a home runs with, read once (:func:`load_settings`)."""

    county_code: str
    county_name: str
    backend: str
    seed: int
    u_max_pairs: int
    mask_keep_head: int
    mask_keep_tail: int
    cron: str
    timezone: str
    timeliness_days: int
    tasks: TaskSettings
    exchange: ExchangeSettings
    model_check: ModelCheckSettings = field(default_factory=ModelCheckSettings)
    #: ``[review] undecided_working_days``: a clerical pair undecided this long is a finding
    review_undecided_days: int = 10
    home: Path | None = None
    origin: str = ""
    #: key file per kind (db, audit, exchange) named in [security]; read by linkage.keys
    key_files: Mapping[str, str] = field(default_factory=dict)
    spark: SparkSettings = field(default_factory=SparkSettings)
    #: ``[duckdb]``: the store's memory limit and spill folder ("" keeps DuckDB's default)
    memory_limit: str = ""
    temp_directory: str = ""
    _sources: dict[str, SourceSettings] = field(default_factory=dict, repr=False, compare=False)

    def source(self, name: str) -> SourceSettings:
        """The linkage settings of source ``name``, read on first use."""
        if name not in self._sources:
            self._sources[name] = load_source(name, self.home)
        return self._sources[name]


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where} = {value!r} is not a positive whole number. Fix: e.g. 30")
    return value


def _share(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
        raise ConfigError(f"{where} = {value!r} is not a share in (0, 1]. Fix: e.g. 0.95")
    return float(value)


def _one_of(value: Any, allowed: tuple[str, ...], where: str) -> str:
    if value not in allowed:
        raise ConfigError(f"{where} = {value!r}. Fix: one of {', '.join(map(repr, allowed))}")
    return str(value)


def _tasks(data: Mapping[str, Any], where: str) -> TaskSettings:
    from linkage.catalog import FINDING_TYPES  # the catalog's modules read settings

    dl, book = data["deadlines"], data["workbook"]
    unknown = sorted(set(dl.get("finding_type", {})) - set(FINDING_TYPES))
    if unknown:
        raise ConfigError(
            f"{where}: [deadlines.finding_type] names no finding type {', '.join(unknown)}. "
            f"Fix: one of {', '.join(FINDING_TYPES)}"
        )
    return TaskSettings(
        unit=_one_of(dl["unit"], UNITS, f"{where}: [deadlines] unit"),
        ordinary_days=_positive_int(dl["ordinary"], f"{where}: [deadlines] ordinary"),
        high_days=_positive_int(dl["high"], f"{where}: [deadlines] high"),
        type_days={
            k: _positive_int(v, f"{where}: [deadlines.finding_type] {k}")
            for k, v in dl.get("finding_type", {}).items()
        },
        target_rate=_share(data["feedback"]["target_rate"], f"{where}: [feedback] target_rate"),
        sheets=_one_of(book["sheets"], SHEET_LAYOUTS, f"{where}: [workbook] sheets"),
        paper=_positive_int(book["paper"], f"{where}: [workbook] paper"),
    )


def _limit(value: Any, where: str) -> Limit:
    if not isinstance(value, Mapping) or set(value) != {"days", "unit"}:
        raise ConfigError(f'{where} = {value!r}. Fix: write {{ days = 30, unit = "calendar" }}')
    return Limit(
        _positive_int(value["days"], f"{where}.days"), _one_of(value["unit"], UNITS, where)
    )


def _day_of_month(value: Any, where: str) -> int:
    day = _positive_int(value, where)
    if day > 28:
        raise ConfigError(f"{where} = {day}: every month must have it. Fix: a day from 1 to 28")
    return day


def _exchange(data: Mapping[str, Any], where: str) -> ExchangeSettings:
    cycle, dl = data["cycle"], data["deadlines"]
    return ExchangeSettings(
        submit_day=_day_of_month(cycle["submit_day"], f"{where}: [cycle] submit_day"),
        answer_day=_day_of_month(cycle["answer_day"], f"{where}: [cycle] answer_day"),
        urgent=_limit(dl["urgent"], f"{where}: [deadlines] urgent"),
        ordinary=_limit(dl["ordinary"], f"{where}: [deadlines] ordinary"),
        query_type={
            str(k): _limit(v, f"{where}: [deadlines.query_type] {k}")
            for k, v in dl.get("query_type", {}).items()
        },
        target_rate=_share(data["feedback"]["target_rate"], f"{where}: [feedback] target_rate"),
    )


def _model_check(data: Mapping[str, Any], where: str) -> ModelCheckSettings:
    interval = data["interval"]
    quantiles = interval if isinstance(interval, list) and len(interval) == 2 else []
    if not (
        quantiles
        and all(isinstance(q, int | float) and not isinstance(q, bool) for q in quantiles)
        and 0 <= quantiles[0] < quantiles[1] <= 1
    ):
        raise ConfigError(
            f"{where}: [model_check] interval = {interval!r} is not two quantiles "
            "low < high in [0, 1]. Fix: e.g. [0.05, 0.95]"
        )
    spread = data["max_weight_spread"]
    if isinstance(spread, bool) or not isinstance(spread, int | float) or spread <= 0:
        raise ConfigError(
            f"{where}: [model_check] max_weight_spread = {spread!r} is not a positive number "
            "of bits. Fix: e.g. 1.0"
        )
    resamples = data["resamples"]
    if isinstance(resamples, bool) or not isinstance(resamples, int) or resamples < 0:
        raise ConfigError(
            f"{where}: [model_check] resamples = {resamples!r} is not a whole number >= 0. "
            "Fix: e.g. 4 (0: seeds only)"
        )
    return ModelCheckSettings(
        seeds=_positive_int(data["seeds"], f"{where}: [model_check] seeds"),
        resamples=resamples,
        resample_share=_share(data["resample_share"], f"{where}: [model_check] resample_share"),
        interval=(float(quantiles[0]), float(quantiles[1])),
        min_support=_positive_int(data["min_support"], f"{where}: [model_check] min_support"),
        max_weight_spread=float(spread),
    )


def _rules(value: Any, where: str) -> tuple[tuple[str, ...], ...]:
    if not isinstance(value, list) or not all(isinstance(r, list) for r in value):
        raise ConfigError(f"{where} must be a list of column lists. Fix: e.g. [['id_number']]")
    return tuple(tuple(str(c) for c in rule) for rule in value)


def load_source(name: str, home: Path | None) -> SourceSettings:
    """One source's settings through the layers (a home may add a source of its own)."""
    raw, origin = layered(f"{SOURCES_DIR}/{name}.toml", home, strict=False)
    dec, tr = raw.get("decision", {}), raw.get("training", {})
    known_dec = set(Thresholds.__dataclass_fields__)
    known_tr = set(Training.__dataclass_fields__)
    for table, values, known in (("decision", dec, known_dec), ("training", tr, known_tr)):
        unknown = sorted(set(values) - known)
        if unknown:
            raise ConfigError(
                f"{origin}: unknown setting(s) [{table}] {', '.join(unknown)}. "
                f"Fix: one of {', '.join(sorted(known))}"
            )
    defaults_dec, defaults_tr = Thresholds(), Training()
    try:
        decision = Thresholds(
            match_probability=_share(
                dec.get("match_probability", defaults_dec.match_probability),
                f"{origin}: [decision] match_probability",
            ),
            clerical_probability=_share(
                dec.get("clerical_probability", defaults_dec.clerical_probability),
                f"{origin}: [decision] clerical_probability",
            ),
            min_weight_margin=float(dec.get("min_weight_margin", defaults_dec.min_weight_margin)),
            one_to_one=bool(dec.get("one_to_one", defaults_dec.one_to_one)),
        )
        training = Training(
            prior_rules=_rules(tr["prior_rules"], f"{origin}: [training] prior_rules")
            if "prior_rules" in tr
            else defaults_tr.prior_rules,
            prior_recall=_share(
                tr.get("prior_recall", defaults_tr.prior_recall),
                f"{origin}: [training] prior_recall",
            ),
            em_blocks=_rules(tr["em_blocks"], f"{origin}: [training] em_blocks")
            if "em_blocks" in tr
            else defaults_tr.em_blocks,
            m_floor=float(tr.get("m_floor", defaults_tr.m_floor)),
            u_floor=float(tr.get("u_floor", defaults_tr.u_floor)),
            min_labels_for_m=_positive_int(
                tr.get("min_labels_for_m", defaults_tr.min_labels_for_m),
                f"{origin}: [training] min_labels_for_m",
            ),
        )
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"{origin}: a [decision] or [training] value is not a number "
            f"({err}). Fix: write numbers as numbers"
        ) from None
    return SourceSettings(
        name=name,
        origin=origin,
        raw=raw,
        cascade=bool(raw.get("cascade", False)),
        decision=decision,
        training=training,
        snapshot=bool(raw.get("delivery", {}).get("snapshot", False)),
        max_withdraw_share=_share(
            raw.get("delivery", {}).get("max_withdraw_share", 0.2),
            f"{origin}: [delivery] max_withdraw_share",
        ),
    )


def _settings(home: Path | None) -> Settings:
    data, where = layered("renkou.toml", home)
    tasks, tasks_where = layered("tasks.toml", home, free=("deadlines.finding_type",))
    exchange, exchange_where = layered("exchange.toml", home, free=("deadlines.query_type",))
    code = str(data["county"]["code"])
    if len(code) != 6 or not code.isdigit():
        raise ConfigError(
            f"{where}: [county] code = {code!r} is not a 6-digit county code. Fix: use the "
            "county's code of the administrative division table, e.g. '433127'"
        )
    link, privacy, schedule = data["linkage"], data["privacy"], data["schedule"]
    return Settings(
        county_code=code,
        county_name=str(data["county"]["name"]),
        backend=_one_of(link["backend"], BACKENDS, f"{where}: [linkage] backend"),
        seed=int(link["seed"]),
        u_max_pairs=_positive_int(link["u_max_pairs"], f"{where}: [linkage] u_max_pairs"),
        mask_keep_head=int(privacy["mask_keep_head"]),
        mask_keep_tail=int(privacy["mask_keep_tail"]),
        cron=str(schedule["cron"]),
        timezone=str(schedule["timezone"]),
        timeliness_days=_positive_int(
            data["figures"]["timeliness_days"], f"{where}: [figures] timeliness_days"
        ),
        tasks=_tasks(tasks, tasks_where),
        review_undecided_days=_positive_int(
            data["review"]["undecided_working_days"],
            f"{where}: [review] undecided_working_days",
        ),
        exchange=_exchange(exchange, exchange_where),
        model_check=_model_check(data["model_check"], where),
        key_files={
            kind: str(data["security"].get(f"{kind}_key_file", ""))
            for kind in ("db", "audit", "exchange", "outbox")
            if data["security"].get(f"{kind}_key_file")
        },
        spark=SparkSettings(
            master=str(data["spark"]["master"]),
            driver_memory=str(data["spark"]["driver_memory"]),
            shuffle_partitions=_positive_int(
                data["spark"]["shuffle_partitions"], f"{where}: [spark] shuffle_partitions"
            ),
        ),
        memory_limit=_memory(data["duckdb"]["memory_limit"], f"{where}: [duckdb] memory_limit"),
        temp_directory=str(data["duckdb"]["temp_directory"]),
        home=home,
        origin=where,
    )


def _memory(value: Any, where: str) -> str:
    """A DuckDB memory size such as ``"16GB"`` or ``"800MB"``; "" for DuckDB's default."""
    text = str(value).strip()
    if text and not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", text, re.I):
        raise ConfigError(f'{where} = {value!r} is not a memory size. Fix: e.g. "16GB" or ""')
    return text


def _fingerprint(home: Path | None) -> tuple[object, ...]:
    """What the settings of ``home`` depend on: the layers and their files' change times."""
    stamps: list[object] = [os.environ.get(CONFIG_ENV, "")]
    for layer in config_layers(home)[1:]:  # the package's own files do not change
        folder = Path(str(layer))
        for path in sorted(folder.rglob("*.toml")):
            stamps.append((str(path), path.stat().st_mtime_ns))
    return tuple(stamps)


@cache
def _cached(home: Path | None, _fingerprint: tuple[object, ...]) -> Settings:
    return _settings(home)


def load_settings(home: Path | str | None = None) -> Settings:
    """The settings of ``home`` (package defaults, then ``HOME/config``, then
    ``$RENKOU_CONFIG``), read once and again only when one of their files changes."""
    resolved = Path(home).resolve() if home is not None else None
    return _cached(resolved, _fingerprint(resolved))


# --------------------------------------------------------------------------- a county's home
def _commented(text: str) -> str:
    """A shipped settings file with every setting commented out: the home's copy documents
    every key and its default, and overrides only what the county uncomments."""
    return "\n".join(
        line if not line.strip() or line.lstrip().startswith("#") else f"# {line}"
        for line in text.splitlines()
    )


def init_home(home: Path, *, county_code: str, county_name: str) -> list[Path]:
    """Write ``HOME/config/``: the county's code and name, and a commented copy of every other
    shipped settings file (uncomment a key to change it). Returns the files written.

    Raises:
        ConfigError: the folder exists already, or the county code is not 6 digits.
    """
    folder = home / HOME_CONFIG
    if folder.exists():
        raise ConfigError(f"{folder} exists already. Fix: edit its files, or move it away first")
    if len(county_code) != 6 or not county_code.isdigit():
        raise ConfigError(
            f"county code {county_code!r} is not 6 digits. Fix: the county's code of the "
            "administrative division table, e.g. 433127"
        )
    if not county_name.strip():
        raise ConfigError("the county name is empty. Fix: pass --name, e.g. --name 永顺县")
    defaults = package_defaults()
    written = []
    (folder / SOURCES_DIR).mkdir(parents=True)
    head = (
        "# The settings of this county. Every key below is the shipped default, commented out:\n"
        "# uncomment a key to change it (tables merge key by key over the defaults).\n\n"
    )
    county = f'[county]\ncode = "{county_code}"\nname = "{county_name.strip()}"\n\n'
    renkou = _commented(defaults.joinpath("renkou.toml").read_text("utf-8"))
    renkou = renkou.replace("# [county]", "# [county] (set above)", 1)
    files = {folder / "renkou.toml": head + county + renkou + "\n"}
    for name in ("tasks.toml", "exchange.toml"):
        files[folder / name] = head + _commented(defaults.joinpath(name).read_text("utf-8")) + "\n"
    for path in defaults.joinpath(SOURCES_DIR).iterdir():
        if path.name.endswith(".toml"):
            text = _commented(path.read_text("utf-8"))
            files[folder / SOURCES_DIR / path.name] = head + text + "\n"
    for path, text in files.items():
        path.write_text(text, "utf-8")
        written.append(path)
    load_settings(home)  # what was written must load
    return written
