"""Button presses: the data carries what was pressed ("submit:12", "review:ok:7", ...)."""

from __future__ import annotations

from bot.i18n import _
from handlers import ledger, ledger_add, organizer, review, tasks
from handlers.context import HandlerContext


async def handle(ctx: HandlerContext) -> None:
    data = (ctx.event.button or "").strip()
    head, _sep, rest = data.partition(":")
    if not ctx.is_known and head not in ("planload",):
        ctx.refuse_stranger()
        return
    if head == "mytasks" and not rest:
        await tasks.my_tasks(ctx)
    elif head == "submit" and rest.isdigit():
        await tasks.choose_task(ctx, int(rest))
    elif head == "draft" and rest in ("send", "cancel"):
        await (tasks.send_draft(ctx) if rest == "send" else tasks.cancel(ctx))
    elif head == "review":
        verdict, _sep, submission = rest.partition(":")
        if verdict in ("ok", "ret") and submission.isdigit():
            await review.decide(ctx, int(submission), approve=verdict == "ok")
        else:
            ctx.reply(_("This button is no longer valid."))
    elif head == "item":
        action, _sep, value = rest.partition(":")
        await ledger.on_button(ctx, action, value)
    elif head == "add":
        action, _sep, value = rest.partition(":")
        await ledger_add.on_button(ctx, action, value)
    elif head == "planload" and rest in ("ok", "no"):
        await organizer.confirm_plan(ctx, load=rest == "ok")
    else:
        ctx.reply(_("This button is no longer valid."))
