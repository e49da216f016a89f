"""The sender's claim depth bounds a burst: the rows claimed and not finished (waiting in a
chat's queue, for a limit, or in flight) never exceed it, whatever the limiter does with them
(issue 21). Counting only the rows still in the chats' queues let a burst claim everything:
each chat's row leaves its queue at once to wait for the overall limit."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from datetime import datetime
from pathlib import Path

from bot.adapters.telegram import adapter as telegram_adapter
from bot.adapters.telegram.adapter import TELEGRAM_POLICY
from bot.core.clock import ManualClock
from bot.core.messaging import OutgoingMessage
from bot.delivery.limits import RateLimiter
from bot.delivery.sender import OutboxSender
from bot.sandbox.telegram.api import TelegramEmulator
from storage import outbox
from storage.db import Database

TOKEN = "123456:HUIWU-CLAIM-BOUND"
NOW = datetime.fromisoformat("2013-12-09T09:00:00+08:00")
CHATS = 90
DEPTH = 20


class FlatTime:
    """The limiter's and the emulator's one monotonic clock: it moves only when the limiter
    sleeps, so Telegram's 30 a second are enforced without waiting for them."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 1e-6)
        await asyncio.sleep(0)


async def test_rows_claimed_and_not_finished_never_exceed_the_claim_depth(
    tmp_path: Path,
) -> None:
    path = tmp_path / "burst.sqlite3"
    time = FlatTime()
    async with TelegramEmulator(clock=time) as emulator:
        emulator.add_bot(TOKEN)
        users = [emulator.add_user(f"成员{n}") for n in range(CHATS)]
        for user in users:
            emulator.open_private_chat(user)
        application = telegram_adapter.build_application(TOKEN, base_url=emulator.base_url)
        await application.initialize()
        db = await Database.open(str(path))
        watcher = sqlite3.connect(path)
        sender = OutboxSender(
            db,
            ManualClock(NOW),
            telegram_adapter.TelegramMessenger(application),
            dataclasses.replace(TELEGRAM_POLICY, claim_depth=DEPTH),
            limiter=RateLimiter(clock=time, sleep=time.sleep),
        )
        try:
            async with db.transaction() as conn:  # a 09:00 burst: one reminder to each chat
                for n, user in enumerate(users):
                    await outbox.enqueue(
                        conn,
                        platform="telegram",
                        chat_id=str(user),
                        payload=OutgoingMessage(f"提醒 {n}").to_json(),
                        now=NOW,
                        dedupe_key=f"reminder:{n}",
                    )
            claimed_seen: list[int] = []

            def sending() -> int:
                row = watcher.execute("SELECT COUNT(*) FROM outbox WHERE state = 'sending'")
                return int(row.fetchone()[0])

            async def watch() -> None:
                while True:
                    claimed_seen.append(sending())
                    await asyncio.sleep(0)

            watching = asyncio.create_task(watch())
            await sender.start()
            try:
                await sender.drain(seconds=60)
            finally:
                watching.cancel()
            assert max(claimed_seen) <= DEPTH  # never passed ...
            assert max(claimed_seen) == DEPTH  # ... and reached
            delivered = [len(emulator.bot_messages(user)) for user in users]
            assert delivered == [1] * CHATS  # every reminder once
            assert emulator.stats.too_many_requests == 0
            assert sender.claimed == 0 and sending() == 0
            # 90 sends at 30 a second: three windows of the (flat) clock, not one
            assert time.now - 1000.0 >= 2.0
        finally:
            watcher.close()
            await sender.stop()
            await db.close()
            await application.shutdown()
