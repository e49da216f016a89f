"""Assignments (a task given to a member), phase runs, submissions and reviews."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.records import (
    AssignmentRecord,
    FileCopy,
    FileRecord,
    ReviewRecord,
    SubmissionRecord,
)
from storage.timefmt import from_db, to_db

LegacyFile = tuple[str, str, str | None, str | None, int | None, bytes | None]


def as_copy(file: FileCopy | LegacyFile) -> FileCopy:
    """A file as (platform, file ref, name, mime type, size, content) is one kept in the
    database, as before the files folder."""
    if isinstance(file, FileCopy):
        return file
    platform, file_ref, name, mime, size, content = file
    return FileCopy(platform, file_ref, name, mime, size, content=content)


def _assignment(row: aiosqlite.Row) -> AssignmentRecord:
    return AssignmentRecord(
        row["id"],
        row["instance_id"],
        row["task_id"],
        row["member_id"],
        row["status"],
        from_db(row["due_at"]),
        from_db(row["assigned_at"]),
    )


def _submission(row: aiosqlite.Row) -> SubmissionRecord:
    return SubmissionRecord(
        row["id"],
        row["assignment_id"],
        row["version"],
        row["text"],
        from_db(row["submitted_at"]),
        bool(row["late"]),
    )


async def start_phase(
    conn: aiosqlite.Connection, instance_id: int, phase_id: str, now: datetime
) -> bool:
    """Record that a phase started; False if it had started before."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO phase_runs (instance_id, phase_id, started_at) VALUES (?, ?, ?)",
        (instance_id, phase_id, to_db(now)),
    )
    return cursor.rowcount == 1


async def end_phase(
    conn: aiosqlite.Connection, instance_id: int, phase_id: str, now: datetime
) -> bool:
    cursor = await conn.execute(
        "UPDATE phase_runs SET ended_at = ? WHERE instance_id = ? AND phase_id = ? AND ended_at IS NULL",
        (to_db(now), instance_id, phase_id),
    )
    return cursor.rowcount == 1


async def phase_runs(db: Database, instance_id: int) -> dict[str, tuple[datetime, datetime | None]]:
    rows = await db.fetch_all("SELECT * FROM phase_runs WHERE instance_id = ?", (instance_id,))
    return {
        r["phase_id"]: (from_db(r["started_at"]), from_db(r["ended_at"]) if r["ended_at"] else None)
        for r in rows
    }


async def assign(
    conn: aiosqlite.Connection,
    instance_id: int,
    task_id: str,
    member_id: int,
    due: datetime,
    now: datetime,
) -> int | None:
    """Create an assignment; None if it existed already (assigning is idempotent)."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO assignments (instance_id, task_id, member_id, due_at, assigned_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (instance_id, task_id, member_id, to_db(due), to_db(now)),
    )
    return int(cursor.lastrowid or 0) if cursor.rowcount == 1 else None


async def get_assignment(db: Database, assignment_id: int) -> AssignmentRecord | None:
    row = await db.fetch_one("SELECT * FROM assignments WHERE id = ?", (assignment_id,))
    return _assignment(row) if row else None


async def assignments_of_member(db: Database, member_ids: Iterable[int]) -> list[AssignmentRecord]:
    ids = tuple(member_ids)
    if not ids:
        return []

    async def load() -> tuple[AssignmentRecord, ...]:
        marks = ",".join("?" * len(ids))
        rows = await db.fetch_all(
            f"SELECT * FROM assignments WHERE member_id IN ({marks}) ORDER BY due_at, id", ids
        )
        return tuple(_assignment(row) for row in rows)

    return list(await db.reads.get(("assignments_of_member", ids), load))


async def assignments_of_instance(db: Database, instance_id: int) -> list[AssignmentRecord]:
    rows = await db.fetch_all(
        "SELECT * FROM assignments WHERE instance_id = ? ORDER BY due_at, task_id, member_id",
        (instance_id,),
    )
    return [_assignment(row) for row in rows]


async def assignments_with_lateness(
    db: Database, instance_id: int
) -> list[tuple[AssignmentRecord, bool]]:
    """The instance's assignments (as ``assignments_of_instance``), each with whether its
    latest submission came late (False without one); one query for /status."""

    async def load() -> tuple[tuple[AssignmentRecord, bool], ...]:
        rows = await db.fetch_all(
            "SELECT a.*, COALESCE((SELECT s.late FROM submissions s WHERE s.assignment_id = a.id"
            " ORDER BY s.version DESC LIMIT 1), 0) AS latest_late"
            " FROM assignments a WHERE a.instance_id = ?"
            " ORDER BY a.due_at, a.task_id, a.member_id",
            (instance_id,),
        )
        return tuple((_assignment(row), bool(row["latest_late"])) for row in rows)

    return list(await db.reads.get(("assignments_with_lateness", instance_id), load))


async def set_assignment_status(
    conn: aiosqlite.Connection,
    assignment: AssignmentRecord,
    status: str,
    *,
    whole_task: bool = False,
) -> None:
    """Set one assignment's status, or with ``whole_task`` every assignee's (a collective task)."""
    if whole_task:
        await conn.execute(
            "UPDATE assignments SET status = ? WHERE instance_id = ? AND task_id = ?",
            (status, assignment.instance_id, assignment.task_id),
        )
    else:
        await conn.execute(
            "UPDATE assignments SET status = ? WHERE id = ?", (status, assignment.id)
        )


async def add_submission(
    conn: aiosqlite.Connection,
    assignment_id: int,
    *,
    text: str | None,
    files: Iterable[FileCopy | LegacyFile],
    now: datetime,
    late: bool,
) -> SubmissionRecord:
    """Store a new version with its files (kept in the files folder, or as bytes)."""
    async with conn.execute(
        "INSERT INTO submissions (assignment_id, version, text, submitted_at, late) "
        "SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ?, ? FROM submissions WHERE assignment_id = ? "
        "RETURNING *",
        (assignment_id, text, to_db(now), int(late), assignment_id),
    ) as cursor:
        row = await cursor.fetchone()
    assert row is not None
    submission = _submission(row)
    for file in map(as_copy, files):
        await conn.execute(
            "INSERT INTO submission_files (submission_id, platform, file_ref, file_name, mime_type, "
            "size, content, sha256) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                submission.id,
                file.platform,
                file.file_ref,
                file.file_name,
                file.mime_type,
                file.size,
                file.content,
                file.sha256,
            ),
        )
    return submission


async def member_file_bytes(db: Database, member_id: int) -> int:
    """The bytes of the files a member has handed in (a file handed in again counts once)."""
    row = await db.fetch_one(
        "SELECT COALESCE(SUM(size), 0) FROM (SELECT DISTINCT COALESCE(f.sha256, f.id) AS file, "
        "f.size AS size FROM submission_files f JOIN submissions s ON s.id = f.submission_id "
        "JOIN assignments a ON a.id = s.assignment_id WHERE a.member_id = ?)",
        (member_id,),
    )
    return int(row[0]) if row else 0


async def submissions_of(db: Database, assignment_id: int) -> list[SubmissionRecord]:
    rows = await db.fetch_all(
        "SELECT * FROM submissions WHERE assignment_id = ? ORDER BY version", (assignment_id,)
    )
    return [_submission(row) for row in rows]


async def get_submission(db: Database, submission_id: int) -> SubmissionRecord | None:
    row = await db.fetch_one("SELECT * FROM submissions WHERE id = ?", (submission_id,))
    return _submission(row) if row else None


async def latest_submissions(db: Database, instance_id: int) -> dict[int, SubmissionRecord]:
    """assignment id -> its latest submission, for every assignment that has one."""
    rows = await db.fetch_all(
        "SELECT s.* FROM submissions s JOIN assignments a ON a.id = s.assignment_id "
        "WHERE a.instance_id = ? AND s.version = "
        "(SELECT MAX(version) FROM submissions WHERE assignment_id = s.assignment_id)",
        (instance_id,),
    )
    return {row["assignment_id"]: _submission(row) for row in rows}


async def files_of(db: Database, submission_id: int) -> list[FileRecord]:
    rows = await db.fetch_all(
        "SELECT * FROM submission_files WHERE submission_id = ? ORDER BY id", (submission_id,)
    )
    return [
        FileRecord(
            r["id"],
            r["submission_id"],
            r["platform"],
            r["file_ref"],
            r["file_name"],
            r["mime_type"],
            r["size"],
            r["content"],
            r["sha256"],
        )
        for r in rows
    ]


async def add_review(
    conn: aiosqlite.Connection,
    submission_id: int,
    reviewer_id: int,
    verdict: str,
    comment: str | None,
    now: datetime,
) -> None:
    await conn.execute(
        "INSERT INTO reviews (submission_id, reviewer_id, verdict, comment, reviewed_at) VALUES (?, ?, ?, ?, ?)",
        (submission_id, reviewer_id, verdict, comment, to_db(now)),
    )


async def reviews_of(db: Database, submission_id: int) -> list[ReviewRecord]:
    rows = await db.fetch_all(
        "SELECT * FROM reviews WHERE submission_id = ? ORDER BY id", (submission_id,)
    )
    return [
        ReviewRecord(
            r["id"],
            r["submission_id"],
            r["reviewer_id"],
            r["verdict"],
            r["comment"],
            from_db(r["reviewed_at"]),
        )
        for r in rows
    ]


async def file_index(db: Database, instance_id: int) -> list[aiosqlite.Row]:
    """Every file handed in for the instance, without its content (in the files folder by
    ``sha256``, or for older rows read one at a time with ``file_content``): id,
    assignment_id, version, submitted_at, file_name, mime_type, sha256."""
    return await db.fetch_all(
        "SELECT f.id, s.assignment_id, s.version, s.submitted_at, f.file_name, f.mime_type, "
        "f.sha256 "
        "FROM submission_files f JOIN submissions s ON s.id = f.submission_id "
        "JOIN assignments a ON a.id = s.assignment_id WHERE a.instance_id = ? "
        "ORDER BY s.assignment_id, s.version, f.id",
        (instance_id,),
    )


async def file_content(db: Database, file_id: int) -> bytes | None:
    row = await db.fetch_one("SELECT content FROM submission_files WHERE id = ?", (file_id,))
    return row["content"] if row else None


async def texts_of_instance(db: Database, instance_id: int) -> list[aiosqlite.Row]:
    """Every hand-in that carries text: assignment_id, version, submitted_at, text."""
    return await db.fetch_all(
        "SELECT s.assignment_id, s.version, s.submitted_at, s.text FROM submissions s "
        "JOIN assignments a ON a.id = s.assignment_id WHERE a.instance_id = ? "
        "AND s.text IS NOT NULL AND s.text != '' ORDER BY s.assignment_id, s.version",
        (instance_id,),
    )
