"""The clock's steps skip a plan nothing touched since they last planned it (issue 21), and see
at once whatever changed it: a row of the plan written here or another process's commit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.core.app import Huiwu, PlatformInfo
from bot.core.clock import ManualClock
from bot.delivery.sender import OutboxSender, SendPolicy
from bot.run.scheduler import REMINDER_SOURCES, tick
from bot.sandbox.crash_harness import PHASE_START, fanout_plan, prepare_database
from storage import outbox
from storage.db import Database
from storage.timefmt import to_db

NOW = datetime.fromisoformat("2013-12-02T10:00:00+08:00")  # the day before the phase starts
USERS = [7_300_000_001, 7_300_000_002]


class Unsent:
    """A platform whose sender is never started: what is queued stays in the outbox."""

    platform = "telegram"


async def two_plans(path: Path) -> None:
    await prepare_database(path, fanout_plan(USERS), now=PHASE_START, group_id=None)
    await prepare_database(path, fanout_plan(USERS), now=PHASE_START, group_id=None)


async def test_a_task_given_after_a_quiet_tick_is_reminded_at_the_next_tick(
    tmp_path: Path,
) -> None:
    path = tmp_path / "huiwu.sqlite3"
    await two_plans(path)
    db = await Database.open(path)
    try:
        clock = ManualClock(NOW)
        app = Huiwu(db, clock, reminder_sources=REMINDER_SOURCES)
        sender = OutboxSender(db, clock, Unsent(), SendPolicy())  # type: ignore[arg-type]
        app.add_platform("telegram", PlatformInfo(sender))
        await tick(app)
        assert await outbox.messages(db) == []
        assert set(app.memo["reminders"]) == {1, 2}  # both planned, nothing due

        # A task due tonight, given last week: its due-day reminder (09:00) is due now.
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO assignments (instance_id, task_id, member_id, status, due_at, "
                "assigned_at) VALUES (2, 'task1', ?, 'pending', ?, ?)",
                (
                    (await db.fetch_one("SELECT MIN(id) FROM members WHERE instance_id = 2"))[0],  # type: ignore[index]
                    to_db(datetime.fromisoformat("2013-12-02T23:59:59+08:00")),
                    to_db(datetime.fromisoformat("2013-11-25T09:00:00+08:00")),
                ),
            )
        await tick(app)  # the same instant: only the changed plan is planned again
        queued = await outbox.messages(db)
        assert len(queued) == 1 and queued[0].instance_id == 2
        assert queued[0].dedupe_key is not None and queued[0].dedupe_key.startswith("reminder:")
    finally:
        await db.close()


async def test_a_plan_changed_by_another_process_is_planned_again(tmp_path: Path) -> None:
    path = tmp_path / "huiwu.sqlite3"
    await two_plans(path)
    db = await Database.open(path)
    other = await Database.open(path)
    try:
        await db.changes.refresh()
        first, second = db.changes.version(1), db.changes.version(2)
        async with db.transaction() as conn:  # this process: the instance's version moves
            await conn.execute("UPDATE members SET name = '新名' WHERE instance_id = 1")
        await db.changes.refresh()
        assert db.changes.version(1) != first
        assert db.changes.version(2) == second  # the other plan is untouched
        moved = db.changes.version(2)
        async with other.transaction() as conn:  # another process: every version moves
            await conn.execute("UPDATE plan_instances SET title = '改' WHERE id = 1")
        await db.changes.refresh()
        assert db.changes.version(2) != moved
    finally:
        await other.close()
        await db.close()
