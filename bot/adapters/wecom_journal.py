"""Where the WeCom callback server remembers callbacks: in the database (``StoredJournal``,
what ``huiwu run`` uses: retries are recognised across restarts, and what was answered but
not handled is handled at the next start) or in memory (``MemoryJournal``, for benchmarks)."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from bot.clock import Clock
from storage import wecom_callbacks
from storage.db import Database

PRUNE_EVERY = 500  # recorded callbacks between two prunings of handled ones
MEMORY_SECONDS = 600.0  # WeCom retries an unanswered callback three times, within seconds
MEMORY_KEYS = 100_000


class CallbackJournal(Protocol):
    async def record(self, key: str, fields: dict[str, str]) -> bool:
        """Remember a callback; False if it was seen before (one of WeCom's retries)."""

    async def mark_handled(self, key: str) -> None:
        """The callback's event has been handled."""

    async def unhandled(self) -> list[tuple[str, dict[str, str]]]:
        """Callbacks recorded but never handled (the process stopped first), oldest first."""


class StoredJournal:
    """The journal in the ``wecom_callbacks`` table, timed by the app's clock."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock
        self._recorded = 0

    async def record(self, key: str, fields: dict[str, str]) -> bool:
        recorded = await wecom_callbacks.record(self.db, key, fields, self.clock.now())
        self._recorded += recorded
        if self._recorded % PRUNE_EVERY == 0 and recorded:
            await wecom_callbacks.prune(self.db, self.clock.now())
        return recorded

    async def mark_handled(self, key: str) -> None:
        await wecom_callbacks.mark_handled(self.db, key, self.clock.now())

    async def unhandled(self) -> list[tuple[str, dict[str, str]]]:
        return await wecom_callbacks.unhandled(self.db)


class MemoryJournal:
    """Keys seen in the last ``ttl`` seconds (at most ``capacity``); forgets at a restart."""

    def __init__(
        self,
        ttl: float = MEMORY_SECONDS,
        capacity: int = MEMORY_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._clock = clock
        self._expiry: OrderedDict[str, float] = OrderedDict()

    async def record(self, key: str, fields: dict[str, str]) -> bool:
        now = self._clock()
        while self._expiry:
            oldest, expiry = next(iter(self._expiry.items()))
            if expiry > now and len(self._expiry) < self.capacity:
                break
            del self._expiry[oldest]
        if key in self._expiry:
            return False
        self._expiry[key] = now + self.ttl
        return True

    async def mark_handled(self, key: str) -> None:
        return None

    async def unhandled(self) -> list[tuple[str, dict[str, str]]]:
        return []
