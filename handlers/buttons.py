"""Button presses: the data carries what was pressed ("submit:12", "review:ok:7", ...)."""

from __future__ import annotations

import re

from bot.core.i18n import _
from handlers import ledger, ledger_add, opinions, organizer, plans, review, talks, tasks, voting
from handlers.context import HandlerContext

# Loading a plan; writing an opinion by invitation; answering a plan offered by account.
STRANGERS_MAY = ("planload", "op", "plans")
# Ids are SQLite integers (at most 19 digits); a longer number is forged data, not an id.
TOO_LONG_NUMBER = re.compile(r"\d{19,}")
MAX_DATA = 256


def _numbers(text: str, count: int) -> list[int] | None:
    parts = text.split(":")
    if len(parts) != count or not all(part.isdigit() for part in parts):
        return None
    return [int(part) for part in parts]


async def handle(ctx: HandlerContext) -> None:
    data = (ctx.event.button or "").strip()
    if len(data) > MAX_DATA or TOO_LONG_NUMBER.search(data):
        ctx.reply(_("This button is no longer valid."))
        return
    head, _sep, rest = data.partition(":")
    if not ctx.is_known and head not in STRANGERS_MAY:
        ctx.refuse_stranger()
        return
    if head == "mytasks" and not rest:
        await tasks.my_tasks(ctx)
    elif head == "submit" and rest.isdigit():
        await tasks.choose_task(ctx, int(rest))
    elif head == "draft" and rest in ("send", "cancel"):
        await (tasks.send_draft(ctx) if rest == "send" else tasks.cancel(ctx))
    elif head == "review":
        # "review:ok:7" on a review request; "review:ok:7:list" in /reviews, which lists several
        verdict, _sep, tail = rest.partition(":")
        submission, _sep, where = tail.partition(":")
        if verdict in ("ok", "ret") and submission.isdigit() and where in ("", review.IN_LIST):
            await review.decide(
                ctx, int(submission), approve=verdict == "ok", one_of_many=where == review.IN_LIST
            )
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
    elif head == "plans":
        action, _sep, value = rest.partition(":")
        await plans.on_button(ctx, action, value)
    elif head in ("op", "talk", "vote", "cast"):
        await _meeting(ctx, head, rest)
    else:
        ctx.reply(_("This button is no longer valid."))


async def _meeting(ctx: HandlerContext, head: str, rest: str) -> None:
    """The meeting's buttons: opinions, talks, ballots."""
    action, _sep, tail = rest.partition(":")
    vote = _numbers(rest, 3)
    to = _numbers(tail, 2)
    if head == "op" and rest == "new":
        await opinions.write(ctx)
    elif head == "op" and action == "to" and to is not None:
        await opinions.choose_addressee(ctx, to[0], to[1])
    elif head == "op" and rest in ("send:named", "send:anon"):
        await opinions.send(ctx, anonymous=rest == "send:anon")
    elif head == "op" and rest == "cancel":
        await tasks.cancel(ctx)
    elif head == "talk" and action == "rec" and tail.isdigit():
        await talks.recorded_with(ctx, int(tail))
    elif head == "talk" and action in ("ok", "no") and tail.isdigit():
        await talks.answer(ctx, int(tail), confirm=action == "ok")
    elif head == "vote" and vote is not None:
        await voting.choose(ctx, *vote)
    elif head == "cast" and rest.isdigit():
        await voting.cast(ctx, int(rest))
    else:
        ctx.reply(_("This button is no longer valid."))
