"""Changes made on the board, made as chat events from the viewer: the same router, the same
authorisation table and handlers as in chat, and the answers are sent to the viewer's chat as
if the button had been pressed there."""

from __future__ import annotations

from typing import Literal

from bot.board.views import Viewer
from bot.core.app import Huiwu
from bot.core.messaging import ChatType, Event
from bot.tasks.buttons import IN_LIST, Review
from handlers import review
from handlers.router import dispatch
from storage import conversations

MAX_COMMENT = 2000


def _event(viewer: Viewer, **fields: object) -> Event:
    return Event(
        platform=viewer.platform,
        chat_id=viewer.user_id,  # the private chat: its id is the user's on both platforms
        chat_type=ChatType.PRIVATE,
        user_id=viewer.user_id,
        language=viewer.locale,
        **fields,  # type: ignore[arg-type]
    )


async def review_submission(
    app: Huiwu, viewer: Viewer, submission_id: int, *, approve: bool, comment: str = ""
) -> str:
    """Approve, or return with ``comment``; returns the answer the chat gave."""
    verdict: Literal["ok", "ret"] = "ok" if approve else "ret"
    pressed = _event(viewer, button=Review(verdict, submission_id, IN_LIST).pack())
    if approve:
        answers = await dispatch(app, pressed)
        return "\n".join(a.text for a in answers if a.updates is None)
    # In chat the press asks for the comment and the next message is it; the board's form
    # already holds it, so the question stays off the chat.
    answers = await dispatch(app, pressed, announce=False)
    stored = await conversations.load(app.db, viewer.platform, viewer.user_id)
    if (
        stored is None
        or stored[0] != review.COMMENTING
        or stored[1].get("submission") != submission_id
    ):
        return "\n".join(a.text for a in answers)
    answers = await dispatch(app, _event(viewer, text=comment))
    return "\n".join(a.text for a in answers if a.updates is None)
