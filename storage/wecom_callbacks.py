"""The journal of WeCom callbacks (``wecom_callbacks``): recorded before they are answered,
marked when handled. It recognises WeCom's retries across restarts and gives back, at start-up,
what was answered but never handled."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from storage.db import Database
from storage.timefmt import to_db

KEEP_HANDLED = timedelta(days=2)  # WeCom retries within seconds; this is ample


async def record(db: Database, key: str, fields: dict[str, str], now: datetime) -> bool:
    """Keep a callback; False if one with this key was kept before (a retry)."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "INSERT OR IGNORE INTO wecom_callbacks (dedupe_key, fields, received_at) "
            "VALUES (?, ?, ?)",
            (key, json.dumps(fields, ensure_ascii=False), to_db(now)),
        )
    return cursor.rowcount == 1


async def mark_handled(db: Database, key: str, now: datetime) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE wecom_callbacks SET handled_at = ? WHERE dedupe_key = ?", (to_db(now), key)
        )


async def unhandled(db: Database) -> list[tuple[str, dict[str, str]]]:
    """Callbacks recorded but not handled, oldest first."""
    rows = await db.fetch_all(
        "SELECT dedupe_key, fields FROM wecom_callbacks WHERE handled_at IS NULL ORDER BY id"
    )
    return [(row[0], json.loads(row[1])) for row in rows]


async def prune(db: Database, now: datetime) -> int:
    """Forget callbacks handled more than ``KEEP_HANDLED`` ago; returns how many."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM wecom_callbacks WHERE handled_at IS NOT NULL AND handled_at < ?",
            (to_db(now - KEEP_HANDLED),),
        )
    return cursor.rowcount
