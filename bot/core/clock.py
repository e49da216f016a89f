"""The one clock of the application.

Nothing in Huiwu calls ``datetime.now()``: every module asks the clock it was given. In
real time the clock follows the system; in simulated time (``HUIWU_CLOCK_START`` and
``HUIWU_CLOCK_SPEED``) it starts at a chosen instant and runs ``speed`` times faster, so
the demo and the tests can run weeks of a plan in seconds. Tests may also move a
``ManualClock`` by hand.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the application needs of time."""

    def now(self) -> datetime:
        """The current instant, timezone-aware (UTC)."""

    def real_seconds_until(self, when: datetime) -> float:
        """How many real seconds to wait until the clock shows ``when`` (0 if past)."""

    async def sleep_until(self, when: datetime) -> None:
        """Wait until the clock shows ``when``."""


class SystemClock:
    """Real time."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def real_seconds_until(self, when: datetime) -> float:
        return max(0.0, (when - self.now()).total_seconds())

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(self.real_seconds_until(when))


class SimulatedClock:
    """Starts at ``start`` and runs ``speed`` times faster than real time."""

    def __init__(self, start: datetime, speed: float = 1.0) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated start needs a UTC offset")
        if speed <= 0:
            raise ValueError("the clock speed must be positive")
        self.start = start.astimezone(UTC)
        self.speed = speed
        self._real_origin = time.monotonic()

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._real_origin) * self.speed
        return self.start + timedelta(seconds=elapsed)

    def real_seconds_until(self, when: datetime) -> float:
        return max(0.0, (when - self.now()).total_seconds() / self.speed)

    async def sleep_until(self, when: datetime) -> None:
        await asyncio.sleep(self.real_seconds_until(when))


class ManualClock:
    """A clock that moves only when told to; sleepers wake when it passes their time."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the start needs a UTC offset")
        self._now = start.astimezone(UTC)
        self._moved = asyncio.Condition()

    def now(self) -> datetime:
        return self._now

    def real_seconds_until(self, when: datetime) -> float:
        return 0.0 if when <= self._now else float("inf")

    async def sleep_until(self, when: datetime) -> None:
        async with self._moved:
            await self._moved.wait_for(lambda: self._now >= when)

    async def advance(self, delta: timedelta) -> None:
        await self.set(self._now + delta)

    async def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("the time needs a UTC offset")
        self._now = when.astimezone(UTC)
        async with self._moved:
            self._moved.notify_all()
