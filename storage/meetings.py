"""Meeting runs: the meeting held in the group, its current agenda item and speaker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.timefmt import from_db, maybe_from_db, to_db


@dataclass(frozen=True)
class MeetingRun:
    instance_id: int
    run: int
    item: int  # 1-based agenda item
    speaker: int  # index in the item's speaking order
    opened_at: datetime
    ended_at: datetime | None


def _run(row: aiosqlite.Row) -> MeetingRun:
    return MeetingRun(
        row["instance_id"],
        row["run"],
        row["item"],
        row["speaker"],
        from_db(row["opened_at"]),
        maybe_from_db(row["ended_at"]),
    )


async def latest_run(db: Database, instance_id: int) -> MeetingRun | None:
    row = await db.fetch_one(
        "SELECT * FROM meeting_runs WHERE instance_id = ? ORDER BY run DESC LIMIT 1",
        (instance_id,),
    )
    return _run(row) if row else None


async def open_run(conn: aiosqlite.Connection, instance_id: int, now: datetime) -> MeetingRun:
    async with conn.execute(
        "INSERT INTO meeting_runs (instance_id, run, opened_at) "
        "SELECT ?, COALESCE(MAX(run), 0) + 1, ? FROM meeting_runs WHERE instance_id = ? "
        "RETURNING *",
        (instance_id, to_db(now), instance_id),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return _run(row)


async def move(conn: aiosqlite.Connection, run: MeetingRun, item: int, speaker: int) -> bool:
    """Go to an item / speaker, only from where ``run`` says the meeting is (no double /next)."""
    cursor = await conn.execute(
        "UPDATE meeting_runs SET item = ?, speaker = ? "
        "WHERE instance_id = ? AND run = ? AND item = ? AND speaker = ? AND ended_at IS NULL",
        (item, speaker, run.instance_id, run.run, run.item, run.speaker),
    )
    return cursor.rowcount == 1


async def end_run(conn: aiosqlite.Connection, run: MeetingRun, now: datetime) -> bool:
    cursor = await conn.execute(
        "UPDATE meeting_runs SET ended_at = ? WHERE instance_id = ? AND run = ? AND ended_at IS NULL",
        (to_db(now), run.instance_id, run.run),
    )
    return cursor.rowcount == 1
