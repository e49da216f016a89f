"""The journal of WeCom callbacks (``wecom_callbacks``): recorded before they are answered,
marked when handled. It recognises WeCom's retries across restarts and gives back, at start-up,
what was answered but never handled. A ``channel`` keeps the app's callbacks ("app") and the
robot's messages ("robot", migration 0008) apart: each resumes only its own.

A callback says who pressed which vote button or who wrote an (anonymous) opinion, so the
journal keeps no more than it must: the dedupe key is a keyed hash (``digest``; the key is
derived from the WeCom secrets in the settings, never stored), and a handled callback's fields
are erased (``secure_delete`` zeroes the old bytes; the caller empties the write-ahead log).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import datetime, timedelta

from storage.db import Database
from storage.timefmt import to_db

KEEP_HANDLED = timedelta(days=2)  # WeCom retries within seconds; this is ample
DIGEST_PREFIX = "h:"  # stored keys; WeCom's own start with "msg:" or "event:"


def journal_secret(*settings: str) -> bytes:
    """The hashing key of the journal, from secrets the settings hold and the database not."""
    return hashlib.sha256("\0".join(("huiwu-wecom-journal", *settings)).encode()).digest()


def digest(secret: bytes, key: str) -> str:
    """What is stored for a dedupe key (a stored one is given back as it is)."""
    if key.startswith(DIGEST_PREFIX):
        return key
    return DIGEST_PREFIX + hmac.new(secret, key.encode(), hashlib.sha256).hexdigest()


async def write(
    db: Database,
    secret: bytes,
    records: list[tuple[str, dict[str, str]]],
    handled: list[str],
    now: datetime,
    channel: str = "app",
) -> list[bool]:
    """In one transaction: keep new callbacks (key, fields) and mark others handled, erasing
    their fields. Returns, per record, False if one with its key was kept before (a retry)."""
    recorded = []
    async with db.transaction() as conn:
        for key, fields in records:
            cursor = await conn.execute(
                "INSERT OR IGNORE INTO wecom_callbacks (dedupe_key, fields, received_at, channel) "
                "VALUES (?, ?, ?, ?)",
                (digest(secret, key), json.dumps(fields, ensure_ascii=False), to_db(now), channel),
            )
            recorded.append(cursor.rowcount == 1)
        if handled:
            # A row kept by an older Huiwu has its key in clear: it is hashed now.
            await conn.executemany(
                "UPDATE wecom_callbacks SET handled_at = ?, fields = '{}', dedupe_key = ? "
                "WHERE dedupe_key IN (?, ?)",
                [(to_db(now), digest(secret, key), key, digest(secret, key)) for key in handled],
            )
    return recorded


async def unhandled(db: Database, channel: str = "app") -> list[tuple[str, dict[str, str]]]:
    """Callbacks of ``channel`` recorded but not handled (stored key, fields), oldest first."""
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
