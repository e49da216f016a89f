"""Wakes the core when the clock reaches the next step of any running plan.

``tick`` runs the clock's steps in order (``CLOCK_STEPS``: phases start and end, then the
meeting's schedule closes opinion windows and survey rounds, then the reminder engine queues
what is due from ``REMINDER_SOURCES``) and says when the next thing is due.
APScheduler (``AsyncIOScheduler``) holds the one wake-up job: the next due instant on the
injected clock (real, simulated or manual) is converted to real seconds with
``Clock.real_seconds_until`` and the job is replaced after every tick and whenever
``Huiwu.schedule_changed`` is set (a group bound, a phase advanced, a pause, a return).
A ManualClock never makes anything due by itself: tests and the demo move it and call
``tick`` (the hourly look-again still runs, and finds nothing new). The scheduler plans at
most ``PLAN_SLICE`` plans afresh per step and tick (``bot.core.planning``) and ticks again at
once while some are left: after a start, when no plan is known yet, the planning of
thousands of plans is spread over slices instead of holding the process for seconds. A tick the database
refuses (disk full, read-only) is logged once per kind and tried again with a growing wait;
its steps are idempotent, so the retry does what was missed and nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from bot.core.app import Huiwu
from bot.core.clock import ManualClock
from bot.core.planning import PlanningSlice
from bot.ledger.reminders import LedgerReminders
from bot.meeting import schedule as meeting_schedule
from bot.meeting.talk_reminders import TalkReminders
from bot.reminders import engine
from bot.reminders.sources import ReminderSource, TaskReminders
from bot.tasks import phases
from storage.outage import Outage, is_storage_error

logger = logging.getLogger(__name__)

IDLE_RECHECK_SECONDS = 3600.0  # look again at least this often (real seconds)
RETRY_SECONDS = 1.0  # after a failed tick
MAX_STORAGE_RETRY_SECONDS = 60.0  # the longest wait while the database cannot be written
MIN_WAIT_SECONDS = 0.05  # never spin, even if something is due at once again
WAKE_JOB = "huiwu-wake"
SLOW_TICK_SECONDS = 1.0  # a tick this long is logged (the first one always is)
# Plans planned afresh per step in one tick of the scheduler: about 0.15 s of work (2,300
# plans took 3.7 s at start-up, bench/province.py); the rest come in the next slices.
PLAN_SLICE = 100
MAX_SLICES = 100_000  # a bound on one wake's slices (each plans new plans: 10 million plans)


# What can be reminded of: tasks, heart-to-heart talk pairs, rectification items.
REMINDER_SOURCES: tuple[ReminderSource, ...] = (TaskReminders(), TalkReminders(), LedgerReminders())

# The clock's steps, in order: each runs what is due and returns when it next has work.
# Phases first (a phase that starts gives the tasks the reminders then count), then the
# meeting's schedule (closing a last survey round may finish the plan), then reminders.
# Each is given a slice of plans to plan afresh (the meeting's schedule reads only what is
# open, not every plan).
CLOCK_STEPS: tuple[Callable[[Huiwu, PlanningSlice], Awaitable[datetime | None]], ...] = (
    phases.tick,
    lambda app, _slice: meeting_schedule.tick(app),
    engine.run_due,
)


async def tick(app: Huiwu) -> datetime | None:
    """Run what the clock says is due, every plan; return when the next step is due."""
    next_due, _left = await tick_slice(app, None)
    return next_due


async def tick_slice(app: Huiwu, plans: int | None) -> tuple[datetime | None, bool]:
    """Run what is due, each step planning at most ``plans`` plans afresh (None: all);
    return when the next step is due and whether plans were left for another slice."""
    times = []
    left_over = False
    for step in CLOCK_STEPS:
        budget = PlanningSlice(plans)
        times.append(await step(app, budget))
        left_over = left_over or budget.left_over
    return min((t for t in times if t is not None), default=None), left_over


async def run_until(
    app: Huiwu,
    clock: ManualClock,
    until: datetime,
    on_step: Callable[[datetime], Awaitable[None]] | None = None,
) -> None:
    """Move a ManualClock to ``until`` through every due time on the way, ticking and
    delivering at each: weeks of a plan in seconds, with nothing skipped (demo, tests)."""
    while True:
        next_due = await tick(app)
        await app.drain()
        if on_step is not None:
            await on_step(clock.now())
        if next_due is None or next_due > until or next_due <= clock.now():
            break
        await clock.set(next_due)
    if clock.now() < until:
        await clock.set(until)
        await tick(app)
        await app.drain()
        if on_step is not None:
            await on_step(clock.now())


class PlanScheduler:
    """Runs ``tick`` when the clock reaches the next due time, and on changes."""

    def __init__(self, app: Huiwu, plan_slice: int | None = PLAN_SLICE) -> None:
        self.app = app
        self.plan_slice = plan_slice
        self.next_due: datetime | None = None
        self.first_pass_done = False  # every plan planned once since the start
        self.slices = 0  # ticks until then
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._lock = asyncio.Lock()
        self._watcher: asyncio.Task[None] | None = None
        self._stopped = False
        self.outage = Outage(logger, "scheduler", RETRY_SECONDS, MAX_STORAGE_RETRY_SECONDS)
        self._ticked = False
        self._started = time.perf_counter()

    async def start(self) -> None:
        self._scheduler.start()
        self._watcher = asyncio.create_task(self._watch_changes(), name="plan-scheduler")

    async def stop(self) -> None:
        self._stopped = True
        if self._watcher:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        self._scheduler.shutdown(wait=False)
        async with self._lock:  # let a tick in progress finish before the database closes
            pass

    async def _watch_changes(self) -> None:
        changed = self.app.schedule_changed
        await self.wake()
        while True:
            await changed.wait()
            await self.wake()

    async def wake(self) -> None:
        """Tick now (slice after slice while plans are left), then set the one wake-up job
        for the next due time."""
        for _slice in range(MAX_SLICES):
            if not await self.tick_once():
                return
            await asyncio.sleep(0)  # what waits (a command, a tick for a change) goes first

    async def tick_once(self) -> bool:
        """One tick planning at most a slice of plans afresh; True if plans were left."""
        async with self._lock:
            if self._stopped:
                return False
            self.app.schedule_changed.clear()
            started = time.perf_counter()
            try:
                self.next_due, left_over = await tick_slice(self.app, self.plan_slice)
            except Exception as exc:
                if is_storage_error(exc):
                    self._arm(self.outage.failed(exc))
                else:
                    logger.exception("the scheduled tick failed; trying again shortly")
                    self._arm(RETRY_SECONDS)
                return False
            self.outage.succeeded()
            elapsed = time.perf_counter() - started
            if not self._ticked or elapsed > SLOW_TICK_SECONDS:
                logger.info("schedule planned in %.3f s (first: %s)", elapsed, not self._ticked)
            self._ticked = True
            if not self.first_pass_done:
                self.slices += 1
                self.first_pass_done = not left_over
                if self.first_pass_done:
                    logger.info(
                        "every plan planned %.3f s after the start, in %d slice(s)",
                        time.perf_counter() - self._started,
                        self.slices,
                    )
            if left_over:
                return True
            # Look again at least hourly: another process (huiwu wecom create-chat) may have
            # started a plan, which nothing here announces.
            if self.next_due is None:
                self._arm(IDLE_RECHECK_SECONDS)
            else:
                wait = self.app.clock.real_seconds_until(self.next_due)
                self._arm(min(wait, IDLE_RECHECK_SECONDS))
            return False

    def _arm(self, real_seconds: float) -> None:
        if math.isinf(real_seconds):  # a ManualClock: only moving it makes anything due
            if self._scheduler.get_job(WAKE_JOB) is not None:
                self._scheduler.remove_job(WAKE_JOB)
            return
        # APScheduler counts in the machine's real time: hand it a real instant.
        run_at = datetime.now(UTC) + timedelta(seconds=max(real_seconds, MIN_WAIT_SECONDS))
        self._scheduler.add_job(
            self.wake,
            DateTrigger(run_date=run_at),
            id=WAKE_JOB,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )
