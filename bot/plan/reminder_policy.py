"""A plan's reminder policy (the ``[reminders]`` table) and its quiet hours.

Pure data and arithmetic on local times: the loader builds a policy, the planner reads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.plan.working_days import WorkingDays


@dataclass(frozen=True)
class ReminderPolicy:
    """When members are reminded of what they owe; the defaults apply when a plan says nothing.

    The push at assignment is always sent (it gives the task); the policy adds reminders
    ``days_before`` the due day, on the due day and daily when overdue, all at ``at`` local
    time, and one escalation to the organizers ``escalate_after_days`` after the due day.
    """

    enabled: bool = True
    days_before: tuple[int, ...] = (3, 1)
    at: time = time(9, 0)
    on_due_day: bool = True
    overdue_every_days: int = 1  # 0: no reminders once overdue
    escalate_after_days: int = 2  # 0: no escalation
    quiet_start: time | None = time(22, 0)  # None: no quiet hours
    quiet_end: time | None = time(8, 0)
    calendar: str = "none"  # see bot.plan.working_days: none, weekends, cn, "DE-BY" ...
    holidays: frozenset[date] = frozenset()  # the plan's own non-working days, over the calendar
    workdays: frozenset[date] = frozenset()  # the plan's own working days (make-up days, 调休)

    @property
    def working_days(self) -> WorkingDays:
        return WorkingDays(self.calendar, self.holidays, self.workdays)

    def is_quiet(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether ``moment`` falls in the quiet hours, in the plan's zone."""
        return self.is_quiet_time(moment.astimezone(zone).time().replace(tzinfo=None))

    def is_quiet_time(self, local: time) -> bool:
        """Whether a wall-clock time falls in the quiet hours (which may wrap midnight)."""
        if self.quiet_start is None or self.quiet_end is None:
            return False
        if self.quiet_start <= self.quiet_end:
            return self.quiet_start <= local < self.quiet_end
        return local >= self.quiet_start or local < self.quiet_end

    def out_of_quiet(self, moment: datetime, zone: ZoneInfo) -> datetime:
        """``moment``, or the end of the quiet hours it falls in."""
        if not self.is_quiet(moment, zone) or self.quiet_end is None:
            return moment
        local = moment.astimezone(zone)
        day: date = local.date()
        if local.time().replace(tzinfo=None) >= self.quiet_end:
            day += timedelta(days=1)  # evening part of quiet hours that wrap midnight
        return at_local(day, self.quiet_end, zone)


def at_local(day: date, when: time, zone: ZoneInfo) -> datetime:
    """The instant (UTC) the plan's wall clock shows ``when`` on ``day``.

    Computed from the wall time each day, so 09:00 stays 09:00 across a daylight-saving
    change; a wall time the change skips maps past the gap (PEP 495, ``fold=0``)."""
    return datetime.combine(day, when, zone).astimezone(UTC)


def start_of_next_day(moment: datetime, zone: ZoneInfo) -> datetime:
    """Local midnight after ``moment``."""
    return at_local(moment.astimezone(zone).date() + timedelta(days=1), time(0, 0), zone)
