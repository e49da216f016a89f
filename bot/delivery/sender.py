"""Drains the outbox of one platform: in order per chat, under the platform's limits,
retrying what failed for a passing reason, never dropping a message.

A database that cannot be written (disk full, read-only) stops nothing for good: claiming
waits and tries again, and a row's outcome (sent, held, failed, later) is kept in memory and
written as soon as the database takes it (``storage.outage``), so no row is left 'sending'.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from bot.core.clock import Clock
from bot.core.messaging import (
    Messenger,
    OutgoingMessage,
    PermanentSendError,
    RecipientUnreachable,
    RetryAfter,
    SendError,
)
from bot.delivery.limits import Limit, RateLimiter, Reservation
from storage import outbox
from storage.db import Database
from storage.outage import Outage, is_storage_error
from storage.records import OutboxRecord

logger = logging.getLogger(__name__)

MAX_IN_MEMORY = 1000  # claimed rows held in memory at once; the rest wait in the outbox
CLAIM_CHUNK = 14  # rows: at Telegram's rate, half a second's worth
ANSWERS_BEYOND_DEPTH = 100  # answers claimed while the claimed pushes fill the depth
# A row whose sending raised something unexpected (a bug, a payload we cannot read) is tried
# again later, this many times in all, then kept as failed with the error for a person to see.
MAX_UNEXPECTED_ATTEMPTS = 5
# At a stop, how long the sends already made may take to be answered and marked.
STOP_GRACE = 10.0


@dataclass(frozen=True)
class SendPolicy:
    """A platform's limits and how hard to retry."""

    overall: Limit | None = None
    # Spreads the overall sends evenly (a token bucket), beside ``overall``: a sliding window
    # alone lets a whole window's sends go at once and then none for the rest of it, so an
    # answer coming in the gap waited for the next window (half a second on Telegram).
    overall_pace: Limit | None = None
    per_private_chat: tuple[Limit, ...] = ()
    per_group_chat: tuple[Limit, ...] = ()
    max_backoff: float = 30.0
    first_backoff: float = 0.2
    concurrency: int = 8  # sends in flight at once, across chats
    # Rows claimed and not finished (waiting in a chat's queue, for a limit, or in flight),
    # answers beyond it aside (at most ANSWERS_BEYOND_DEPTH more). Rows go out in the order
    # they were claimed (answers first, plans taking turns), give or take this many: a
    # platform with an overall limit keeps a few seconds' worth, so a plan's turn is not lost
    # in a long queue.
    claim_depth: int = MAX_IN_MEMORY
    # A send counts against the limits from its request until its answer, and from the
    # answer on (``RateLimiter.reserve``): a platform that counts arrivals then never sees
    # more than a limit in its window, however late a request arrived, so the limit can be
    # the platform's own instead of one with a margin for the network.
    count_until_answered: bool = False
    # How many platform messages one outgoing message becomes (each counts against the limits).
    cost: Callable[[OutgoingMessage], int] | None = None
    # Limits of a particular chat (chat id, to a group?) instead of the per-chat ones above,
    # None for the usual: a WeCom robot's chats are limited apart from the app's.
    chat_limits: Callable[[str, bool], tuple[Limit, ...] | None] | None = None


@dataclass
class SenderStats:
    sent: int = 0
    retried: int = 0
    held: int = 0
    failed: int = 0


class OutboxSender:
    """One sender per platform; ``wake()`` after enqueueing makes it look at once."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        messenger: Messenger,
        policy: SendPolicy,
        *,
        limiter: RateLimiter | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.db = db
        self.clock = clock
        self.messenger = messenger
        self.platform = messenger.platform
        self.policy = policy
        self.limiter = limiter or RateLimiter()
        self.stats = SenderStats()
        self._jitter = jitter
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        # Claimed rows wait here per chat; each chat has one worker while it has rows.
        self._queues: dict[str, deque[OutboxRecord]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._gate = asyncio.Semaphore(policy.concurrency)
        # Rows claimed and not finished (in a queue, waiting for a limit or in flight):
        # what claim_depth bounds.
        self.claimed = 0
        # Above 0 while a pass queues many plans' pushes (``Huiwu.holding_pushes``): only
        # answers are claimed meanwhile, so the plans then take their turns from the first.
        self.pushes_held = 0
        # Workers whose request is out (task -> outbox id): a stop lets them finish.
        self._sending: dict[asyncio.Task[None] | None, int] = {}
        self._send_done = asyncio.Event()
        self._stopping = False
        self.outage = Outage(
            logger, f"{self.platform} outbox", policy.first_backoff, policy.max_backoff
        )
        # Set (and replaced) by wake(): a write elsewhere went through, so try again at once.
        self._storage_retry = asyncio.Event()

    def wake(self) -> None:
        self._wakeup.set()
        self._storage_retry.set()
        self._storage_retry = asyncio.Event()

    async def start(self) -> None:
        recovered = await outbox.recover_in_flight(self.db, self.platform)
        # After a crash in the middle of sending, the platform still counts the last window's
        # sends of the dead process, which our fresh limiter does not know: wait that out.
        pause = 0.0
        if recovered:
            logger.warning(
                "%s: messages in flight at the last stop: %d; sending them again",
                self.platform,
                recovered,
            )
            pause = self.policy.overall.window if self.policy.overall else 0.0
        self._task = asyncio.create_task(self._run(pause), name=f"outbox-{self.platform}")

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop claiming rows; let the sends already made finish (for ``grace`` seconds) and
        give the rows claimed but not sent back to the outbox: the next start sends nothing
        twice. A send still unanswered after ``grace`` stays claimed, and the next start sends
        it again (as after a crash: at most one message per chat may then arrive twice)."""
        if self._stopping:
            return  # stopped already: what it left claimed stays claimed
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:  # already ended by an error: the rest of the shutdown still runs
                logger.exception("%s: the sending loop had stopped with an error", self.platform)
        # Waits for limits, backoffs and the next row end now; sends in flight go on.
        for task in list(self._workers.values()):
            if task not in self._sending:
                task.cancel()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace
        while self._sending and loop.time() < deadline:
            self._send_done.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(deadline):
                    await self._send_done.wait()
        interrupted = list(self._sending.values())
        workers = list(self._workers.values())
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        try:
            released = await outbox.release_claimed(self.db, self.platform, keep=interrupted)
        except Exception as exc:  # a storage error: the next start sends the claimed rows
            logger.warning("%s: claimed messages not released at stop: %s", self.platform, exc)
            return
        logger.info(
            "%s: sender stopped; claimed messages back in the outbox: %d, interrupted: %d",
            self.platform,
            released,
            len(interrupted),
        )

    async def send_unrecorded(self, chat_id: str, message: OutgoingMessage) -> bool:
        """Send once, under the limits, outside the outbox: an answer while the database
        cannot be written (nothing records it, so nothing retries it). True if it went out."""
        in_flight = self.policy.count_until_answered
        slots: list[Reservation] = []
        try:
            try:
                for _slot in range(self._cost(message)):
                    limits = self._limits(chat_id, message)
                    slots.append(
                        await self.limiter.reserve(limits, in_flight=in_flight, urgent=True)
                    )
                async with self._gate:
                    await self.messenger.send(chat_id, message)
            finally:
                self._answered(slots)
        except (SendError, OSError) as exc:
            logger.info(
                "%s: an unrecorded answer to %s was not sent: %s", self.platform, chat_id, exc
            )
            return False
        return True

    async def drain(self, seconds: float = 30.0) -> None:
        """Wait until nothing due is left to send (for tests, the demo and shutdown)."""
        async with asyncio.timeout(seconds):
            while True:
                self._idle.clear()
                self.wake()
                await self._idle.wait()
                if self.outage.active:
                    return  # the database cannot be written: nothing more goes out for now
                pending = await outbox.messages(self.db, platform=self.platform, state="pending")
                if not any(
                    r.not_before is None or r.not_before <= self.clock.now() for r in pending
                ):
                    return

    async def _run(self, pause: float = 0.0) -> None:
        await asyncio.sleep(pause)
        while True:
            self._wakeup.clear()
            try:
                timeout = await self._claim()
            except Exception as exc:  # the loop never ends but by stop()
                if is_storage_error(exc):
                    timeout = self.outage.failed(exc)
                else:
                    logger.exception("%s: claiming due messages failed", self.platform)
                    timeout = self.policy.max_backoff
                if not self._workers:
                    self._idle.set()  # nothing can be sent now: drain() need not wait
            else:
                self.outage.succeeded()
            if timeout == 0.0:
                continue  # there may be more due; rows queued meanwhile set the wakeup anyway
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(None if timeout is None else max(timeout, 0.01)):
                    await self._wakeup.wait()

    async def _claim(self) -> float | None:
        """Claim due rows into the chats' queues; the real seconds to wait before looking
        again (0: at once; None: until woken)."""
        depth = self.policy.claim_depth
        room = depth - self.claimed
        # Claimed in chunks (a claim ranks every waiting row of the burst), not row by row.
        if room >= min(CLAIM_CHUNK, depth) and not self.pushes_held:
            batch = await outbox.claim_due(self.db, self.platform, self.clock.now(), limit=room)
        else:  # full of pushes, or pushes held: an answer still goes ahead (bounded all the same)
            room = depth + ANSWERS_BEYOND_DEPTH - self.claimed
            if room <= 0:
                return None  # a row finishing wakes the loop
            batch = await outbox.claim_due(
                self.db, self.platform, self.clock.now(), room, answers_only=True
            )
        self.claimed += len(batch)
        for record in batch:
            self._queues.setdefault(record.chat_id, deque()).append(record)
            if record.chat_id not in self._workers:
                self._workers[record.chat_id] = asyncio.create_task(
                    self._serve_chat(record.chat_id), name=f"outbox-{self.platform}-chat"
                )
        if batch and len(batch) == room:
            return 0.0
        if not self._workers:
            self._idle.set()
        next_due = await outbox.next_due_time(self.db, self.platform)
        return self.clock.real_seconds_until(next_due) if next_due else None

    async def _write(self, write: Callable[[], Awaitable[None]]) -> None:
        """Record a row's outcome, waiting (the row still claimed, in memory) while the
        database cannot be written; a wake() or the backoff tries again."""
        while True:
            try:
                await write()
            except Exception as exc:
                if not is_storage_error(exc):
                    raise
                retry = self._storage_retry
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self.outage.failed(exc)):
                        await retry.wait()
                continue
            self.outage.succeeded()
            return

    async def _serve_chat(self, chat_id: str) -> None:
        """Send one chat's claimed rows in order; other chats go on meanwhile."""
        queue = self._queues[chat_id]
        try:
            while queue:
                record = queue.popleft()
                try:
                    delivered = await self._deliver(record)
                except Exception as exc:
                    await self._set_aside(record, queue, exc)
                    return
                self._finished()
                if not delivered:
                    # The chat cannot be reached: keep its later messages too, in order.
                    while queue:
                        later = queue.popleft()
                        await self._write(
                            partial(
                                outbox.hold, self.db, later.id, "held behind an unreachable chat"
                            )
                        )
                        self._finished()
                        self.stats.held += 1
        finally:
            del self._queues[chat_id]
            del self._workers[chat_id]
            self.wake()

    def _finished(self) -> None:
        """A claimed row's outcome is recorded: room for one more (the loop claims a chunk)."""
        self.claimed -= 1
        if self.policy.claim_depth - self.claimed >= min(CLAIM_CHUNK, self.policy.claim_depth):
            self.wake()

    async def _set_aside(
        self, record: OutboxRecord, queue: deque[OutboxRecord], error: Exception
    ) -> None:
        """Something unexpected broke a send: try the row again later, with the chat's later
        rows behind it (in order), instead of leaving them all claimed until a restart."""
        logger.exception(
            "%s: message %d raised an unexpected error (attempt %d)",
            self.platform,
            record.id,
            record.attempts,
        )
        reason = f"{type(error).__name__}: {error}"
        retry_at = self.clock.now()
        if record.attempts >= MAX_UNEXPECTED_ATTEMPTS:
            await self._write(partial(outbox.mark_failed, self.db, record.id, reason))
            self.stats.failed += 1
        else:
            delay = self.policy.first_backoff * 2 ** (record.attempts - 1)
            retry_at += timedelta(seconds=min(delay, self.policy.max_backoff))
            await self._write(partial(outbox.retry_later, self.db, record.id, retry_at, reason))
            self.stats.retried += 1
        self._finished()
        while queue:
            later = queue[0].id
            await self._write(
                partial(outbox.retry_later, self.db, later, retry_at, "behind a failed message")
            )
            queue.popleft()
            self._finished()

    async def _send_and_mark(
        self, record: OutboxRecord, message: OutgoingMessage, slots: list[Reservation]
    ) -> None:
        """The request and recording it; once begun, a stop waits for it to end."""
        if self._stopping:
            raise asyncio.CancelledError  # a stop began while this waited for its slot
        task = asyncio.current_task()
        self._sending[task] = record.id
        try:
            try:
                await self.messenger.send(record.chat_id, message)
            finally:
                self._answered(slots)
            await self._write(partial(outbox.mark_sent, self.db, record.id, self.clock.now()))
        finally:
            del self._sending[task]
            self._send_done.set()

    def _answered(self, slots: list[Reservation]) -> None:
        """The platform answered (or the send was given up): its slots count from now."""
        if self.policy.count_until_answered:
            for slot in slots:
                slot.complete()
        slots.clear()

    def _cost(self, message: OutgoingMessage) -> int:
        cost = self.policy.cost(message) if self.policy.cost else 1
        if self.policy.count_until_answered and self.policy.overall:
            # Slots held until the answer: more than the limit's count would never fit.
            cost = min(cost, self.policy.overall.count)
        return cost

    def _limits(self, chat_id: str, message: OutgoingMessage) -> list[tuple[str, str, Limit]]:
        limits: list[tuple[str, str, Limit]] = []
        if self.policy.overall:
            limits.append(("overall", "", self.policy.overall))
        if self.policy.overall_pace:
            limits.append(("pace", "", self.policy.overall_pace))
        own = (
            self.policy.chat_limits(chat_id, message.to_group) if self.policy.chat_limits else None
        )
        if own is not None:
            limits.extend((f"chat{i}", chat_id, limit) for i, limit in enumerate(own))
        elif message.to_group:
            limits.extend(
                (f"group{i}", chat_id, limit) for i, limit in enumerate(self.policy.per_group_chat)
            )
        else:
            limits.extend(
                (f"private{i}", chat_id, limit)
                for i, limit in enumerate(self.policy.per_private_chat)
            )
        return limits

    async def _deliver(self, record: OutboxRecord) -> bool:
        """Send one row until it is sent, held or refused for good; False if held."""
        message = OutgoingMessage.from_json(record.payload)
        backoff = self.policy.first_backoff
        while True:
            limits = self._limits(record.chat_id, message)
            # An answer to someone waiting takes the next free slot ahead of pushes.
            urgent = record.dedupe_key is None
            in_flight = self.policy.count_until_answered
            slots: list[Reservation] = []
            try:
                try:
                    for _slot in range(self._cost(message)):
                        slots.append(
                            await self.limiter.reserve(limits, in_flight=in_flight, urgent=urgent)
                        )
                    # Only the request and recording it take a slot (waits for limits and
                    # backoff do not): marking within the slot bounds what a crash can send
                    # twice to the sends in flight, at most `concurrency` and one per chat.
                    async with self._gate:
                        await self._send_and_mark(record, message, slots)
                finally:
                    self._answered(slots)  # also when a stop cancelled the wait for the gate
            except RecipientUnreachable as exc:
                await self._write(partial(outbox.hold, self.db, record.id, str(exc)))
                self.stats.held += 1
                logger.info(
                    "%s: chat %s unreachable, message %d held",
                    self.platform,
                    record.chat_id,
                    record.id,
                )
                return False
            except RetryAfter as exc:
                self.stats.retried += 1
                await asyncio.sleep(exc.seconds + 0.05)
                continue
            except PermanentSendError as exc:
                await self._write(partial(outbox.mark_failed, self.db, record.id, str(exc)))
                self.stats.failed += 1
                logger.error("%s: message %d refused for good: %s", self.platform, record.id, exc)
                return True
            except (SendError, OSError) as exc:
                self.stats.retried += 1
                logger.info(
                    "%s: message %d failed (%s); retrying in %.1f s",
                    self.platform,
                    record.id,
                    exc,
                    backoff,
                )
                await asyncio.sleep(backoff * (1 + self._jitter() / 2))
                backoff = min(backoff * 2, self.policy.max_backoff)
                continue
            self.stats.sent += 1
            return True
