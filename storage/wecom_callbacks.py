"""The journal of WeCom callbacks (``wecom_callbacks``): recorded before they are answered,
marked when handled. It recognises WeCom's retries across restarts and gives back, at start-up,
what was answered but never handled. A ``channel`` keeps the app's callbacks ("app") and the
robot's messages ("robot", migration 0008) apart: each resumes only its own."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from storage.db import Database
from storage.timefmt import to_db

KEEP_HANDLED = timedelta(days=2)  # WeCom retries within seconds; this is ample


async def write(
    db: Database,
    records: list[tuple[str, dict[str, str]]],
    handled: list[str],
    now: datetime,
    channel: str = "app",
) -> list[bool]:
    """In one transaction: keep new callbacks (key, fields) and mark others handled. Returns,
    per record, False if one with its key was kept before (a retry)."""
    recorded = []
    async with db.transaction() as conn:
        for key, fields in records:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO wecom_callbacks (dedupe_key, fields, received_at, channel) "
                "VALUES (?, ?, ?, ?)",
                (key, json.dumps(fields, ensure_ascii=False), to_db(now), channel),
            )
            recorded.append(cursor.rowcount == 1)
        if handled:
            await conn.executemany(
                "UPDATE wecom_callbacks SET handled_at = ? WHERE dedupe_key = ?",
                [(to_db(now), key) for key in handled],
            )
    return recorded


async def unhandled(db: Database, channel: str = "app") -> list[tuple[str, dict[str, str]]]:
    """Callbacks of ``channel`` recorded but not handled, oldest first."""
    rows = await db.fetch_all(
        "SELECT dedupe_key, fields FROM wecom_callbacks WHERE handled_at IS NULL AND channel = ?"
        " ORDER BY id",
        (channel,),
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
