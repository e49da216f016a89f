"""The reminder planner: pure functions from a deadline and a policy to reminder times.

Nothing here reads the clock or the database. ``schedule`` lists every reminder of one
deadline up to a limit (cached: thousands of members share a few deadlines); ``latest_due``
and ``next_after`` pick, for one item, the reminder to send now and the one to wake up for;
``horizon`` is the limit for an item reminded until it is done.
"""

from __future__ import annotations

import enum
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from bot.plan.reminder_policy import ReminderPolicy, at_local


class Kind(enum.StrEnum):
    BEFORE = "before"  # ``days`` before the due day
    DUE = "due"  # on the due day (or the working day before it)
    OVERDUE = "overdue"  # ``days`` after the due day
    ESCALATION = "escalation"  # to the organizers, ``days`` after the due day


@dataclass(frozen=True, slots=True)
class Planned:
    """One reminder of one deadline."""

    send_at: datetime  # UTC, already out of the quiet hours
    kind: Kind
    days: int  # before the due day (BEFORE), after it (OVERDUE, ESCALATION); 0 for DUE
    moved_from: date | None = None  # a DUE reminder moved off this non-working day

    @property
    def key(self) -> str:
        """Stable within an item whatever the policy's times: the dedupe key's last part."""
        return f"{self.kind.value}:{self.days}"


@dataclass(frozen=True)
class Track:
    """Reminders to one audience, in time order (with their times, for bisection)."""

    planned: tuple[Planned, ...]
    times: tuple[datetime, ...]

    @classmethod
    def of(cls, planned: list[Planned]) -> Track:
        ordered = tuple(sorted(planned, key=lambda p: p.send_at))
        return cls(ordered, tuple(p.send_at for p in ordered))


@dataclass(frozen=True)
class Schedule:
    """The reminders of one deadline: to the member, and the escalation to the organizers."""

    to_member: Track
    escalation: Track


def _deferred(day: date, policy: ReminderPolicy, zone: ZoneInfo) -> datetime:
    return policy.out_of_quiet(at_local(day, policy.at, zone), zone)


@lru_cache(maxsize=4096)
def schedule(due: datetime, policy: ReminderPolicy, zone: ZoneInfo, until: datetime) -> Schedule:
    """Every reminder of a deadline ``due`` under ``policy``, none at or after ``until``."""
    if not policy.enabled:
        return Schedule(Track.of([]), Track.of([]))
    due_day = due.astimezone(zone).date()
    # Every reminder day is a working day: one before the deadline moves earlier, one after
    # it later; "days" counts from the day it is sent, so the words stay true.
    working_days = policy.working_days  # part of the policy, so of the cache's key
    by_day: dict[date, Planned] = {}
    for days in sorted(set(policy.days_before), reverse=True):
        day = working_days.on_or_before(due_day - timedelta(days=days))
        by_day[day] = Planned(_deferred(day, policy, zone), Kind.BEFORE, (due_day - day).days)
    if policy.on_due_day:
        day = working_days.on_or_before(due_day)
        moved_from = None if day == due_day else due_day
        # On the day it moves to, the due-day reminder replaces a "days before" one.
        by_day[day] = Planned(_deferred(day, policy, zone), Kind.DUE, 0, moved_from)
    before = [p for p in by_day.values() if p.send_at < due]
    after: list[Planned] = []
    if policy.overdue_every_days > 0:
        days, last_day = policy.overdue_every_days, due_day
        while True:
            day = working_days.on_or_after(due_day + timedelta(days=days))
            send_at = _deferred(day, policy, zone)
            if send_at >= until:
                break
            if day > last_day:
                after.append(Planned(send_at, Kind.OVERDUE, (day - due_day).days))
                last_day = day
            days += policy.overdue_every_days
    escalation = []
    if policy.escalate_after_days > 0:
        day = working_days.on_or_after(due_day + timedelta(days=policy.escalate_after_days))
        send_at = _deferred(day, policy, zone)
        if send_at < until:
            escalation.append(Planned(send_at, Kind.ESCALATION, (day - due_day).days))
    return Schedule(Track.of(before + after), Track.of(escalation))


HORIZON_STEP_DAYS = 32
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def horizon(policy: ReminderPolicy, since: datetime) -> datetime:
    """The limit to list an open-ended schedule to, for a pass at ``since`` (the later of
    now and the item's deadline).

    Overdue reminders go on until the item is done, but a schedule is a finite list: it is
    listed to a limit at least one step past ``since``, so the reminder due now, the next one
    and the escalation are all on it. The limit moves a whole step at a time, so the cache
    keeps serving one schedule for many passes; a step is longer than the overdue interval
    and the escalation delay by three days (a reminder's day starts before ``since``, the
    quiet hours may move it into the next day, daylight saving by an hour).
    """
    longest = max(policy.overdue_every_days, policy.escalate_after_days)
    step = timedelta(days=max(HORIZON_STEP_DAYS, longest + 3))
    return _EPOCH + ((since - _EPOCH) // step + 2) * step


def latest_due(track: Track, not_before: datetime, now: datetime) -> Planned | None:
    """The reminder to send at ``now``: the latest one due, if not before ``not_before``.

    Older ones that were missed (the bot was down, the clock jumped) are superseded by it:
    nobody gets three stale reminders at once after an outage."""
    index = bisect_right(track.times, now)
    if index == 0:
        return None
    latest = track.planned[index - 1]
    return latest if latest.send_at >= not_before else None


def next_after(track: Track, not_before: datetime, now: datetime) -> Planned | None:
    """The first reminder after ``now`` (and not before ``not_before``)."""
    index = bisect_right(track.times, now)
    index = max(index, bisect_left(track.times, not_before))
    return track.planned[index] if index < len(track.planned) else None
