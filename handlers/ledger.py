"""The rectification ledger in chat: /ledger (overview, marks and the completion chart),
/myitems, and a member updating an item: status buttons and evidence (texts and files).
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from bot.core.i18n import N_, _
from bot.core.messaging import Button, OutgoingFile, OutgoingMessage
from bot.delivery import addressing as delivery
from bot.delivery import progress
from bot.ledger.buttons import ItemAction, ItemFinish
from bot.ledger.rules import STATUS_LABELS, label, status_series, summarize
from bot.ledger.texts import item_buttons, item_detail, item_line, ledger_text
from bot.plan import Role
from handlers import uploads
from handlers.context import HandlerContext
from handlers.routing import BOTH, KNOWN, PRIVATE, Router
from storage import conversations, instances, ledger
from storage.records import LedgerItemRecord, MemberRecord

EVIDENCE = "ledger:evidence"
MANAGERS = {Role.ORGANIZER.value, Role.LEAD.value}


async def _owners(ctx: HandlerContext, instance_id: int) -> dict[int, str]:
    return {m.id: m.name for m in await instances.members_of(ctx.app.db, instance_id)}


async def show_ledger(ctx: HandlerContext) -> None:
    """The group's (or, in private, the sender's plan's) ledger with its completion chart."""
    if ctx.group_instance_id is not None:
        instance_id = ctx.group_instance_id
    elif ctx.event.is_private and ctx.memberships:
        instance_id = ctx.memberships[0].instance_id
    else:
        ctx.reply(_("This group is not bound to a plan yet. The organizer sends /setup here."))
        return
    app = ctx.app
    plan = await app.plans.get(instance_id)
    now = app.clock.now()
    items = await ledger.items_of_instance(app.db, instance_id)
    owners = await _owners(ctx, instance_id)
    summary = summarize(items, now)
    lines = [item_line(item, owners.get(item.member_id or 0), now, plan.timezone) for item in items]
    text = ledger_text(plan.title, summary, lines)
    if not items:
        ctx.reply(text)
        return
    from bot.reports.plan_charts import ledger_chart  # matplotlib: loaded when first drawn

    states = status_series(await ledger.history(app.db, instance_id), items, now, plan.timezone)
    note = _("Drawing the chart…")
    async with progress.working(app, ctx.event, progress.UPLOADING_PHOTO, note):
        png = await asyncio.to_thread(
            ledger_chart, _("Rectification ledger over time"), states, plan.timezone
        )
    ctx.reply_message(
        OutgoingMessage(text, file=OutgoingFile("ledger.png", png, "image/png", is_photo=True))
    )


async def my_items(ctx: HandlerContext) -> None:
    app = ctx.app
    now = app.clock.now()
    mine = await ledger.items_of_members(app.db, [m.id for m in ctx.memberships])
    if not mine:
        ctx.reply(_("No rectification item is assigned to you."))
        return
    names = {m.id: m.name for m in ctx.memberships}
    lines = [_("Your rectification items:")]
    buttons = []
    for item in mine:
        plan = await app.plans.get(item.instance_id)
        lines.append(item_line(item, names.get(item.member_id or 0), now, plan.timezone))
        if item.status != "done":
            buttons.append(
                (
                    Button(
                        _("Update #{id}").format(id=item.id),
                        data=ItemAction("show", item.id).pack(),
                    ),
                )
            )
    ctx.reply("\n".join(lines), tuple(buttons))


async def _updatable(
    ctx: HandlerContext, item_id: int
) -> tuple[LedgerItemRecord, MemberRecord] | None:
    """The item and the sender's membership in its plan, if the sender may update it: the
    responsible member, the organizer or the lead."""
    item = await ledger.get_item(ctx.app.db, item_id)
    membership = None
    if item is not None:
        membership = next(
            (
                m
                for m in ctx.memberships
                if m.instance_id == item.instance_id
                and (m.id == item.member_id or m.roles & MANAGERS)
            ),
            None,
        )
    if item is None or membership is None:
        ctx.reply(_("This button is no longer valid."))
        return None
    return item, membership


async def on_item(ctx: HandlerContext, pressed: ItemAction) -> None:
    """An item's button: show it, mark it in progress or done, or add evidence."""
    found = await _updatable(ctx, pressed.item_id)
    if found is None:
        return
    item, membership = found
    if pressed.action == "show":
        await _show_item(ctx, item)
    elif pressed.action == "evidence":
        await _start_evidence(ctx, item)
    else:
        status = "in_progress" if pressed.action == "progress" else "done"
        await _set_status(ctx, item, membership, status)


async def _on_finish(ctx: HandlerContext, _pressed: ItemFinish) -> None:
    await finish_evidence(ctx)


async def _show_item(ctx: HandlerContext, item: LedgerItemRecord) -> None:
    plan = await ctx.app.plans.get(item.instance_id)
    owners = await _owners(ctx, item.instance_id)
    evidence = len(await ledger.evidence_of(ctx.app.db, item.id))
    ctx.reply(
        item_detail(
            item, owners.get(item.member_id or 0), evidence, ctx.app.clock.now(), plan.timezone
        ),
        item_buttons(item),
    )


async def _set_status(
    ctx: HandlerContext, item: LedgerItemRecord, by: MemberRecord, status: str
) -> None:
    app = ctx.app
    now = app.clock.now()
    async with app.db.transaction() as conn:
        changed = await ledger.set_status(conn, item.id, status, by.id, now)
        if changed and status == "done":
            for member in await instances.members_of(app.db, item.instance_id):
                if Role.ORGANIZER.value not in member.roles or member.id == by.id:
                    continue
                await delivery.to_member(
                    conn,
                    app,
                    member,
                    lambda: OutgoingMessage(
                        _("{name} marked rectification item #{id} done: {description}").format(
                            name=by.name, id=item.id, description=item.description
                        )
                    ),
                    dedupe_key=f"item-done:{item.id}:{member.id}:{now.isoformat()}",
                )
    state = label(STATUS_LABELS, status)
    if not changed:
        ctx.reply(_("Item #{id} is already “{state}”.").format(id=item.id, state=state))
        return
    updated = dataclasses.replace(item, status=status)
    ctx.reply(
        _("Item #{id} is now “{state}”.").format(id=item.id, state=state), item_buttons(updated)
    )


async def _start_evidence(ctx: HandlerContext, item: LedgerItemRecord) -> None:
    await ctx.keep_conversation(EVIDENCE, {"item": item.id})
    ctx.reply(
        _(
            "Send the evidence for item #{id} now: texts, photos or files. Each one is stored as it arrives; press Finish when you are done."
        ).format(id=item.id),
        _finish_buttons(),
    )


def _finish_buttons() -> tuple[tuple[Button, ...], ...]:
    return ((Button(_("Finish"), data=ItemFinish().pack()),),)


async def collect_evidence(ctx: HandlerContext, data: dict[str, Any]) -> None:
    """Store each text or file the member sends as evidence of the item, right away."""
    event = ctx.event
    found = await _updatable(ctx, int(data["item"]))
    if found is None:
        await finish_evidence(ctx)
        return
    item, membership = found
    text = event.text.strip()
    if not text and not event.files:
        ctx.reply(_("I can only take text and files here."), _finish_buttons())
        return
    kept = [await uploads.keep_file(ctx, file, uploads.Room()) for file in event.files]
    refusals = [outcome for outcome in kept if isinstance(outcome, str)]
    files = [outcome for outcome in kept if not isinstance(outcome, str)]
    now = ctx.app.clock.now()
    async with ctx.app.db.transaction() as conn:
        if text:
            await ledger.add_evidence(conn, item.id, membership.id, now, text=text)
        for file in files:
            await ledger.add_evidence(conn, item.id, membership.id, now, file=file)
    count = len(await ledger.evidence_of(ctx.app.db, item.id))
    stored = _("Stored as evidence of item #{id} ({count} so far). Send more, or press Finish.")
    ctx.reply("\n".join([*refusals, stored.format(id=item.id, count=count)]), _finish_buttons())


async def finish_evidence(ctx: HandlerContext) -> None:
    event = ctx.event
    state = await conversations.load(ctx.app.db, event.platform, event.user_id)
    async with ctx.app.db.transaction() as conn:
        await conversations.clear(conn, event.platform, event.user_id)
    if state is None or state[0] != EVIDENCE:
        ctx.reply(_("Done."))
        return
    ctx.reply(_("Thank you: the evidence of item #{id} is stored.").format(id=state[1]["item"]))


router = Router()
router.command(
    "ledger",
    N_("the rectification ledger: items, marks and the completion rate"),
    BOTH,
    KNOWN,
    show_ledger,
    keywords=("整改台账", "台账"),
)
router.command(
    "myitems",
    N_("your rectification items: report progress and evidence"),
    PRIVATE,
    KNOWN,
    my_items,
    keywords=("我的整改",),
)
router.button(ItemAction, on_item)
router.button(ItemFinish, _on_finish)
router.state(EVIDENCE, collect_evidence)
