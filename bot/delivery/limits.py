"""Rate limits that make a sender wait instead of being refused: the one limiter every
platform uses (the outbox sender for each platform's documented limits, and the WeCom
client's own guard).

A limit is "at most N sends per window seconds" for a key (everything, one chat, one group),
kept as a sliding window; with ``burst`` it is a token bucket instead (N per window on
average, up to ``burst`` at once), as Telegram's per-chat limit is.

``acquire`` waits until every limit that applies has room, then counts the send from now.
``reserve`` does the same but counts the send as happening "now" for as long as it is in
flight, and from the moment it finished once ``Reservation.complete`` is called: a platform
that counts arrivals (WeCom) then never sees more than the limit in a window, however long
a send took. Time here is real time (``time.monotonic``) unless injected: platform flood
limits do not speed up with the simulated clock.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Limit:
    count: int
    window: float  # seconds
    burst: float | None = None  # a token bucket holding this many sends

    def __post_init__(self) -> None:
        if self.count < 1 or self.window <= 0:
            raise ValueError("a limit is count >= 1 sends per window > 0 seconds")


class TokenBucket:
    """Refills ``count / window`` tokens a second, holds at most ``burst``."""

    def __init__(self, limit: Limit) -> None:
        self.rate = limit.count / limit.window
        self.capacity = float(limit.burst or 1)
        self.tokens = self.capacity
        self.updated: float | None = None

    def wait_needed(self, now: float) -> tuple[float, bool]:
        if self.updated is not None:
            self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        # A hair of tolerance: float refills after an exact wait land a rounding error short.
        return (0.0 if self.tokens >= 1 - 1e-9 else (1 - self.tokens) / self.rate), False

    def record(self, now: float) -> _Slot | None:
        self.tokens -= 1
        return None


class _Slot:
    """One send in a sliding window: in flight (counts as now) until done, then from ``t``."""

    __slots__ = ("done", "t")

    def __init__(self, t: float) -> None:
        self.t = t
        self.done = False


class SlidingWindow:
    """The sends of one key under one limit, in flight or done."""

    def __init__(self, limit: Limit) -> None:
        self.limit = limit
        self.slots: list[_Slot] = []

    def wait_needed(self, now: float) -> tuple[float, bool]:
        """(seconds until there is room, whether a send in flight holds the window)."""
        window = self.limit.window
        self.slots = [s for s in self.slots if not s.done or s.t > now - window]
        if len(self.slots) < self.limit.count:
            return 0.0, False
        ordered = sorted(self.slots, key=lambda s: s.t if s.done else now)
        oldest = ordered[len(ordered) - self.limit.count]
        if not oldest.done:
            return 0.0, True
        return oldest.t + window - now, False

    def record(self, now: float) -> _Slot:
        slot = _Slot(now)
        self.slots.append(slot)
        return slot


class Reservation:
    """The slots one send holds; ``complete`` dates them to when the send finished."""

    def __init__(self, limiter: RateLimiter, slots: list[_Slot], waited: float) -> None:
        self._limiter = limiter
        self._slots = slots
        self.waited = waited

    def complete(self) -> None:
        self._limiter._complete(self._slots)


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
        self._completed: asyncio.Event | None = None
        self._tickets = itertools.count()
        # Sends waiting only for the shared limit, each with the event that wakes it when its
        # turn comes (waking them all at every slot cost a core in a burst: bench/province.py).
        self._ready: dict[tuple[int, int], asyncio.Event] = {}
        self._queue: list[tuple[int, int]] = []  # their tickets, a heap (stale ones included)
        self.waits = 0  # how often a send had to wait, and for how long in all
        self.total_waited = 0.0

    def _window(self, name: str, key: str, limit: Limit) -> SlidingWindow | TokenBucket:
        window = self._windows.get((name, key))
        if window is None:
            window = TokenBucket(limit) if limit.burst else SlidingWindow(limit)
            self._windows[(name, key)] = window
        return window

    async def acquire(self, limits: list[tuple[str, str, Limit]], *, urgent: bool = False) -> float:
        """Wait until each (name, key, limit) has room and count the send from now; return
        the seconds waited. An ``urgent`` send (an answer someone waits for) goes before
        the others waiting."""
        reservation = await self.reserve(limits, in_flight=False, urgent=urgent)
        return reservation.waited

    async def reserve(
        self, limits: list[tuple[str, str, Limit]], *, in_flight: bool = True, urgent: bool = False
    ) -> Reservation:
        """Wait until each (name, key, limit) has room and take it; the send counts as in
        flight until the reservation is completed.

        A limit with the empty key (everything the platform sends) is shared: the sends
        whose own limits (their chat's) have room take its slots in turns, urgent ones
        first, then in the order they came. Left to a race, a send could lose it again and
        again while others came and went (seconds late in a burst: ``bench/province.py``)."""
        ticket = (0 if urgent else 1, next(self._tickets))
        try:
            return await self._reserve(limits, in_flight, ticket)
        finally:
            self._leave(ticket)

    async def _reserve(
        self, limits: list[tuple[str, str, Limit]], in_flight: bool, ticket: tuple[int, int]
    ) -> Reservation:
        waited = 0.0
        shares = any(not key for _name, key, _limit in limits)
        while True:
            turn: asyncio.Event | None = None
            async with self._lock:
                now = self._clock()
                windows = [(key, self._window(name, key, limit)) for name, key, limit in limits]
                needs = [(key, *w.wait_needed(now)) for key, w in windows]
                own = max((d for key, d, _busy in needs if key), default=0.0)
                own_held = any(busy for key, _delay, busy in needs if key)
                shared = max((d for key, d, _busy in needs if not key), default=0.0)
                shared_held = any(busy for key, _delay, busy in needs if not key)
                if shares and not own_held and own <= 0:
                    # Its own limits have room: it waits for the shared one in its turn, and
                    # only the first in line looks at the shared limit (sleeps, or waits for
                    # a send in flight to be answered); the others wait to be woken.
                    if ticket not in self._ready:
                        self._ready[ticket] = asyncio.Event()
                        heapq.heappush(self._queue, ticket)
                    if self._head() != ticket:  # an earlier (or urgent) send goes first
                        turn = self._ready[ticket]
                        turn.clear()
                    held, delay = shared_held, shared
                else:
                    if ticket in self._ready:
                        self._leave(ticket)  # held back by its own chat: no turn meanwhile
                    held, delay = own_held or shared_held, max(own, shared)
                if turn is None and not held and delay <= 0:
                    self._leave(ticket)
                    slots = [slot for _key, w in windows if (slot := w.record(now)) is not None]
                    reservation = Reservation(self, slots, waited)
                    if not in_flight:
                        reservation.complete()
                    return reservation
                if turn is None and held and self._completed is None:
                    self._completed = asyncio.Event()
                completed = self._completed
            if turn is not None:
                await turn.wait()
                continue
            if held and completed is not None:
                await completed.wait()
                continue
            logger.debug("send limit reached; waiting %.2f s", delay)
            self.waits += 1
            self.total_waited += delay
            waited += delay
            await self._sleep(delay)

    def _head(self) -> tuple[int, int] | None:
        """The first send waiting only for the shared limit (stale heap entries dropped)."""
        while self._queue and self._queue[0] not in self._ready:
            heapq.heappop(self._queue)
        return self._queue[0] if self._queue else None

    def _leave(self, ticket: tuple[int, int]) -> None:
        """The send no longer waits for a turn: the next one (only it) is woken."""
        if self._ready.pop(ticket, None) is not None:
            head = self._head()
            if head is not None:
                self._ready[head].set()

    def _complete(self, slots: list[_Slot]) -> None:
        now = self._clock()
        for slot in slots:
            slot.t = max(slot.t, now)
            slot.done = True
        if self._completed is not None:
            self._completed.set()
            self._completed = None
