"""Settings of the generator: the county (``configs/county.toml``) and the error model.

The shipped TOML files are the defaults and their documentation. A file given by the user is
merged over them table by table, so it needs only the rates it changes; a key the defaults do
not know is an error (a misspelt family would otherwise silently keep its default).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkage.config import read_toml
from linkage.errors import ConfigError

CONFIG_DIR = Path(__file__).resolve().parents[2] / "configs"
DEFAULT_ERROR_MODEL = CONFIG_DIR / "error_model.toml"
DEFAULT_COUNTY = CONFIG_DIR / "county.toml"


def _merge(
    default: dict[str, Any],
    override: dict[str, Any],
    path: Path,
    free_tables: frozenset[str] = frozenset(),
) -> dict[str, Any]:
    """Tables of ``override`` replace keys of ``default``; unknown tables/keys are errors."""
    problems = []
    merged = {table: dict(values) for table, values in default.items()}
    for table, values in override.items():
        if table not in default:
            problems.append(f"unknown table [{table}]")
            continue
        if table in free_tables:  # a whole distribution: replaced, not merged
            merged[table] = dict(values)
            continue
        for key, value in values.items():
            if key not in default[table]:
                problems.append(f"unknown key [{table}] {key}")
            else:
                merged[table][key] = value
    if problems:
        known = ", ".join(sorted(default))
        raise ConfigError(
            f"{path}: {'; '.join(problems)}. Fix: use the tables and keys of "
            f"the shipped defaults ({known})"
        )
    return merged


def _check_rates(tables: dict[str, dict[str, Any]], path: Path) -> None:
    bad = [
        f"[{t}] {k} = {v!r}"
        for t, values in tables.items()
        for k, v in values.items()
        if not isinstance(v, int | float) or isinstance(v, bool) or not 0 <= v <= 1
    ]
    if bad:
        raise ConfigError(
            f"{path}: rates must be numbers in [0, 1]: {', '.join(bad)}. "
            "Fix: write each rate as a share, e.g. 0.02 for 2 %"
        )


@dataclass(frozen=True)
class ErrorModel:
    """Rates of every error family, per source (``population`` is the base itself)."""

    tables: dict[str, dict[str, float]]
    path: str

    def rate(self, source: str, family: str) -> float:
        return float(self.tables[source][family])

    @classmethod
    def load(cls, path: Path | None = None) -> ErrorModel:
        default = read_toml(DEFAULT_ERROR_MODEL)
        tables = default if path is None else _merge(default, read_toml(path), path)
        _check_rates(tables, path or DEFAULT_ERROR_MODEL)
        return cls(tables=tables, path=str(path or DEFAULT_ERROR_MODEL))


@dataclass(frozen=True)
class CountyConfig:
    """Geography, demography, events and source coverage of the synthetic county."""

    code: str
    seat: str
    reference_date: dt.date
    period_days: int
    ethnicity: dict[str, float]
    households: dict[str, float]
    surname_boost: dict[str, float]
    events: dict[str, float]
    coverage: dict[str, float]
    path: str

    @property
    def period_start(self) -> dt.date:
        return self.reference_date - dt.timedelta(days=self.period_days - 1)

    @classmethod
    def load(cls, path: Path | None = None) -> CountyConfig:
        default = read_toml(DEFAULT_COUNTY)
        free = frozenset({"ethnicity", "households", "surname_boost"})
        raw = default if path is None else _merge(default, read_toml(path), path, free)
        where = path or DEFAULT_COUNTY
        _check_rates({k: raw[k] for k in ("events", "coverage", "households", "ethnicity")}, where)
        county = raw["county"]
        code = str(county["code"])
        if len(code) != 6 or not code.isdigit():
            raise ConfigError(
                f"{where}: [county] code = {code!r} is not a 6-digit county "
                "code. Fix: use a code of the division table, e.g. '433127'"
            )
        return cls(
            code=code,
            seat=str(county["seat"]),
            reference_date=dt.date.fromisoformat(str(county["reference_date"])),
            period_days=int(county["period_days"]),
            ethnicity={k: float(v) for k, v in raw["ethnicity"].items()},
            households={k: float(v) for k, v in raw["households"].items()},
            surname_boost={k: float(v) for k, v in raw["surname_boost"].items()},
            events={k: float(v) for k, v in raw["events"].items()},
            coverage={k: float(v) for k, v in raw["coverage"].items()},
            path=str(where),
        )
