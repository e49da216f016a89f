"""Plain messages: what they mean depends on the conversation the sender is in."""

from __future__ import annotations

from bot.core.i18n import _
from handlers import organizer
from handlers.commands import STATES
from handlers.context import HandlerContext
from storage import conversations


async def handle_message(ctx: HandlerContext) -> None:
    event = ctx.event
    if not event.is_private:
        if event.files and ctx.is_known:
            # Files in the group are not stored: submissions belong in private chat.
            ctx.reply(
                _(
                    "{name}, files sent in the group are not stored. Please send your submission to me in private chat (/submit)."
                ).format(name=ctx.memberships[0].name)
            )
        return
    state = await conversations.load(ctx.app.db, event.platform, event.user_id)
    if state is not None:
        name, data = state
        continue_with = STATES.get(name)
        if continue_with is not None:
            await continue_with(ctx, data)
            return
    if organizer.wants_plan_loaded(ctx):
        await organizer.preview_plan(ctx)
        return
    if not ctx.is_known:
        ctx.greet_stranger()
        return
    if event.files or event.text.strip():
        ctx.reply(
            _(
                "To hand something in, send /submit first and choose the task. /help lists what I can do."
            )
        )


async def greet_joined(ctx: HandlerContext) -> None:
    if ctx.group_instance_id is None:
        return
    plan = await ctx.app.plans.get(ctx.group_instance_id)
    ctx.reply(
        _(
            "Welcome! This group runs the plan “{plan}”. Please open a private chat with me and send /start so that I can send you your tasks."
        ).format(plan=plan.title)
    )
