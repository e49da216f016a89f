"""The organizer's commands: invites, /advance, /remind, and loading a plan sent as a file
(a .toml plan, or a .txt / .docx work-plan document read by the importer)."""

from __future__ import annotations

import asyncio
from datetime import datetime, time

from bot.core.formatting import names_text
from bot.core.i18n import N_, _
from bot.core.messaging import Button, IncomingFile
from bot.core.policy import PlanLoaders
from bot.plan import Member, Plan, PlanError, Role, load_plan_text
from bot.plan.buttons import PlanLoad
from bot.plan.loading import store_plan
from bot.plan.model import DOCUMENT_SUFFIXES
from bot.tasks import phases
from bot.tasks.texts import timeline_text
from handlers.context import HandlerContext
from handlers.routing import BOTH, ORGANIZER, PRIVATE, Router
from storage import conversations, instances

CONFIRMING_PLAN = "plan:confirming"
MAX_PLAN_BYTES = 256 * 1024


def organizer_instance(ctx: HandlerContext) -> int | None:
    if ctx.group_instance_id is not None:
        return ctx.group_instance_id
    organizer_of = ctx.memberships_with(Role.ORGANIZER)
    return organizer_of[0].instance_id if organizer_of else None


def end_of_day(plan: Plan, text: str) -> datetime | None:
    """A date typed as YYYY-MM-DD, as 23:59 that day in the plan's zone (None if not a date)."""
    try:
        day = datetime.strptime(text, "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time(23, 59), plan.timezone)


async def invites(ctx: HandlerContext) -> None:
    app, event = ctx.app, ctx.event
    platform = app.platforms.get(event.platform)
    if platform is None or platform.invite_link is None:
        ctx.reply(
            _("On this platform members are recognised by their account; no invite is needed.")
        )
        return
    instance_id = organizer_instance(ctx)
    assert instance_id is not None
    lines = [_("Personal invite links — send each person their own link:")]
    async with app.db.transaction() as conn:
        identities = await instances.identities_of_instance(app.db, instance_id)
        for member in await instances.members_of(app.db, instance_id):
            bound = any(i.platform == event.platform for i in identities.get(member.id, []))
            if bound:
                reachable = any(
                    i.platform == event.platform and i.reachable
                    for i in identities.get(member.id, [])
                )
                state = _("bound") if reachable else _("bound, has not opened the bot yet")
                lines.append(_("• {name}: {state}").format(name=member.name, state=state))
                continue
            code = await instances.open_invite_for(
                app.db, member.id
            ) or await instances.create_invite(conn, member.id, app.clock.now())
            lines.append(f"• {member.name}: {platform.invite_link(code)}")
    ctx.reply("\n".join(lines))


async def advance(ctx: HandlerContext) -> None:
    instance_id = organizer_instance(ctx)
    assert instance_id is not None
    started = await phases.advance(ctx.app, instance_id)
    if started is None:
        ctx.reply(_("All phases of the plan have been run."))
    else:
        ctx.reply(
            _("The phase “{phase}” has started; /status shows who has been reached.").format(
                phase=started.title
            )
        )
    ctx.app.schedule_changed.set()


def is_plan_file(file: IncomingFile) -> bool:
    """A plan (.toml) or a work-plan document (.txt / .docx) the importer reads."""
    return (file.file_name or "").lower().endswith((".toml", *DOCUMENT_SUFFIXES))


def wants_plan_loaded(ctx: HandlerContext) -> bool:
    """Whether a file sent in private outside any conversation is a plan to load: a .toml
    always; a .txt / .docx document from an organizer, or from someone on no roster (their
    first plan). A plain member's document is a submission sent without /submit instead."""
    names = [(f.file_name or "").lower() for f in ctx.event.files]
    if any(name.endswith(".toml") for name in names):
        return True
    if not any(name.endswith(DOCUMENT_SUFFIXES) for name in names):
        return False
    return not ctx.is_known or bool(ctx.memberships_with(Role.ORGANIZER))


def may_load_plans(ctx: HandlerContext) -> bool:
    """Whether the sender may load plans in chat (``HUIWU_PLAN_LOADERS``)."""
    loaders = ctx.app.plan_loaders
    if loaders is PlanLoaders.ANYONE:
        return True
    if loaders is PlanLoaders.NOBODY:
        return False
    return any(Role.ORGANIZER.value in m.roles for m in ctx.every_membership)


def refuse_plan_loading(ctx: HandlerContext) -> None:
    if ctx.app.plan_loaders is PlanLoaders.NOBODY:
        ctx.reply(
            _(
                "Plans are not loaded in chat here: the operator loads them on the server (huiwu plan load)."
            )
        )
    else:
        ctx.reply(
            _(
                "You cannot load a plan here: plans are loaded by the organizer of a plan already running, or by the operator (huiwu plan load)."
            )
        )


async def preview_plan(ctx: HandlerContext) -> None:
    """A plan file sent in private: a .toml is checked as it is, a .txt / .docx document goes
    through the importer first; then the preview and a button to load it."""
    event = ctx.event
    if not may_load_plans(ctx):
        refuse_plan_loading(ctx)
        return
    file = next(f for f in event.files if is_plan_file(f))
    name = file.file_name or "plan.toml"
    if file.size is not None and file.size > MAX_PLAN_BYTES:
        ctx.reply(_("That file is too large for a plan ({size} bytes).").format(size=file.size))
        return
    content = await ctx.app.download(event.platform, file)
    if len(content) > MAX_PLAN_BYTES:
        ctx.reply(_("That file is too large for a plan ({size} bytes).").format(size=len(content)))
        return
    notes: list[str] = []
    if name.lower().endswith(".toml"):
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            ctx.reply(_("The plan file must be UTF-8 text."))
            return
    else:
        imported = await _import_document(ctx, content, name)
        if imported is None:
            return
        text, notes = imported
    try:
        plan = load_plan_text(text, source=name)
    except PlanError as exc:
        ctx.reply(
            "\n\n".join(
                [
                    *notes,
                    _("The plan cannot be loaded:")
                    + "\n"
                    + "\n".join(f"• {p}" for p in exc.problems),
                ]
            )
        )
        return
    if _organizer_entry(plan, event.platform, event.user_id) is None:
        ctx.reply(_("The plan names another organizer, so you cannot load it."))
        return
    await ctx.keep_conversation(CONFIRMING_PLAN, {"toml": text})
    preview = timeline_text(plan)
    if plan.warnings:
        preview += "\n\n" + _("Warnings:") + "\n" + "\n".join(f"• {w}" for w in plan.warnings)
    if notes:
        preview += "\n\n" + "\n\n".join(notes)
    ctx.reply(
        preview,
        (
            (
                Button(_("Load this plan"), data=PlanLoad("ok").pack()),
                Button(_("Cancel"), data=PlanLoad("no").pack()),
            ),
        ),
    )


async def _import_document(
    ctx: HandlerContext, content: bytes, name: str
) -> tuple[str, list[str]] | None:
    """The plan the importer reads from a document, and what to tell about it (what it
    could not read, with line and text; roster entries to complete); None if unreadable."""
    from bot.plan.document import document_text
    from bot.plan.importer import PlanImportError, import_plan_text  # heavy

    try:
        document = await asyncio.to_thread(document_text, content, name)
    except PlanImportError:
        ctx.reply(
            _(
                "I cannot read that document: send a .docx (Word) file or a text file in UTF-8 or GB18030."
            )
        )
        return None
    try:
        result = import_plan_text(document, source=name)
    except PlanImportError as exc:  # nothing in it reads as a plan
        ctx.reply(_("The plan cannot be loaded:") + "\n• " + str(exc))
        return None
    notes = []
    if result.warnings:
        notes.append(
            _("What the importer could not read or found inconsistent — please check:")
            + "\n"
            + "\n".join(
                "• "
                + _("line {line}: {problem} — “{text}”").format(
                    line=issue.line, problem=issue.message, text=issue.text
                )
                if issue.line
                else "• " + issue.message
                for issue in result.warnings
            )
        )
    if result.new_members:
        notes.append(
            _("Roster entries to complete after loading: {names}").format(
                names=names_text(list(result.new_members))
            )
        )
    return result.toml_text, notes


def _organizer_entry(plan: Plan, platform: str, user_id: str) -> Member | None:
    """The roster's organizer the uploader can be: one named with this account, or one with none."""
    organizers = plan.with_role(Role.ORGANIZER)
    named = [m for m in organizers if m.platform_ids.get(platform) == user_id]
    unnamed = [m for m in organizers if platform not in m.platform_ids]
    candidates = named or unnamed
    return candidates[0] if candidates else None


async def confirm_plan(ctx: HandlerContext, *, load: bool) -> None:
    app, event = ctx.app, ctx.event
    draft = await ctx.conversation_in(CONFIRMING_PLAN, _("This button is no longer valid."))
    if draft is None:
        return
    if not load:
        async with app.db.transaction() as conn:
            await conversations.clear(conn, event.platform, event.user_id)
        ctx.update_pressed(_("✗ Discarded."))
        ctx.reply(_("Cancelled. Nothing was stored."))
        return
    if not may_load_plans(ctx):  # the setting or the sender's roles changed since the preview
        async with app.db.transaction() as conn:
            await conversations.clear(conn, event.platform, event.user_id)
        refuse_plan_loading(ctx)
        return
    text = draft["toml"]
    plan = load_plan_text(text)
    # The sender binds their own account, and those of the people in the running plans they
    # organise; everyone else the plan names by account is asked first (an offer).
    trusted = await instances.accounts_organized_by(app.db, event.platform, event.user_id)
    trusted.add((event.platform, event.user_id))
    now = app.clock.now()
    async with app.db.transaction() as conn:
        instance_id = await store_plan(
            conn,
            plan,
            text,
            loaded_by=f"{event.platform}:{event.user_id}",
            now=now,
            binds=lambda platform, user_id: (platform, user_id) in trusted,
        )
        entry = _organizer_entry(plan, event.platform, event.user_id)
        assert entry is not None  # checked at preview; the stored text has not changed
        organizer = await instances.member_by_key(app.db, instance_id, entry.id)
        assert organizer is not None
        await instances.keep_current_plan(conn, event.platform, event.user_id, now)
        await instances.set_identity(
            conn, organizer.id, event.platform, event.user_id, reachable=True
        )
        await instances.set_current_plan(conn, event.platform, event.user_id, instance_id, now)
        await conversations.clear(conn, event.platform, event.user_id)
    identities = await instances.identities_of_instance(app.db, instance_id)
    bound = [
        i.user_id for found in identities.values() for i in found if i.platform == event.platform
    ]
    ctx.menus_changed.extend(bound)
    waiting = await instances.offered_members(app.db, instance_id)
    ctx.update_pressed(_("✓ Loaded."))
    loaded = _(
        "Plan “{plan}” loaded as number {id}. Add me to the plan's group and send /setup there; /invites gives the members' links."
    ).format(plan=plan.title, id=instance_id)
    if waiting:
        loaded += "\n\n" + _(
            "The people it names by their account are not bound until each accepts it: they send /plans to me and press Accept (or open their invite link). Until then nothing of this plan reaches them, and it cannot be bound to a group. Waiting for: {names}."
        ).format(names=names_text([m.name for m in waiting]))
    ctx.reply(loaded)


async def _on_plan_load(ctx: HandlerContext, pressed: PlanLoad) -> None:
    await confirm_plan(ctx, load=pressed.answer == "ok")


router = Router()
router.command(
    "invites",
    N_("personal invite links for the members (organizer)"),
    PRIVATE,
    ORGANIZER,
    invites,
    keywords=("邀请",),
)
router.command(
    "advance", N_("end the current phase and start the next (organizer)"), BOTH, ORGANIZER, advance
)
router.button(PlanLoad, _on_plan_load, strangers=True)
