"""Virtual monotonic time for platform send limits in emulated runs (tests, demos, benches).

Shared by an emulator's flood/counting windows and the bot's send limiters, it lets a
platform's per-second, per-minute and per-hour limits be kept, and checked by the emulator,
without waiting for them in real time: a sleep advances it at once. The plan's clock is a
different thing (``bot.core.clock``).
"""

from __future__ import annotations

import asyncio


class VirtualTime:
    """Monotonic seconds that a sleep advances at once (for send limits, not the plan clock)."""

    def __init__(self, start: float = 100_000.0) -> None:
        self.now = start
        self.slept = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        self.slept += max(seconds, 0.0)
        await asyncio.sleep(0)
