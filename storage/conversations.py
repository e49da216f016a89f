"""Multi-step conversations kept in the database, so a restart loses no draft."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import Database
from storage.timefmt import to_db


async def load(db: Database, platform: str, user_id: str) -> tuple[str, dict[str, Any]] | None:
    row = await db.fetch_one(
        "SELECT state, data FROM conversations WHERE platform = ? AND user_id = ?",
        (platform, user_id),
    )
    return (row["state"], json.loads(row["data"])) if row else None


async def save(
    conn: aiosqlite.Connection,
    platform: str,
    user_id: str,
    state: str,
    data: dict[str, Any],
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO conversations (platform, user_id, state, data, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (platform, user_id) DO UPDATE SET state = excluded.state, data = excluded.data, "
        "updated_at = excluded.updated_at",
        (platform, user_id, state, json.dumps(data, ensure_ascii=False), to_db(now)),
    )


async def clear(conn: aiosqlite.Connection, platform: str, user_id: str) -> None:
    await conn.execute(
        "DELETE FROM conversations WHERE platform = ? AND user_id = ?", (platform, user_id)
    )
