"""Reminder control: /reminders shows a member what is coming; the organizer nudges the
members with open tasks at once (/remind), and pauses and resumes reminders for a member
(leave) or a task."""

from __future__ import annotations

from functools import partial

from bot.core.formatting import names_text
from bot.core.i18n import N_, _
from bot.delivery import addressing as delivery
from bot.plan import Plan
from bot.reminders import engine
from bot.reminders.sources import TASK_SUBJECT
from bot.reminders.texts import outlook_text
from bot.tasks.progress import MemberState, plan_progress
from bot.tasks.texts import reminder
from handlers import talks
from handlers.context import HandlerContext
from handlers.organizer import organizer_instance
from handlers.routing import BOTH, KNOWN, ORGANIZER, PRIVATE, Router
from storage import instances, reminders
from storage.records import MemberRecord


async def remind(ctx: HandlerContext) -> None:
    """Nudge every member with an open task, or only those of one task (/remind TASK_ID);
    the heart-to-heart pairs not yet confirmed are nudged with the talks task."""
    app = ctx.app
    instance_id = organizer_instance(ctx)
    assert instance_id is not None
    plan = await app.plans.get(instance_id)
    now = app.clock.now()
    wanted = ctx.event.args[0] if ctx.event.args else None
    if wanted is not None and wanted not in {t.id for t in plan.tasks}:
        ctx.reply(
            _("There is no task “{task}” in the plan. Task ids: {ids}").format(
                task=wanted, ids=", ".join(t.id for t in plan.tasks)
            )
        )
        return
    nudged: list[str] = []
    async with app.db.transaction() as conn:
        for item in await plan_progress(app, instance_id, plan):
            if wanted is not None and item.task.id != wanted:
                continue
            for row in item.rows:
                if row.state not in (
                    MemberState.PENDING,
                    MemberState.OVERDUE,
                    MemberState.RETURNED,
                ):
                    continue
                task, assignment_id = item.task, row.assignment.id
                await delivery.to_member(
                    conn,
                    app,
                    row.member,
                    partial(reminder, plan, task, assignment_id, now),
                )
                nudged.append(row.member.name)
    if wanted is None or wanted == plan.talks_task_id:
        nudged += await talks.remind_pending(ctx, instance_id)
    if nudged:
        ctx.reply(_("Reminded: {names}.").format(names=names_text(list(dict.fromkeys(nudged)))))
    else:
        ctx.reply(_("Nobody has anything pending."))


async def my_reminders(ctx: HandlerContext) -> None:
    for membership in ctx.memberships:
        plan = await ctx.plan_of(membership)
        paused, coming = await engine.outlook(ctx.app, membership)
        ctx.reply(outlook_text(plan, coming, paused, name=membership.name))


async def pause(ctx: HandlerContext) -> None:
    await _pause_or_resume(ctx, pausing=True)


async def resume(ctx: HandlerContext) -> None:
    await _pause_or_resume(ctx, pausing=False)


async def _pause_or_resume(ctx: HandlerContext, *, pausing: bool) -> None:
    app = ctx.app
    instance_id = organizer_instance(ctx)
    assert instance_id is not None
    plan = await app.plans.get(instance_id)
    wanted = " ".join(ctx.event.args).strip()
    if not wanted:
        ctx.reply(await _pauses_text(ctx, instance_id, plan))
        return
    members = await instances.members_of(app.db, instance_id)
    member = next((m for m in members if wanted in (m.member_key, m.name)), None)
    task = next((t for t in plan.tasks if wanted in (t.id, t.title)), None)
    if member is None and task is None:
        ctx.reply(
            _(
                "“{what}” is neither a member nor a task of the plan. Name a member (e.g. {member}) or a task id (e.g. {task})."
            ).format(
                what=wanted,
                member=members[0].name if members else "-",
                task=plan.tasks[0].id if plan.tasks else "-",
            )
        )
        return
    organizer = next((m for m in ctx.memberships if m.instance_id == instance_id), None)
    now = app.clock.now()
    member_id = member.id if member is not None else None
    subject = TASK_SUBJECT + task.id if member is None and task is not None else None
    label = member.name if member is not None else task.title if task is not None else wanted
    async with app.db.transaction() as conn:
        if pausing:
            changed = await reminders.pause(
                conn,
                instance_id,
                member_id=member_id,
                subject=subject,
                paused_by=organizer.id if organizer else None,
                now=now,
            )
        else:
            changed = await reminders.resume(
                conn, instance_id, member_id=member_id, subject=subject, now=now
            )
    if pausing:
        ctx.reply(
            _("Reminders for “{what}” are paused. /resume {what} resumes them.").format(what=label)
            if changed
            else _("Reminders for “{what}” were paused already.").format(what=label)
        )
    else:
        ctx.reply(
            _(
                "Reminders for “{what}” are resumed; those that fell due meanwhile are not sent."
            ).format(what=label)
            if changed
            else _("Reminders for “{what}” were not paused.").format(what=label)
        )
    app.schedule_changed.set()


async def _pauses_text(ctx: HandlerContext, instance_id: int, plan: Plan) -> str:
    found = await reminders.pauses(ctx.app.db, instance_id)
    members: dict[int, MemberRecord] = {
        m.id: m for m in await instances.members_of(ctx.app.db, instance_id)
    }
    held = [members[member_id].name for member_id in sorted(found.members)]
    held += [
        plan.task(subject.removeprefix(TASK_SUBJECT)).title
        for subject in sorted(found.subjects)
        if subject.startswith(TASK_SUBJECT)
    ]
    lines = [
        _("Paused now: {what}.").format(what=names_text(held)) if held else _("Nothing is paused.")
    ]
    lines.append(
        _(
            "/pause NAME or /pause TASK_ID holds reminders (a member on leave, a task); /resume NAME or /resume TASK_ID lifts the hold."
        )
    )
    return "\n".join(lines)


router = Router()
router.command(
    "remind",
    N_("nudge the members who have not submitted a task (organizer)"),
    BOTH,
    ORGANIZER,
    remind,
    keywords=("催办",),
    takes_args=True,
)
router.command(
    "reminders",
    N_("the reminders coming for you"),
    PRIVATE,
    KNOWN,
    my_reminders,
    keywords=("我的提醒", "提醒"),
)
router.command(
    "pause",
    N_("pause reminders for a member (leave) or a task (organizer)"),
    BOTH,
    ORGANIZER,
    pause,
    keywords=("暂停提醒",),
    takes_args=True,
)
router.command(
    "resume",
    N_("resume paused reminders for a member or a task (organizer)"),
    BOTH,
    ORGANIZER,
    resume,
    keywords=("恢复提醒",),
    takes_args=True,
)
