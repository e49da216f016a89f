"""Drains the outbox of one platform: in order per chat, under the platform's limits,
retrying what failed for a passing reason, never dropping a message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.clock import Clock
from bot.messaging import (
    Messenger,
    OutgoingMessage,
    PermanentSendError,
    RecipientUnreachable,
    RetryAfter,
    SendError,
)
from bot.ratelimit import Limit, RateLimiter
from storage import outbox
from storage.db import Database
from storage.records import OutboxRecord

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SendPolicy:
    """A platform's limits and how hard to retry."""

    overall: Limit | None = None
    per_private_chat: Limit | None = None
    per_group_chat: tuple[Limit, ...] = ()
    max_backoff: float = 30.0
    first_backoff: float = 0.2
    concurrency: int = 8


TELEGRAM_POLICY = SendPolicy(
    # Telegram: ~30 messages a second overall, ~1 a second per chat with a short burst
    # allowed, 20 a minute per group. Three in a row to one chat, then one a second on
    # average; we stay a little under each so that network jitter never tips us over.
    overall=Limit(29, 1.0),
    per_private_chat=Limit(19, 20.0, burst=3),
    per_group_chat=(Limit(19, 20.0, burst=3), Limit(19, 60.0)),
)


@dataclass
class SenderStats:
    sent: int = 0
    retried: int = 0
    held: int = 0
    failed: int = 0
    waits: list[float] = field(default_factory=list)


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

    def wake(self) -> None:
        self._wakeup.set()

    async def start(self) -> None:
        recovered = await outbox.recover_in_flight(self.db, self.platform)
        if recovered:
            logger.warning(
                "%s: %d message(s) were in flight at the last stop; sending again",
                self.platform,
                recovered,
            )
        self._task = asyncio.create_task(self._run(), name=f"outbox-{self.platform}")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def drain(self, seconds: float = 30.0) -> None:
        """Wait until nothing due is left to send (for tests, the demo and shutdown)."""
        async with asyncio.timeout(seconds):
            while True:
                self._idle.clear()
                self.wake()
                await self._idle.wait()
                pending = await outbox.messages(self.db, platform=self.platform, state="pending")
                if not any(
                    r.not_before is None or r.not_before <= self.clock.now() for r in pending
                ):
                    return

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            batch = await outbox.claim_due(self.db, self.platform, self.clock.now(), limit=500)
            if batch:
                await self._send_batch(batch)
                continue
            self._idle.set()
            next_due = await outbox.next_due_time(self.db, self.platform)
            timeout = self.clock.real_seconds_until(next_due) if next_due else None
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(None if timeout is None else max(timeout, 0.01)):
                    await self._wakeup.wait()

    async def _send_batch(self, batch: list[OutboxRecord]) -> None:
        by_chat: dict[str, list[OutboxRecord]] = {}
        for record in batch:
            by_chat.setdefault(record.chat_id, []).append(record)
        gate = asyncio.Semaphore(self.policy.concurrency)

        async def send_chat(records: list[OutboxRecord]) -> None:
            async with gate:
                for index, record in enumerate(records):
                    if not await self._deliver(record):
                        # The chat cannot be reached: keep its later messages too, in order.
                        for later in records[index + 1 :]:
                            await outbox.hold(self.db, later.id, "held behind an unreachable chat")
                            self.stats.held += 1
                        return

        await asyncio.gather(*(send_chat(records) for records in by_chat.values()))

    def _limits(self, chat_id: str, message: OutgoingMessage) -> list[tuple[str, str, Limit]]:
        limits: list[tuple[str, str, Limit]] = []
        if self.policy.overall:
            limits.append(("overall", "", self.policy.overall))
        if message.to_group:
            limits.extend(
                (f"group{i}", chat_id, limit) for i, limit in enumerate(self.policy.per_group_chat)
            )
        elif self.policy.per_private_chat:
            limits.append(("private", chat_id, self.policy.per_private_chat))
        return limits

    async def _deliver(self, record: OutboxRecord) -> bool:
        """Send one row until it is sent, held or refused for good; False if held."""
        message = OutgoingMessage.from_json(record.payload)
        backoff = self.policy.first_backoff
        while True:
            await self.limiter.acquire(self._limits(record.chat_id, message))
            try:
                await self.messenger.send(record.chat_id, message)
            except RecipientUnreachable as exc:
                await outbox.hold(self.db, record.id, str(exc))
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
                await outbox.mark_failed(self.db, record.id, str(exc))
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
            await outbox.mark_sent(self.db, record.id, self.clock.now())
            self.stats.sent += 1
            return True
