"""A send that raises something unexpected (here: a row whose payload cannot be read) must
not strand the chat's other messages in 'sending' until a restart: the row is tried again a
few times and then kept as failed with its error, and the chat's later rows still go out,
in order, while other chats are not held up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.messaging import OutgoingMessage
from bot.delivery.sender import MAX_UNEXPECTED_ATTEMPTS, OutboxSender
from bot.sandbox.telegram.api import TelegramEmulator
from storage import outbox
from tests.faults.conftest import sender_on_emulator

START = datetime(2013, 12, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
async def sender_on(tmp_path: Path) -> AsyncIterator[tuple[TelegramEmulator, OutboxSender]]:
    clock = ManualClock(START)
    async with sender_on_emulator(
        tmp_path / "unexpected.sqlite3", clock, first_backoff=0.02
    ) as pair:
        yield pair


async def test_an_unreadable_row_fails_alone_and_the_rest_of_its_chat_goes_out(
    sender_on: tuple[TelegramEmulator, OutboxSender],
) -> None:
    emulator, sender = sender_on
    first, other = emulator.add_user("成员甲"), emulator.add_user("成员乙")
    for chat in (first, other):
        emulator.open_private_chat(chat)
    now = START
    rows = [
        (first, OutgoingMessage("第一条").to_json()),
        (first, '{"text": '),  # cut short: no OutgoingMessage can be read from it
        (first, OutgoingMessage("第三条").to_json()),
        (other, OutgoingMessage("别的会话").to_json()),
    ]
    async with sender.db.transaction() as conn:
        for chat, payload in rows:
            await outbox.enqueue(
                conn, platform="telegram", chat_id=str(chat), payload=payload, now=now
            )
    clock = sender.clock
    assert isinstance(clock, ManualClock)
    await sender.start()
    # Each failed attempt is retried a little later on the clock: move it on past each one.
    for _attempt in range(MAX_UNEXPECTED_ATTEMPTS + 1):
        await sender.drain(20)
        await clock.advance(timedelta(seconds=1))
        sender.wake()
    await sender.drain(20)

    assert [e.text for e in emulator.bot_messages(first)] == ["第一条", "第三条"]
    assert [e.text for e in emulator.bot_messages(other)] == ["别的会话"]
    records = await outbox.messages(sender.db, platform="telegram")
    [broken] = [r for r in records if r.state == "failed"]
    assert broken.payload == '{"text": '
    assert broken.attempts == MAX_UNEXPECTED_ATTEMPTS
    error = await sender.db.fetch_one("SELECT last_error FROM outbox WHERE id = ?", (broken.id,))
    assert error is not None and error[0].startswith("JSONDecodeError")
    assert sorted(r.state for r in records) == ["failed", "sent", "sent", "sent"]
