"""The outbox sender of one SQLite file, talking real HTTP to a Telegram emulator."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

from bot.adapters.telegram import adapter as telegram_adapter
from bot.adapters.telegram.adapter import TELEGRAM_POLICY
from bot.core.clock import Clock
from bot.delivery.sender import OutboxSender
from bot.sandbox.telegram.api import TelegramEmulator
from bot.sandbox.telegram.limits import FaultPlan
from storage.db import Database

TOKEN = "123456:HUIWU-FAULTS"


@contextlib.asynccontextmanager
async def sender_on_emulator(
    db_path: Path, clock: Clock, *, faults: FaultPlan | None = None, first_backoff: float = 0.05
) -> AsyncIterator[tuple[TelegramEmulator, OutboxSender]]:
    """A running emulator and a sender (not started) with short backoffs, closed afterwards."""
    async with TelegramEmulator(faults=faults) as emulator:
        emulator.add_bot(TOKEN)
        application = telegram_adapter.build_application(TOKEN, base_url=emulator.base_url)
        await application.initialize()
        db = await Database.open(str(db_path))
        policy = dataclasses.replace(
            TELEGRAM_POLICY, first_backoff=first_backoff, max_backoff=10 * first_backoff
        )
        sender = OutboxSender(db, clock, telegram_adapter.TelegramMessenger(application), policy)
        try:
            yield emulator, sender
        finally:
            await sender.stop()
            await db.close()
            await application.shutdown()
