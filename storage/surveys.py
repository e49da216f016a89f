"""Survey rounds, ballots and who has voted: kept apart so no query ties a ballot to a voter.

A ballot has a random key and no voter, no time. Random keys alone do not hide the casting
order: SQLite places each new row's bytes next to the previous one in its page. So every
cast rewrites the whole round's ballots in one transaction: all are deleted (their bytes
zeroed, ``secure_delete``) and written again, with fresh keys, in a fresh random order; the
write-ahead log is emptied after the cast (``Database.forget``). Where a ballot's bytes sit
then depends on that shuffle, not on when it was cast (docs/architecture.md, issue 15).
``survey_voters`` only says who has voted (to remind the others). While a voter fills in
their ballot the answers sit in ``ballot_drafts``, sealed (``storage.sealing``); casting deletes
the draft in the same transaction.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiosqlite

from storage.db import Database
from storage.sealing import Sealer
from storage.timefmt import from_db, maybe_from_db, to_db


@dataclass(frozen=True)
class SurveyRound:
    id: int
    instance_id: int
    survey_key: str
    round: int
    status: str
    opened_at: datetime
    closes_at: datetime | None
    closed_at: datetime | None
    result: dict[str, Any] | None
    next_round_at: datetime | None


def _round(row: aiosqlite.Row) -> SurveyRound:
    return SurveyRound(
        row["id"],
        row["instance_id"],
        row["survey_key"],
        row["round"],
        row["status"],
        from_db(row["opened_at"]),
        maybe_from_db(row["closes_at"]),
        maybe_from_db(row["closed_at"]),
        json.loads(row["result"]) if row["result"] else None,
        maybe_from_db(row["next_round_at"]),
    )


def new_ballot_key() -> bytes:
    """16 random bytes: the ballot's place in the table says nothing about its casting."""
    return secrets.token_bytes(16)


async def open_round(
    conn: aiosqlite.Connection,
    instance_id: int,
    survey_key: str,
    now: datetime,
    closes_at: datetime | None,
) -> SurveyRound:
    """Open the next round of a survey (round 1 the first time)."""
    async with conn.execute(
        "INSERT INTO surveys (instance_id, survey_key, round, status, opened_at, closes_at) "
        "SELECT ?, ?, COALESCE(MAX(round), 0) + 1, 'open', ?, ? FROM surveys "
        "WHERE instance_id = ? AND survey_key = ? RETURNING *",
        (
            instance_id,
            survey_key,
            to_db(now),
            to_db(closes_at) if closes_at else None,
            instance_id,
            survey_key,
        ),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return _round(row)


async def get_round(db: Database, survey_id: int) -> SurveyRound | None:
    row = await db.fetch_one("SELECT * FROM surveys WHERE id = ?", (survey_id,))
    return _round(row) if row else None


async def rounds_of(
    db: Database, instance_id: int, survey_key: str | None = None
) -> list[SurveyRound]:
    if survey_key is None:
        rows = await db.fetch_all(
            "SELECT * FROM surveys WHERE instance_id = ? ORDER BY survey_key, round",
            (instance_id,),
        )
    else:
        rows = await db.fetch_all(
            "SELECT * FROM surveys WHERE instance_id = ? AND survey_key = ? ORDER BY round",
            (instance_id, survey_key),
        )
    return [_round(row) for row in rows]


async def open_rounds(db: Database, instance_id: int) -> list[SurveyRound]:
    rows = await db.fetch_all(
        "SELECT * FROM surveys WHERE instance_id = ? AND status = 'open' ORDER BY id",
        (instance_id,),
    )
    return [_round(row) for row in rows]


async def scheduled(db: Database) -> list[SurveyRound]:
    """Open rounds with a closing time, and failed rounds whose next round has not opened."""
    rows = await db.fetch_all(
        "SELECT s.* FROM surveys s JOIN plan_instances p ON p.id = s.instance_id "
        "WHERE p.status = 'active' AND ((s.status = 'open' AND s.closes_at IS NOT NULL) "
        " OR (s.status = 'closed' AND s.next_round_at IS NOT NULL AND NOT EXISTS ("
        "  SELECT 1 FROM surveys later WHERE later.instance_id = s.instance_id"
        "  AND later.survey_key = s.survey_key AND later.round > s.round))) ORDER BY s.id"
    )
    return [_round(row) for row in rows]


async def close_round(
    conn: aiosqlite.Connection,
    survey_id: int,
    now: datetime,
    result: dict[str, Any],
    next_round_at: datetime | None,
) -> bool:
    """Close an open round with its result; False if it was closed already."""
    cursor = await conn.execute(
        "UPDATE surveys SET status = 'closed', closed_at = ?, result = ?, next_round_at = ? "
        "WHERE id = ? AND status = 'open'",
        (
            to_db(now),
            json.dumps(result, ensure_ascii=False),
            to_db(next_round_at) if next_round_at else None,
            survey_id,
        ),
    )
    await conn.execute("DELETE FROM ballot_drafts WHERE survey_id = ?", (survey_id,))
    return cursor.rowcount == 1


UNANSWERED = 255  # a draft's byte for an item not answered yet


async def load_draft(
    db: Database, sealer: Sealer, survey_id: int, member_id: int
) -> list[int | None] | None:
    """The voter's choices so far (a choice index or None per item); None without a draft."""
    row = await db.fetch_one(
        "SELECT answers FROM ballot_drafts WHERE survey_id = ? AND member_id = ?",
        (survey_id, member_id),
    )
    opened = sealer.open(str(row[0])) if row else None
    if opened is None:
        return None
    return [None if choice == UNANSWERED else choice for choice in opened]


async def save_draft(
    conn: aiosqlite.Connection,
    sealer: Sealer,
    survey_id: int,
    member_id: int,
    answers: list[int | None],
) -> None:
    """Keep the voter's choices so far, sealed (one byte per item: every draft of a survey has
    the same length, whatever it says)."""
    sealed = sealer.seal(bytes(UNANSWERED if a is None else a for a in answers))
    await conn.execute(
        "INSERT INTO ballot_drafts (survey_id, member_id, answers) VALUES (?, ?, ?) "
        "ON CONFLICT (survey_id, member_id) DO UPDATE SET answers = excluded.answers",
        (survey_id, member_id, sealed),
    )


async def cast(
    conn: aiosqlite.Connection, survey_id: int, member_id: int, answers: list[str]
) -> bool:
    """Record that the member voted and store the ballot apart; False if they had voted."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO survey_voters (survey_id, member_id) VALUES (?, ?)",
        (survey_id, member_id),
    )
    if cursor.rowcount != 1:
        return False
    async with conn.execute(
        "DELETE FROM ballots WHERE survey_id = ? RETURNING answers", (survey_id,)
    ) as cursor:
        box = [str(row[0]) for row in await cursor.fetchall()]
    box.append(json.dumps(answers, ensure_ascii=False))
    await conn.executemany(
        "INSERT INTO ballots (ballot_key, survey_id, answers) VALUES (?, ?, ?)",
        [(new_ballot_key(), survey_id, ballot) for ballot in shuffled(box)],
    )
    await conn.execute(
        "DELETE FROM ballot_drafts WHERE survey_id = ? AND member_id = ?", (survey_id, member_id)
    )
    return True


def shuffled(rows: list[str]) -> list[str]:
    """The rows in a fresh random order (from the operating system's random source)."""
    order = list(rows)
    secrets.SystemRandom().shuffle(order)
    return order


async def voter_ids(db: Database, survey_id: int) -> set[int]:
    """The members who have voted in a round (not what they voted)."""
    rows = await db.fetch_all(
        "SELECT member_id FROM survey_voters WHERE survey_id = ?", (survey_id,)
    )
    return {int(row[0]) for row in rows}


async def ballots(db: Database, survey_id: int) -> list[list[str]]:
    """Every ballot's answers, in stored (random key) order."""
    rows = await db.fetch_all("SELECT answers FROM ballots WHERE survey_id = ?", (survey_id,))
    return [json.loads(row[0]) for row in rows]
