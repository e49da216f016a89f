"""The outbox sender and the Telegram adapter under injected faults, over real HTTP: 5xx
answers, timeouts, dropped connections and 429s at random (seeded). Every message reaches
its chat exactly once and in order, long texts split in parts (no part twice) and files."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.adapters.telegram import adapter as telegram_adapter
from bot.core.clock import SystemClock
from bot.core.formatting import split_text
from bot.core.messaging import OutgoingFile, OutgoingMessage
from bot.delivery.sender import OutboxSender
from bot.sandbox.telegram.api import TelegramEmulator
from bot.sandbox.telegram.limits import FaultPlan
from storage import outbox
from tests.faults.conftest import sender_on_emulator

CHATS = 12
ALL_KINDS = {"server_error", "timeout", "drop_connection", "too_many"}


def messages_for(chat: int) -> list[OutgoingMessage]:
    """Short texts, a text of three parts, a file with a long caption, a file, a photo."""
    long_text = "\n".join(f"{chat}-{line:04d} " + "长" * 60 for line in range(140))
    return [
        OutgoingMessage(f"第一条 {chat}"),
        OutgoingMessage(long_text),
        OutgoingMessage("附件说明" * 300, file=OutgoingFile("材料.docx", b"PK\x03\x04" * 50)),
        OutgoingMessage(f"第四条 {chat}", file=OutgoingFile("notes.txt", b"notes", "text/plain")),
        OutgoingMessage("", file=OutgoingFile("photo.jpg", b"\xff\xd8\xff" * 20, is_photo=True)),
        OutgoingMessage(f"最后一条 {chat}"),
    ]


def expected_entries(message: OutgoingMessage) -> list[tuple[str, str | None]]:
    """What a chat shows for one message: (text or caption, file name) per Telegram message."""
    if message.file is None:
        return [
            (part, None)
            for part in split_text(
                message.text, telegram_adapter.MAX_TEXT, telegram_adapter.telegram_length
            )
        ]
    name = None if message.file.is_photo else message.file.name
    if telegram_adapter.telegram_length(message.text) > telegram_adapter.MAX_CAPTION:
        parts = split_text(
            message.text, telegram_adapter.MAX_TEXT, telegram_adapter.telegram_length
        )
        return [(part, None) for part in parts] + [("", name)]
    return [(message.text, name)]


@pytest.fixture
async def sender_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[TelegramEmulator, OutboxSender]]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    faults = FaultPlan(
        seed=9,
        p_server_error=0.12,
        p_timeout=0.06,
        p_drop_connection=0.08,
        p_too_many=0.08,
        timeout_delay=0.3,
        methods=frozenset({"sendMessage", "sendDocument", "sendPhoto"}),
    )
    async with sender_on_emulator(
        tmp_path / "faults.sqlite3", SystemClock(), faults=faults
    ) as pair:
        yield pair


async def test_every_message_arrives_exactly_once_in_order_under_random_faults(
    sender_on: tuple[TelegramEmulator, OutboxSender],
) -> None:
    emulator, sender = sender_on
    chats = [emulator.add_user(f"成员{i}") for i in range(CHATS)]
    for chat in chats:
        emulator.open_private_chat(chat)
    now = datetime.now(UTC)
    async with sender.db.transaction() as conn:
        for chat in chats:
            for message in messages_for(chat):
                await outbox.enqueue(
                    conn, platform="telegram", chat_id=str(chat), payload=message.to_json(), now=now
                )
    await sender.start()
    await sender.drain(120)

    for chat in chats:
        shown = [
            (entry.text, entry.document.filename if entry.document else None)
            for entry in emulator.bot_messages(chat)
        ]
        expected = [pair for message in messages_for(chat) for pair in expected_entries(message)]
        assert shown == expected, f"chat {chat}"
    states = await outbox.messages(sender.db, platform="telegram")
    assert {record.state for record in states} == {"sent"}
    stats = emulator.stats
    assert set(stats.faults_by_kind) == ALL_KINDS  # each kind was injected
    assert sender.stats.retried >= stats.injected_faults > 10
