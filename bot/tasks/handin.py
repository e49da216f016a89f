"""Handing in an assignment: the one place a hand-in is recorded, whoever hands it in (a
member confirming their draft, or the talks task completed by its last confirmed pair)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import aiosqlite

from storage import assignments
from storage.records import AssignmentRecord, FileCopy, SubmissionRecord


async def hand_in(
    conn: aiosqlite.Connection,
    record: AssignmentRecord,
    *,
    text: str | None,
    files: Iterable[FileCopy],
    now: datetime,
    whole_task: bool = False,
) -> SubmissionRecord:
    """Store a new version of the assignment's submission (late if after its deadline) and
    mark it submitted (``whole_task``: for every assignee of a collective task)."""
    submission = await assignments.add_submission(
        conn, record.id, text=text, files=files, now=now, late=now > record.due_at
    )
    await assignments.set_assignment_status(conn, record, "submitted", whole_task=whole_task)
    return submission
