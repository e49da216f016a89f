"""Telegram updates in (bot/adapters/telegram/updates.py): the next getUpdates waits until the
updates already fetched are handled, so a busy bot fetches in batches; one user's updates stay
in order while different users' are handled at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.adapters.telegram import updates as telegram_updates
from bot.adapters.telegram.adapter import build_application, install
from bot.core.messaging import Event
from bot.sandbox.telegram.api import TelegramEmulator

TOKEN = "123456:TEST-token"


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emulator:
        emulator.add_bot(TOKEN)
        yield emulator


async def test_ready_at_once_when_everything_fetched_is_handled() -> None:
    pacer = telegram_updates.UpdatePacer(max_delay=30)
    async with asyncio.timeout(1):
        await pacer.ready()
    pacer.note_fetched()
    pacer.note_handled()
    async with asyncio.timeout(1):
        await pacer.ready()


async def test_ready_waits_for_the_last_fetched_update_to_be_handled() -> None:
    pacer = telegram_updates.UpdatePacer(max_delay=30)
    pacer.note_fetched()
    pacer.note_fetched()
    waiting = asyncio.create_task(pacer.ready())
    pacer.note_handled()
    await asyncio.sleep(0.01)
    assert not waiting.done()
    pacer.note_handled()
    async with asyncio.timeout(1):
        await waiting


async def test_a_stuck_handler_holds_the_next_poll_back_only_briefly() -> None:
    pacer = telegram_updates.UpdatePacer(max_delay=0.02)
    pacer.note_fetched()
    async with asyncio.timeout(1):
        await pacer.ready()  # returns after max_delay although nothing was handled


async def test_a_busy_bot_fetches_what_arrived_meanwhile_in_one_request(
    emulator: TelegramEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the first update is being handled no getUpdates goes out; the six that arrive
    meanwhile come in one request, each user's in the order sent."""
    monkeypatch.setattr(telegram_updates, "MAX_POLL_DELAY", 30.0)
    users = [emulator.add_user(f"成员{i}") for i in range(3)]
    for user in users:
        emulator.open_private_chat(user)
    release = asyncio.Event()
    arrived = asyncio.Event()
    seen: list[tuple[str, str]] = []

    async def sink(event: Event) -> None:
        seen.append((event.user_id, event.text))
        arrived.set()
        if event.text == "first":
            await release.wait()

    async def until_seen(count: int) -> None:
        async with asyncio.timeout(10):
            while len(seen) < count:
                arrived.clear()
                await arrived.wait()

    application = build_application(TOKEN, base_url=emulator.base_url)
    install(application, sink)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        try:
            emulator.send_text(users[0], "first")
            await until_seen(1)
            polls = emulator.stats.requests_by_method["getUpdates"]
            for round_ in range(2):
                for user in users:
                    emulator.send_text(user, f"{user}-{round_}")
            await asyncio.sleep(0.1)
            assert emulator.stats.requests_by_method["getUpdates"] == polls
            assert len(seen) == 1
            release.set()
            await until_seen(7)
            assert emulator.stats.requests_by_method["getUpdates"] <= polls + 2
        finally:
            release.set()
            await application.updater.stop()
            await application.stop()
    for user in users:
        assert [text for who, text in seen if who == str(user)][-2:] == [f"{user}-0", f"{user}-1"]
