"""Settings: ``configs/renkou.toml`` and ``configs/sources/*.toml`` loaded once into typed objects.

The config folder is ``$RENKOU_CONFIG`` or the ``configs/`` folder of the checkout.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from linkage.errors import ConfigError

REPO_CONFIGS = Path(__file__).resolve().parent.parent / "configs"


def config_dir() -> Path:
    return Path(os.environ.get("RENKOU_CONFIG", REPO_CONFIGS))


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file; a missing or malformed file is a ``ConfigError`` naming it."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path} is missing. Fix: restore it from the repository") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML ({err}). Fix the line it names") from None


@dataclass(frozen=True)
class Settings:
    county_code: str
    county_name: str
    backend: str
    seed: int
    u_max_pairs: int
    mask_keep_head: int
    mask_keep_tail: int
    cron: str
    timezone: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@cache
def settings(path: Path | None = None) -> Settings:
    """The global settings (``configs/renkou.toml``)."""
    data = read_toml(path or config_dir() / "renkou.toml")
    try:
        return Settings(
            county_code=str(data["county"]["code"]),
            county_name=data["county"]["name"],
            backend=data["linkage"]["backend"],
            seed=int(data["linkage"]["seed"]),
            u_max_pairs=int(data["linkage"]["u_max_pairs"]),
            mask_keep_head=int(data["privacy"]["mask_keep_head"]),
            mask_keep_tail=int(data["privacy"]["mask_keep_tail"]),
            cron=data["schedule"]["cron"],
            timezone=data["schedule"]["timezone"],
            raw=data,
        )
    except KeyError as err:
        raise ConfigError(
            f"renkou.toml lacks setting {err}. Fix: add it (see the copy in the repository)"
        ) from None


@cache
def source_config(source: str) -> dict[str, Any]:
    """The linkage settings of one source (``configs/sources/<source>.toml``)."""
    return read_toml(config_dir() / "sources" / f"{source}.toml")
