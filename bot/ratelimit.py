"""Sliding-window rate limits that make a sender wait instead of being refused.

Each limit is "at most N sends per window seconds" for a key (everything, one chat, one
group). ``acquire`` waits until every limit that applies has room, then records the send.
Time here is real time (``time.monotonic``): platform flood limits do not speed up with the
simulated clock.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    count: int
    window: float  # seconds


class SlidingWindow:
    """Timestamps of recent sends under one limit."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.sent: deque[float] = deque()

    def wait_needed(self, now: float) -> float:
        while self.sent and now - self.sent[0] >= self.limit.window:
            self.sent.popleft()
        if len(self.sent) < self.limit.count:
            return 0.0
        return self.sent[0] + self.limit.window - now

    def record(self, now: float) -> None:
        self.sent.append(now)


class RateLimiter:
    """Several limits by key; a send waits for all of them."""

    def __init__(
        self,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._windows: dict[tuple[str, str], SlidingWindow] = {}
        self._lock = asyncio.Lock()

    def _window(self, name: str, key: str, limit: Limit) -> SlidingWindow:
        window = self._windows.get((name, key))
        if window is None:
            window = self._windows[(name, key)] = SlidingWindow(limit)
        return window

    async def acquire(self, limits: list[tuple[str, str, Limit]]) -> float:
        """Wait until each (name, key, limit) has room; return the seconds waited."""
        waited = 0.0
        while True:
            async with self._lock:
                now = self._clock()
                windows = [self._window(name, key, limit) for name, key, limit in limits]
                delay = max((w.wait_needed(now) for w in windows), default=0.0)
                if delay <= 0:
                    for window in windows:
                        window.record(now)
                    return waited
            await self._sleep(delay)
            waited += delay
