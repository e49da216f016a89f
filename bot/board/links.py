"""The board's addresses: where each platform opens it, and one-time links for a desktop
browser (``/board``, ``huiwu board-link``). No aiohttp here: handlers and the CLI use it."""

from __future__ import annotations

from datetime import datetime

from bot.board.auth import LINK_TTL, new_link_token
from bot.core.app import Huiwu
from storage import board as board_store
from storage.db import Database

TELEGRAM_ENTRY = "/tg"
WECOM_ENTRY = "/wecom"


def entry_url(base_url: str, platform: str) -> str:
    """Where the platform's own button opens the board (it signs the viewer in)."""
    return base_url + (TELEGRAM_ENTRY if platform == "telegram" else WECOM_ENTRY)


async def one_time_link(
    db: Database, base_url: str, platform: str, user_id: str, instance_id: int, now: datetime
) -> str:
    """A signed link that opens the board once, within ``LINK_TTL``, as this person."""
    key = await board_store.signing_key(db)
    nonce, token = new_link_token(key)
    await board_store.add_link(db, nonce, platform, user_id, instance_id, now + LINK_TTL)
    return f"{base_url}/link/{token}"


async def link_for(app: Huiwu, platform: str, user_id: str, instance_id: int) -> str | None:
    """A fresh one-time link, or None when the board is not set up."""
    if not app.board_url:
        return None
    return await one_time_link(
        app.db, app.board_url, platform, user_id, instance_id, app.clock.now()
    )
