"""Heart-to-heart talks (交流谈心): one side records a talk, the other confirms or declines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.timefmt import from_db, maybe_from_db, to_db


@dataclass(frozen=True)
class TalkRecord:
    id: int
    instance_id: int
    member_a: int  # the lower member id of the pair
    member_b: int
    recorded_by: int
    status: str  # recorded / confirmed / declined
    recorded_at: datetime
    answered_at: datetime | None

    def other_side(self) -> int:
        return self.member_b if self.recorded_by == self.member_a else self.member_a


def _talk(row: aiosqlite.Row) -> TalkRecord:
    return TalkRecord(
        row["id"],
        row["instance_id"],
        row["member_a"],
        row["member_b"],
        row["recorded_by"],
        row["status"],
        from_db(row["recorded_at"]),
        maybe_from_db(row["answered_at"]),
    )


async def record(
    conn: aiosqlite.Connection, instance_id: int, recorded_by: int, other: int, now: datetime
) -> TalkRecord:
    a, b = sorted((recorded_by, other))
    async with conn.execute(
        "INSERT INTO talks (instance_id, member_a, member_b, recorded_by, recorded_at) "
        "VALUES (?, ?, ?, ?, ?) RETURNING *",
        (instance_id, a, b, recorded_by, to_db(now)),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    return _talk(row)


async def answer(conn: aiosqlite.Connection, talk_id: int, status: str, now: datetime) -> bool:
    """The other side confirms or declines; False if it was answered already."""
    cursor = await conn.execute(
        "UPDATE talks SET status = ?, answered_at = ? WHERE id = ? AND status = 'recorded'",
        (status, to_db(now), talk_id),
    )
    return cursor.rowcount == 1


async def get(db: Database, talk_id: int) -> TalkRecord | None:
    row = await db.fetch_one("SELECT * FROM talks WHERE id = ?", (talk_id,))
    return _talk(row) if row else None


async def talks_of(db: Database, instance_id: int) -> list[TalkRecord]:
    rows = await db.fetch_all(
        "SELECT * FROM talks WHERE instance_id = ? ORDER BY id", (instance_id,)
    )
    return [_talk(row) for row in rows]
