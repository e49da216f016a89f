"""Multi-step conversations kept in the database, so a restart loses no draft.

Replacing or clearing one notes the kept files its draft let go of (``storage.files``), for
the event's handling to delete once nothing else refers to them (``storage.file_refs``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import aiosqlite

from storage import files
from storage.db import Database
from storage.file_refs import dropped_from
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
    await _note_dropped(conn, platform, user_id, data)
    await conn.execute(
        "INSERT INTO conversations (platform, user_id, state, data, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (platform, user_id) DO UPDATE SET state = excluded.state, data = excluded.data, "
        "updated_at = excluded.updated_at",
        (platform, user_id, state, json.dumps(data, ensure_ascii=False), to_db(now)),
    )


async def clear(conn: aiosqlite.Connection, platform: str, user_id: str) -> None:
    await _note_dropped(conn, platform, user_id, None)
    await conn.execute(
        "DELETE FROM conversations WHERE platform = ? AND user_id = ?", (platform, user_id)
    )


async def _note_dropped(
    conn: aiosqlite.Connection, platform: str, user_id: str, data: dict[str, Any] | None
) -> None:
    if not files.watching():  # no event to delete them after: the sweep will
        return
    rows = await conn.execute_fetchall(
        "SELECT data FROM conversations WHERE platform = ? AND user_id = ?", (platform, user_id)
    )
    old = next(iter(rows), None)
    files.note_dropped(dropped_from(old[0] if old else None, data))
