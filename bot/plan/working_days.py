"""Working days: the plan's own holidays and make-up days over a base calendar.

The base calendar is one of:

* ``"none"``: every day is a working day;
* ``"weekends"``: Monday to Friday;
* ``"cn"``: the Chinese calendar of public holidays and make-up working days (调休) from the
  ``chinesecalendar`` package, which knows the years the State Council had published when it
  was released. In a year it does not know, Saturdays and Sundays are the non-working days
  (the loader warns about it);
* a country, or a country and its subdivision, as the ``holidays`` package names them
  (``"DE"``, ``"DE-BY"``, ``"US-CA"``, ``"GB-SCT"``): that country's weekend and public
  holidays, computed by rule for any year.

Days the plan lists itself come first, so a plan can add a year a package does not know
yet, a local holiday, or a make-up working day.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import chinese_calendar
import holidays

SATURDAY = 5
WEEKEND = frozenset({5, 6})
NAMED_CALENDARS = ("none", "weekends", "cn")
_COUNTRY = re.compile(r"^(?P<country>[A-Z]{2,3})(?:-(?P<subdivision>[A-Z0-9]{1,4}))?$")
# A stretch of non-working days is never longer than this (a holiday week and its weekends);
# past it a calendar that has no working day at all is a mistake, not a calendar.
_LONGEST_BREAK_DAYS = 60
MAX_WORKING_DAYS = 400  # a deadline "meeting+Nwd" at most this far (about a year and a half)


class UnknownCalendar(ValueError):
    """The name is neither a named calendar nor a country the ``holidays`` package knows."""


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
        if self.calendar == "none":
            return True
        if self.calendar == "weekends":
            return day.weekday() < SATURDAY
        if self.calendar == "cn":
            if knows_year(self.calendar, day.year):
                return bool(chinese_calendar.is_workday(day))
            return day.weekday() < SATURDAY
        country = country_calendar(self.calendar)
        return day.weekday() not in country.weekend and day not in country

    def on_or_before(self, day: date) -> date:
        """``day`` if it is a working day, else the last working day before it."""
        return self._step(day, -1)

    def on_or_after(self, day: date) -> date:
        """``day`` if it is a working day, else the first working day after it."""
        return self._step(day, 1)

    def _step(self, day: date, direction: int) -> date:
        start = day
        while not self.is_working_day(day):
            day += timedelta(days=direction)
            if abs((day - start).days) > _LONGEST_BREAK_DAYS:
                return start  # the plan lists no working day near it: keep the day itself
        return day

    def add(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (before it when negative): "10个工作日内"
        after a meeting on a Friday ends on the second Friday after. At most
        ``MAX_WORKING_DAYS`` working days away."""
        if abs(count) > MAX_WORKING_DAYS:
            raise ValueError(f"at most {MAX_WORKING_DAYS} working days")
        step = 1 if count >= 0 else -1
        left = abs(count)
        while left:
            day += timedelta(days=step)
            if self.is_working_day(day):
                left -= 1
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


def check_calendar(name: str) -> str:
    """``name`` as a plan may give it, or ``UnknownCalendar``."""
    if name in NAMED_CALENDARS:
        return name
    country_calendar(name)
    return name


@cache
def country_calendar(name: str) -> holidays.HolidayBase:
    """The ``holidays`` calendar of "DE" or "DE-BY" (cached: it fills years as asked)."""
    match = _COUNTRY.match(name)
    if not match:
        raise UnknownCalendar(name)
    try:
        return holidays.country_holidays(match["country"], subdiv=match["subdivision"])
    except NotImplementedError as exc:
        raise UnknownCalendar(name) from exc


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
