"""The monthly exchange cycle (plan 004) and the answer deadline of a query.

统计周期: queries submitted from the 21st of the month before to the 20th of this month are
this month's (``YYYYMM``); the answers to them are counted on the 27th of this month.
"""

from __future__ import annotations

import datetime as dt

from linkage.settings import ExchangeSettings, Limit
from linkage.tasks.workdays import deadline

#: 紧急程度: a current pregnancy is 紧急, everything else 急 (plan 004)
URGENT, ORDINARY = "紧急", "急"


def cycle_of(day: dt.date, submit_day: int) -> str:
    """``YYYYMM`` of the cycle a query sent on ``day`` belongs to.

    Example:
        >>> cycle_of(dt.date(2026, 6, 20), 20), cycle_of(dt.date(2026, 12, 21), 20)
        ('202606', '202701')
    """
    if day.day > submit_day:
        day = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    return f"{day:%Y%m}"


def answer_cutoff(cycle: str, answer_day: int) -> dt.date:
    """The day a cycle's answers are counted (the 27th of its month)."""
    return dt.date(int(cycle[:4]), int(cycle[4:]), answer_day)


def limit(query_type: str, urgency: str, cfg: ExchangeSettings) -> list[Limit]:
    """The limits that apply to a query: its urgency's, and its type's own where set."""
    limits = [cfg.urgent if urgency == URGENT else cfg.ordinary]
    if query_type in cfg.query_type:
        limits.append(cfg.query_type[query_type])
    return limits


def due(
    sent_on: dt.date, query_type: str, urgency: str, cfg: ExchangeSettings
) -> tuple[dt.date, Limit]:
    """(反馈期限, the limit that set it): the tightest of the limits that apply.

    Example: an ordinary birth query sent on Friday 2026-06-05 is due on the 15th working
    day after it (2026-06-29, the 端午 holiday skipped), before the 30 calendar days.
    """
    dates = [
        (deadline(sent_on, lim.days, lim.unit), lim) for lim in limit(query_type, urgency, cfg)
    ]
    return min(dates, key=lambda pair: pair[0])
