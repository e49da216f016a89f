"""How Telegram updates come in: polled in batches paced by the bot's own load, and handled
one after the other per user, different users at once.

Why pace the polling: a getUpdates request costs about as much CPU as sending a reply. Polling
again the moment an answer arrives (python-telegram-bot's default) means that under load nearly
every update comes in a request of its own (390 requests for 480 updates in
``bench/roundtrip.py``). Asking for more once the updates already fetched are handled lets the
next request bring all that arrived meanwhile; when the bot is idle, the next request goes out
at once, so a quiet bot answers no later than before.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor
from telegram.request import HTTPXRequest

# The longest the next getUpdates waits for earlier updates to be handled: a slow handler (a
# report being built) holds back other users' updates by this much at most.
MAX_POLL_DELAY = 0.05


class UpdatePacer:
    """Counts updates fetched and handled; ``ready()`` returns once all fetched are handled."""

    def __init__(self, max_delay: float | None = None) -> None:
        self.max_delay = MAX_POLL_DELAY if max_delay is None else max_delay
        self.fetched = 0
        self.handled = 0
        self._caught_up = asyncio.Event()
        self._caught_up.set()

    def note_fetched(self) -> None:
        self.fetched += 1
        self._caught_up.clear()

    def note_handled(self) -> None:
        self.handled += 1
        if self.handled >= self.fetched:
            self._caught_up.set()

    async def ready(self) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.max_delay):
                await self._caught_up.wait()


class PacedUpdateQueue(asyncio.Queue[object]):
    """The application's update queue, telling the pacer of each update put in it (by polling
    or by the webhook server)."""

    def __init__(self, pacer: UpdatePacer) -> None:
        super().__init__()
        self._pacer = pacer

    def put_nowait(self, item: object) -> None:  # Queue.put ends here too
        super().put_nowait(item)
        if isinstance(item, Update):
            self._pacer.note_fetched()


class PacedUpdatesRequest(HTTPXRequest):
    """The connection getUpdates goes through: each request waits for the pacer first."""

    def __init__(self, pacer: UpdatePacer, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._pacer = pacer

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        await self._pacer.ready()
        return await super().do_request(*args, **kwargs)


class PerUserUpdateProcessor(BaseUpdateProcessor):
    """Each user's updates one after the other and in order; different users' at once.

    Handling an update mostly waits for the database; one at a time, as python-telegram-bot
    does by default, a busy group or a fan-out of replies queues every user behind the
    others (bench/roundtrip.py). One user's updates still never overtake each other.
    """

    def __init__(self, pacer: UpdatePacer, max_concurrent_updates: int = 64) -> None:
        super().__init__(max_concurrent_updates)
        self._pacer = pacer
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        key = _sender_key(update)
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)
            if isinstance(update, Update):
                self._pacer.note_handled()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


def _sender_key(update: object) -> int:
    if isinstance(update, Update):
        if update.effective_user is not None:
            return update.effective_user.id
        if update.effective_chat is not None:
            return update.effective_chat.id
    return 0
