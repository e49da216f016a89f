"""Button presses: the pressed data is read by the first kind of button (typed callback data,
declared by each feature's router) that accepts it, and that feature's handler runs."""

from __future__ import annotations

from bot.core.i18n import _
from handlers.commands import BUTTONS
from handlers.context import HandlerContext

# The first part of the data of buttons strangers may press (a plan upload, an opinion link).
STRANGERS_MAY = frozenset(
    route.data.prefix.partition(":")[0] for route in BUTTONS if route.strangers
)


async def handle(ctx: HandlerContext) -> None:
    data = (ctx.event.button or "").strip()
    for route in BUTTONS:
        pressed = route.data.unpack(data)
        if pressed is None:
            continue
        if not ctx.is_known and not route.strangers:
            ctx.refuse_stranger()
            return
        await route.handler(ctx, pressed)
        return
    if not ctx.is_known and data.partition(":")[0] not in STRANGERS_MAY:
        ctx.refuse_stranger()
        return
    ctx.reply(_("This button is no longer valid."))
