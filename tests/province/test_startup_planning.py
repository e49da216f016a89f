"""After a start, no plan is known to the clock's steps: the scheduler plans them in slices,
ticking again at once for the rest, so a command sent at start-up is answered before the last
plan is planned, and every reminder due at start-up still goes out once (issue 21)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from bot.adapters.telegram import adapter as telegram_adapter
from bot.adapters.telegram.adapter import TELEGRAM_POLICY
from bot.core.app import Huiwu, PlatformInfo
from bot.core.clock import ManualClock
from bot.core.messaging import ChatType, Event
from bot.delivery.sender import OutboxSender
from bot.run.scheduler import REMINDER_SOURCES, PlanScheduler, tick
from bot.sandbox.crash_harness import PHASE_START, fanout_plan, prepare_database
from bot.sandbox.telegram.api import TelegramEmulator
from handlers.router import dispatch
from storage import outbox
from storage.db import Database
from storage.timefmt import to_db

TOKEN = "123456:HUIWU-STARTUP"
NOW = datetime.fromisoformat("2013-12-02T10:00:00+08:00")  # 09:00 reminders are due
DUE = datetime.fromisoformat("2013-12-02T23:59:59+08:00")
GIVEN = datetime.fromisoformat("2013-11-25T09:00:00+08:00")
PLANS = 5
SLICE = 2


def users_of(plan: int) -> list[int]:
    return [7_400_000_000 + 10 * plan + n for n in (1, 2)]


async def world(path: Path) -> None:
    """Five plans, each with two members owing a task due tonight, given last week."""
    for plan in range(PLANS):
        await prepare_database(path, fanout_plan(users_of(plan)), now=PHASE_START, group_id=None)
    db = await Database.open(str(path))
    try:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO assignments (instance_id, task_id, member_id, status, due_at, "
                "assigned_at) SELECT instance_id, 'task1', id, 'pending', ?, ? FROM members",
                (to_db(DUE), to_db(GIVEN)),
            )
    finally:
        await db.close()


async def test_startup_plans_in_slices_answers_a_command_between_and_reminds_each_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "huiwu.sqlite3"
    await world(path)
    async with TelegramEmulator() as emulator:
        emulator.add_bot(TOKEN)
        everyone = [user for plan in range(PLANS) for user in users_of(plan)]
        for user in everyone:
            emulator.add_user(f"成员{user}", user_id=user)
            emulator.open_private_chat(user)
        application = telegram_adapter.build_application(TOKEN, base_url=emulator.base_url)
        await application.initialize()
        db = await Database.open(str(path))
        clock = ManualClock(NOW)
        sender = OutboxSender(
            db, clock, telegram_adapter.TelegramMessenger(application), TELEGRAM_POLICY
        )
        try:
            app = Huiwu(db, clock, reminder_sources=REMINDER_SOURCES)
            app.add_platform("telegram", PlatformInfo(sender))
            await sender.start()
            scheduler = PlanScheduler(app, plan_slice=SLICE)

            await scheduler.tick_once()  # the first tick after the start: one slice of plans
            assert not scheduler.first_pass_done
            first_slice = [r.instance_id for r in await outbox.messages(db)]
            assert sorted(set(first_slice)) == [1, 2]

            asker = users_of(PLANS - 1)[0]  # whose plan is not planned yet
            await dispatch(
                app,
                Event(
                    platform="telegram",
                    chat_id=str(asker),
                    chat_type=ChatType.PRIVATE,
                    user_id=str(asker),
                    user_name="成员",
                    language="zh_CN",
                    text="/mytasks",
                    command="mytasks",
                ),
            )
            for _ in range(10):  # the next slices (wake() runs them one after the other)
                if scheduler.first_pass_done:
                    break
                await scheduler.tick_once()
            # three slices of two: a plan planned once is planned again (its reminder log
            # changed) without taking a new plan's place
            assert scheduler.first_pass_done and scheduler.slices == 3

            rows = await outbox.messages(db)
            answers = [r.id for r in rows if r.dedupe_key is None]
            reminders = [r for r in rows if r.dedupe_key is not None]
            # the answer was queued while plans were left to plan, not after all of them
            assert len(answers) == 1
            assert max(r.id for r in reminders if r.instance_id == PLANS) > answers[0]
            # every member of every plan has one reminder, none twice
            assert sorted(r.chat_id for r in reminders) == sorted(str(u) for u in everyone)
            await tick(app)  # planning everything again at the same instant adds nothing
            await scheduler.wake()
            assert len(await outbox.messages(db)) == len(rows)
            # another start: one wake plans every plan, slice after slice, and doubles nothing
            app.memo.clear()
            restarted = PlanScheduler(app, plan_slice=SLICE)
            await restarted.wake()
            assert restarted.first_pass_done and restarted.slices == 3
            assert len(await outbox.messages(db)) == len(rows)

            await sender.drain()
            for user in everyone:
                texts = [m.text for m in emulator.bot_messages(user)]
                assert len(texts) == (2 if user == asker else 1), (user, texts)
                assert sum("任务1" in text for text in texts) >= 1
        finally:
            await sender.stop()
            await db.close()
            await application.shutdown()
