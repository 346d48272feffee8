"""Township verification tasks: export task lists, read answers back, learn from them.

``export_tasks``     open findings → one Excel workbook per township (findings become ``sent``)
``import_returns``   returned workbooks → checked rows → statuses, ``labels``
``write_changes``    confirmed findings → 变更清单 for the base operator
``township_progress`` feedback and overdue tasks per township

Names are resolved on first use, so that ``renkou --help`` (which mounts
``linkage.cli.tasks``) does not import the whole package.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "add_working_days": "workdays",
    "deadline": "workdays",
    "is_workday": "workdays",
    "export_tasks": "export",
    "import_returns": "returns",
    "change_rows": "changes",
    "write_changes": "changes",
    "township_progress": "progress",
    "overdue_tasks": "progress",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'linkage.tasks' has no attribute {name!r}")
    return getattr(importlib.import_module(f"linkage.tasks.{_EXPORTS[name]}"), name)
