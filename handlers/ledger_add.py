"""Adding a rectification item (organizer or lead, in private): a guided conversation
(description → source → how → who → department → deadline → save), or in one line:
``/additem 描述 | 限期整改 | 唐军 | 办公室 | 2014-03-31``.
"""

from __future__ import annotations

import re
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.i18n import N_, _, ngettext
from bot.core.messaging import Button, OutgoingMessage
from bot.ledger.buttons import AddStep
from bot.ledger.items import create_item, import_measures
from bot.ledger.rules import CATEGORY_LABELS, SOURCE_LABELS, label, parse_due
from bot.ledger.texts import item_buttons, item_line
from bot.plan import Role
from handlers.context import HandlerContext
from handlers.routing import MANAGERS as MANAGER_ROLES
from handlers.routing import PRIVATE, Router
from storage import conversations, instances
from storage.ledger import NewItem
from storage.records import LedgerItemRecord, MemberRecord
from storage.timefmt import from_db, to_db

ADDING = "ledger:adding"
MANAGERS = {Role.ORGANIZER.value, Role.LEAD.value}
RESPONSIBLE_ROLES = {Role.MEMBER.value, Role.LEAD.value, Role.ORGANIZER.value}
MAX_DESCRIPTION = 1000
_SEPARATORS = re.compile(r"\s*[|｜]\s*")
# Words a person may type for each way of dealing with a problem (one-line syntax).
CATEGORY_WORDS = {
    "immediate": ("immediate", "马上", "立即", "立行立改", "马上改", "立即整改"),
    "deadline": ("deadline", "限期", "限期整改", "限期改"),
    "explain": ("explain", "说明", "逐步", "逐步解决", "说明情况"),
    "escalate": ("escalate", "上级", "上报", "协调", "报上级"),
}
SOURCE_WORDS = {
    "opinion": ("opinion", "意见", "征求意见"),
    "meeting": ("meeting", "会上", "会议", "民主生活会"),
    "self-review": ("self-review", "自查", "自我剖析", "剖析"),
}


def _manager_membership(ctx: HandlerContext) -> MemberRecord | None:
    return next((m for m in ctx.memberships if m.roles & MANAGERS), None)


def _word(words: dict[str, tuple[str, ...]], text: str) -> str | None:
    text = text.strip().lower()
    for key, options in words.items():
        if any(text == option or (len(option) > 1 and option in text) for option in options):
            return key
    return None


async def add_item(ctx: HandlerContext) -> None:
    manager = _manager_membership(ctx)
    if manager is None:
        ctx.reply(_("Only the organizer or the lead can add rectification items."))
        return
    line = " ".join(ctx.event.args).strip()
    if line:
        await _add_one_line(ctx, manager, line)
        return
    await _save_draft(
        ctx, {"instance": manager.instance_id, "by": manager.id, "step": "description"}
    )
    ctx.reply(
        _(
            "New rectification item. Describe the problem and the measure in one message (/cancel stops).\nTip: in one line, /additem description | how | who | department | deadline"
        )
    )


async def _save_draft(ctx: HandlerContext, draft: dict[str, Any]) -> None:
    await ctx.keep_conversation(ADDING, draft)


async def _add_one_line(ctx: HandlerContext, manager: MemberRecord, line: str) -> None:
    parts = _SEPARATORS.split(line)
    usage = _(
        "Write: /additem description | how (马上 / 限期 / 说明 / 上级) | who | department | deadline — department and deadline may be left empty."
    )
    if len(parts) < 3 or not parts[0]:
        ctx.reply(usage)
        return
    description, category_text, who = parts[0], parts[1], parts[2]
    department = parts[3] if len(parts) > 3 and parts[3] else None
    due_text = parts[4] if len(parts) > 4 and parts[4] else None
    source = _word(SOURCE_WORDS, parts[5]) if len(parts) > 5 else "meeting"
    category = _word(CATEGORY_WORDS, category_text)
    plan = await ctx.app.plans.get(manager.instance_id)
    members = await instances.members_of(ctx.app.db, manager.instance_id)
    owner = next((m for m in members if who.strip() in (m.name, m.member_key)), None)
    problems = []
    if category is None:
        problems.append(_("I do not know the way “{text}”.").format(text=category_text))
    if owner is None:
        problems.append(_("“{name}” is not on the plan's roster.").format(name=who))
    if source is None:
        problems.append(_("I do not know the source “{text}”.").format(text=parts[5]))
    due = None
    if due_text:
        today = ctx.app.clock.now().astimezone(plan.timezone).date()
        due = parse_due(due_text, today, plan.timezone)
        if due is None:
            problems.append(_("I cannot read the deadline “{text}”.").format(text=due_text))
    if len(description) > MAX_DESCRIPTION:
        problems.append(_("The description is too long."))
    if problems or category is None or owner is None or source is None:
        ctx.reply("\n".join([*problems, usage]))
        return
    await _store(
        ctx,
        manager,
        NewItem(description, source, category, owner.id, department, due),
    )


async def on_step(ctx: HandlerContext, pressed: AddStep) -> None:
    """A choice while adding an item: its source, category, member, skip, save or cancel."""
    action, value = pressed.action, pressed.value
    event = ctx.event
    draft = await ctx.conversation_in(ADDING, _("This button is no longer valid."))
    if draft is None:
        return
    step = draft["step"]
    # Each step's message is one choice: once made, it shows the choice instead of buttons.
    if action == "cancel":
        async with ctx.app.db.transaction() as conn:
            await conversations.clear(conn, event.platform, event.user_id)
        ctx.update_pressed(_("✗ Cancelled."))
        ctx.reply(_("Cancelled. Nothing was stored."))
    elif action == "source" and step == "source" and value in SOURCE_LABELS:
        draft.update(source=value, step="category")
        ctx.update_pressed("✓ " + label(SOURCE_LABELS, value))
        await _ask(ctx, draft)
    elif action == "category" and step == "category" and value in CATEGORY_LABELS:
        draft.update(category=value, step="member")
        ctx.update_pressed("✓ " + label(CATEGORY_LABELS, value))
        await _ask(ctx, draft)
    elif action == "member" and step == "member" and value.isdigit():
        member = await instances.get_member(ctx.app.db, int(value))
        if member is None or member.instance_id != draft["instance"]:
            ctx.reply(_("This button is no longer valid."))
            return
        draft.update(member=member.id, step="department")
        ctx.update_pressed("✓ " + member.name)
        await _ask(ctx, draft)
    elif action == "skip" and step in ("department", "due"):
        draft["step"] = "due" if step == "department" else "confirm"
        ctx.update_pressed("✓ " + (_("Skip") if step == "department" else _("No deadline")))
        await _ask(ctx, draft)
    elif action == "save" and step == "confirm":
        await _save_from_draft(ctx, draft)
    else:
        ctx.reply(_("This button is no longer valid."))


async def collect(ctx: HandlerContext, draft: dict[str, Any]) -> None:
    """A typed answer in the guided conversation: description, department or deadline."""
    text = ctx.event.text.strip()
    step = draft["step"]
    if not text or step not in ("description", "department", "due"):
        await _ask(ctx, draft, again=True)
        return
    if step == "description":
        if len(text) > MAX_DESCRIPTION:
            ctx.reply(_("The description is too long."))
            return
        draft.update(description=text, step="source")
    elif step == "department":
        draft.update(department=text[:100], step="due")
    else:
        plan = await ctx.app.plans.get(draft["instance"])
        today = ctx.app.clock.now().astimezone(plan.timezone).date()
        due = parse_due(text, today, plan.timezone)
        if due is None:
            ctx.reply(
                _("I cannot read the deadline “{text}”. Write e.g. 2014-03-31 or 3月31日.").format(
                    text=text
                ),
                _skip_buttons(_("No deadline")),
            )
            return
        draft.update(due=to_db(due), step="confirm")
    await _ask(ctx, draft)


def _choice_buttons(choices: list[tuple[str, AddStep]]) -> tuple[tuple[Button, ...], ...]:
    """One button per line, then Cancel."""
    rows = [(Button(text, data=step.pack()),) for text, step in choices]
    return (*rows, (Button(_("Cancel"), data=AddStep("cancel").pack()),))


def _skip_buttons(text: str) -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button(text, data=AddStep("skip").pack()),
            Button(_("Cancel"), data=AddStep("cancel").pack()),
        ),
    )


async def _ask(ctx: HandlerContext, draft: dict[str, Any], *, again: bool = False) -> None:
    """Store the draft and ask for what its step needs."""
    await _save_draft(ctx, draft)
    step = draft["step"]
    if step == "description":
        ctx.reply(_("Please describe the problem and the measure as a text message."))
    elif step == "source":
        choices = [(_(text), AddStep("source", key)) for key, text in SOURCE_LABELS.items()]
        ctx.reply(_("Where does the problem come from?"), _choice_buttons(choices))
    elif step == "category":
        choices = [(_(text), AddStep("category", key)) for key, text in CATEGORY_LABELS.items()]
        ctx.reply(_("How is it to be dealt with?"), _choice_buttons(choices))
    elif step == "member":
        members = await instances.members_of(ctx.app.db, draft["instance"])
        choices = [
            (m.name, AddStep("member", str(m.id))) for m in members if m.roles & RESPONSIBLE_ROLES
        ]
        ctx.reply(_("Who is responsible?"), _choice_buttons(choices))
    elif step == "department":
        ctx.reply(_("Which department is responsible? Type its name."), _skip_buttons(_("Skip")))
    elif step == "due":
        ctx.reply(
            _("By when? Type a date such as 2014-03-31 or 3月31日."),
            _skip_buttons(_("No deadline")),
        )
    elif step == "confirm":
        plan = await ctx.app.plans.get(draft["instance"])
        item = _draft_item(draft)
        owner = await instances.get_member(ctx.app.db, draft["member"])
        preview = await _preview(ctx, item, owner.name if owner else None, plan.timezone)
        ctx.reply(
            _("Save this item?\n{item}").format(item=preview),
            (
                (
                    Button(_("Save"), data=AddStep("save").pack()),
                    Button(_("Cancel"), data=AddStep("cancel").pack()),
                ),
            ),
        )
    if again and step in ("source", "category", "member"):
        ctx.replies.insert(-1, OutgoingMessage(_("Please choose with a button.")))


def _draft_item(draft: dict[str, Any]) -> NewItem:
    return NewItem(
        draft["description"],
        draft["source"],
        draft["category"],
        draft["member"],
        draft.get("department"),
        from_db(draft["due"]) if draft.get("due") else None,
    )


async def _preview(ctx: HandlerContext, item: NewItem, owner: str | None, zone: ZoneInfo) -> str:
    now = ctx.app.clock.now()
    record = LedgerItemRecord(
        0,
        0,
        item.description,
        item.source,
        item.category,
        item.member_id,
        item.department,
        item.due_at,
        "todo",
        now,
        now,
    )
    return "\n".join(
        [
            item_line(record, owner, now, zone).replace("#0 ", ""),
            _("Source: {source}").format(source=label(SOURCE_LABELS, item.source)),
            _("How: {category}").format(category=label(CATEGORY_LABELS, item.category)),
        ]
    )


async def _save_from_draft(ctx: HandlerContext, draft: dict[str, Any]) -> None:
    manager = next((m for m in ctx.memberships if m.id == draft["by"]), None)
    if manager is None:
        ctx.reply(_("This button is no longer valid."))
        return
    await _store(ctx, manager, _draft_item(draft))


async def _store(ctx: HandlerContext, manager: MemberRecord, item: NewItem) -> None:
    """Save the item (its responsible member is told) and confirm."""
    app, event = ctx.app, ctx.event
    plan = await app.plans.get(manager.instance_id)
    async with app.db.transaction() as conn:
        record = await create_item(conn, app, manager.instance_id, item, manager)
        assert record is not None  # typed items have no source_ref
        await conversations.clear(conn, event.platform, event.user_id)
    owners = {m.id: m.name for m in await instances.members_of(app.db, manager.instance_id)}
    ctx.update_pressed(_("✓ Saved."))
    ctx.reply(
        _("Saved as item #{id}.").format(id=record.id)
        + "\n"
        + item_line(record, owners.get(item.member_id or 0), app.clock.now(), plan.timezone),
        item_buttons(record),
    )


async def import_items(ctx: HandlerContext) -> None:
    """/importitems: the measures of approved rectification submissions become items."""
    manager = _manager_membership(ctx)
    if manager is None:
        ctx.reply(_("Only the organizer or the lead can add rectification items."))
        return
    created = await import_measures(ctx.app, manager.instance_id, manager)
    if not created:
        ctx.reply(
            _(
                "No new measures to import: they come from approved personal and team rectification measures."
            )
        )
        return
    plan = await ctx.app.plans.get(manager.instance_id)
    owners = {m.id: m.name for m in await instances.members_of(ctx.app.db, manager.instance_id)}
    now = ctx.app.clock.now()
    lines = [
        ngettext(
            "Imported {count} item from the approved rectification measures:",
            "Imported {count} items from the approved rectification measures:",
            len(created),
        ).format(count=len(created))
    ]
    lines += [item_line(r, owners.get(r.member_id or 0), now, plan.timezone) for r in created]
    ctx.reply("\n".join(lines))


router = Router()
router.command(
    "additem",
    N_("add a rectification item (organizer, lead)"),
    PRIVATE,
    MANAGER_ROLES,
    add_item,
    keywords=("新增整改", "录入整改"),
    refusal=N_("Only the plan's organizer or its lead can use /{name}."),
    takes_args=True,
)
router.command(
    "importitems",
    N_("turn the approved rectification measures into ledger items (organizer, lead)"),
    PRIVATE,
    MANAGER_ROLES,
    import_items,
    keywords=("导入整改",),
)
router.button(AddStep, on_step)
router.state(ADDING, collect)
