"""Telegram counts its text limits in UTF-16 code units, so a text of emoji (two units each)
that fits by ``len`` can still be too long: the adapter must split by Telegram's count. Real
HTTP to the emulator, which refuses a message over the limit as Telegram does."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram.ext import Application

from bot.adapters.telegram import adapter as telegram_adapter
from bot.core.messaging import OutgoingFile, OutgoingMessage
from bot.sandbox.telegram.api import TelegramEmulator

TOKEN = "123456:HUIWU-TEXT"


@pytest.fixture
async def on_emulator() -> AsyncIterator[tuple[TelegramEmulator, Application]]:
    async with TelegramEmulator() as emulator:
        emulator.add_bot(TOKEN)
        application = telegram_adapter.build_application(TOKEN, base_url=emulator.base_url)
        await application.initialize()
        try:
            yield emulator, application
        finally:
            await application.shutdown()


def test_an_emoji_counts_two_units() -> None:
    assert telegram_adapter.telegram_length("进度😀") == 4
    assert len("进度😀") == 3


async def test_emoji_text_within_len_but_over_telegrams_count_is_split(
    on_emulator: tuple[TelegramEmulator, Application],
) -> None:
    emulator, application = on_emulator
    chat = emulator.add_user("成员")
    emulator.open_private_chat(chat)
    text = "😀" * 3000  # 3,000 characters, 6,000 UTF-16 units
    messenger = telegram_adapter.TelegramMessenger(application)
    await messenger.send(str(chat), OutgoingMessage(text))
    parts = [entry.text for entry in emulator.bot_messages(chat)]
    assert len(parts) == 2
    assert "".join(parts) == text
    assert all(
        telegram_adapter.telegram_length(part) <= telegram_adapter.MAX_TEXT for part in parts
    )


async def test_an_emoji_caption_over_the_count_goes_as_text_before_the_file(
    on_emulator: tuple[TelegramEmulator, Application],
) -> None:
    emulator, application = on_emulator
    chat = emulator.add_user("成员")
    emulator.open_private_chat(chat)
    caption = "😀" * 600  # 600 characters, 1,200 units: over the 1,024 caption limit
    messenger = telegram_adapter.TelegramMessenger(application)
    await messenger.send(str(chat), OutgoingMessage(caption, file=OutgoingFile("a.txt", b"a")))
    shown = [
        (e.text, e.document.filename if e.document else None) for e in emulator.bot_messages(chat)
    ]
    assert shown == [(caption, None), ("", "a.txt")]
