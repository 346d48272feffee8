"""Settings of the generator: the county (``county.toml``) and the error model.

The shipped TOML files are the defaults and their documentation, read through the layers of
``linkage.settings`` (package, HOME/config, $RENKOU_CONFIG). A file given by the user is
merged over them table by table, so it needs only the rates it changes; a key the defaults do
not know is an error (a misspelt family would otherwise silently keep its default).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from linkage.errors import ConfigError
from linkage.settings import layered, merge, read_toml

ERROR_MODEL = "error_model.toml"
COUNTY = "county.toml"
#: county tables that are whole distributions: a file's table replaces the default, not merged
_FREE_COUNTY_TABLES = ("ethnicity", "households", "surname_boost")


def _read(
    relative: str, path: Path | None, home: Path | None, free: tuple[str, ...] = ()
) -> tuple[dict[str, Any], str]:
    """The layered defaults (package, HOME/config, $RENKOU_CONFIG), then ``path`` over them."""
    tables, where = layered(relative, home, free=free)
    if path is None:
        return tables, where
    return merge(tables, read_toml(path), str(path), free=free), str(path)


def _check_rates(tables: dict[str, dict[str, Any]], where: str) -> None:
    bad = [
        f"[{t}] {k} = {v!r}"
        for t, values in tables.items()
        for k, v in values.items()
        if not isinstance(v, int | float) or isinstance(v, bool) or not 0 <= v <= 1
    ]
    if bad:
        raise ConfigError(
            f"{where}: rates must be numbers in [0, 1]: {', '.join(bad)}. "
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
    def load(cls, path: Path | None = None, home: Path | None = None) -> ErrorModel:
        tables, where = _read(ERROR_MODEL, path, home)
        _check_rates(tables, where)
        return cls(tables=tables, path=where)


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
    def load(cls, path: Path | None = None, home: Path | None = None) -> CountyConfig:
        raw, where = _read(COUNTY, path, home, _FREE_COUNTY_TABLES)
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
