"""``kill -9`` in the middle of sending reminders: ``huiwu run`` (a real subprocess, in
simulated time) against the Telegram emulator, killed while it sends, then started again.

Nothing may be lost, and nothing may arrive twice except a message that was in flight
at the kill (sent but not yet marked sent; the outbox sends it again): at most one per chat.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest

from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.sandbox.telegram.api import TelegramEmulator
from storage import assignments, instances
from storage.db import Database
from tests.e2e.conftest import zh

pytestmark = pytest.mark.slow

TOKEN = "424242:HUIWU-CRASH"
MEMBERS = 60
ASSIGNED = "2013-12-10T09:00+08:00"
TASK_TITLE = "撰写剖析材料"
UNSENT = "SELECT 1 FROM outbox WHERE state != 'sent' LIMIT 1"


def plan_text(user_ids: list[int]) -> str:
    roles = ['["organizer", "member"]'] + ['["member"]'] * (len(user_ids) - 1)
    roster = "".join(
        f'[[roster]]\nid = "m{i}"\nname = "成员{i}"\nroles = {roles[i]}\ntelegram_id = {uid}\n\n'
        for i, uid in enumerate(user_ids)
    )
    return (
        'title = "崩溃测试"\ntimezone = "Asia/Shanghai"\n\n'
        + roster
        + '[[phases]]\nid = "p"\ntitle = "准备"\nstart = "2013-12-10"\nend = "2013-12-31"\n\n'
        + f'[[phases.tasks]]\nid = "statement"\ntitle = "{TASK_TITLE}"\nassignees = ["@members"]\n'
        + 'due = "2013-12-20"\nsubmission = "text"\n'
    )


async def prepare(db_path: Path, user_ids: list[int]) -> None:
    """The plan loaded and running since 12-10 09:00: everybody has the task."""
    text = plan_text(user_ids)
    plan = load_plan_text(text)
    assigned = datetime.fromisoformat(ASSIGNED)
    db = await Database.open(db_path)
    try:
        async with db.transaction() as conn:
            instance_id = await store_plan(conn, plan, text, loaded_by="test", now=assigned)
            await instances.set_status(conn, instance_id, "active")
            await assignments.start_phase(conn, instance_id, "p", assigned)
            task = plan.task("statement")
            for member in await instances.members_of(db, instance_id):
                await assignments.assign(conn, instance_id, task.id, member.id, task.due, assigned)
    finally:
        await db.close()


async def run_bot(db_path: Path, base_url: str, start: str) -> asyncio.subprocess.Process:
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": base_url,
        "HUIWU_DB": str(db_path),
        "HUIWU_CLOCK_START": start,
        "HUIWU_CLOCK_SPEED": "60",  # a simulated minute a second
        "HUIWU_LOG_LEVEL": "WARNING",
    }
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.run.cli", "run", env=env, cwd=db_path.parent
    )


def reminders_received(emulator: TelegramEmulator, user_id: int) -> int:
    head = zh("Reminder: {title}", title="")[:2]  # "提醒"
    return sum(
        1
        for entry in emulator.bot_messages(user_id)
        if entry.text.startswith(head + "：“" + TASK_TITLE)
    )


async def wait_until(condition: Callable[[], bool], seconds: float) -> None:
    async with asyncio.timeout(seconds):
        while not condition():  # noqa: ASYNC110 - the emulator has no event across chats
            await asyncio.sleep(0.02)


async def wait_for_outbox_sent(db_path: Path, seconds: float) -> None:
    """Until the running bot has marked every row of its outbox sent (read beside it: WAL)."""
    db = await Database.open(db_path)
    try:
        async with asyncio.timeout(seconds):
            # Another process writes the file: there is nothing to await but time.
            while await db.fetch_one(UNSENT):  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await db.close()


async def test_kill_9_while_sending_reminders_loses_none_and_repeats_only_what_was_in_flight(
    tmp_path: Path,
) -> None:
    async with TelegramEmulator() as emulator:
        emulator.add_bot(TOKEN, username="huiwu_crash_bot")
        user_ids = [emulator.add_user(f"成员{i}") for i in range(MEMBERS)]
        db_path = tmp_path / "huiwu.sqlite3"
        await prepare(db_path, user_ids)
        for user_id in user_ids:
            emulator.send_text(user_id, "/start")  # waits in getUpdates for the bot

        def total() -> int:
            return sum(reminders_received(emulator, u) for u in user_ids)

        # 12-17 09:00 is "3 days before" for everybody: due two real seconds after start.
        first = await run_bot(db_path, emulator.base_url, "2013-12-17T08:58+08:00")
        try:
            await wait_until(lambda: total() >= MEMBERS // 4, 60)
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        at_kill = total()
        assert first.returncode == -signal.SIGKILL
        assert at_kill < MEMBERS, "the kill came after every reminder was sent"

        second = await run_bot(db_path, emulator.base_url, "2013-12-17T09:05+08:00")
        try:
            await wait_until(
                lambda: all(reminders_received(emulator, u) >= 1 for u in user_ids), 60
            )
            await wait_for_outbox_sent(db_path, 60)  # also those it sends a second time
        finally:
            second.send_signal(signal.SIGTERM)
            await second.wait()
        assert second.returncode == 0

    counts = [reminders_received(emulator, u) for u in user_ids]
    db = await Database.open(db_path)
    try:
        logged = await db.fetch_all("SELECT reminder_key FROM reminder_log ORDER BY reminder_key")
        rows = await db.fetch_all(
            "SELECT state, attempts FROM outbox WHERE dedupe_key LIKE 'reminder:%'"
        )
    finally:
        await db.close()
    # Every member got the reminder; it was planned, logged and queued exactly once each.
    assert min(counts) == 1
    assert len(logged) == MEMBERS
    assert all(key.endswith(":before:3") for (key,) in logged)
    assert len(rows) == MEMBERS and all(state == "sent" for state, _a in rows)
    # The only repeats are rows claimed before the kill and sent again after it, and only
    # the one in the air in its chat then (sent, not yet marked): at most one per chat.
    resent = sum(1 for _state, attempts in rows if attempts > 1)
    duplicates = sum(count - 1 for count in counts)
    assert resent >= MEMBERS - at_kill - 1  # the restart finished what the kill interrupted
    assert duplicates <= resent
    assert max(counts) <= 2
