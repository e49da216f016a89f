"""The meeting: the chair or the organizer opens it (/meeting) and moves it on (/next, speaker
by speaker on a mutual-criticism item); /agenda shows where it stands. An item with a survey
opens it on arrival and closes it (results to the group) on leaving.

Sent in the group, the answers are the group's announcements. Sent in private (WeCom does not
pass group messages to apps, so there the chair runs the meeting from the app), the same
announcements go to the plan's groups, in the plan's language, and the sender gets a copy."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.app import Huiwu
from bot.core.i18n import N_, _
from bot.core.messaging import OutgoingMessage
from bot.delivery import addressing as delivery
from bot.meeting import agenda, surveys
from bot.plan import AgendaItem, Plan, Role
from handlers.context import HandlerContext
from handlers.group import chat_plan
from handlers.routing import BOTH, CHAIR_OR_ORGANIZER, KNOWN, Router
from storage import meetings
from storage import surveys as survey_store


async def _plan(ctx: HandlerContext) -> tuple[int, Plan] | None:
    running = ctx.memberships_with(Role.CHAIR) + ctx.memberships_with(Role.ORGANIZER)
    if ctx.event.is_private and running:
        instance_id: int | None = max(m.instance_id for m in running)
    else:
        instance_id = await chat_plan(ctx)
    if instance_id is None:
        return None
    plan = await ctx.app.plans.get(instance_id)
    if plan.meeting is None or not plan.meeting.agenda:
        ctx.reply(_("The plan has no meeting agenda."))
        return None
    return instance_id, plan


async def show(ctx: HandlerContext) -> None:
    found = await _plan(ctx)
    if found is not None:
        instance_id, plan = found
        ctx.reply(agenda.agenda_text(plan, await meetings.latest_run(ctx.app.db, instance_id)))


async def _announce(ctx: HandlerContext, instance_id: int, text: Callable[[], str]) -> None:
    """Tell the meeting: in the group, the answer is the announcement; in private, the
    announcement goes to the plan's groups (in the plan's language) and the sender sees it too."""
    ctx.reply(text())
    if ctx.event.is_private:
        async with ctx.app.db.transaction() as conn:
            await ctx.flush(conn)
            await delivery.to_groups(conn, ctx.app, instance_id, lambda: OutgoingMessage(text()))


async def open_meeting(ctx: HandlerContext) -> None:
    found = await _plan(ctx)
    if found is None:
        return
    instance_id, plan = found
    run = await meetings.latest_run(ctx.app.db, instance_id)
    if run is not None and run.ended_at is None:
        ctx.reply(
            _("The meeting is already in progress (agenda item {number}).").format(number=run.item)
        )
        return
    async with ctx.app.db.transaction() as conn:
        run = await meetings.open_run(conn, instance_id, ctx.app.clock.now())
    meeting = plan.meeting
    assert meeting is not None
    opened_run = run

    def heading() -> str:
        opening = _("The meeting “{title}” is open.").format(title=meeting.title)
        return f"{opening}\n\n{agenda.agenda_text(plan, opened_run)}\n\n"

    await _arrive(ctx, instance_id, plan, meeting.agenda[0], heading=heading)


async def next_item(ctx: HandlerContext) -> None:
    found = await _plan(ctx)
    if found is None:
        return
    instance_id, plan = found
    assert plan.meeting is not None
    run = await meetings.latest_run(ctx.app.db, instance_id)
    if run is None or run.ended_at is not None:
        ctx.reply(_("The meeting is not in progress; the chair opens it with /meeting."))
        return
    item = plan.meeting.agenda[run.item - 1]
    order = agenda.speaking_order(plan, item)
    if run.speaker + 1 < len(order):
        async with ctx.app.db.transaction() as conn:
            moved = await meetings.move(conn, run, run.item, run.speaker + 1)
        if moved:
            speaker = run.speaker + 1
            name = plan.names(order)[speaker]
            await _announce(
                ctx,
                instance_id,
                lambda: (
                    _("Next speaker: {name} ({number} of {total}).").format(
                        name=name, number=speaker + 1, total=len(order)
                    )
                    + "\n"
                    + agenda.order_text(plan, item, speaker)
                ),
            )
        return
    await _leave(ctx.app, instance_id, plan, item)
    if run.item >= len(plan.meeting.agenda):
        async with ctx.app.db.transaction() as conn:
            await meetings.end_run(conn, run, ctx.app.clock.now())
        await _announce(
            ctx, instance_id, lambda: _("The agenda is complete: the meeting is closed.")
        )
        return
    async with ctx.app.db.transaction() as conn:
        moved = await meetings.move(conn, run, run.item + 1, 0)
    if moved:
        await _arrive(ctx, instance_id, plan, plan.meeting.agenda[run.item])


async def _arrive(
    ctx: HandlerContext,
    instance_id: int,
    plan: Plan,
    item: AgendaItem,
    heading: Callable[[], str] = str,
) -> None:
    await _announce(ctx, instance_id, lambda: heading() + agenda.item_started_text(plan, item))
    if item.survey_id is not None:
        async with ctx.app.db.transaction() as conn:
            await ctx.flush(conn)  # the item is announced before its survey opens
        opened = await surveys.open_survey(ctx.app, instance_id, plan.survey(item.survey_id), None)
        if opened is None:
            ctx.reply(_("The survey of this item is open already."))


async def _leave(app: Huiwu, instance_id: int, plan: Plan, item: AgendaItem) -> None:
    if item.survey_id is None:
        return
    for survey_round in await survey_store.open_rounds(app.db, instance_id):
        if survey_round.survey_key == item.survey_id:
            await surveys.close_survey(app, survey_round)


CHAIR_ONLY = N_("Only the meeting's chair or the plan's organizer can use /{name}.")

router = Router()
router.command(
    "meeting",
    N_("open the meeting: the agenda goes to the group (chair or organizer)"),
    BOTH,
    CHAIR_OR_ORGANIZER,
    open_meeting,
    keywords=("开会",),
    refusal=CHAIR_ONLY,
)
router.command(
    "agenda",
    N_("the meeting's agenda with the current item marked"),
    BOTH,
    KNOWN,
    show,
    keywords=("议程",),
)
router.command(
    "next",
    N_("move the meeting on to the next speaker or agenda item (chair or organizer)"),
    BOTH,
    CHAIR_OR_ORGANIZER,
    next_item,
    keywords=("下一项",),
    refusal=CHAIR_ONLY,
)
