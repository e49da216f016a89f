"""Heart-to-heart talks: /talk records one with a partner the plan requires, the partner
confirms or declines it; /talks shows the matrix. A talk counts once both sides stand by it."""

from __future__ import annotations

from functools import partial

from bot.core.formatting import date_text
from bot.core.i18n import N_, _
from bot.core.messaging import Button, OutgoingMessage
from bot.delivery import addressing as delivery
from bot.meeting.buttons import TalkAnswer, TalkWith
from bot.meeting.talks import PairState, TalkPair, matrix_text, talk_pairs
from bot.meeting.talks_task import complete_if_all_confirmed
from bot.plan import Plan
from handlers.context import HandlerContext
from handlers.group import chat_plan
from handlers.routing import BOTH, KNOWN, PRIVATE, Router
from storage import instances
from storage import talks as talk_store
from storage.records import MemberRecord
from storage.talks import TalkRecord


async def _my_pairs(ctx: HandlerContext) -> list[tuple[MemberRecord, TalkPair]]:
    found = []
    for member in ctx.memberships:
        plan = await ctx.plan_of(member)
        for pair in await talk_pairs(ctx.app, member.instance_id, plan):
            if pair.has(member.id):
                found.append((member, pair))
    return found


async def record(ctx: HandlerContext) -> None:
    """/talk: the partners still to talk with, as buttons."""
    mine = await _my_pairs(ctx)
    if not mine:
        ctx.reply(_("The plan requires no heart-to-heart talks of you."))
        return
    open_pairs = [(m, p) for m, p in mine if p.state is PairState.MISSING]
    waiting = [p.other(m.id).name for m, p in mine if p.state is PairState.AWAITING]
    lines = []
    if waiting:
        lines.append(_("Waiting for confirmation: {names}.").format(names="、".join(waiting)))
    if not open_pairs:
        lines.append(_("All your required talks are recorded."))
        ctx.reply("\n".join(lines))
        return
    lines.insert(0, _("With whom have you held a heart-to-heart talk?"))
    ctx.reply(
        "\n".join(lines),
        tuple(
            (Button(p.other(m.id).name, data=TalkWith(p.other(m.id).id).pack()),)
            for m, p in open_pairs
        ),
    )


async def recorded_with(ctx: HandlerContext, partner_id: int) -> None:
    pair_of = next(
        ((m, p) for m, p in await _my_pairs(ctx) if p.other(m.id).id == partner_id), None
    )
    if pair_of is None:
        ctx.reply(_("This button is no longer valid."))
        return
    me, pair = pair_of
    partner = pair.other(me.id)
    if pair.state is not PairState.MISSING:
        ctx.reply(_("Your talk with {name} is recorded already.").format(name=partner.name))
        return
    app = ctx.app
    plan = await ctx.plan_of(me)
    async with app.db.transaction() as conn:
        talk = await talk_store.record(conn, me.instance_id, me.id, partner.id, app.clock.now())
        await delivery.to_member(
            conn,
            app,
            partner,
            partial(confirm_request, plan, me.name, talk),
            dedupe_key=f"talk-confirm:{talk.id}",
        )
    ctx.reply(
        _("Recorded your talk with {name}; it counts once {name} confirms it.").format(
            name=partner.name
        )
    )


def confirm_request(plan: Plan, recorder: str, talk: TalkRecord) -> OutgoingMessage:
    return OutgoingMessage(
        _(
            "{name} has recorded a heart-to-heart talk with you ({date}). Please confirm that it took place."
        ).format(name=recorder, date=date_text(talk.recorded_at, plan.timezone)),
        (
            (
                Button(_("Confirm"), data=TalkAnswer("ok", talk.id).pack()),
                Button(_("It did not take place"), data=TalkAnswer("no", talk.id).pack()),
            ),
        ),
    )


async def answer(ctx: HandlerContext, talk_id: int, *, confirm: bool) -> None:
    app = ctx.app
    talk = await talk_store.get(app.db, talk_id)
    me = next((m for m in ctx.memberships if talk is not None and m.id == talk.other_side()), None)
    if talk is None or me is None:
        ctx.reply(_("This button is no longer valid."))
        return
    recorder = await instances.get_member(app.db, talk.recorded_by)
    assert recorder is not None
    plan = await ctx.plan_of(me)
    async with app.db.transaction() as conn:
        if not await talk_store.answer(
            conn, talk.id, "confirmed" if confirm else "declined", app.clock.now()
        ):
            ctx.reply(_("You have answered this already."))
            return
        if confirm:  # the last pair of the plan completes its talks task
            await complete_if_all_confirmed(conn, app, me.instance_id, plan, talk)
        await delivery.to_member(
            conn,
            app,
            recorder,
            lambda: OutgoingMessage(
                (
                    _("{name} confirmed your heart-to-heart talk.")
                    if confirm
                    else _(
                        "{name} says your recorded talk did not take place; record it again once it has."
                    )
                ).format(name=me.name)
            ),
            dedupe_key=f"talk-answer:{talk.id}",
        )
    ctx.update_pressed(_("✓ Confirmed.") if confirm else _("✗ Not counted."))
    ctx.reply(
        _("Confirmed: your talk with {name} counts.").format(name=recorder.name)
        if confirm
        else _("Noted: the talk with {name} is not counted.").format(name=recorder.name)
    )


async def matrix(ctx: HandlerContext) -> None:
    instance_id = await chat_plan(ctx)
    if instance_id is None:
        return
    plan = await ctx.app.plans.get(instance_id)
    if not plan.talk_pairs:
        ctx.reply(_("The plan requires no heart-to-heart talks."))
        return
    ctx.reply(matrix_text(plan, await talk_pairs(ctx.app, instance_id, plan)))


async def remind_pending(ctx: HandlerContext, instance_id: int) -> list[str]:
    """Nudge both sides of each pair still missing, and whoever must confirm a recorded one."""
    app = ctx.app
    plan = await app.plans.get(instance_id)
    nudged: list[str] = []
    async with app.db.transaction() as conn:
        for pair in await talk_pairs(app, instance_id, plan):
            if pair.state is PairState.CONFIRMED:
                continue
            awaiting = pair.awaiting
            if awaiting is not None and pair.talk is not None:
                recorder = pair.other(awaiting.id)
                await delivery.to_member(
                    conn, app, awaiting, partial(confirm_request, plan, recorder.name, pair.talk)
                )
                nudged.append(awaiting.name)
                continue
            for member in (pair.a, pair.b):
                other = pair.other(member.id).name
                await delivery.to_member(conn, app, member, partial(_talk_reminder, other))
                nudged.append(member.name)
    return nudged


def _talk_reminder(other: str) -> OutgoingMessage:
    return OutgoingMessage(
        _(
            "Reminder: your heart-to-heart talk with {name} is not recorded yet. Once you have held it, send /talk."
        ).format(name=other)
    )


async def _on_recorded(ctx: HandlerContext, pressed: TalkWith) -> None:
    await recorded_with(ctx, pressed.partner_id)


async def _on_answer(ctx: HandlerContext, pressed: TalkAnswer) -> None:
    await answer(ctx, pressed.talk_id, confirm=pressed.answer == "ok")


router = Router()
router.command(
    "talk",
    N_("record a heart-to-heart talk you have held"),
    PRIVATE,
    KNOWN,
    record,
    keywords=("谈心",),
)
router.command(
    "talks",
    N_("which heart-to-heart talks are confirmed, waiting or missing"),
    BOTH,
    KNOWN,
    matrix,
    keywords=("谈心情况",),
)
router.button(TalkWith, _on_recorded)
router.button(TalkAnswer, _on_answer)
