"""Journaled events handed to the core in order per key (a member, a robot chat) and
different keys at once: what the WeCom callback server and the robot's receiver share.

Each event is marked handled in the journal after it was handled, so a stop in between
hands it over to the next start; a failed mark is logged and the key's next events go on.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bot.core.messaging import Event

logger = logging.getLogger(__name__)


class OrderedHandling:
    """Per-key queues, one worker per key with events, at most ``concurrency`` handling."""

    def __init__(
        self,
        handle: Callable[[Event], Awaitable[None]],
        mark_handled: Callable[[str], Awaitable[object]],
        *,
        concurrency: int,
        name: str,
    ) -> None:
        self._handle = handle
        self._mark_handled = mark_handled
        self._name = name
        self._queues: dict[str, deque[tuple[str, Event]]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self.gate = asyncio.Semaphore(concurrency)
        self._idle = asyncio.Event()
        self._idle.set()

    def enqueue(self, order_key: str, journal_key: str, event: Event) -> None:
        """Handle ``event`` after the events queued before it under ``order_key``."""
        self._idle.clear()
        self._queues.setdefault(order_key, deque()).append((journal_key, event))
        if order_key not in self._workers:
            self._workers[order_key] = asyncio.create_task(self._serve(order_key), name=self._name)

    async def resume(
        self,
        unhandled: list[tuple[str, dict[str, str]]],
        read: Callable[[dict[str, str]], Event | None],
        order_key: Callable[[Event], str],
    ) -> int:
        """Queue what the journal holds unhandled from before the last stop (what ``read``
        cannot turn into an event is marked handled); returns how many were queued."""
        resumed = 0
        for journal_key, fields in unhandled:
            event = read(fields)
            if event is None:
                await self._mark_handled(journal_key)
                continue
            self.enqueue(order_key(event), journal_key, event)
            resumed += 1
        if resumed:
            logger.warning(
                "%s: events received before the last stop, handled now: %d", self._name, resumed
            )
        return resumed

    async def join(self, seconds: float = 30.0) -> None:
        """Wait until every queued event has been handled."""
        async with asyncio.timeout(seconds):
            await self._idle.wait()

    async def stop(self, grace: float = 10.0) -> None:
        """Let what is being handled finish (for ``grace`` seconds); the rest stays in the
        journal for the next start."""
        workers = list(self._workers.values())
        if workers:
            await asyncio.wait(workers, timeout=grace)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)

    async def _serve(self, order_key: str) -> None:
        queue = self._queues[order_key]
        try:
            while queue:
                journal_key, event = queue[0]
                async with self.gate:
                    await self._handle(event)
                try:  # after handling: a stop in between hands it over to the next start
                    await self._mark_handled(journal_key)
                except Exception:  # handled all the same: the key's next events go on
                    logger.exception("%s: marking an event handled failed", self._name)
                queue.popleft()
        finally:
            del self._queues[order_key]
            del self._workers[order_key]
            if not self._workers:
                self._idle.set()
