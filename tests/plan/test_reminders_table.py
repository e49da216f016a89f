"""The plan's ``[reminders]`` table: defaults, every setting, and every error in words."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, time
from pathlib import Path

import pytest

from bot.core.i18n import use_locale
from bot.plan import PlanError, load_plan, load_plan_text
from bot.plan.export import plan_to_data
from bot.plan.reminder_policy import ReminderPolicy

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
        "holidays": [],
        "workdays": [],
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
            'escalate_after_days = "two"\ncalendar = "mars"\ndue_day = "yes"\nsnooze = 5\n'
        )
    )
    assert found == [
        "[reminders]: unknown setting 'snooze'",
        "[reminders]: 'due_day' must be true or false",
        "[reminders]: 'days_before' must be a whole number of at least 1, not '0'",
        "[reminders]: 'time' must be a time of day like 09:00, not '9 o'clock'",
        "[reminders]: 'overdue_every_days' must be a whole number of at least 0, not '-1'",
        "[reminders]: 'escalate_after_days' must be a whole number of at least 0, not 'two'",
        '[reminders]: \'calendar\' must be "none", "weekends", "cn" or a country (or '
        'country and region) with public holidays, like "DE", "DE-BY", "US", "GB"; '
        "'mars' is none of these",
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


UNKNOWN_2027 = (
    "[reminders]: the calendar 'cn' knows the years 2004–2026 only; in 2027 only Saturdays and "
    "Sundays count as non-working days. List that year's public holidays and make-up working days "
    "in 'holidays' and 'workdays'"
)


def plan_2027(table: str) -> str:
    """The plan with its phase in February 2027 and its task due on Tuesday 9th."""
    text = plan_with(table, due="2027-02-09")
    return text.replace('"2013-12-01"', '"2027-02-01"').replace('"2013-12-31"', '"2027-02-28"')


def test_a_plan_in_a_year_the_calendar_does_not_know_loads_with_a_warning() -> None:
    plan = load_plan_text(plan_2027('calendar = "cn"\n'))
    assert plan.warnings == (UNKNOWN_2027,)
    assert plan.reminders.working_days.on_or_before(date(2027, 2, 14)) == date(2027, 2, 12)
    # Without the Chinese calendar, or within its years, there is nothing to say.
    assert load_plan_text(plan_2027("")).warnings == ()
    assert load_plan_text(plan_with('calendar = "cn"\n')).warnings == ()


def test_the_plan_s_own_days_are_read_and_silence_the_warning() -> None:
    plan = load_plan_text(
        plan_2027(
            'calendar = "cn"\nholidays = ["2027-01-01", " 2027-02-05 .. 2027-02-11", 2027-02-10]\n'
            "workdays = [2027-02-14]\n"
        )
    )
    assert plan.warnings == ()
    assert plan.reminders.holidays == {date(2027, 1, 1)} | {
        date(2027, 2, day) for day in range(5, 12)
    }
    assert plan.reminders.workdays == {date(2027, 2, 14)}
    assert plan_to_data(plan)["reminders"]["workdays"] == ["2027-02-14"]
    assert plan_to_data(plan)["reminders"]["holidays"][:2] == ["2027-01-01", "2027-02-05"]


def test_wrong_day_lists_are_refused_naming_the_setting_and_the_entry() -> None:
    assert problems(
        plan_with(
            'calendar = "cn"\nholidays = ["2027-02-30", "2027-02-11..2027-02-05", 5, '
            '2027-02-05T09:00:00, "2027-01-01..2028-06-01", "2027-03-01", "2027-03-02.."]\nworkdays = "2027-02-14"\n'
        )
    ) == [
        "[reminders]: 'holidays': '2027-02-30' is not a day like 2027-01-01 or a span like 2027-02-05..2027-02-11",
        "[reminders]: 'holidays': the span '2027-02-11..2027-02-05' ends before it starts",
        "[reminders]: 'holidays': '5' is not a day like 2027-01-01 or a span like 2027-02-05..2027-02-11",
        "[reminders]: 'holidays': '2027-02-05 09:00:00' is not a day like 2027-01-01 or a span like 2027-02-05..2027-02-11",
        "[reminders]: 'holidays': the span '2027-01-01..2028-06-01' is longer than a year",
        "[reminders]: 'holidays': '2027-03-02..' is not a day like 2027-01-01 or a span like 2027-02-05..2027-02-11",
        '[reminders]: \'workdays\' must be a list of days and spans, like ["2027-01-01", "2027-02-05..2027-02-11"]',
    ]


def test_a_day_may_not_be_both_a_holiday_and_a_working_day() -> None:
    assert problems(
        plan_with(
            'holidays = ["2027-02-05..2027-02-11"]\nworkdays = ["2027-02-14", "2027-02-10", 2027-02-06]\n'
        )
    ) == ["[reminders]: 2027-02-06, 2027-02-10 listed both in 'holidays' and in 'workdays'"]


def test_a_reminder_time_in_the_quiet_hours_is_a_warning() -> None:
    plan = load_plan_text(plan_with('time = "23:00"\n'))
    assert (
        "[reminders]: reminders at 23:00 fall in the quiet hours; they will go out when the quiet hours end"
        in plan.warnings
    )


def test_an_overlong_day_list_is_refused_before_it_is_read() -> None:
    """A plan is checked inside the chat handler: thousands of year-long spans would hold the
    bot up, so a list longer than any real calendar needs is refused at once."""
    entries = ", ".join(f'"{2027 + n % 50}-01-01..{2027 + n % 50}-12-31"' for n in range(501))
    assert problems(plan_with(f"holidays = [{entries}]\n")) == [
        "[reminders]: 'holidays' lists 501 entries; at most 500"
    ]


def test_calendars_for_everyone_are_read_whatever_their_case() -> None:
    for written, read in (
        ("weekends", "weekends"),
        ("de-by", "DE-BY"),
        ("US", "US"),
        ("GB-SCT", "GB-SCT"),
        ("CN", "cn"),
    ):
        plan = load_plan_text(plan_with(f'calendar = "{written}"'))
        assert plan.reminders.calendar == read
    # A country that has no such region, no country, a name: errors ("BY" is Belarus).
    for wrong in ("DE-XX", "ZZ", "Germany"):
        [problem] = problems(plan_with(f'calendar = "{wrong}"'))
        assert problem.startswith("[reminders]: 'calendar' must be") and f"'{wrong}'" in problem
    # A country calendar knows every year: no warning about one "cn" does not know.
    later = plan_with('calendar = "DE"').replace("2013-12", "2040-12")
    assert load_plan_text(later).warnings == ()
    assert load_plan_text(later.replace('"DE"', '"cn"')).warnings != ()
