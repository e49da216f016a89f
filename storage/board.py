"""The plan board's rows: its signing key, one-time links and browser sessions.

Only SHA-256 digests of the links' nonces and the sessions' tokens are stored, so the
database alone opens no board.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from storage.db import Database
from storage.timefmt import from_db, to_db


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class BoardSession:
    digest: str
    platform: str
    user_id: str
    locale: str | None
    csrf: str
    expires_at: datetime


async def signing_key(db: Database) -> bytes:
    """The board's HMAC key, made once per database (links survive a restart)."""
    row = await db.fetch_one("SELECT secret FROM board_keys WHERE name = 'links'")
    if row is not None:
        return bytes(row[0])
    await db.write(
        "INSERT OR IGNORE INTO board_keys (name, secret) VALUES ('links', ?)",
        (secrets.token_bytes(32),),
    )
    row = await db.fetch_one("SELECT secret FROM board_keys WHERE name = 'links'")
    assert row is not None
    return bytes(row[0])


async def add_link(
    db: Database, nonce: str, platform: str, user_id: str, instance_id: int, expires_at: datetime
) -> None:
    await db.write(
        "INSERT INTO board_links (digest, platform, user_id, instance_id, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (digest(nonce), platform, user_id, instance_id, to_db(expires_at)),
    )


async def use_link(db: Database, nonce: str, now: datetime) -> tuple[str, str, int] | None:
    """Use a link once: (platform, user id, instance id), or None when it is unknown, used
    or expired."""
    rows = await db.write(
        "UPDATE board_links SET used_at = ? WHERE digest = ? AND used_at IS NULL "
        "AND expires_at > ? RETURNING platform, user_id, instance_id",
        (to_db(now), digest(nonce), to_db(now)),
    )
    if not rows:
        return None
    return str(rows[0][0]), str(rows[0][1]), int(rows[0][2])


async def open_session(
    db: Database, platform: str, user_id: str, locale: str | None, expires_at: datetime
) -> str:
    """A new session; returns its token (for the cookie; its digest names it in page tokens)."""
    token = secrets.token_urlsafe(32)
    await db.write(
        "INSERT INTO board_sessions (digest, platform, user_id, locale, csrf, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (digest(token), platform, user_id, locale, secrets.token_urlsafe(24), to_db(expires_at)),
    )
    return token


async def get_session(db: Database, token: str, now: datetime) -> BoardSession | None:
    return await session_by_digest(db, digest(token), now)


async def session_by_digest(
    db: Database, session_digest: str, now: datetime
) -> BoardSession | None:
    """The live session stored under ``session_digest`` (a page token names it so)."""
    row = await db.fetch_one(
        "SELECT platform, user_id, locale, csrf, expires_at FROM board_sessions "
        "WHERE digest = ? AND expires_at > ?",
        (session_digest, to_db(now)),
    )
    if row is None:
        return None
    return BoardSession(session_digest, row[0], row[1], row[2], row[3], from_db(row[4]))


async def prune(db: Database, now: datetime) -> None:
    """Forget expired sessions and links."""
    await db.write("DELETE FROM board_sessions WHERE expires_at <= ?", (to_db(now),))
    await db.write("DELETE FROM board_links WHERE expires_at <= ?", (to_db(now),))
