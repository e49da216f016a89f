"""The outbox: every message the bot sends, written before it is sent.

A handler writes its messages in the same transaction as the change that causes them, so a
crash can lose neither. A platform's sender claims pending rows, sends them and marks them
sent; rows to a user who cannot be reached yet are held until the user opens the bot. A row
claimed but not marked when the process died is sent again at start-up: at most that one
message can arrive twice.
"""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.records import OutboxRecord
from storage.timefmt import from_db, maybe_from_db, to_db


def _record(row: aiosqlite.Row) -> OutboxRecord:
    return OutboxRecord(
        row["id"],
        row["dedupe_key"],
        row["instance_id"],
        row["platform"],
        row["chat_id"],
        row["payload"],
        from_db(row["created_at"]),
        maybe_from_db(row["not_before"]),
        row["attempts"],
        row["state"],
    )


async def enqueue(
    conn: aiosqlite.Connection,
    *,
    platform: str,
    chat_id: str,
    payload: str,
    now: datetime,
    instance_id: int | None = None,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
    held: bool = False,
) -> int | None:
    """Queue a message; with a dedupe key already queued once, do nothing and return None."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO outbox (dedupe_key, instance_id, platform, chat_id, payload, created_at, not_before, state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            dedupe_key,
            instance_id,
            platform,
            chat_id,
            payload,
            to_db(now),
            to_db(not_before) if not_before else None,
            "held" if held else "pending",
        ),
    )
    return int(cursor.lastrowid or 0) if cursor.rowcount == 1 else None


async def enqueue_now(
    db: Database, *, platform: str, chat_id: str, payloads: list[str], now: datetime
) -> None:
    """Queue messages to one chat in one statement (atomic on its own): the replies to an
    event that changed nothing else need no transaction of their own."""
    await enqueue_to_chats_now(
        db, platform=platform, rows=[(chat_id, payload) for payload in payloads], now=now
    )


async def enqueue_to_chats_now(
    db: Database, *, platform: str, rows: list[tuple[str, str]], now: datetime
) -> None:
    """``enqueue_now`` for (chat id, payload) rows to several chats, in one statement."""
    if not rows:
        return
    values = ", ".join("(?, ?, ?, ?, 'pending')" for _ in rows)
    params = [p for chat_id, payload in rows for p in (platform, chat_id, payload, to_db(now))]
    await db.write(
        f"INSERT INTO outbox (platform, chat_id, payload, created_at, state) VALUES {values}",
        params,
    )


async def claim_due(
    db: Database, platform: str, now: datetime, limit: int = 100, *, answers_only: bool = False
) -> list[OutboxRecord]:
    """Mark up to ``limit`` due rows as being sent and return them, in the order to send.

    Answers (rows without a dedupe key: the replies to what someone just sent) come first, then
    the pushes and reminders of the plans taking turns: each plan's first row, then each
    plan's second, ... (oldest first within a plan). At 09:00 thousands of plans queue their
    reminders at once; in the order they were written the last plan would wait for all the
    others. Rows of one plan to one chat keep their order. ``answers_only``: only answers
    (the sender's memory is full of pushes, but an answer must not wait behind them).
    """
    due = "(not_before IS NULL OR not_before <= ?)"
    if answers_only:
        rows = await db.write(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1 WHERE id IN ("
            f" SELECT id FROM outbox WHERE platform = ? AND state = 'pending' AND {due}"
            " AND dedupe_key IS NULL ORDER BY id LIMIT ?) RETURNING *",
            (platform, to_db(now), limit),
        )
        return _send_order([_record(row) for row in rows])
    # A plan's turn counts its rows since the oldest row still waiting or being sent, sent
    # ones too: a plan served in the last claim does not start again at the first turn.
    # (`+platform`: read the rows by id from there on, not every row the platform ever had
    # through the index.) The rows are sent in this order (turn, then id): ordering them
    # again by their turns within the claim put a served plan's second row before another
    # plan's first whenever one claim held both (bench/province.py: the last plans' first
    # reminder 1.3 s late).
    async with db.transaction() as conn:
        chosen = await conn.execute_fetchall(
            "SELECT id FROM (SELECT id, state, not_before, CASE WHEN dedupe_key IS NULL THEN 0"
            "  ELSE ROW_NUMBER() OVER (PARTITION BY instance_id, dedupe_key IS NULL ORDER BY id)"
            "  END AS turn FROM outbox WHERE +platform = ? AND id >= (SELECT MIN(id) FROM outbox"
            f"   WHERE platform = ? AND state IN ('pending', 'sending') AND {due}))"
            f" WHERE state = 'pending' AND {due} ORDER BY turn, id LIMIT ?",
            (platform, platform, to_db(now), to_db(now), limit),
        )
        order = {int(row[0]): place for place, row in enumerate(chosen)}
        if not order:
            return []
        claimed = await conn.execute_fetchall(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1"
            " WHERE id IN (SELECT value FROM json_each(?)) RETURNING *",
            (json.dumps(list(order)),),
        )
    return sorted((_record(row) for row in claimed), key=lambda record: order[record.id])


def _send_order(records: list[OutboxRecord]) -> list[OutboxRecord]:
    """A claimed batch in the order to send: answers, then the plans taking turns."""
    records.sort(key=lambda r: r.id)
    turns: dict[int | None, int] = {}
    keyed = []
    for record in records:
        if record.dedupe_key is None:
            keyed.append(((0, record.id), record))
        else:
            turn = turns[record.instance_id] = turns.get(record.instance_id, 0) + 1
            keyed.append(((turn, record.id), record))
    return [record for _key, record in sorted(keyed, key=lambda pair: pair[0])]


async def mark_sent(db: Database, outbox_id: int, now: datetime) -> None:
    await db.write(
        "UPDATE outbox SET state = 'sent', sent_at = ?, last_error = NULL WHERE id = ?",
        (to_db(now), outbox_id),
    )


async def retry_later(db: Database, outbox_id: int, not_before: datetime, error: str) -> None:
    await db.write(
        "UPDATE outbox SET state = 'pending', not_before = ?, last_error = ? WHERE id = ?",
        (to_db(not_before), error[:500], outbox_id),
    )


async def hold(db: Database, outbox_id: int, error: str) -> None:
    """Keep a message for a user the bot cannot reach yet."""
    await db.write(
        "UPDATE outbox SET state = 'held', last_error = ? WHERE id = ?", (error[:500], outbox_id)
    )


async def mark_failed(db: Database, outbox_id: int, error: str) -> None:
    """Give up on a message the platform refuses for good (kept, with the reason)."""
    await db.write(
        "UPDATE outbox SET state = 'failed', last_error = ? WHERE id = ?",
        (error[:500], outbox_id),
    )


async def release_held(conn: aiosqlite.Connection, platform: str, chat_id: str) -> int:
    """The user can be reached now: queue what was held for them."""
    cursor = await conn.execute(
        "UPDATE outbox SET state = 'pending', not_before = NULL WHERE platform = ? AND chat_id = ? AND state = 'held'",
        (platform, chat_id),
    )
    return cursor.rowcount


async def recover_in_flight(db: Database, platform: str) -> int:
    """After a crash: rows claimed but never marked go back to pending."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE outbox SET state = 'pending' WHERE platform = ? AND state = 'sending'",
            (platform,),
        )
    return cursor.rowcount


async def release_claimed(db: Database, platform: str, keep: list[int]) -> int:
    """At a clean stop: rows claimed but not sent go back to pending, except ``keep`` (sends
    interrupted mid-request, which the next start reports and sends again)."""
    marks = ", ".join("?" for _ in keep)
    exclude = f" AND id NOT IN ({marks})" if keep else ""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE outbox SET state = 'pending', attempts = MAX(attempts - 1, 0) "
            f"WHERE platform = ? AND state = 'sending'{exclude}",
            (platform, *keep),
        )
    return cursor.rowcount


async def next_due_time(db: Database, platform: str) -> datetime | None:
    """When the earliest delayed pending row becomes due."""
    row = await db.fetch_one(
        "SELECT MIN(not_before) FROM outbox WHERE platform = ? AND state = 'pending' AND not_before IS NOT NULL",
        (platform,),
    )
    return maybe_from_db(row[0]) if row else None


async def messages(
    db: Database, *, platform: str | None = None, state: str | None = None
) -> list[OutboxRecord]:
    clauses, params = [], []
    if platform:
        clauses.append("platform = ?")
        params.append(platform)
    if state:
        clauses.append("state = ?")
        params.append(state)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = await db.fetch_all(f"SELECT * FROM outbox {where} ORDER BY id", params)
    return [_record(row) for row in rows]
