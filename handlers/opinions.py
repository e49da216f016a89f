"""征求意见 in chat: the organizer opens a call for opinions with a closing date and
forwards its link (/opinions); anyone who opens the link — staff not on the roster too —
writes in private (/opinion): to the whole team or one member, with their name or
anonymously. Nothing sent back to the writer repeats whom they wrote to or what; an
anonymous opinion is stored without any trace of its writer; the draft (to whom, what) is
sealed while it is written (``storage.sealing``) and deleted when sent.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from bot.core.formatting import due_text
from bot.core.i18n import N_, _, ngettext
from bot.core.messaging import Button
from bot.meeting import opinions as opinion_steps
from bot.meeting.buttons import OpinionCancel, OpinionNew, OpinionSend, OpinionTo
from bot.plan import Plan
from handlers.context import HandlerContext
from handlers.organizer import end_of_day, organizer_instance
from handlers.routing import ANYONE, ORGANIZER, PRIVATE, Router
from handlers.tasks import cancel
from storage import conversations, instances
from storage import opinions as opinion_store
from storage.opinions import OpinionWindow

WRITING = "opinion:writing"
CONFIRMING = "opinion:confirming"
MAX_OPINION = 3000


async def manage(ctx: HandlerContext) -> None:
    """/opinions [YYYY-MM-DD | close]: open a call, show it, or close it now."""
    app = ctx.app
    instance_id = organizer_instance(ctx)
    assert instance_id is not None
    plan = await app.plans.get(instance_id)
    window = await opinion_store.open_window_of(app.db, instance_id)
    arg = ctx.event.args[0].lower() if ctx.event.args else None
    if window is not None:
        if arg == "close":
            await opinion_steps.close_window(app, window)
            ctx.reply(_("The call for opinions is closed; the opinions have been delivered."))
        else:
            count = len(await opinion_store.opinions_of(app.db, window.id))
            ctx.reply(
                ngettext(
                    "The call for opinions is open until {when}; {count} opinion so far. Send /opinions close to close it now.",
                    "The call for opinions is open until {when}; {count} opinions so far. Send /opinions close to close it now.",
                    count,
                ).format(when=due_text(window.closes_at, plan.timezone), count=count)
                + "\n\n"
                + _invitation(ctx, plan, window)
            )
        return
    closes_at = end_of_day(plan, arg) if arg else _default_closing(plan)
    if closes_at is None or closes_at <= app.clock.now():
        ctx.reply(_("Send /opinions with a future closing date, like /opinions 2013-12-10."))
        return
    async with app.db.transaction() as conn:
        window = await opinion_store.open_window(conn, instance_id, closes_at, app.clock.now())
    app.schedule_changed.set()
    ctx.reply(
        _(
            "The call for opinions is open until {when}. Forward this invitation to everyone whose opinion you want:"
        ).format(when=due_text(closes_at, plan.timezone))
    )
    ctx.reply(_invitation(ctx, plan, window))


def _default_closing(plan: Plan) -> datetime | None:
    """The due date of the plan's opinions task, if it has one."""
    return next((t.due for t in plan.tasks if t.kind == "opinions"), None)


def _invitation(ctx: HandlerContext, plan: Plan, window: OpinionWindow) -> str:
    platform = ctx.app.platforms.get(ctx.event.platform)
    if platform is not None and platform.invite_link is not None:
        how = _("Open {link} and send your opinion to the bot.").format(
            link=platform.invite_link(window.code)
        )
    else:
        how = _("Send the bot the message: /start {code}").format(code=window.code)
    return (
        _(
            "“{plan}” asks for your opinions until {when}: to the whole team or to one member, with your name or anonymously; opinions are passed on word for word."
        ).format(plan=plan.title, when=due_text(window.closes_at, plan.timezone))
        + "\n"
        + how
    )


async def join(ctx: HandlerContext, code: str) -> None:
    """/start op-…: the sender may now write into that window."""
    app, event = ctx.app, ctx.event
    window = await opinion_store.window_by_code(app.db, code)
    if window is None or window.closed_at is not None:
        ctx.reply(_("This call for opinions has closed or the link is not valid."))
        return
    async with app.db.transaction() as conn:
        await opinion_store.add_writer(conn, window.id, event.platform, event.user_id)
    plan = await app.plans.get(window.instance_id)
    ctx.reply(
        _(
            "Welcome! “{plan}” asks for your opinions until {when}: to the whole team or to one member, with your name or anonymously. They are passed on word for word."
        ).format(plan=plan.title, when=due_text(window.closes_at, plan.timezone)),
        ((Button(_("Write an opinion"), data=OpinionNew().pack()),),),
    )


async def _windows_for(ctx: HandlerContext) -> list[OpinionWindow]:
    found = await opinion_store.writer_windows(ctx.app.db, ctx.event.platform, ctx.event.user_id)
    for member in ctx.memberships:
        window = await opinion_store.open_window_of(ctx.app.db, member.instance_id)
        if window is not None and window.id not in {w.id for w in found}:
            found.append(window)
    return found


async def write(ctx: HandlerContext) -> None:
    """/opinion: choose whom the opinion is for."""
    windows = await _windows_for(ctx)
    if not windows:
        ctx.reply(
            _("There is no open call for opinions for you. Open the link the organizer sent you.")
        )
        return
    window = windows[0]
    plan = await ctx.app.plans.get(window.instance_id)
    members = {m.member_key: m for m in await instances.members_of(ctx.app.db, window.instance_id)}
    addressees = [members[key] for key in opinion_steps.addressable_keys(plan) if key in members]
    rows = [(Button(_("The whole team"), data=OpinionTo(window.id, 0).pack()),)]
    rows += [(Button(m.name, data=OpinionTo(window.id, m.id).pack()),) for m in addressees]
    ctx.reply(_("Opinion on “{plan}”: whom is it for?").format(plan=plan.title), tuple(rows))


async def choose_addressee(ctx: HandlerContext, window_id: int, member_id: int) -> None:
    window = next((w for w in await _windows_for(ctx) if w.id == window_id), None)
    if window is None:
        ctx.reply(_("This call for opinions has closed or the link is not valid."))
        return
    if member_id:
        member = await instances.get_member(ctx.app.db, member_id)
        plan = await ctx.app.plans.get(window.instance_id)
        if member is None or member.member_key not in opinion_steps.addressable_keys(plan):
            ctx.reply(_("This button is no longer valid."))
            return
    await ctx.keep_conversation(WRITING, _sealed(ctx, window_id, {"to": member_id}))
    ctx.reply(
        _(
            "Write your opinion now, as one message (at most {limit} characters). It is passed on word for word."
        ).format(limit=MAX_OPINION),
        ((Button(_("Cancel"), data=OpinionCancel().pack()),),),
    )


async def collect(ctx: HandlerContext, draft: dict[str, Any]) -> None:
    text = ctx.event.text.strip()
    if not text or ctx.event.files:
        ctx.reply(_("Please type your opinion as a text message."))
        return
    if len(text) > MAX_OPINION:
        ctx.reply(
            _(
                "That is {length} characters; an opinion has at most {limit}. Please shorten it."
            ).format(length=len(text), limit=MAX_OPINION)
        )
        return
    opened = _opened(ctx, draft)
    if opened is None:
        await _lost(ctx)
        return
    await ctx.keep_conversation(CONFIRMING, _sealed(ctx, draft["window"], {**opened, "text": text}))
    ctx.reply(
        _(
            "Send it with your name, or anonymously? An anonymous opinion is stored with nothing that could lead back to you."
        ),
        (
            (
                Button(_("With my name"), data=OpinionSend("named").pack()),
                Button(_("Anonymously"), data=OpinionSend("anon").pack()),
            ),
            (Button(_("Cancel"), data=OpinionCancel().pack()),),
        ),
    )


async def send(ctx: HandlerContext, *, anonymous: bool) -> None:
    app, event = ctx.app, ctx.event
    draft = await ctx.conversation_in(
        CONFIRMING, _("There is no opinion in progress. Send /opinion to write one.")
    )
    if draft is None:
        return
    opened = _opened(ctx, draft)
    if opened is None:
        await _lost(ctx)
        return
    window = await opinion_store.get_window(app.db, int(draft["window"]))
    if window is None or window.closed_at is not None:
        async with app.db.transaction() as conn:
            await conversations.clear(conn, event.platform, event.user_id)
        ctx.reply(_("This call for opinions has closed or the link is not valid."))
        return
    sender = None
    if not anonymous:
        member = next((m for m in ctx.memberships if m.instance_id == window.instance_id), None)
        sender = member.name if member else (event.user_name or _("(no name)"))
    async with app.db.transaction() as conn:
        await opinion_store.add_opinion(
            conn, window.id, int(opened["to"]) or None, opened["text"], sender
        )
        await conversations.clear(conn, event.platform, event.user_id)
    await app.db.forget()
    plan = await app.plans.get(window.instance_id)
    ctx.update_pressed(_("✓ Sent."))  # the same words signed or not
    # The same answer either way: the outbox keeps it, and "anonymously" there would mark
    # this writer as the author of an anonymous opinion.
    ctx.reply(
        _(
            "Thank you. Your opinion was stored; it is passed on when the call closes ({when})."
        ).format(when=due_text(window.closes_at, plan.timezone)),
        ((Button(_("Write another"), data=OpinionNew().pack()),),),
    )


def _sealed(ctx: HandlerContext, window_id: int, draft: dict[str, Any]) -> dict[str, Any]:
    """The conversation's data: whom the writer writes to and what, sealed (storage.sealing)."""
    sealed = ctx.app.sealer.seal(json.dumps(draft, ensure_ascii=False).encode())
    return {"window": window_id, "sealed": sealed}


def _opened(ctx: HandlerContext, data: dict[str, Any]) -> dict[str, Any] | None:
    """The sealed draft; None if it cannot be opened (sealed under other secrets)."""
    if "sealed" not in data:  # written by a Huiwu that did not seal drafts
        return {key: value for key, value in data.items() if key != "window"}
    opened = ctx.app.sealer.open(str(data["sealed"]))
    return json.loads(opened) if opened is not None else None


async def _lost(ctx: HandlerContext) -> None:
    async with ctx.app.db.transaction() as conn:
        await conversations.clear(conn, ctx.event.platform, ctx.event.user_id)
    ctx.reply(_("There is no opinion in progress. Send /opinion to write one."))


async def confirming(ctx: HandlerContext, _draft: dict[str, Any]) -> None:
    """A message while the writer should choose how to send: point at the buttons."""
    ctx.reply(_("Please choose with the buttons above: with your name, anonymously, or cancel."))


async def _on_new(ctx: HandlerContext, _pressed: OpinionNew) -> None:
    await write(ctx)


async def _on_addressee(ctx: HandlerContext, pressed: OpinionTo) -> None:
    await choose_addressee(ctx, pressed.window_id, pressed.member_id)


async def _on_send(ctx: HandlerContext, pressed: OpinionSend) -> None:
    await send(ctx, anonymous=pressed.how == "anon")


async def _on_cancel(ctx: HandlerContext, _pressed: OpinionCancel) -> None:
    await cancel(ctx)


router = Router()
router.command(
    "opinions",
    N_("open a call for opinions with a closing date, see it, or close it (organizer)"),
    PRIVATE,
    ORGANIZER,
    manage,
    keywords=("征求意见",),
    takes_args=True,
)
router.command(
    "opinion",
    N_("send an opinion, to the team or one member, with your name or anonymously"),
    PRIVATE,
    ANYONE,
    write,
    keywords=("提意见",),
)
router.button(OpinionNew, _on_new, strangers=True)
router.button(OpinionTo, _on_addressee, strangers=True)
router.button(OpinionSend, _on_send, strangers=True)
router.button(OpinionCancel, _on_cancel, strangers=True)
router.state(WRITING, collect)
router.state(CONFIRMING, confirming)
