"""Working days: the plan's own holidays and make-up days over a base calendar.

The base is every day (``"none"``) or the Chinese calendar (``"cn"``) of public holidays and
make-up working days (调休) from the ``chinesecalendar`` package, which knows the years the
State Council had published when it was released. In a year it does not know, the ``"cn"``
calendar takes Saturdays and Sundays as the non-working days (the loader warns about it).
Days the plan lists itself come first, so a plan can add a year the package does not know
yet, or correct it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import chinese_calendar

SATURDAY = 5


@dataclass(frozen=True)
class WorkingDays:
    """Which days are working days: ``holidays`` and ``workdays`` override ``calendar``."""

    calendar: str = "none"
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    def is_working_day(self, day: date) -> bool:
        if day in self.holidays:
            return False
        if day in self.workdays:
            return True
        if self.calendar != "cn":
            return True
        if knows_year(self.calendar, day.year):
            return bool(chinese_calendar.is_workday(day))
        return day.weekday() < SATURDAY

    def on_or_before(self, day: date) -> date:
        """``day`` if it is a working day, else the last working day before it."""
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def unknown_years(self, days: Iterable[date]) -> list[int]:
        """The years of ``days`` the base calendar does not know and the plan lists no days
        for: there only weekends are non-working days."""
        listed = {day.year for day in self.holidays | self.workdays}
        return sorted(
            {
                day.year
                for day in days
                if not knows_year(self.calendar, day.year) and day.year not in listed
            }
        )


def knows_year(calendar: str, year: int) -> bool:
    years = covered_years(calendar)
    return years is None or years[0] <= year <= years[1]


@cache
def covered_years(calendar: str) -> tuple[int, int] | None:
    """The first and last year the calendar knows (None: it knows every year)."""
    if calendar != "cn":
        return None
    known = list(chinese_calendar.holidays) + list(chinese_calendar.workdays)
    return min(known).year, max(known).year
