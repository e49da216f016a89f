"""Issue 22, item 3: the database refuses the sender's writes in the middle of a fan-out.

Simulated with real SQLite on the sender's own connection: ``PRAGMA query_only`` makes every
write fail with SQLITE_READONLY, as a read-only file (or a disk so full that the write-ahead
log cannot grow) does; no filesystem is mounted. It is switched on right after the second
message reaches the Telegram emulator, so that message is sent and cannot be marked. Every
message must still go out exactly once, in order per chat, none left 'sending', and the
sender must stop cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.messaging import Messenger, OutgoingMessage
from bot.delivery.sender import OutboxSender
from bot.sandbox.telegram.api import TelegramEmulator
from storage import outbox
from tests.faults.conftest import sender_on_emulator

START = datetime(2013, 12, 2, 2, 0, tzinfo=UTC)


class ReadOnlyAfter:
    """The real messenger; after ``sends`` messages the database turns read-only."""

    def __init__(self, messenger: Messenger, sender: OutboxSender, sends: int) -> None:
        self.inner = messenger
        self.platform = messenger.platform
        self.sender = sender
        self.left = sends
        self.turned = asyncio.Event()

    async def send(self, chat_id: str, message: OutgoingMessage) -> None:
        await self.inner.send(chat_id, message)
        self.left -= 1
        if self.left == 0:
            await self.sender.db.connection.execute("PRAGMA query_only = 1")
            self.turned.set()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@pytest.fixture
async def sender_on(tmp_path: Path) -> AsyncIterator[tuple[TelegramEmulator, OutboxSender]]:
    async with sender_on_emulator(
        tmp_path / "readonly.sqlite3", ManualClock(START), first_backoff=0.02
    ) as pair:
        yield pair


async def test_marks_refused_mid_fan_out_are_written_later_and_nothing_is_sent_twice(
    sender_on: tuple[TelegramEmulator, OutboxSender],
) -> None:
    emulator, sender = sender_on
    chats = [emulator.add_user(f"成员{i}") for i in range(3)]
    for chat in chats:
        emulator.open_private_chat(chat)
    async with sender.db.transaction() as conn:
        for number in range(4):
            for chat in chats:
                await outbox.enqueue(
                    conn,
                    platform="telegram",
                    chat_id=str(chat),
                    payload=OutgoingMessage(f"第{number}条").to_json(),
                    now=START,
                )
    probe = ReadOnlyAfter(sender.messenger, sender, sends=2)
    sender.messenger = probe  # type: ignore[assignment]
    await sender.start()
    await asyncio.wait_for(probe.turned.wait(), 10)
    for _step in range(500):  # the sender notices (bounded)
        if sender.outage.failures >= 3:
            break
        await asyncio.sleep(0.01)
    assert sender.outage.active
    assert sender._task is not None and not sender._task.done()

    await sender.db.connection.execute("PRAGMA query_only = 0")
    sender.wake()
    await sender.drain(20)

    for chat in chats:
        assert [e.text for e in emulator.bot_messages(chat)] == [f"第{n}条" for n in range(4)]
    records = await outbox.messages(sender.db, platform="telegram")
    assert {r.state for r in records} == {"sent"}
    assert not sender.outage.active
    await sender.stop()  # nothing raises at shutdown
