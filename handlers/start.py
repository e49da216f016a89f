"""/start (also with a personal invite code)."""

from __future__ import annotations

from bot.core.formatting import names_text
from bot.core.i18n import N_, _, ngettext
from bot.tasks import phases
from handlers import opinions
from handlers.context import HandlerContext
from handlers.routing import ANYONE, PRIVATE, Router
from storage import instances, outbox
from storage.opinions import CODE_PREFIX as OPINION_CODE_PREFIX


async def start(ctx: HandlerContext) -> None:
    """Open the private chat: the bot may now write to this user; redeem an invite if given."""
    app, event = ctx.app, ctx.event
    if event.args and event.args[0].startswith(OPINION_CODE_PREFIX):
        await _start_for_opinions(ctx)
        return
    now = app.clock.now()
    bound_name = None
    newly_bound = None
    async with app.db.transaction() as conn:
        await instances.mark_reachable(conn, event.platform, event.user_id, True)
        if event.args:
            member_id = await instances.redeem_invite(conn, event.args[0], now)
            if member_id is None:
                ctx.reply(
                    _(
                        "This invite link is not valid or has been used already. Ask the organizer for a new one."
                    )
                )
            else:
                await instances.set_identity(
                    conn, member_id, event.platform, event.user_id, reachable=True
                )
                member = await instances.get_member(app.db, member_id)
                if member is not None:
                    await instances.set_current_plan(
                        conn, event.platform, event.user_id, member.instance_id, now
                    )
                    bound_name = member.name
                    newly_bound = member
        released = await outbox.release_held(conn, event.platform, event.chat_id)
    memberships = await instances.members_for_user(app.db, event.platform, event.user_id)
    ctx.memberships = memberships
    offered = await instances.offers_for_user(app.db, event.platform, event.user_id)
    if not memberships and offered:
        ctx.reply(
            _(
                "Hello! I am Huiwu, the meeting work-plan assistant. A plan naming your account waits for your answer: /plans shows it."
            )
        )
    elif not memberships:
        ctx.greet_stranger()
    else:
        name = bound_name or memberships[0].name
        titles = list(dict.fromkeys([(await ctx.plan_of(m)).title for m in memberships]))
        ctx.reply(
            ngettext(
                "Hello {name}! You are on the plan “{plans}”. I will send your tasks and deadlines here.",
                "Hello {name}! You are on these plans: {plans}. I will send your tasks and deadlines here.",
                len(titles),
            ).format(name=name, plans=names_text(titles))
        )
        if released:
            ctx.reply(
                ngettext(
                    "{count} message was waiting for you; it follows now.",
                    "{count} messages were waiting for you; they follow now.",
                    released,
                ).format(count=released)
            )
    if memberships:  # their own menu: bound now, or their roles changed since
        ctx.menus_changed.append(event.user_id)
    if newly_bound is not None:
        # Tasks of a phase that started before this member was bound follow the welcome.
        async with app.db.transaction() as conn:
            await ctx.flush(conn)
            await phases.push_open_assignments(conn, app, newly_bound)
    if released or newly_bound is not None:
        app.wake_senders()


async def _start_for_opinions(ctx: HandlerContext) -> None:
    """A call-for-opinions link: the sender becomes reachable and may write opinions."""
    app, event = ctx.app, ctx.event
    async with app.db.transaction() as conn:
        await instances.mark_reachable(conn, event.platform, event.user_id, True)
        released = await outbox.release_held(conn, event.platform, event.chat_id)
    await opinions.join(ctx, event.args[0])
    if released:
        app.wake_senders()


router = Router()
router.command(
    "start",
    N_("open the private chat with the bot (with an invite code: bind yourself)"),
    PRIVATE,
    ANYONE,
    start,
    keywords=("开始",),
)
