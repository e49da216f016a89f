"""The reminder engine: plan from the database, queue what is due, say when to wake next.

Every pass re-reads the open items, pauses and the reminder log, so there is no schedule
to lose: after a restart (or ``kill -9``) the first pass rebuilds it. Each reminder is
logged and queued in the outbox in one transaction under a key, so none goes twice.

An item is reminded of until it is done, not until the plan's last phase ends: while the
plan runs, every source's items; once it is finished, only those of sources that outlive
it (rectification items, whose deadlines lie months after the meeting).
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

import aiosqlite

from bot.core.app import Huiwu
from bot.core.messaging import OutgoingMessage
from bot.core.planning import PLAN_AGAIN, PlanningSlice
from bot.delivery import addressing as delivery
from bot.plan import Plan, Role
from bot.plan.reminder_policy import start_of_next_day
from bot.reminders import planner, texts
from bot.reminders.planner import Kind, Planned
from bot.reminders.sources import Remindable, ReminderSource
from storage import instances, reminders
from storage.records import MemberRecord

logger = logging.getLogger(__name__)

MEMO_WITHOUT_NEXT = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Due:
    source: ReminderSource
    item: Remindable
    planned: Planned

    @property
    def key(self) -> str:
        return f"{self.item.key}:{self.planned.key}"


@dataclass
class Survey:
    """One planning pass over a plan instance: what is due now, and the next time after."""

    due: list[Due] = field(default_factory=list)
    next_at: datetime | None = None

    def wake_at(self, moment: datetime | None) -> None:
        if moment is not None and (self.next_at is None or moment < self.next_at):
            self.next_at = moment


def live_sources(status: str, sources: tuple[ReminderSource, ...]) -> tuple[ReminderSource, ...]:
    """The sources reminded of in a plan instance with ``status``: all while it runs, those
    that outlive it once it is finished, none before it is set up."""
    if status == "active":
        return sources
    if status == "finished":
        return tuple(source for source in sources if source.outlives_plan)
    return ()


def schedule_limit(plan: Plan, item: Remindable, now: datetime) -> datetime:
    """How far the item's schedule is listed: it runs until the item is done."""
    return planner.horizon(plan.reminders, max(now, item.due))


def not_before(item: Remindable, plan: Plan, resumed_at: datetime | None) -> datetime:
    """The first instant a reminder about ``item`` may go out: not on the day it was given
    (its push or the reviewer's note has just told the member) nor before a pause ended."""
    earliest = start_of_next_day(item.given_at, plan.timezone)
    return max(earliest, resumed_at) if resumed_at is not None else earliest


async def survey(
    app: Huiwu,
    instance_id: int,
    plan: Plan,
    now: datetime,
    sources: tuple[ReminderSource, ...] | None = None,
) -> Survey:
    """Plan one instance from the database, without writing anything (by default from the
    sources the app was given)."""
    result = Survey()
    sources = app.reminder_sources if sources is None else sources
    policy = plan.reminders
    if not policy.enabled:
        return result
    pauses = await reminders.pauses(app.db, instance_id)
    logged = await reminders.logged_keys(app.db, instance_id)
    for source in sources:
        for item in await source.open_items(app.db, instance_id):
            if pauses.holds(item.member_id, item.subject):
                continue
            earliest = not_before(item, plan, pauses.resumed_at(item.member_id, item.subject))
            schedule = planner.schedule(
                item.due, policy, plan.timezone, schedule_limit(plan, item, now)
            )
            tracks = (schedule.to_member, schedule.escalation)
            for track in tracks if source.escalates else tracks[:1]:
                latest = planner.latest_due(track, earliest, now)
                if latest is not None:
                    due = Due(source, item, latest)
                    if due.key not in logged:
                        result.due.append(due)
                coming = planner.next_after(track, earliest, now)
                result.wake_at(coming.send_at if coming else None)
    return result


async def outlook(
    app: Huiwu,
    member: MemberRecord,
    *,
    limit: int = 10,
) -> tuple[bool, list[tuple[str, Planned]]]:
    """For /reminders: whether the member's reminders are paused, and the next ones coming."""
    sources = app.reminder_sources
    plan = await app.plans.get(member.instance_id)
    pauses = await reminders.pauses(app.db, member.instance_id)
    if not plan.reminders.enabled or member.id in pauses.members:
        return member.id in pauses.members, []
    record = await instances.get_instance(app.db, member.instance_id)
    now = app.clock.now()
    coming: list[tuple[str, Planned]] = []
    for source in live_sources(record.status if record else "", sources):
        for item in await source.open_items(app.db, member.instance_id):
            if item.member_id != member.id or item.subject in pauses.subjects:
                continue
            earliest = max(now, not_before(item, plan, pauses.resumed_at(member.id, item.subject)))
            schedule = planner.schedule(
                item.due, plan.reminders, plan.timezone, schedule_limit(plan, item, now)
            )
            title = source.title(plan, item)
            coming.extend((title, p) for p in schedule.to_member.planned if p.send_at > earliest)
    coming.sort(key=lambda entry: entry[1].send_at)
    return False, coming[:limit]


async def run_due(app: Huiwu, budget: PlanningSlice | None = None) -> datetime | None:
    """Queue every reminder due now, from the sources the app was given (registered by the
    runtime: ``bot.run.scheduler.REMINDER_SOURCES``); return when the next one falls due.
    With a ``budget``, plan at most that many plans afresh (the rest at the next tick)."""
    sources = app.reminder_sources
    now = app.clock.now()
    next_at: datetime | None = None
    await app.db.changes.refresh()
    memo = app.memo.setdefault("reminders", {})
    # The senders take the plans in turns (``storage.outbox.claim_due``) once every plan has
    # queued what is due, instead of sending the first plans' while the last queue.
    with app.holding_pushes():
        for instance_id, status in await _reminded_instances(app, sources):
            # A plan planned before with nothing due, untouched since, has nothing due until its
            # next reminder: skipped, so a tick costs what is due, not how many plans there are.
            version = app.db.changes.version(instance_id)
            planned = memo.get(instance_id)
            if planned is not None and planned[0] == version and planned[2] <= now < planned[3]:
                found = Survey(next_at=planned[1])
            elif instance_id not in memo and budget is not None and not budget.take():
                continue  # left for the next slice (the scheduler ticks again at once)
            else:
                plan = await app.plans.get(instance_id)
                found = await survey(app, instance_id, plan, now, live_sources(status, sources))
                if found.due and not plan.reminders.is_quiet(now, plan.timezone):
                    await _queue(app, instance_id, plan, found.due, now)
                    memo[instance_id] = PLAN_AGAIN  # its reminder log changed
                else:
                    if found.due:  # quiet hours: nothing goes out before they end
                        found.wake_at(plan.reminders.out_of_quiet(now, plan.timezone))
                    memo[instance_id] = (
                        version,
                        found.next_at,
                        now,
                        _valid_until(now, found.next_at),
                    )
            if found.next_at is not None and (next_at is None or found.next_at < next_at):
                next_at = found.next_at
    return next_at


def _valid_until(now: datetime, next_at: datetime | None) -> datetime:
    """Until when a pass that found nothing due holds: its next reminder, or (nothing coming
    within the schedules listed so far) an hour, when the listing is looked at again."""
    return next_at if next_at is not None else now + MEMO_WITHOUT_NEXT


async def _reminded_instances(
    app: Huiwu, sources: tuple[ReminderSource, ...]
) -> list[tuple[int, str]]:
    statuses = ["active"] + (["finished"] if live_sources("finished", sources) else [])
    return await instances.ids_by_status(app.db, statuses)


async def _queue(app: Huiwu, instance_id: int, plan: Plan, due: list[Due], now: datetime) -> None:
    members = {m.id: m for m in await instances.members_of(app.db, instance_id)}
    escalated: list[Due] = []
    by_member: dict[int, list[Due]] = {}
    queued = 0
    async with app.db.transaction() as conn:
        for entry in due:
            if not await reminders.log(
                conn,
                entry.key,
                instance_id=instance_id,
                member_id=entry.item.member_id,
                kind=entry.planned.kind.value,
                planned_for=entry.planned.send_at,
                now=now,
            ):
                continue  # another pass queued it already
            if entry.planned.kind is Kind.ESCALATION:
                escalated.append(entry)
            else:
                by_member.setdefault(entry.item.member_id, []).append(entry)
        for member_id, entries in by_member.items():
            queued += await delivery.to_member(
                conn,
                app,
                members[member_id],
                partial(_member_message, plan, entries, now),
                dedupe_key="reminder:" + _digest_key(entries),
            )
        if escalated:
            queued += await _escalate(conn, app, plan, members, escalated)
    logger.info("instance %d: reminder messages queued: %d", instance_id, queued)


def _digest_key(entries: list[Due]) -> str:
    """The dedupe key of one message: the item's key, or a digest of several."""
    if len(entries) == 1:
        return entries[0].key
    keys = ",".join(sorted(entry.key for entry in entries))
    return "digest:" + hashlib.sha1(keys.encode()).hexdigest()[:16]


def _member_message(plan: Plan, entries: list[Due], now: datetime) -> OutgoingMessage:
    messages = [e.source.message(plan, e.item, e.planned, now) for e in entries]
    if len(messages) == 1:
        return messages[0]
    return texts.digest(messages, [e.source.button(plan, e.item) for e in entries])


ESCALATED_TO = (Role.ORGANIZER, Role.LEAD, Role.CHAIR)


def escalation_recipients(
    members: dict[int, MemberRecord], late_member_id: int
) -> list[MemberRecord]:
    """Who hears that a member is overdue: the organizers, never the late member. About an
    organizer, the other organizers, else the plan's lead, else its chair; nobody if the late
    member holds all of these roles (their own overdue reminders have told them)."""
    others = [m for m in members.values() if m.id != late_member_id]
    for role in ESCALATED_TO:
        found = [m for m in others if role.value in m.roles]
        if found:
            return found
    return []


async def _escalate(
    conn: aiosqlite.Connection,
    app: Huiwu,
    plan: Plan,
    members: dict[int, MemberRecord],
    escalated: list[Due],
) -> int:
    """One message per recipient listing every item escalated to them in this pass, by subject."""
    by_recipient: dict[int, list[Due]] = {}
    for entry in escalated:
        for recipient in escalation_recipients(members, entry.item.member_id):
            by_recipient.setdefault(recipient.id, []).append(entry)
    queued = 0
    for recipient_id, entries in by_recipient.items():
        by_subject: dict[str, tuple[str, datetime, list[str]]] = {}
        for entry in entries:
            title = entry.source.title(plan, entry.item)
            line = by_subject.setdefault(entry.item.subject, (title, entry.item.due, []))
            line[2].append(members[entry.item.member_id].name)
        recipient = members[recipient_id]
        queued += await delivery.to_member(
            conn,
            app,
            recipient,
            partial(
                _escalation_message,
                plan,
                list(by_subject.values()),
                min(entry.planned.days for entry in entries),
                Role.ORGANIZER.value in recipient.roles,
            ),
            dedupe_key=f"reminder:escalation:{_digest_key(entries)}:{recipient_id}",
        )
    return queued


def _escalation_message(
    plan: Plan,
    missing: list[tuple[str, datetime, list[str]]],
    days: int,
    organizer: bool,
) -> OutgoingMessage:
    return OutgoingMessage(texts.escalation(plan, missing, days, can_nudge=organizer))
