"""Working days (工作日) in mainland China: public holidays and make-up working days (调休).

``chinese_calendar`` carries the State Council's schedule year by year (published each
November for the next year). For a year it does not cover yet we fall back to Monday–Friday
and log one warning per year, so that a deadline is never refused, only possibly a few days
early; update the package (``pip install -U chinesecalendar``) when the new schedule is out.

Example: sent on Tuesday 2025-09-30, seven working days skip 国庆 (10-01..08) and count the
make-up Saturday 10-11: ``add_working_days(date(2025, 9, 30), 7) == date(2025, 10, 16)``.
"""

from __future__ import annotations

import datetime as dt
import logging

import chinese_calendar

log = logging.getLogger(__name__)

_warned_years: set[int] = set()


def is_workday(day: dt.date) -> bool:
    """True on a working day: holidays are off, make-up weekend days (调休) are on."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        if day.year not in _warned_years:
            _warned_years.add(day.year)
            log.warning(
                "chinese_calendar has no holiday schedule for %d: counting Mon-Fri as "
                "working days that year. Fix: upgrade the chinesecalendar package",
                day.year,
            )
        return day.weekday() < 5


def covers(year: int) -> bool:
    """Whether the installed chinese_calendar knows the holidays of ``year``."""
    try:
        chinese_calendar.is_workday(dt.date(year, 1, 1))
    except NotImplementedError:
        return False
    return True


def uncovered_years(start: dt.date, end: dt.date) -> list[int]:
    """The years of ``[start, end]`` whose holidays a working-day count could not skip."""
    return [y for y in range(start.year, end.year + 1) if not covers(y)]


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The ``days``-th working day after ``start`` (``start`` itself is not counted)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    day = start
    left = days
    while left:
        day += dt.timedelta(days=1)
        if is_workday(day):
            left -= 1
    return day


def working_days_before(end: dt.date, days: int) -> dt.date:
    """The latest day from which ``end`` is ``days`` working days on: ``working_days_between(
    result, end) == days``, and any earlier day is at least that many."""
    if days < 0:
        raise ValueError("days must be >= 0")
    day = end
    left = days
    while left:
        if is_workday(day):
            left -= 1
        day -= dt.timedelta(days=1)
    return day


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
    if end < start:
        return -working_days_between(end, start)
    return sum(is_workday(start + dt.timedelta(days=i)) for i in range(1, (end - start).days + 1))


def deadline(start: dt.date, days: int, unit: str = "working") -> dt.date:
    """Due date ``days`` after ``start`` counted in ``unit`` ("working" or "calendar") days."""
    if unit == "calendar":
        return start + dt.timedelta(days=days)
    if unit == "working":
        return add_working_days(start, days)
    raise ValueError(f"unknown deadline unit {unit!r}; 'working' or 'calendar'")
