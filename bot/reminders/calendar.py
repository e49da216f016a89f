"""Working days: every day, or the Chinese calendar of public holidays and make-up days.

The Chinese calendar comes from the ``chinesecalendar`` package, which knows the years the
State Council has published; the loader refuses a plan whose dates fall outside them.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache

import chinese_calendar


def is_working_day(day: date, calendar: str) -> bool:
    if calendar == "cn":
        return bool(chinese_calendar.is_workday(day))
    return True


def working_day_on_or_before(day: date, calendar: str) -> date:
    while not is_working_day(day, calendar):
        day -= timedelta(days=1)
    return day


@cache
def covered_years(calendar: str) -> tuple[int, int] | None:
    """The first and last year the calendar knows (None: it knows every year)."""
    if calendar != "cn":
        return None
    known = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return min(known).year, max(known).year
