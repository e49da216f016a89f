"""The bot killed with SIGKILL in the middle of a fan-out and started again: every member
gets the push, and only messages that were in flight at the kill may arrive twice."""

from __future__ import annotations

import contextlib
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from bot.adapters.telegram.adapter import TELEGRAM_POLICY
from bot.sandbox.crash_harness import (
    GROUP_ID,
    PHASE_START,
    TOKEN,
    BotProcess,
    add_members,
    fanout_plan,
    prepare_database,
    wait_until,
)
from bot.sandbox.telegram.api import TelegramEmulator
from storage.db import Database

MEMBERS = 150


def unsent_rows(db_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM outbox WHERE state != 'sent'").fetchone()[0])


pytestmark = pytest.mark.slow


async def test_sigkill_during_a_fan_out_loses_nothing_and_duplicates_at_most_the_in_flight(
    tmp_path: Path,
) -> None:
    async with TelegramEmulator() as emulator:  # Telegram's flood limits are enforced
        emulator.add_bot(TOKEN)
        members = add_members(emulator, MEMBERS)
        emulator.add_group("压力测试群", members[:1], chat_id=GROUP_ID)
        db_path = tmp_path / "huiwu.sqlite3"
        await prepare_database(db_path, fanout_plan(members), now=PHASE_START)
        bot = BotProcess(db_path, emulator, workdir=tmp_path)

        def pushes() -> Counter[int]:
            return Counter(
                {
                    uid: len(emulator.bot_messages(uid))
                    for uid in members
                    if emulator.bot_messages(uid)
                }
            )

        await bot.start()
        try:
            await wait_until(
                lambda: emulator.stats.messages_sent >= MEMBERS // 4,
                timeout=30,
                what="a quarter of the fan-out",
                bot=bot,
            )
            bot.kill()
            assert await bot.wait() == -9
            before_restart = pushes()
            assert 0 < sum(before_restart.values()) < MEMBERS  # killed in the middle

            await bot.start()
            await wait_until(
                lambda: len(pushes()) == MEMBERS and emulator.bot_messages(GROUP_ID),
                timeout=60,
                what="every member's push and the group's notice",
                bot=bot,
            )
            assert "in flight at the last stop: " in bot.log()
            await wait_until(
                lambda: unsent_rows(db_path) == 0, timeout=10, what="every row marked", bot=bot
            )
        finally:
            await bot.stop()

    counts = pushes()
    assert set(counts) == set(members)  # nobody lost
    duplicated = [uid for uid, count in counts.items() if count > 1]
    assert all(counts[uid] == 2 for uid in duplicated)
    # Only a message sent but not yet marked at the kill can come twice: at most the ones
    # in flight, which the sender bounds by its concurrency.
    assert len(duplicated) <= TELEGRAM_POLICY.concurrency
    assert all(before_restart[uid] == 1 for uid in duplicated)
    assert len(emulator.bot_messages(GROUP_ID)) == 1  # the phase start, once
    assert emulator.stats.too_many_requests == 0
    db = await Database.open(str(db_path))
    try:
        states = await db.fetch_all("SELECT state, COUNT(*) FROM outbox GROUP BY state")
        assert {row[0]: row[1] for row in states} == {"sent": MEMBERS + 1}
        runs = await db.fetch_all("SELECT COUNT(*) FROM phase_runs")
        assert runs[0][0] == 1
    finally:
        await db.close()
