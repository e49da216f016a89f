"""Opinion windows (征求意见), who may write into them, and the opinions themselves.

An opinion has no time and a random key; an anonymous one has no sender at all, so no
query can tie it to the person who wrote it, and each new opinion rewrites the window's
opinions in a fresh random order, so neither can the bytes of the file. ``opinion_writers`` only records who opened
a window's link (so staff who are not on the roster may write), never what they wrote.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.timefmt import from_db, maybe_from_db, to_db

CODE_PREFIX = "op-"  # an opinion link's code; personal invite codes never start with it


@dataclass(frozen=True)
class OpinionWindow:
    id: int
    instance_id: int
    code: str
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None


@dataclass(frozen=True)
class Opinion:
    addressee_id: int | None  # None: the whole team
    text: str
    sender_name: str | None  # None: anonymous


def _window(row: aiosqlite.Row) -> OpinionWindow:
    return OpinionWindow(
        row["id"],
        row["instance_id"],
        row["code"],
        from_db(row["opened_at"]),
        from_db(row["closes_at"]),
        maybe_from_db(row["closed_at"]),
    )


async def open_window(
    conn: aiosqlite.Connection, instance_id: int, closes_at: datetime, now: datetime
) -> OpinionWindow:
    code = CODE_PREFIX + secrets.token_urlsafe(9)
    async with conn.execute(
        "INSERT INTO opinion_windows (instance_id, code, opened_at, closes_at) VALUES (?, ?, ?, ?) "
        "RETURNING *",
        (instance_id, code, to_db(now), to_db(closes_at)),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return _window(row)


async def get_window(db: Database, window_id: int) -> OpinionWindow | None:
    row = await db.fetch_one("SELECT * FROM opinion_windows WHERE id = ?", (window_id,))
    return _window(row) if row else None


async def window_by_code(db: Database, code: str) -> OpinionWindow | None:
    row = await db.fetch_one("SELECT * FROM opinion_windows WHERE code = ?", (code,))
    return _window(row) if row else None


async def open_window_of(db: Database, instance_id: int) -> OpinionWindow | None:
    row = await db.fetch_one(
        "SELECT * FROM opinion_windows WHERE instance_id = ? AND closed_at IS NULL "
        "ORDER BY id DESC LIMIT 1",
        (instance_id,),
    )
    return _window(row) if row else None


async def windows_of(db: Database, instance_id: int) -> list[OpinionWindow]:
    rows = await db.fetch_all(
        "SELECT * FROM opinion_windows WHERE instance_id = ? ORDER BY id", (instance_id,)
    )
    return [_window(row) for row in rows]


async def open_windows(db: Database) -> list[OpinionWindow]:
    rows = await db.fetch_all(
        "SELECT w.* FROM opinion_windows w JOIN plan_instances p ON p.id = w.instance_id "
        "WHERE w.closed_at IS NULL AND p.status != 'finished' ORDER BY w.id"
    )
    return [_window(row) for row in rows]


async def add_writer(
    conn: aiosqlite.Connection, window_id: int, platform: str, user_id: str
) -> None:
    await conn.execute(
        "INSERT OR IGNORE INTO opinion_writers (window_id, platform, user_id) VALUES (?, ?, ?)",
        (window_id, platform, user_id),
    )


async def writer_windows(db: Database, platform: str, user_id: str) -> list[OpinionWindow]:
    """The open windows whose link this user has opened, newest first."""
    rows = await db.fetch_all(
        "SELECT w.* FROM opinion_windows w JOIN opinion_writers o ON o.window_id = w.id "
        "WHERE o.platform = ? AND o.user_id = ? AND w.closed_at IS NULL ORDER BY w.id DESC",
        (platform, user_id),
    )
    return [_window(row) for row in rows]


async def add_opinion(
    conn: aiosqlite.Connection,
    window_id: int,
    addressee_id: int | None,
    text: str,
    sender_name: str | None,
) -> None:
    """Store an opinion: the window's opinions are all rewritten, with fresh keys, in a fresh
    random order (as ballots are, see ``storage.surveys.cast``), so where an opinion's bytes
    sit says nothing about when it was written."""
    async with conn.execute(
        "DELETE FROM opinions WHERE window_id = ? RETURNING addressee_id, text, sender_name",
        (window_id,),
    ) as cursor:
        box = [(row[0], row[1], row[2]) for row in await cursor.fetchall()]
    box.append((addressee_id, text, sender_name))
    secrets.SystemRandom().shuffle(box)
    await conn.executemany(
        "INSERT INTO opinions (opinion_key, window_id, addressee_id, text, sender_name) "
        "VALUES (?, ?, ?, ?, ?)",
        [(secrets.token_bytes(16), window_id, *opinion) for opinion in box],
    )


async def opinions_of(db: Database, window_id: int) -> list[Opinion]:
    rows = await db.fetch_all(
        "SELECT addressee_id, text, sender_name FROM opinions WHERE window_id = ?", (window_id,)
    )
    return [Opinion(row[0], row[1], row[2]) for row in rows]


async def close_window(conn: aiosqlite.Connection, window_id: int, now: datetime) -> bool:
    cursor = await conn.execute(
        "UPDATE opinion_windows SET closed_at = ? WHERE id = ? AND closed_at IS NULL",
        (to_db(now), window_id),
    )
    return cursor.rowcount == 1
