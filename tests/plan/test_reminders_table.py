"""The plan's ``[reminders]`` table: defaults, every setting, and every error in words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import time
from pathlib import Path

import pytest

from bot.i18n import use_locale
from bot.plan import PlanError, load_plan, load_plan_text
from bot.plan.export import plan_to_data
from bot.reminders.policy import ReminderPolicy

SHIPPED = Path(__file__).resolve().parents[2] / "bot/plans/democratic-life-meeting.toml"
BASE = """
title = "t"
[[roster]]
id = "a"
name = "A"
roles = ["organizer", "member"]
[[phases]]
id = "p"
title = "P"
start = "2013-12-01"
end = "2013-12-31"
[[phases.tasks]]
id = "x"
title = "X"
assignees = ["a"]
due = "{due}"
"""


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    with use_locale("en"):
        yield


def plan_with(table: str, due: str = "2013-12-20") -> str:
    return BASE.replace("{due}", due) + "\n[reminders]\n" + table


def problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_plan_text(text)
    return caught.value.problems


def test_a_plan_without_the_table_gets_the_defaults() -> None:
    plan = load_plan_text(BASE.replace("{due}", "2013-12-20"))
    assert plan.reminders == ReminderPolicy()
    assert plan.reminders.days_before == (3, 1)
    assert plan.reminders.at == time(9, 0)
    assert (plan.reminders.quiet_start, plan.reminders.quiet_end) == (time(22), time(8))
    assert plan.reminders.escalate_after_days == 2 and plan.reminders.overdue_every_days == 1
    assert plan.reminders.calendar == "none"


def test_the_shipped_plan_uses_the_chinese_calendar() -> None:
    plan = load_plan(SHIPPED)
    assert plan.reminders.calendar == "cn"
    assert plan_to_data(plan)["reminders"] == {
        "enabled": True,
        "days_before": [3, 1],
        "time": "09:00",
        "due_day": True,
        "overdue_every_days": 1,
        "escalate_after_days": 2,
        "quiet_hours": ["22:00", "08:00"],
        "calendar": "cn",
    }


def test_every_setting_is_read() -> None:
    plan = load_plan_text(
        plan_with(
            'enabled = true\ndays_before = [1, 7, 7]\ntime = "10:30"\ndue_day = false\n'
            'overdue_every_days = 2\nescalate_after_days = 0\nquiet_hours = []\ncalendar = "cn"\n'
        )
    )
    assert plan.reminders == ReminderPolicy(
        enabled=True,
        days_before=(7, 1),
        at=time(10, 30),
        on_due_day=False,
        overdue_every_days=2,
        escalate_after_days=0,
        quiet_start=None,
        quiet_end=None,
        calendar="cn",
    )
    toml_time = load_plan_text(plan_with("time = 07:45:00\nquiet_hours = [12:00:00, 13:00:00]\n"))
    assert toml_time.reminders.at == time(7, 45)
    assert toml_time.reminders.quiet_start == time(12)


def test_each_error_is_named() -> None:
    found = problems(
        plan_with(
            'time = "9 o\'clock"\ndays_before = [3, 0]\noverdue_every_days = -1\n'
            'escalate_after_days = "two"\ncalendar = "us"\ndue_day = "yes"\nsnooze = 5\n'
        )
    )
    assert found == [
        "[reminders]: unknown setting 'snooze'",
        "[reminders]: 'due_day' must be true or false",
        "[reminders]: 'days_before' must be a whole number of at least 1, not '0'",
        "[reminders]: 'time' must be a time of day like 09:00, not '9 o'clock'",
        "[reminders]: 'overdue_every_days' must be a whole number of at least 0, not '-1'",
        "[reminders]: 'escalate_after_days' must be a whole number of at least 0, not 'two'",
        "[reminders]: 'calendar' must be one of: none, cn",
    ]
    assert problems(plan_with('quiet_hours = ["22:00"]\n')) == [
        '[reminders]: \'quiet_hours\' must be a start and an end, like ["22:00", "08:00"], or [] for none'
    ]
    assert problems(plan_with('quiet_hours = ["08:00", "08:00"]\n')) == [
        "[reminders]: the quiet hours start and end at the same time"
    ]
    assert problems("reminders = 3\n" + BASE.replace("{due}", "2013-12-20")) == [
        "[reminders]: must be a table"
    ]


def test_the_chinese_calendar_must_know_the_plan_years() -> None:
    text = plan_with('calendar = "cn"\n', due="2013-12-20").replace("2013-12", "2031-12")
    assert problems(text) == [
        "[reminders]: the calendar 'cn' knows the years 2004–2026 only, but deadlines fall in 2031"
    ]
    # Without the calendar any year is fine.
    assert load_plan_text(plan_with("", due="2013-12-20").replace("2013-12", "2031-12"))


def test_a_reminder_time_in_the_quiet_hours_is_a_warning() -> None:
    plan = load_plan_text(plan_with('time = "23:00"\n'))
    assert (
        "[reminders]: reminders at 23:00 fall in the quiet hours; they will go out when the quiet hours end"
        in plan.warnings
    )
