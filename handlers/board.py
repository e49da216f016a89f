"""/board: the plan board's button (inside the chat app) and a one-time link for a desktop
browser; and the board button that /status carries in private chat."""

from __future__ import annotations

from bot.board.auth import LINK_TTL
from bot.board.links import entry_url, link_for
from bot.core.i18n import N_, _
from bot.core.messaging import Button
from handlers.context import HandlerContext
from handlers.routing import KNOWN, PRIVATE, Router


def board_button(ctx: HandlerContext) -> Button | None:
    """Opens the board signed in (Telegram: as a Mini App; WeCom: through its web login)."""
    base = ctx.app.board_url
    if not base or not ctx.event.is_private:  # Telegram refuses Mini App buttons in groups
        return None
    return Button(_("Open the plan board"), url=entry_url(base, ctx.event.platform), web_app=True)


async def open_board(ctx: HandlerContext) -> None:
    button = board_button(ctx)
    if button is None:
        ctx.reply(_("The plan board is not set up on this bot."))
        return
    event = ctx.event
    link = await link_for(ctx.app, event.platform, event.user_id, ctx.memberships[0].instance_id)
    ctx.reply(
        _(
            "The plan board shows the whole plan on one page. Open it with the button, or on a computer with this link: it works once, within {minutes} minutes, and signs in as you, so do not forward it.\n{link}"
        ).format(minutes=int(LINK_TTL.total_seconds() // 60), link=link),
        ((button,),),
    )


router = Router()
router.command(
    "board",
    N_("the plan board: the whole plan on one page, in the app or a browser"),
    PRIVATE,
    KNOWN,
    open_board,
    keywords=("看板",),
)
