"""Reminder bookkeeping: the log of reminders queued, pauses, and the open assignments the
task reminders are planned from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.timefmt import from_db, to_db


@dataclass(frozen=True, slots=True)
class OpenAssignment:
    """An assignment still owed: pending, or returned for changes (``returned_at``)."""

    id: int
    task_id: str
    member_id: int
    due_at: datetime
    assigned_at: datetime
    returned_at: datetime | None


@dataclass
class Pauses:
    """The pauses of one plan instance: what is held now, and when holds were lifted."""

    members: set[int] = field(default_factory=set)
    subjects: set[str] = field(default_factory=set)
    member_resumed: dict[int, datetime] = field(default_factory=dict)
    subject_resumed: dict[str, datetime] = field(default_factory=dict)

    def holds(self, member_id: int, subject: str) -> bool:
        return member_id in self.members or subject in self.subjects

    def resumed_at(self, member_id: int, subject: str) -> datetime | None:
        found = [
            t
            for t in (self.member_resumed.get(member_id), self.subject_resumed.get(subject))
            if t is not None
        ]
        return max(found) if found else None


async def open_assignments(db: Database, instance_id: int) -> list[OpenAssignment]:
    rows = await db.fetch_all(
        "SELECT a.id, a.task_id, a.member_id, a.due_at, a.assigned_at, back.at "
        "FROM assignments a LEFT JOIN ("
        " SELECT s.assignment_id, MAX(r.reviewed_at) AS at FROM reviews r"
        " JOIN submissions s ON s.id = r.submission_id"
        " JOIN assignments x ON x.id = s.assignment_id"
        " WHERE x.instance_id = ? AND x.status = 'returned' AND r.verdict = 'returned'"
        " GROUP BY s.assignment_id) back ON back.assignment_id = a.id "
        "WHERE a.instance_id = ? AND a.status IN ('pending', 'returned') "
        "ORDER BY a.due_at, a.id",
        (instance_id, instance_id),
    )
    return [
        OpenAssignment(
            row[0],
            row[1],
            row[2],
            from_db(row[3]),
            from_db(row[4]),
            from_db(row[5]) if row[5] else None,
        )
        for row in rows
    ]


async def logged_keys(db: Database, instance_id: int) -> set[str]:
    rows = await db.fetch_all(
        "SELECT reminder_key FROM reminder_log WHERE instance_id = ?", (instance_id,)
    )
    return {row[0] for row in rows}


async def log(
    conn: aiosqlite.Connection,
    key: str,
    *,
    instance_id: int,
    member_id: int,
    kind: str,
    planned_for: datetime,
    now: datetime,
) -> bool:
    """Record a reminder as queued; False if it was already (another pass got there first)."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO reminder_log (reminder_key, instance_id, member_id, kind, planned_for, sent_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (key, instance_id, member_id, kind, to_db(planned_for), to_db(now)),
    )
    return cursor.rowcount == 1


async def log_of_member(db: Database, member_id: int) -> list[tuple[str, str, datetime]]:
    """(key, kind, planned for) of every reminder queued about a member's items, in time order."""
    rows = await db.fetch_all(
        "SELECT reminder_key, kind, planned_for FROM reminder_log WHERE member_id = ? "
        "ORDER BY planned_for, reminder_key",
        (member_id,),
    )
    return [(row[0], row[1], from_db(row[2])) for row in rows]


async def pauses(db: Database, instance_id: int) -> Pauses:
    found = Pauses()
    rows = await db.fetch_all(
        "SELECT member_id, subject, resumed_at FROM reminder_pauses WHERE instance_id = ?",
        (instance_id,),
    )
    for member_id, subject, resumed_at in rows:
        if resumed_at is None:
            if member_id is not None:
                found.members.add(member_id)
            else:
                found.subjects.add(subject)
            continue
        resumed = from_db(resumed_at)
        if member_id is not None:
            found.member_resumed[member_id] = max(
                resumed, found.member_resumed.get(member_id, resumed)
            )
        else:
            found.subject_resumed[subject] = max(
                resumed, found.subject_resumed.get(subject, resumed)
            )
    return found


async def pause(
    conn: aiosqlite.Connection,
    instance_id: int,
    *,
    member_id: int | None = None,
    subject: str | None = None,
    paused_by: int | None,
    now: datetime,
) -> bool:
    """Hold a member's or a subject's reminders; False if they were held already."""
    async with conn.execute(
        "SELECT 1 FROM reminder_pauses WHERE instance_id = ? AND member_id IS ? AND subject IS ? "
        "AND resumed_at IS NULL",
        (instance_id, member_id, subject),
    ) as cursor:
        if await cursor.fetchone():
            return False
    await conn.execute(
        "INSERT INTO reminder_pauses (instance_id, member_id, subject, paused_by, paused_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (instance_id, member_id, subject, paused_by, to_db(now)),
    )
    return True


async def resume(
    conn: aiosqlite.Connection,
    instance_id: int,
    *,
    member_id: int | None = None,
    subject: str | None = None,
    now: datetime,
) -> bool:
    """Lift a hold; False if there was none."""
    cursor = await conn.execute(
        "UPDATE reminder_pauses SET resumed_at = ? WHERE instance_id = ? AND member_id IS ? "
        "AND subject IS ? AND resumed_at IS NULL",
        (to_db(now), instance_id, member_id, subject),
    )
    return cursor.rowcount > 0
