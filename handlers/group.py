"""Group commands: /setup binds the group to a plan; /plan, /status, /summary show it."""

from __future__ import annotations

from bot.core.formatting import names_text
from bot.core.i18n import N_, _
from bot.plan import Role
from bot.tasks import phases
from bot.tasks.progress import plan_progress
from bot.tasks.texts import status_text, summary_text, timeline_text
from handlers.board import board_button
from handlers.context import HandlerContext
from handlers.routing import BOTH, GROUP, KNOWN, ORGANIZER, Router
from storage import instances


async def chat_plan(ctx: HandlerContext) -> int | None:
    """The plan this command is about: the group's, or in private the sender's newest
    (None, with a reply saying why, when there is none)."""
    if ctx.group_instance_id is not None:
        return ctx.group_instance_id
    if ctx.event.is_private and ctx.memberships:
        return ctx.memberships[0].instance_id
    ctx.reply(_("This group is not bound to a plan yet. The organizer sends /setup here."))
    return None


async def setup(ctx: HandlerContext) -> None:
    app, event = ctx.app, ctx.event
    organizer_of = ctx.memberships_with(Role.ORGANIZER)
    if event.args and event.args[0].isdigit():
        organizer_of = [m for m in organizer_of if m.instance_id == int(event.args[0])]
    if not organizer_of:
        ctx.reply(_("I found no plan of yours with that number."))
        return
    instance_id = organizer_of[0].instance_id
    waiting = await instances.offered_members(app.db, instance_id)
    if waiting:
        ctx.reply(
            _(
                "Plan No. {id} still waits for {names} to accept it (with /plans, or their invite link from /invites); until then it cannot be bound to a group."
            ).format(id=instance_id, names=names_text([m.name for m in waiting]))
        )
        return
    async with app.db.transaction() as conn:
        await instances.bind_chat(conn, instance_id, event.platform, event.chat_id, app.clock.now())
        await instances.set_status(conn, instance_id, "active")
    plan = await app.plans.get(instance_id)
    ctx.group_instance_id = instance_id
    ctx.group_menus_changed.append(instance_id)
    if ctx.uses_invites():
        ctx.reply(
            _(
                "This group now follows the plan “{plan}”. Members: open a private chat with me and send /start, so that I can send you your tasks."
            ).format(plan=plan.title)
        )
    else:  # WeCom: members are known by their account; tasks come through the app
        ctx.reply(
            _(
                "This group now follows the plan “{plan}”. Each member's tasks and reminders come privately through the app; @-mention me here for /status, /summary, /agenda and the other group commands."
            ).format(plan=plan.title)
        )
    app.schedule_changed.set()


async def show_plan(ctx: HandlerContext) -> None:
    instance_id = await chat_plan(ctx)
    if instance_id is not None:
        ctx.reply(timeline_text(await ctx.app.plans.get(instance_id)))


async def status(ctx: HandlerContext) -> None:
    instance_id = await chat_plan(ctx)
    if instance_id is None:
        return
    plan = await ctx.app.plans.get(instance_id)
    progress = await plan_progress(ctx.app, instance_id, plan)
    button = board_button(ctx)
    text = status_text(plan, progress, ctx.app.clock.now(), platforms=list(ctx.app.platforms))
    ctx.reply(text, ((button,),) if button else ())


async def summary(ctx: HandlerContext) -> None:
    instance_id = await chat_plan(ctx)
    if instance_id is None:
        return
    plan = await ctx.app.plans.get(instance_id)
    phase = await phases.current_phase(ctx.app, instance_id)
    if phase is None:
        ctx.reply(_("No phase is running at the moment."))
        return
    progress = await plan_progress(ctx.app, instance_id, plan, {phase.id})
    index = plan.phases.index(phase)
    next_phase = plan.phases[index + 1] if index + 1 < len(plan.phases) else None
    ctx.reply(
        summary_text(
            plan,
            phase,
            progress,
            next_phase,
            ctx.app.clock.now(),
            platforms=list(ctx.app.platforms),
        )
    )


router = Router()
router.command("plan", N_("the plan's timeline"), BOTH, KNOWN, show_plan, keywords=("方案",))
router.command(
    "status",
    N_("who has submitted, who is pending, overdue or unreachable"),
    BOTH,
    KNOWN,
    status,
    keywords=("进度",),
)
router.command(
    "summary", N_("the summary of the current phase"), GROUP, KNOWN, summary, keywords=("小结",)
)
router.command("setup", N_("bind this group to your plan (organizer)"), GROUP, ORGANIZER, setup)
