"""Phases on the clock: starting one assigns its tasks and pushes them; ending one posts
the group summary. Each step is idempotent, so a tick repeated after a crash changes nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from functools import partial

import aiosqlite

from bot.core.app import Huiwu
from bot.core.formatting import names_text
from bot.core.i18n import _
from bot.core.messaging import OutgoingMessage
from bot.core.planning import PLAN_AGAIN, PlanningSlice
from bot.delivery import addressing as delivery
from bot.delivery import progress as progress_feedback
from bot.delivery import reach
from bot.meeting.talks_task import complete_if_all_confirmed
from bot.plan import Phase, Plan
from bot.reports import pictures as summary_pictures
from bot.tasks import texts
from bot.tasks.progress import plan_progress
from storage import assignments, instances
from storage.records import MemberRecord

logger = logging.getLogger(__name__)

PHASE_STARTS_AT = time(9, 0)  # local time on the phase's first day
PHASE_ENDS_AT = time(18, 0)  # local time on the phase's last day: the summary goes out then


def phase_start_time(plan: Plan, phase: Phase) -> datetime:
    return datetime.combine(phase.start, PHASE_STARTS_AT, plan.timezone)


def phase_end_time(plan: Plan, phase: Phase) -> datetime:
    return datetime.combine(phase.end, PHASE_ENDS_AT, plan.timezone)


async def start_phase(app: Huiwu, instance_id: int, phase: Phase) -> bool:
    """Assign the phase's tasks and push them to every assignee; False if already started."""
    plan = await app.plans.get(instance_id)
    now = app.clock.now()
    members = {m.member_key: m for m in await instances.members_of(app.db, instance_id)}
    assignees = [m for key, m in members.items() if any(key in t.assignee_ids for t in phase.tasks)]
    not_reached = await reach.unreached(app, instance_id, assignees)
    async with app.db.transaction() as conn:
        if not await assignments.start_phase(conn, instance_id, phase.id, now):
            return False
        for task in phase.tasks:
            for member_key in task.assignee_ids:
                member = members[member_key]
                assignment_id = await assignments.assign(
                    conn, instance_id, task.id, member.id, task.due, now
                )
                if assignment_id is None:
                    continue
                await delivery.to_member(
                    conn,
                    app,
                    member,
                    partial(texts.assignment_push, plan, task, assignment_id, now),
                    dedupe_key=f"push:{assignment_id}",
                )
        if any(task.id == plan.talks_task_id for task in phase.tasks):
            # Talks confirmed before their phase started: the task is done as it is given.
            await complete_if_all_confirmed(conn, app, instance_id, plan)
        await delivery.to_groups(
            conn,
            app,
            instance_id,
            lambda: OutgoingMessage(
                _phase_started_text(plan, phase, not_reached, list(app.platforms))
            ),
            dedupe_key=f"phase-start:{instance_id}:{phase.id}",
        )
    logger.info("instance %d: phase %s started", instance_id, phase.id)
    app.wake_senders()
    return True


def _phase_started_text(
    plan: Plan, phase: Phase, not_reached: list[str], platforms: list[str]
) -> str:
    lines = [
        _("The phase “{phase}” has started ({start} – {end}).").format(
            phase=phase.title, start=phase.start.isoformat(), end=phase.end.isoformat()
        )
    ]
    if phase.tasks:
        if not_reached:
            lines.append(_("The tasks and the people responsible:"))
        else:
            lines.append(_("Each person responsible has been sent their tasks in private chat:"))
        for task in phase.tasks:
            lines.append(f"• {task.title} — {names_text(plan.names(task.assignee_ids))}")
        if not_reached:
            lines.append(
                _(
                    "Not reached yet ({reason}); their tasks reach them as soon as they can be: {names}"
                ).format(reason=reach.unreached_reason(platforms), names=names_text(not_reached))
            )
    return "\n".join(lines)


async def push_open_assignments(
    conn: aiosqlite.Connection, app: Huiwu, member: MemberRecord
) -> int:
    """Queue the push of each task a member already has (they were bound after it started);
    the dedupe key is the same as at phase start, so nobody gets a task twice."""
    plan = await app.plans.get(member.instance_id)
    now = app.clock.now()
    queued = 0
    for record in await assignments.assignments_of_member(app.db, [member.id]):
        if record.status in ("submitted", "approved"):
            continue
        task = plan.task(record.task_id)
        queued += await delivery.to_member(
            conn,
            app,
            member,
            partial(texts.assignment_push, plan, task, record.id, now),
            dedupe_key=f"push:{record.id}",
        )
    return queued


async def end_phase(app: Huiwu, instance_id: int, phase: Phase) -> bool:
    """Close a phase and post its summary to the group; False if already ended."""
    plan = await app.plans.get(instance_id)
    now = app.clock.now()
    progress = await plan_progress(app, instance_id, plan, {phase.id})
    index = plan.phases.index(phase)
    next_phase = plan.phases[index + 1] if index + 1 < len(plan.phases) else None
    await progress_feedback.show_in_groups(app, instance_id, progress_feedback.UPLOADING_PHOTO)
    chart = await summary_pictures.progress_picture(plan, phase, progress)
    pictures = await summary_pictures.more_pictures(app, instance_id, plan, phase)
    async with app.db.transaction() as conn:
        if not await assignments.end_phase(conn, instance_id, phase.id, now):
            return False
        await delivery.to_groups(
            conn,
            app,
            instance_id,
            lambda: OutgoingMessage(
                texts.summary_text(
                    plan, phase, progress, next_phase, now, platforms=list(app.platforms)
                ),
                file=chart,
            ),
            dedupe_key=f"phase-summary:{instance_id}:{phase.id}",
        )
        for number, picture in enumerate(pictures):
            await delivery.to_groups(
                conn,
                app,
                instance_id,
                partial(_as_built, picture),
                dedupe_key=f"phase-summary:{instance_id}:{phase.id}:{number}",
            )
    logger.info("instance %d: phase %s ended", instance_id, phase.id)
    app.wake_senders()
    return True


async def current_phase(app: Huiwu, instance_id: int) -> Phase | None:
    """The phase started last and not yet ended, if any."""
    plan = await app.plans.get(instance_id)
    runs = await assignments.phase_runs(app.db, instance_id)
    open_phases = [p for p in plan.phases if p.id in runs and runs[p.id][1] is None]
    return open_phases[-1] if open_phases else None


async def advance(app: Huiwu, instance_id: int) -> Phase | None:
    """The organizer moves on: end the open phase, start the next one; returns it (None at the end)."""
    plan = await app.plans.get(instance_id)
    runs = await assignments.phase_runs(app.db, instance_id)
    for phase in plan.phases:
        if phase.id in runs and runs[phase.id][1] is None:
            await end_phase(app, instance_id, phase)
    runs = await assignments.phase_runs(app.db, instance_id)
    for phase in plan.phases:
        if phase.id not in runs:
            await start_phase(app, instance_id, phase)
            return phase
    return None


async def tick(app: Huiwu, budget: PlanningSlice | None = None) -> datetime | None:
    """Start and end what the clock says is due; return when the next step is due. With a
    ``budget``, look at most that many plans afresh (the rest at the next tick)."""
    now = app.clock.now()
    next_due: datetime | None = None
    await app.db.changes.refresh()
    memo = app.memo.setdefault("phases", {})
    for instance_id, _status in await instances.ids_by_status(app.db, ["active"]):
        # Untouched since its last look and before its next start or end: nothing to do.
        version = app.db.changes.version(instance_id)
        planned = memo.get(instance_id)
        if planned is not None and planned[0] == version and planned[2] <= now < planned[3]:
            instance_due = planned[1]
        elif instance_id not in memo and budget is not None and not budget.take():
            continue  # left for the next slice (the scheduler ticks again at once)
        else:
            instance_due, acted = await _tick_instance(app, instance_id, now)
            if acted:
                memo[instance_id] = PLAN_AGAIN
            else:
                until = instance_due if instance_due is not None else now + timedelta(days=1)
                memo[instance_id] = (version, instance_due, now, until)
        if instance_due is not None:
            next_due = min(next_due or instance_due, instance_due)
    return next_due


async def _tick_instance(
    app: Huiwu, instance_id: int, now: datetime
) -> tuple[datetime | None, bool]:
    """One plan's due starts and ends; its next one, and whether anything was started or ended."""
    plan = await app.plans.get(instance_id)
    runs = await assignments.phase_runs(app.db, instance_id)
    acted = False
    for phase in plan.phases:
        started, ended = runs.get(phase.id, (None, None))
        start_at, end_at = phase_start_time(plan, phase), phase_end_time(plan, phase)
        if started is None:
            if now < start_at:
                return start_at, acted
            # The previous phase ends before this one starts, even if /advance skipped it.
            await start_phase(app, instance_id, phase)
            acted = True
        if ended is None:
            if now < end_at:
                return end_at, acted
            await end_phase(app, instance_id, phase)
            acted = True
    return None, acted


def _as_built(message: OutgoingMessage) -> OutgoingMessage:
    """A message built already (in the plan's locale), for ``delivery.to_groups``."""
    return message
