"""Working-day deadlines: 国庆 2025 and 春节 2026 with their make-up days, the Mon–Fri
fallback for years chinese_calendar does not cover, and the deadline settings."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from pathlib import Path

import pytest

from linkage.errors import ConfigError
from linkage.settings import TaskSettings, load_settings
from linkage.tasks import workdays
from linkage.tasks.export import task_deadline
from linkage.tasks.workdays import add_working_days, deadline, is_workday, working_days_between

D = dt.date


def test_national_day_2025_and_its_make_up_days() -> None:
    assert all(not is_workday(D(2025, 10, d)) for d in range(1, 9))  # 10-01..08 off
    assert is_workday(D(2025, 9, 28)) and is_workday(D(2025, 10, 11))  # Sun and Sat worked
    assert add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)  # Fri → make-up Sunday
    assert add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)  # over the holiday
    assert add_working_days(D(2025, 9, 30), 3) == D(2025, 10, 11)  # the make-up Saturday
    # a transfer sent on 09-30 is due after 7 working days: 10-09 10 11 13 14 15 16
    assert add_working_days(D(2025, 9, 30), 7) == D(2025, 10, 16)
    assert add_working_days(D(2025, 9, 30), 15) == D(2025, 10, 28)
    assert add_working_days(D(2025, 9, 30), 30) == D(2025, 11, 18)


def test_spring_festival_2026_and_its_make_up_days() -> None:
    # chinese_calendar 1.11: off 2026-02-15..23; worked Saturday 02-14 and Saturday 02-28
    assert [d for d in range(14, 25) if not is_workday(D(2026, 2, d))] == list(range(15, 24))
    assert is_workday(D(2026, 2, 14)) and is_workday(D(2026, 2, 28))
    assert add_working_days(D(2026, 2, 13), 1) == D(2026, 2, 14)
    assert add_working_days(D(2026, 2, 14), 1) == D(2026, 2, 24)
    assert add_working_days(D(2026, 2, 12), 5) == D(2026, 2, 26)  # 13 14 24 25 26
    assert add_working_days(D(2026, 2, 27), 1) == D(2026, 2, 28)
    assert add_working_days(D(2026, 2, 28), 1) == D(2026, 3, 2)


def test_counting_between_and_calendar_days() -> None:
    assert working_days_between(D(2025, 9, 30), D(2025, 10, 16)) == 7
    assert working_days_between(D(2025, 10, 16), D(2025, 9, 30)) == -7
    assert working_days_between(D(2025, 10, 1), D(2025, 10, 8)) == 0
    assert deadline(D(2025, 9, 30), 15, "calendar") == D(2025, 10, 15)
    assert deadline(D(2025, 9, 30), 7) == D(2025, 10, 16)
    with pytest.raises(ValueError):
        deadline(D(2025, 9, 30), 7, "lunar")


def test_years_without_a_schedule_fall_back_to_weekdays_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(workdays, "_warned_years", set())
    with caplog.at_level(logging.WARNING, logger="linkage.tasks.workdays"):
        assert add_working_days(D(2099, 1, 2), 1) == D(2099, 1, 5)  # Fri → Mon
        assert add_working_days(D(2099, 1, 5), 5) == D(2099, 1, 12)
    warnings = [r for r in caplog.records if "2099" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_deadline_by_type_and_priority() -> None:
    cfg = load_settings().tasks  # the shipped tasks.toml, the catalog's type limits
    assert (cfg.unit, cfg.ordinary_days, cfg.high_days) == ("working", 30, 15)
    sent = D(2025, 9, 30)  # before the National Day holiday

    def days(kind: str, priority: str | None, settings: TaskSettings = cfg) -> tuple[int, str]:
        return task_deadline(settings, kind, priority, sent)[1:]

    # transfers are confirmed within 7 working days (plan 000): the tighter limit wins
    assert days("transfer", "normal") == (7, "working")
    assert days("transfer", "high") == (7, "working")
    assert task_deadline(cfg, "transfer", "normal", sent)[0] == deadline(sent, 7)
    assert days("moved_out", "normal") == (30, "working")
    assert days("suspected_death", "high") == (15, "working")
    assert days("attribute_conflict", None) == (30, "working")
    looser = dataclasses.replace(cfg, type_days={"transfer": 20})
    assert days("transfer", "high", looser) == (15, "working")
    calendar = dataclasses.replace(cfg, unit="calendar", type_days={})
    assert days("transfer", "normal", calendar) == (7, "working")  # the type keeps its unit
    assert days("attribute_conflict", "normal", calendar) == (30, "calendar")


@pytest.mark.parametrize(
    "text",
    [
        '[deadlines]\nunit = "weeks"\n',
        "[deadlines]\nordinary = 0\n",
        '[workbook]\nsheets = "person"\n',
        "[feedback]\ntarget_rate = 95\n",
        "[deadlines]\nordinery = 30\n",  # misspelt: would silently keep the default
    ],
)
def test_bad_settings_say_what_to_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    (tmp_path / "tasks.toml").write_text(text, "utf-8")
    monkeypatch.setenv("RENKOU_CONFIG", str(tmp_path))
    with pytest.raises(ConfigError, match=r"tasks\.toml.*Fix"):
        load_settings()


def test_working_days_before_counts_back_over_holidays() -> None:
    # 国庆 2025: 10-01..08 off, Saturday 10-11 a make-up working day
    # seven working days end on 10-16 counted from 09-30 (the example above) or any day of
    # the holiday: the latest such day is the answer
    assert workdays.working_days_before(dt.date(2025, 10, 16), 7) == dt.date(2025, 10, 8)
    assert workdays.working_days_between(dt.date(2025, 9, 30), dt.date(2025, 10, 16)) == 7
    assert workdays.working_days_before(dt.date(2025, 10, 13), 0) == dt.date(2025, 10, 13)
    for end in (dt.date(2025, 10, 12), dt.date(2025, 10, 9), dt.date(2025, 12, 31)):
        for days in (1, 5, 10):
            start = workdays.working_days_before(end, days)
            assert workdays.working_days_between(start, end) == days
            assert workdays.working_days_between(start - dt.timedelta(days=1), end) >= days
