"""The ``[reminders]`` table of a plan: read, checked and turned into a ReminderPolicy.

Problems are reported through the loader's ``error`` and ``warn`` callbacks, in the same
plain words as every other plan error.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import date, time
from typing import Any

from bot.i18n import _
from bot.reminders.calendar import covered_years
from bot.reminders.policy import CALENDARS, ReminderPolicy

KEYS = {
    "enabled",
    "days_before",
    "time",
    "due_day",
    "overdue_every_days",
    "escalate_after_days",
    "quiet_hours",
    "calendar",
}
WHERE = "[reminders]"

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
        if raw["calendar"] in CALENDARS:
            values["calendar"] = raw["calendar"]
        else:
            error(
                _("{where}: 'calendar' must be one of: {choices}").format(
                    where=WHERE, choices=", ".join(CALENDARS)
                )
            )
    policy = dataclasses.replace(default, **values)
    if policy.is_quiet_time(policy.at):
        warn(
            _(
                "{where}: reminders at {time} fall in the quiet hours; they will go out when the quiet hours end"
            ).format(where=WHERE, time=policy.at.strftime("%H:%M"))
        )
    return policy


def check_calendar_covers(policy: ReminderPolicy, days: Iterable[date], error: Report) -> None:
    """The working-day calendar must know every year the plan's deadlines fall in."""
    years = covered_years(policy.calendar)
    if years is None:
        return
    outside = sorted({day.year for day in days if not years[0] <= day.year <= years[1]})
    if outside:
        error(
            _(
                "{where}: the calendar '{calendar}' knows the years {first}–{last} only, but deadlines fall in {years}"
            ).format(
                where=WHERE,
                calendar=policy.calendar,
                first=years[0],
                last=years[1],
                years=", ".join(str(y) for y in outside),
            )
        )
