"""Which plan a person's private commands act on, and the plans offered to them.

A person on several plans has a current one (remembered in ``current_plans``; until they
choose, the newest running one): their private commands act on it alone and each answer
names it. ``/plans`` lists their plans with a button to switch, and the plans that someone
loaded in chat naming their account, to accept (only then is the person bound: an offer is
no identity, so nothing of such a plan reaches them) or decline.
"""

from __future__ import annotations

from bot.core.i18n import N_, _
from bot.core.messaging import Button
from bot.plan.buttons import PlanChoice
from bot.tasks import phases
from handlers.context import HandlerContext
from handlers.routing import ANYONE, PRIVATE, Router
from storage import instances

EVERY_PLAN = frozenset({"start", "plans"})  # private commands about all of one's plans
MAX_BUTTON_TITLE = 24


def _short(title: str) -> str:
    return title if len(title) <= MAX_BUTTON_TITLE else title[: MAX_BUTTON_TITLE - 1] + "…"


def plan_ids(ctx: HandlerContext) -> list[int]:
    """The sender's plans, in the default order (running first, newest first)."""
    return list(dict.fromkeys(m.instance_id for m in ctx.every_membership))


async def current_plan(ctx: HandlerContext) -> int | None:
    """The plan the sender's private commands act on (None: on no plan)."""
    ids = plan_ids(ctx)
    if len(ids) < 2:
        return ids[0] if ids else None
    chosen = await instances.current_plan(ctx.app.db, ctx.event.platform, ctx.event.user_id)
    return chosen if chosen in ids else ids[0]


async def narrow_to_current_plan(ctx: HandlerContext) -> None:
    """Before a private command: keep only the current plan's memberships, and remember its
    title for the answer's first line when the sender is on several plans."""
    current = await current_plan(ctx)
    if current is None or len(plan_ids(ctx)) < 2:
        return
    ctx.memberships = [m for m in ctx.every_membership if m.instance_id == current]
    ctx.current_plan_title = (await ctx.app.plans.get(current)).title


async def list_plans(ctx: HandlerContext) -> None:
    """/plans: the sender's plans (the current one marked, the others with a switch button)
    and the plans offered to them with Accept / Decline."""
    app, event = ctx.app, ctx.event
    offers = await instances.offers_for_user(app.db, event.platform, event.user_id)
    ids = plan_ids(ctx)
    if not ids and not offers:
        ctx.greet_stranger()
        return
    current = await current_plan(ctx)
    lines: list[str] = []
    buttons: list[tuple[Button, ...]] = []
    if ids:
        lines.append(_("Your plans (your private commands act on the current one):"))
    for instance_id in ids:
        title = (await app.plans.get(instance_id)).title
        if instance_id == current:
            lines.append(_("▶ {title} (No. {id}) — current").format(title=title, id=instance_id))
        else:
            lines.append(f"• {title} (No. {instance_id})")
            buttons.append(
                (
                    Button(
                        _("Switch to “{title}”").format(title=_short(title)),
                        data=PlanChoice("use", instance_id).pack(),
                    ),
                )
            )
    if offers:
        if lines:
            lines.append("")
        lines.append(_("Offered to you, not accepted:"))
        for member in offers:
            record = await instances.get_instance(app.db, member.instance_id)
            if record is None:
                continue
            lines.append(
                "• "
                + _("No. {id} “{title}”, naming you as {name}").format(
                    id=record.id, title=record.title, name=member.name
                )
            )
            buttons.append(
                (
                    Button(
                        _("Accept No. {id}").format(id=record.id),
                        data=PlanChoice("yes", record.id).pack(),
                    ),
                    Button(
                        _("Decline No. {id}").format(id=record.id),
                        data=PlanChoice("no", record.id).pack(),
                    ),
                )
            )
        lines.append(
            _(
                "Someone sent me these plans naming your account. Accept only a plan you expect: it may then send you its tasks and reminders."
            )
        )
    ctx.reply("\n".join(lines), tuple(buttons))


async def on_button(ctx: HandlerContext, pressed: PlanChoice) -> None:
    """Switch to a plan, or accept or decline one offered."""
    if pressed.action == "use":
        await _switch(ctx, pressed.instance)
    else:
        await _answer_offer(ctx, pressed.instance, accept=pressed.action == "yes")


async def _switch(ctx: HandlerContext, instance_id: int) -> None:
    app, event = ctx.app, ctx.event
    if instance_id not in plan_ids(ctx):
        ctx.reply(_("This button is no longer valid."))
        return
    async with app.db.transaction() as conn:
        await instances.set_current_plan(
            conn, event.platform, event.user_id, instance_id, app.clock.now()
        )
    title = (await app.plans.get(instance_id)).title
    ctx.reply(_("Your private commands now act on “{title}”.").format(title=title))


async def _answer_offer(ctx: HandlerContext, instance_id: int, *, accept: bool) -> None:
    app, event = ctx.app, ctx.event
    offered = [
        m
        for m in await instances.offers_for_user(app.db, event.platform, event.user_id)
        if m.instance_id == instance_id
    ]
    if not offered:
        ctx.reply(_("This button is no longer valid."))
        return
    now = app.clock.now()
    async with app.db.transaction() as conn:
        for member in offered:
            await instances.withdraw_offer(conn, member.id, event.platform, event.user_id)
        if accept:
            for member in offered:
                await instances.set_identity(
                    conn, member.id, event.platform, event.user_id, reachable=True
                )
            await instances.set_current_plan(conn, event.platform, event.user_id, instance_id, now)
    if not accept:
        ctx.update_pressed(_("✗ Declined."))
        ctx.reply(_("Declined: nothing of that plan will reach you."))
        return
    title = (await app.plans.get(instance_id)).title
    ctx.update_pressed(_("✓ Accepted."))
    ctx.reply(
        _(
            "You are now on “{title}” as {name}; your private commands act on it (/plans switches)."
        ).format(title=title, name=offered[0].name)
    )
    async with app.db.transaction() as conn:  # its tasks already given follow the answer
        await ctx.flush(conn)
        for member in offered:
            await phases.push_open_assignments(conn, app, member)
    app.wake_senders()


router = Router()
router.command(
    "plans",
    N_("your plans: choose the one your commands act on; accept or decline plans offered to you"),
    PRIVATE,
    ANYONE,
    list_plans,
    keywords=("切换方案", "我的方案"),
)
router.button(PlanChoice, on_button, strangers=True)  # a plan offered to someone on no plan yet
