"""Wakes the core when the clock reaches the next step of any running plan.

One asyncio task waits, in real seconds, until the injected clock (real, simulated or manual)
shows the next due step, runs ``phases.tick`` and waits again; ``Huiwu.schedule_changed``
cuts the wait short when a group is bound or a phase is advanced by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from bot import phases
from bot.app import Huiwu

logger = logging.getLogger(__name__)

IDLE_RECHECK_SECONDS = 3600.0  # look again at least this often


class PlanScheduler:
    """Runs ``phases.tick`` whenever the clock reaches the next step, and on changes."""

    def __init__(self, app: Huiwu) -> None:
        self.app = app
        self.next_due: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="plan-scheduler")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        changed = self.app.schedule_changed
        while True:
            changed.clear()
            try:
                self.next_due = await phases.tick(self.app)
            except Exception:
                logger.exception("the scheduled tick failed; trying again shortly")
                self.next_due = None
                await asyncio.sleep(1.0)
                continue
            # Look again at least hourly: another process (huiwu wecom create-chat) may have
            # started a plan, which no event here announces.
            wait = (
                IDLE_RECHECK_SECONDS
                if self.next_due is None
                else min(self.app.clock.real_seconds_until(self.next_due), IDLE_RECHECK_SECONDS)
            )
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(wait, 0.0) if wait != float("inf") else None):
                    await changed.wait()
