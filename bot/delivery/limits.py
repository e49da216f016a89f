"""Rate limits that make a sender wait instead of being refused.

A limit is "at most N sends per window seconds" for a key (everything, one chat, one
group), kept as a sliding window; with ``burst`` it is a token bucket instead (N per window
on average, up to ``burst`` at once), as Telegram's per-chat limit is. ``acquire`` waits
until every limit that applies has room, then records the send.
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
    burst: float | None = None  # a token bucket holding this many sends


class TokenBucket:
    """Refills ``count / window`` tokens a second, holds at most ``burst``."""

    def __init__(self, limit: Limit) -> None:
        self.rate = limit.count / limit.window
        self.capacity = float(limit.burst or 1)
        self.tokens = self.capacity
        self.updated: float | None = None

    def wait_needed(self, now: float) -> float:
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        # A hair of tolerance: float refills after an exact wait land a rounding error short.
        return 0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate

    def record(self, now: float) -> None:
        self.tokens -= 1


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
        self._windows: dict[tuple[str, str], SlidingWindow | TokenBucket] = {}
        self._lock = asyncio.Lock()

    def _window(self, name: str, key: str, limit: Limit) -> SlidingWindow | TokenBucket:
        window = self._windows.get((name, key))
        if window is None:
            window = TokenBucket(limit) if limit.burst else SlidingWindow(limit)
            self._windows[(name, key)] = window
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
