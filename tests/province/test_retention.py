"""HUIWU_RETENTION_DAYS (issue 21): rows that only record what happened are pruned once old;
what is still to be sent, what stops a reminder from going twice and the plans' record stay."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from bot.sandbox.crash_harness import PHASE_START, fanout_plan, prepare_database
from storage import retention
from storage.db import Database
from storage.timefmt import to_db

NOW = datetime.fromisoformat("2014-12-01T09:00:00+08:00")
OLD = to_db(NOW - timedelta(days=200))
RECENT = to_db(NOW - timedelta(days=10))


async def count(db: Database, sql: str) -> int:
    row = await db.fetch_one(sql)
    assert row is not None
    return int(row[0])


async def test_prune_deletes_old_records_of_what_happened_and_keeps_the_rest(
    db: Database,
) -> None:
    finished = await prepare_database(db.path, fanout_plan([11, 12]), now=PHASE_START)  # type: ignore[arg-type]
    running = await prepare_database(db.path, fanout_plan([21, 22]), now=PHASE_START, group_id=None)  # type: ignore[arg-type]
    member = {
        plan: (await db.fetch_one("SELECT MIN(id) FROM members WHERE instance_id = ?", (plan,)))[0]  # type: ignore[index]
        for plan in (finished, running)
    }
    async with db.transaction() as conn:
        await conn.execute(
            "UPDATE plan_instances SET status = 'finished' WHERE id = ?", (finished,)
        )
        for key, state, sent in (
            ("sent-old", "sent", OLD),
            ("sent-recent", "sent", RECENT),
            ("failed-old", "failed", None),
            ("pending-old", "pending", None),
            ("held-old", "held", None),
        ):
            await conn.execute(
                "INSERT INTO outbox (dedupe_key, instance_id, platform, chat_id, payload, "
                "created_at, state, sent_at) VALUES (?, ?, 'telegram', '11', '{}', ?, ?, ?)",
                (key, finished, OLD, state, sent),
            )
        items = {}
        for name, status, updated in (("open", "in_progress", OLD), ("done", "done", OLD)):
            cursor = await conn.execute(
                "INSERT INTO rectification_items (instance_id, description, source, category, "
                "member_id, due_at, status, created_at, updated_at) "
                "VALUES (?, '整改', 'meeting', 'deadline', ?, ?, ?, ?, ?)",
                (finished, member[finished], OLD, status, OLD, updated),
            )
            items[name] = cursor.lastrowid
        log = [
            ("task:1:before:3", finished, OLD),  # a finished plan's task: pruned
            ("task:2:before:3", finished, RECENT),  # recent: kept
            ("task:3:before:3", running, OLD),  # a running plan's: kept
            (f"item:{items['open']}:before:3", finished, OLD),  # still reminded: kept
            (f"item:{items['done']}:before:3", finished, OLD),  # done long ago: pruned
        ]
        for key, plan, sent in log:
            await conn.execute(
                "INSERT INTO reminder_log (reminder_key, instance_id, member_id, kind, "
                "planned_for, sent_at) VALUES (?, ?, ?, 'before', ?, ?)",
                (key, plan, member[plan], sent, sent),
            )
        fields = json.dumps({"MsgType": "text"})
        for key, handled in (("msg:old", OLD), ("msg:recent", RECENT), ("msg:open", None)):
            await conn.execute(
                "INSERT INTO wecom_callbacks (dedupe_key, fields, received_at, handled_at) "
                "VALUES (?, ?, ?, ?)",
                (key, fields, OLD, handled),
            )
        cursor = await conn.execute(
            "INSERT INTO assignments (instance_id, task_id, member_id, status, due_at, "
            "assigned_at) VALUES (?, 'task1', ?, 'approved', ?, ?)",
            (finished, member[finished], OLD, OLD),
        )
        await conn.execute(
            "INSERT INTO submissions (assignment_id, version, text, submitted_at, late) "
            "VALUES (?, 1, '材料', ?, 0)",
            (cursor.lastrowid, OLD),
        )
        await conn.execute(
            "INSERT INTO surveys (id, instance_id, survey_key, opened_at) VALUES (1, ?, 's', ?)",
            (finished, OLD),
        )
        await conn.execute(
            "INSERT INTO ballots (ballot_key, survey_id, answers) VALUES (x'01', 1, '[]')"
        )

    pruned = await retention.prune(db, NOW, 180)

    assert pruned == {"outbox": 1, "reminder_log": 2, "wecom_callbacks": 1, "conversations": 0}
    keys = {r[0] for r in await db.fetch_all("SELECT dedupe_key FROM outbox")}
    assert keys == {"sent-recent", "failed-old", "pending-old", "held-old"}
    logged = {r[0] for r in await db.fetch_all("SELECT reminder_key FROM reminder_log")}
    assert logged == {"task:2:before:3", "task:3:before:3", f"item:{items['open']}:before:3"}
    callbacks = {r[0] for r in await db.fetch_all("SELECT dedupe_key FROM wecom_callbacks")}
    assert callbacks == {"msg:recent", "msg:open"}
    assert await count(db, "SELECT COUNT(*) FROM submissions") == 1
    assert await count(db, "SELECT COUNT(*) FROM ballots") == 1
    assert await count(db, "SELECT COUNT(*) FROM rectification_items") == 2
    assert await retention.prune(db, NOW, 180) == {
        "outbox": 0,
        "reminder_log": 0,
        "wecom_callbacks": 0,
        "conversations": 0,
    }
