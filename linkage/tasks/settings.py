"""Settings of the township tasks: ``configs/tasks.toml`` loaded once into a typed object."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from linkage.config import config_dir
from linkage.config import read_toml as _load
from linkage.errors import ConfigError

UNITS = ("working", "calendar")
SHEET_LAYOUTS = ("village", "finding_type")


@dataclass(frozen=True)
class TaskSettings:
    """Deadlines (in ``unit`` days), the feedback target and the workbook layout."""

    unit: str = "working"
    ordinary_days: int = 30
    high_days: int = 15
    type_days: dict[str, int] = field(default_factory=lambda: {"moved_out": 7})
    target_rate: float = 0.95
    sheets: str = "village"
    paper: int = 9
    password: str = ""

    def deadline_days(self, finding_type: str | None, priority: str | None) -> int:
        """Days allowed for a task: the tighter of its type's limit and its priority's.

        Example: ``TaskSettings().deadline_days("moved_out", "high")`` is 7.
        """
        days = self.high_days if priority == "high" else self.ordinary_days
        own = self.type_days.get(finding_type or "")
        return min(days, own) if own is not None else days


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(
            f"tasks.toml: {where} = {value!r} is not a positive whole number "
            f"of days. Fix: write e.g. {where} = 30"
        )
    return value


@cache
def task_settings(path: Path | None = None) -> TaskSettings:
    """The task settings (``configs/tasks.toml``); defaults for anything not set."""
    data = _load(path or config_dir() / "tasks.toml")
    dl = data.get("deadlines", {})
    unit = dl.get("unit", "working")
    if unit not in UNITS:
        raise ConfigError(
            f"tasks.toml: [deadlines] unit = {unit!r}. Fix: one of {', '.join(map(repr, UNITS))}"
        )
    book = data.get("workbook", {})
    sheets = book.get("sheets", "village")
    if sheets not in SHEET_LAYOUTS:
        raise ConfigError(
            f"tasks.toml: [workbook] sheets = {sheets!r}. Fix: one of "
            f"{', '.join(map(repr, SHEET_LAYOUTS))}"
        )
    rate = data.get("feedback", {}).get("target_rate", 0.95)
    if not isinstance(rate, int | float) or not 0 < rate <= 1:
        raise ConfigError(
            f"tasks.toml: [feedback] target_rate = {rate!r}. Fix: a share in (0, 1], e.g. 0.95"
        )
    return TaskSettings(
        unit=unit,
        ordinary_days=_positive_int(dl.get("ordinary", 30), "[deadlines] ordinary"),
        high_days=_positive_int(dl.get("high", 15), "[deadlines] high"),
        type_days={
            k: _positive_int(v, f"[deadlines.finding_type] {k}")
            for k, v in dl.get("finding_type", {}).items()
        },
        target_rate=float(rate),
        sheets=sheets,
        paper=int(book.get("paper", 9)),
        password=str(book.get("password", "")),
    )
