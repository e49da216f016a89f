"""The one entry point for events: find who is speaking, check the command table, run the
handler, and write its answers to the outbox. Refusals and unexpected errors are answered
in the sender's language and change nothing. While the database cannot be written (disk
full, read-only) the sender is told the service is busy, and answers that cannot be stored
are sent at once without the outbox. The files the event stored or its drafts let go of are
deleted once its transactions are over if nothing refers to them (``storage.file_refs``).
"""

from __future__ import annotations

import dataclasses
import logging

from bot.core.app import Huiwu
from bot.core.i18n import _, normalise_locale, supported_locale, use_locale
from bot.core.messaging import Event, OutgoingMessage
from bot.delivery import addressing as delivery
from handlers import buttons, commands, conversation, menus, plans
from handlers.context import MAX_MESSAGE_TEXT, HandlerContext
from storage import file_refs, instances
from storage.outage import is_storage_error

logger = logging.getLogger(__name__)

MAX_TEXT = MAX_MESSAGE_TEXT  # what one stored text part may hold; longer input is refused, not cut


async def dispatch(app: Huiwu, event: Event, *, announce: bool = True) -> list[OutgoingMessage]:
    """Handle one event from any platform; returns the answers. ``announce=False`` keeps
    them out of the chat (the board asks for a step's prompt in its own form instead)."""
    unreadable: Exception | None = None
    try:
        ctx = await _context(app, event)
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        ctx, unreadable = HandlerContext(app, event, []), exc
    with use_locale(await _locale_of(ctx)):
        if unreadable is not None:
            ctx.replies.append(_busy(app, unreadable))
        else:
            with app.files.holding() as held:
                try:
                    await _route(ctx)
                except Exception as exc:
                    ctx.replies.clear()
                    if is_storage_error(exc):
                        ctx.replies.append(_busy(app, exc))
                    else:
                        logger.exception(
                            "handling %s event from %s failed", event.platform, event.user_id
                        )
                        ctx.reply(
                            _(
                                "Sorry, something went wrong on my side. Nothing you sent was lost; please try again."
                            )
                        )
            await _let_go(app, held.stored | held.dropped)
        if ctx.replies and ctx.current_plan_title is not None:
            _name_the_plan(ctx, ctx.current_plan_title)
        answers = ctx.outgoing()
        if answers and announce:
            await _answer(app, event, answers)
        if ctx.menus_changed:
            # The event's language is the sender's app language, nobody else's.
            own = [user for user in ctx.menus_changed if user == event.user_id]
            others = [user for user in ctx.menus_changed if user != event.user_id]
            menus.refresh_soon(app, event.platform, own, event.language)
            menus.refresh_soon(app, event.platform, others)
        for instance_id in ctx.group_menus_changed:
            menus.refresh_group_menus_soon(app, event.platform, instance_id)
        ctx.replies.clear()
    return answers


async def _let_go(app: Huiwu, candidates: set[str]) -> None:
    """Delete the files of a cancelled or replaced draft, or stored and then not kept, that
    nothing refers to; on failure the daily sweep does it (the answer is unaffected)."""
    if not candidates:
        return
    try:
        await file_refs.release(app.db, app.files, candidates)
    except Exception as exc:
        logger.warning("files let go of are left for the sweep: %s", exc)


def _busy(app: Huiwu, error: Exception) -> OutgoingMessage:
    app.storage_outage.failed(error)  # one line per kind of error, not one per message
    return OutgoingMessage(
        _(
            "The service is busy right now and could not take this in. Please send it again in a few minutes."
        )
    )


async def _answer(app: Huiwu, event: Event, messages: list[OutgoingMessage]) -> None:
    """Write the answers to the outbox; if the database refuses them, send them at once."""
    try:
        await delivery.replies_to_chat(app, event, messages)
    except Exception as exc:
        if not is_storage_error(exc):
            raise
        app.storage_outage.failed(exc)
        await delivery.replies_unrecorded(app, event, messages)
        return
    app.storage_outage.succeeded()
    app.wake_senders()


async def _context(app: Huiwu, event: Event) -> HandlerContext:
    memberships = await instances.members_for_user(app.db, event.platform, event.user_id)
    group_instance_id = None
    if not event.is_private:
        group_instance_id = await instances.instance_for_chat(app.db, event.platform, event.chat_id)
        if group_instance_id is not None:
            memberships = [m for m in memberships if m.instance_id == group_instance_id]
    return HandlerContext(app, event, memberships, group_instance_id)


async def _locale_of(ctx: HandlerContext) -> str:
    """The member's own choice, else the platform's language if supported, else the plan's
    (in a group, the group's plan), else the server's default."""
    chosen = next((m.locale for m in ctx.memberships if m.locale), None)
    if chosen:
        return normalise_locale(chosen, ctx.app.default_locale)
    if platform_language := supported_locale(ctx.event.language):
        return platform_language
    instance_id = ctx.group_instance_id
    if instance_id is None and ctx.memberships:
        instance_id = ctx.memberships[0].instance_id
    if instance_id is not None:
        return (await ctx.app.plans.get(instance_id)).locale
    return ctx.app.default_locale


def _name_the_plan(ctx: HandlerContext, title: str) -> None:
    """The answer to someone on several plans starts by naming the plan it is about."""
    for index, reply in enumerate(ctx.replies):
        if reply.updates is None and reply.text:
            heading = _("Plan: {title}").format(title=title) + " " + _("(/plans switches)")
            ctx.replies[index] = dataclasses.replace(reply, text=f"{heading}\n{reply.text}")
            return


def _command_of(event: Event) -> commands.CommandSpec | str | None:
    """The spec of the command in the event, None for no command, or the unknown name."""
    if event.command is not None:
        return commands.BY_NAME.get(event.command, event.command)
    word = event.text.strip()
    if word in commands.BY_KEYWORD:
        return commands.BY_KEYWORD[word]
    return None


def _keyword_with_args(event: Event) -> Event:
    """ "暂停提醒 唐军" means "/pause 唐军" for commands that take arguments."""
    if event.command is not None:
        return event
    words = event.text.split()
    spec = commands.BY_KEYWORD.get(words[0]) if len(words) > 1 else None
    if spec is None or not spec.takes_args:
        return event
    return dataclasses.replace(event, command=spec.name, args=tuple(words[1:]))


async def _route(ctx: HandlerContext) -> None:
    event = ctx.event = _keyword_with_args(ctx.event)
    if event.button is not None:
        await buttons.handle(ctx)
        return
    if event.joined_user_ids:
        await conversation.greet_joined(ctx)
        return
    spec = _command_of(event)
    if isinstance(spec, str):
        ctx.reply(
            _("Unknown command /{name}. Send /help for the commands you can use.").format(
                name=spec[:32]
            )
        )
        return
    if spec is None:
        await conversation.handle_message(ctx)
        return
    if not spec.allows_chat(event.chat_type):
        if event.is_private:
            ctx.reply(_("/{name} works in the plan's group chat, not here.").format(name=spec.name))
        else:
            ctx.reply(
                _("/{name} works in private chat with me, not in the group.").format(name=spec.name)
            )
        return
    if event.is_private and spec.name not in plans.EVERY_PLAN:
        await plans.narrow_to_current_plan(ctx)
    if not spec.allows_roles(ctx.roles()):
        if not ctx.is_known and spec.roles is not None:
            ctx.refuse_stranger()
        else:
            refusal = _(spec.refusal).format(name=spec.name)
            every_role = {role for m in ctx.every_membership for role in m.roles}
            if spec.roles is not None and {r.value for r in spec.roles} & every_role:
                refusal += "\n" + _("Another of your plans allows it: /plans switches.")
            ctx.reply(refusal)
        return
    if len(event.text) > MAX_TEXT:
        ctx.reply(
            _("That message is too long ({length} characters; at most {limit}).").format(
                length=len(event.text), limit=MAX_TEXT
            )
        )
        return
    await spec.handler(ctx)
