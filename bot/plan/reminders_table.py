"""The ``[reminders]`` table of a plan: read, checked and turned into a ReminderPolicy.

Problems are reported through the loader's ``error`` and ``warn`` callbacks, in the same
plain words as every other plan error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.core.i18n import _
from bot.plan.reminder_policy import ReminderPolicy
from bot.plan.working_days import UnknownCalendar, check_calendar, covered_years

KEYS = {
    "enabled",
    "days_before",
    "time",
    "due_day",
    "overdue_every_days",
    "escalate_after_days",
    "quiet_hours",
    "calendar",
    "holidays",
    "workdays",
}
WHERE = "[reminders]"
SPAN = ".."  # "2027-02-05..2027-02-11": every day from the first to the last
MAX_SPAN_DAYS = 366
# Years of holidays take a few dozen entries; a cap keeps an uploaded plan quick to check.
MAX_LISTED = 500

Report = Callable[[str], None]


def _clock_time(value: Any, key: str, error: Report) -> time | None:
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        try:
            return time.fromisoformat(value.strip())
        except ValueError:
            pass
    error(
        _("{where}: '{key}' must be a time of day like 09:00, not '{value}'").format(
            where=WHERE, key=key, value=value
        )
    )
    return None


def _whole(value: Any, key: str, error: Report, *, minimum: int) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= minimum:
        return value
    error(
        _("{where}: '{key}' must be a whole number of at least {minimum}, not '{value}'").format(
            where=WHERE, key=key, minimum=minimum, value=value
        )
    )
    return None


def _span(entry: Any) -> tuple[date, date] | None:
    """The first and last day of a list entry: a day, or two days joined by "..";
    None if it is neither."""
    if isinstance(entry, date) and not isinstance(entry, datetime):
        return entry, entry
    if not isinstance(entry, str):
        return None
    first, span, last = entry.strip().partition(SPAN)
    if span and not last.strip():
        return None
    try:
        start = date.fromisoformat(first.strip())
        return start, (date.fromisoformat(last.strip()) if last else start)
    except ValueError:
        return None


def _days(value: Any, key: str, error: Report) -> frozenset[date] | None:
    """The days a ``holidays`` or ``workdays`` list names (None if any entry is wrong)."""
    if not isinstance(value, list):
        error(
            _(
                '{where}: \'{key}\' must be a list of days and spans, like ["2027-01-01", "2027-02-05..2027-02-11"]'
            ).format(where=WHERE, key=key)
        )
        return None
    if len(value) > MAX_LISTED:
        error(
            _("{where}: '{key}' lists {count} entries; at most {limit}").format(
                where=WHERE, key=key, count=len(value), limit=MAX_LISTED
            )
        )
        return None
    days: set[date] = set()
    valid = True
    for entry in value:
        span = _span(entry)
        if span is None:
            error(
                _(
                    "{where}: '{key}': '{entry}' is not a day like 2027-01-01 or a span like 2027-02-05..2027-02-11"
                ).format(where=WHERE, key=key, entry=entry)
            )
        elif span[1] < span[0]:
            error(
                _("{where}: '{key}': the span '{entry}' ends before it starts").format(
                    where=WHERE, key=key, entry=entry
                )
            )
        elif (span[1] - span[0]).days >= MAX_SPAN_DAYS:
            error(
                _("{where}: '{key}': the span '{entry}' is longer than a year").format(
                    where=WHERE, key=key, entry=entry
                )
            )
        else:
            days.update(span[0] + timedelta(days=n) for n in range((span[1] - span[0]).days + 1))
            continue
        valid = False
    return frozenset(days) if valid else None


def _own_days(raw: dict[str, Any], error: Report) -> dict[str, frozenset[date]]:
    """The plan's own ``holidays`` and ``workdays``; a day may not be both."""
    found = {key: _days(raw[key], key, error) for key in ("holidays", "workdays") if key in raw}
    both = (found.get("holidays") or frozenset()) & (found.get("workdays") or frozenset())
    if both:
        error(
            _("{where}: {days} listed both in 'holidays' and in 'workdays'").format(
                where=WHERE, days=", ".join(day.isoformat() for day in sorted(both))
            )
        )
    return {key: days for key, days in found.items() if days is not None}


def build_policy(raw: Any, error: Report, warn: Report) -> ReminderPolicy:
    """The policy a plan's ``[reminders]`` table asks for (the defaults for what it omits)."""
    default = ReminderPolicy()
    if raw is None:
        return default
    if not isinstance(raw, dict):
        error(_("{where}: must be a table").format(where=WHERE))
        return default
    for key in sorted(set(raw) - KEYS):
        error(_("{where}: unknown setting '{key}'").format(where=WHERE, key=key))
    values: dict[str, Any] = {}
    for key, field in (("enabled", "enabled"), ("due_day", "on_due_day")):
        if key in raw:
            if isinstance(raw[key], bool):
                values[field] = raw[key]
            else:
                error(_("{where}: '{key}' must be true or false").format(where=WHERE, key=key))
    if "days_before" in raw:
        days = raw["days_before"]
        checked = [
            _whole(d, "days_before", error, minimum=1)
            for d in (days if isinstance(days, list) else [days])
        ]
        if all(d is not None for d in checked):
            values["days_before"] = tuple(sorted({d for d in checked if d}, reverse=True))
    if "time" in raw and (at := _clock_time(raw["time"], "time", error)) is not None:
        values["at"] = at
    for key in ("overdue_every_days", "escalate_after_days"):
        if key in raw and (number := _whole(raw[key], key, error, minimum=0)) is not None:
            values[key] = number
    if "quiet_hours" in raw:
        quiet = raw["quiet_hours"]
        if quiet == []:
            values["quiet_start"] = values["quiet_end"] = None
        elif isinstance(quiet, list) and len(quiet) == 2:
            start = _clock_time(quiet[0], "quiet_hours", error)
            end = _clock_time(quiet[1], "quiet_hours", error)
            if start is not None and end is not None:
                if start == end:
                    error(
                        _("{where}: the quiet hours start and end at the same time").format(
                            where=WHERE
                        )
                    )
                values["quiet_start"], values["quiet_end"] = start, end
        else:
            error(
                _(
                    '{where}: \'quiet_hours\' must be a start and an end, like ["22:00", "08:00"], or [] for none'
                ).format(where=WHERE)
            )
    if "calendar" in raw:
        calendar = _calendar(raw["calendar"], error)
        if calendar is not None:
            values["calendar"] = calendar
    values.update(_own_days(raw, error))
    policy = dataclasses.replace(default, **values)
    if policy.is_quiet_time(policy.at):
        warn(
            _(
                "{where}: reminders at {time} fall in the quiet hours; they will go out when the quiet hours end"
            ).format(where=WHERE, time=policy.at.strftime("%H:%M"))
        )
    return policy


def _calendar(value: Any, error: Report) -> str | None:
    """A calendar name, read without regard to case: "weekends", "cn", "de-by" as "DE-BY"."""
    name = value.strip() if isinstance(value, str) else ""
    name = name.lower() if name.lower() in ("none", "weekends", "cn") else name.upper()
    try:
        return check_calendar(name)
    except UnknownCalendar:
        error(
            _(
                '{where}: \'calendar\' must be "none", "weekends", "cn" or a country (or country and region) with public holidays, like "DE", "DE-BY", "US", "GB"; \'{calendar}\' is none of these'
            ).format(where=WHERE, calendar=value)
        )
        return None


def warn_unknown_years(policy: ReminderPolicy, days: Iterable[date], warn: Report) -> None:
    """Deadlines in years the calendar does not know, and the plan lists no days for, are
    a warning: there only Saturdays and Sundays are non-working days."""
    years = policy.working_days.unknown_years(days)
    known = covered_years(policy.calendar)
    if not years or known is None:
        return
    warn(
        _(
            "{where}: the calendar '{calendar}' knows the years {first}–{last} only; in {years} only Saturdays and Sundays count as non-working days. List that year's public holidays and make-up working days in 'holidays' and 'workdays'"
        ).format(
            where=WHERE,
            calendar=policy.calendar,
            first=known[0],
            last=known[1],
            years=", ".join(str(year) for year in years),
        )
    )
