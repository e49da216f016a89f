"""How long rebuilding the reminder schedule takes at start-up, and how much memory (issue 4).

Run: ``.venv/bin/python bench/reminders_rebuild.py [--members 10000] [--db FILE]``
(not collected by pytest). A real SQLite file holds one running plan with N members × 8
tasks (80,000 assignments for 10,000 members): half pending, some handed in, approved or
returned for changes, a few members and a task paused, and the reminders already due
logged as sent, as after a restart. Measured in the same run:

* **baseline**: a plain SELECT of the same rows (every assignment of the plan and every
  reminder-log key), fetched into Python;
* **rebuild at start-up**: a fresh core (plan parsed from its stored TOML) runs the
  reminder engine's pass: open items, pauses, log, the schedule of each item, what is due
  (nothing: all logged) and the next wake-up time;
* **next pass**: the same pass again with the plan and schedules cached (each wake-up);
* **peak memory** of the rebuild (tracemalloc, in a separate run so as not to slow the
  timing) and the maximum resident set size of this process, which only opens the database
  and rebuilds (the database is built in a child process).

Goal: the rebuild under 2 s and 200 MB on a 2-core machine.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

from bot.core.app import Huiwu
from bot.core.clock import ManualClock
from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.reminders import engine
from bot.run.scheduler import REMINDER_SOURCES
from storage import instances
from storage.db import Database
from storage.timefmt import to_db

NOW = datetime.fromisoformat("2013-12-18T10:00+08:00")
ASSIGNED = datetime.fromisoformat("2013-12-03T09:00+08:00")
DUES = [
    "2013-12-06",
    "2013-12-10",
    "2013-12-15",
    "2013-12-16",
    "2013-12-20",
    "2013-12-24",
    "2013-12-27",
    "2013-12-31",
]


def plan_text(members: int) -> str:
    roster = ['[[roster]]\nid = "m0"\nname = "成员0"\nroles = ["organizer", "member"]\n']
    roster += [f'[[roster]]\nid = "m{i}"\nname = "成员{i}"\n' for i in range(1, members)]
    tasks = [
        f'[[phases.tasks]]\nid = "t{n}"\ntitle = "任务{n}"\nassignees = ["@members"]\ndue = "{due}"\n'
        for n, due in enumerate(DUES)
    ]
    return (
        'title = "提醒基准"\ntimezone = "Asia/Shanghai"\n[reminders]\ncalendar = "cn"\n\n'
        + "\n".join(roster)
        + '\n[[phases]]\nid = "p"\ntitle = "阶段"\nstart = "2013-12-01"\nend = "2014-01-31"\n\n'
        + "\n".join(tasks)
    )


async def build(path: Path, members: int) -> None:
    """The database as it stands on 2013-12-18 at 10:00, after a restart."""
    rng = random.Random(4)
    text = plan_text(members)
    plan = load_plan_text(text)
    db = await Database.open(path)
    try:
        async with db.transaction() as conn:
            instance_id = await store_plan(conn, plan, text, loaded_by="bench", now=ASSIGNED)
            await instances.set_status(conn, instance_id, "active")
            member_ids = [m.id for m in await instances.members_of(db, instance_id)]
            rows, returned = [], []
            for task in plan.tasks:
                for member_id in member_ids:
                    status = rng.choices(
                        ["pending", "submitted", "approved", "returned"], [50, 25, 15, 10]
                    )[0]
                    rows.append(
                        (instance_id, task.id, member_id, status, to_db(task.due), to_db(ASSIGNED))
                    )
            await conn.executemany(
                "INSERT INTO assignments (instance_id, task_id, member_id, status, due_at, assigned_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                rows,
            )
            async with conn.execute(
                "SELECT id FROM assignments WHERE status = 'returned'"
            ) as cursor:
                returned = [row[0] for row in await cursor.fetchall()]
            back = to_db(datetime.fromisoformat("2013-12-12T15:00+08:00"))
            for assignment_id in returned:
                cursor = await conn.execute(
                    "INSERT INTO submissions (assignment_id, version, text, submitted_at, late) "
                    "VALUES (?, 1, 'v1', ?, 0)",
                    (assignment_id, back),
                )
                await conn.execute(
                    "INSERT INTO reviews (submission_id, reviewer_id, verdict, comment, reviewed_at) "
                    "VALUES (?, ?, 'returned', '请修改', ?)",
                    (cursor.lastrowid, member_ids[0], back),
                )
            for member_id in rng.sample(member_ids, members // 100):
                await conn.execute(
                    "INSERT INTO reminder_pauses (instance_id, member_id, paused_at) VALUES (?, ?, ?)",
                    (instance_id, member_id, to_db(ASSIGNED)),
                )
            await conn.execute(
                "INSERT INTO reminder_pauses (instance_id, subject, paused_at, resumed_at) "
                "VALUES (?, 'task:t2', ?, ?)",
                (instance_id, to_db(ASSIGNED), back),
            )
        # Log what is due now as sent, as the previous run did before it stopped.
        app = Huiwu(db, ManualClock(NOW), reminder_sources=REMINDER_SOURCES)
        found = await engine.survey(app, instance_id, plan, NOW)
        async with db.transaction() as conn:
            await conn.executemany(
                "INSERT INTO reminder_log (reminder_key, instance_id, member_id, kind, planned_for, sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (
                        due.key,
                        instance_id,
                        due.item.member_id,
                        due.planned.kind.value,
                        to_db(due.planned.send_at),
                        to_db(due.planned.send_at),
                    )
                    for due in found.due
                ],
            )
    finally:
        await db.close()


async def baseline(path: Path) -> float:
    db = await Database.open(path)
    try:
        started = time.perf_counter()
        rows = await db.fetch_all("SELECT * FROM assignments WHERE instance_id = 1")
        keys = await db.fetch_all("SELECT reminder_key FROM reminder_log WHERE instance_id = 1")
        elapsed = time.perf_counter() - started
        assert rows and keys
        return elapsed
    finally:
        await db.close()


async def rebuild(path: Path) -> tuple[float, float, int]:
    """A fresh core's first pass, then a second one; and how many items were due (0)."""
    db = await Database.open(path)
    try:
        app = Huiwu(db, ManualClock(NOW), reminder_sources=REMINDER_SOURCES)
        engine.planner.schedule.cache_clear()
        started = time.perf_counter()
        next_at = await engine.run_due(app)
        first = time.perf_counter() - started
        started = time.perf_counter()
        again = await engine.run_due(app)
        second = time.perf_counter() - started
        assert next_at is not None and again == next_at
        queued = await db.fetch_one("SELECT COUNT(*) FROM outbox")
        return first, second, int(queued[0]) if queued else -1
    finally:
        await db.close()


async def peak_memory(path: Path) -> float:
    tracemalloc.start()
    await rebuild(path)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def _build_sync(path: Path, members: int) -> None:
    asyncio.run(build(path, members))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--db", help="keep the database here (built if absent)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="huiwu-bench-") as folder:
        path = Path(args.db) if args.db else Path(folder) / "reminders.sqlite3"
        if not path.exists():
            started = time.perf_counter()
            # Built in a child process, so this one's memory figures are the rebuild's own.
            child = multiprocessing.Process(target=_build_sync, args=(path, args.members))
            child.start()
            child.join()
            if child.exitcode != 0:
                return 1
            print(
                f"built {args.members:,} members × {len(DUES)} tasks in {path.name} "
                f"({path.stat().st_size / 2**20:.1f} MB) in {time.perf_counter() - started:.1f} s"
            )
        base = statistics.median(asyncio.run(baseline(path)) for _ in range(args.repeat))
        runs = [asyncio.run(rebuild(path)) for _ in range(args.repeat)]
        first = statistics.median(r[0] for r in runs)
        second = statistics.median(r[1] for r in runs)
        assert all(r[2] == 0 for r in runs), "a reminder was queued: the log is incomplete"
        # Before tracemalloc, whose own bookkeeping would swell the resident size.
        max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        peak = asyncio.run(peak_memory(path))
    print(f"{'what':<52} {'seconds':>8} {'ratio':>7}")
    print(f"{'baseline: SELECT the assignments and log keys':<52} {base:>8.3f} {1:>7.2f}")
    print(
        f"{'rebuild at start-up (fresh core, plan parsed)':<52} {first:>8.3f} {first / base:>7.2f}"
    )
    print(f"{'next pass (plan and schedules cached)':<52} {second:>8.3f} {second / base:>7.2f}")
    print(f"peak traced memory of the rebuild: {peak:.1f} MB (Python objects)")
    print(f"max resident set size of this process: {max_rss:.1f} MB (imports, SQLite, rebuilds)")
    goal_met = first < 2.0 and max_rss < 200
    print(f"goal (< 2 s, < 200 MB): {'met' if goal_met else 'NOT met'}")
    return 0 if goal_met else 1


if __name__ == "__main__":
    sys.exit(main())
