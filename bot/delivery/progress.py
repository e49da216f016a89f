"""Feedback while slow work runs: the platform's chat action ("typing", "uploading a
document") at once and every few seconds, and, when the work takes longer than
``Huiwu.progress_after`` (a second), one short message saying what is being made.

The chat action is not a message (it vanishes by itself), so it goes straight to the
platform (``PlatformInfo.chat_action``; WeCom has none); the note is a message and goes
through the outbox, ahead of the result. Neither may fail the work: errors are logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from bot.core.app import Huiwu
from bot.core.messaging import Event, OutgoingMessage
from bot.delivery import addressing as delivery

logger = logging.getLogger(__name__)

ACTION_REPEAT_SECONDS = 4.0  # Telegram shows an action for 5 s or until the next message

TYPING = "typing"
UPLOADING_DOCUMENT = "upload_document"
UPLOADING_PHOTO = "upload_photo"


async def show_action(app: Huiwu, platform: str, chat_id: str, action: str) -> None:
    info = app.platforms.get(platform)
    if info is None or info.chat_action is None:
        return
    try:
        await info.chat_action(chat_id, action)
    except Exception as exc:  # feedback only
        logger.info("%s: chat action %s in %s failed: %s", platform, action, chat_id, exc)


async def show_in_groups(app: Huiwu, instance_id: int, action: str) -> None:
    """The action in each group chat of a plan (a summary's chart is being drawn)."""
    from storage import instances

    for platform, chat_id in await instances.group_chats(app.db, instance_id):
        await show_action(app, platform, chat_id, action)


@contextlib.asynccontextmanager
async def working(app: Huiwu, event: Event, action: str, note: str) -> AsyncIterator[None]:
    """Around slow work answering ``event``: ``note`` (already in the reader's language) is
    sent if the work outlasts ``app.progress_after`` seconds."""

    async def keep_showing() -> None:
        while True:
            await show_action(app, event.platform, event.chat_id, action)
            await asyncio.sleep(ACTION_REPEAT_SECONDS)

    async def tell_later() -> None:
        await asyncio.sleep(app.progress_after)
        try:
            async with app.db.transaction() as conn:
                await delivery.to_chat(conn, app, event, OutgoingMessage(note))
            app.wake_senders()
        except Exception as exc:  # feedback only
            logger.info("the progress note for %s was not queued: %s", event.chat_id, exc)

    platform = app.platforms.get(event.platform)
    once = platform.answers_once if platform is not None else None
    helpers = [asyncio.create_task(keep_showing())]
    if once is None or not once(event.chat_id):
        helpers.append(asyncio.create_task(tell_later()))
    try:
        yield
    finally:
        for helper in helpers:
            helper.cancel()
        await asyncio.gather(*helpers, return_exceptions=True)
