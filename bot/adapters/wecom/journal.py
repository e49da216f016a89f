"""Where the WeCom callback server remembers callbacks: in the database (``StoredJournal``,
what ``huiwu run`` uses: retries are recognised across restarts, and what was answered but
not handled is handled at the next start) or in memory (``MemoryJournal``, for benchmarks)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from bot.core.clock import Clock
from storage import wecom_callbacks
from storage.db import Database
from storage.outage import Outage, is_storage_error

logger = logging.getLogger(__name__)

PRUNE_EVERY = 500  # recorded callbacks between two prunings of handled ones
# Real seconds from marking callbacks handled to emptying the write-ahead log of their old
# fields: one checkpoint a second under a burst, not one per grouped write (that halved the
# callbacks handled a second, bench/wecom_callbacks.py).
FORGET_AFTER = 1.0
MEMORY_SECONDS = 600.0  # WeCom retries an unanswered callback three times, within seconds
MEMORY_KEYS = 100_000


class CallbackJournal(Protocol):
    async def record(self, key: str, fields: dict[str, str]) -> bool:
        """Remember a callback; False if it was seen before (one of WeCom's retries)."""

    async def mark_handled(self, key: str) -> None:
        """The callback's event has been handled."""

    async def unhandled(self) -> list[tuple[str, dict[str, str]]]:
        """Callbacks recorded but never handled (the process stopped first), oldest first."""

    async def close(self) -> None:
        """Finish what is being written."""


class StoredJournal:
    """The journal in the ``wecom_callbacks`` table, timed by the app's clock.

    Writes are grouped: what callbacks record and mark while one transaction is being written
    goes into the next one, so many callbacks in flight share a commit. ``record`` returns only
    once its row is committed (it is answered after that). Keys are stored hashed with
    ``secret`` (``wecom_callbacks.journal_secret``); marking a callback handled erases its
    fields, and the write-ahead log is emptied ``FORGET_AFTER`` seconds later (and at close),
    so a vote press or an anonymous opinion leaves no trace of who sent it once handled.
    While the database cannot be written, ``record`` raises (the server falls back to memory)
    and marks are kept and written when it can again; marks still unwritten at ``close`` are
    handled again at the next start.
    """

    def __init__(self, db: Database, clock: Clock, secret: bytes, channel: str = "app") -> None:
        self.db = db
        self.clock = clock
        self.secret = secret
        self.channel = channel  # "app" or "robot": each resumes only its own
        self._records: list[tuple[str, dict[str, str], asyncio.Future[bool]]] = []
        self._marks: list[tuple[str, asyncio.Future[bool]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._forgetting: asyncio.Task[None] | None = None
        self._recorded = 0
        self._unwritten_marks: list[str] = []  # handled, but the database refused the mark
        self._closing = asyncio.Event()
        self.outage = Outage(logger, "WeCom callback journal")

    async def record(self, key: str, fields: dict[str, str]) -> bool:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._records.append((key, fields, done))
        self._write_soon()
        return await done

    async def mark_handled(self, key: str) -> None:
        done: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._marks.append((key, done))
        self._write_soon()
        await done

    async def unhandled(self) -> list[tuple[str, dict[str, str]]]:
        return await wecom_callbacks.unhandled(self.db, self.channel)

    async def close(self) -> None:
        """Wait for the writes under way (marks the database keeps refusing are left), and
        empty the log of erased fields now."""
        self._closing.set()
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._unwritten_marks:
            logger.warning(
                "WeCom: handled callbacks that could not be marked: %d; they are handled again "
                "at the next start",
                len(self._unwritten_marks),
            )
        if self._forgetting is not None and not self._forgetting.done():
            self._forgetting.cancel()
            await asyncio.gather(self._forgetting, return_exceptions=True)
            await self._forget()

    def _forget_soon(self) -> None:
        if self._forgetting is None or self._forgetting.done():
            self._forgetting = asyncio.create_task(self._forget_later(), name="wecom-forget")

    async def _forget_later(self) -> None:
        await asyncio.sleep(FORGET_AFTER)
        await self._forget()

    async def _forget(self) -> None:
        try:
            await self.db.forget()
        except Exception:  # the next mark tries again
            logger.exception("emptying the write-ahead log failed")

    def _write_soon(self) -> None:
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="wecom-journal")

    async def _write(self) -> None:
        while self._records or self._marks or self._unwritten_marks:
            records, self._records = self._records, []
            marks, self._marks = self._marks, []
            unwritten, self._unwritten_marks = self._unwritten_marks, []
            waiting = [done for *_row, done in records] + [done for _key, done in marks]
            try:
                recorded = await wecom_callbacks.write(
                    self.db,
                    self.secret,
                    [(key, fields) for key, fields, _done in records],
                    [*unwritten, *(key for key, _done in marks)],
                    self.clock.now(),
                    self.channel,
                )
            except Exception as exc:
                if not is_storage_error(exc):
                    for done in waiting:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                await self._keep_marks(exc, records, unwritten, marks)
                if self._closing.is_set():
                    return
                continue
            self.outage.succeeded()
            if marks:
                self._forget_soon()
            outcomes = [*recorded, *(True for _mark in marks)]
            for done, outcome in zip(waiting, outcomes, strict=True):
                if not done.done():
                    done.set_result(outcome)
            self._recorded += sum(recorded)
            if self._recorded >= PRUNE_EVERY:
                self._recorded = 0
                try:
                    await wecom_callbacks.prune(self.db, self.clock.now())
                except Exception:  # pruning is housekeeping; the next round tries again
                    logger.exception("pruning handled WeCom callbacks failed")

    async def _keep_marks(
        self,
        error: Exception,
        records: list[tuple[str, dict[str, str], asyncio.Future[bool]]],
        unwritten: list[str],
        marks: list[tuple[str, asyncio.Future[bool]]],
    ) -> None:
        """The database refused the write: the records fail (their callers decide), the marks
        are kept for the next try, after a wait that ``close`` cuts short."""
        for _key, _fields, done in records:
            if not done.done():
                done.set_exception(error)
        self._unwritten_marks = [*unwritten, *(key for key, _done in marks), *self._unwritten_marks]
        for _key, done in marks:
            if not done.done():
                done.set_result(True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(self.outage.failed(error)):
                await self._closing.wait()


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

    def knows(self, key: str) -> bool:
        """Whether ``key`` was recorded within the last ``ttl`` seconds."""
        expiry = self._expiry.get(key)
        return expiry is not None and expiry > self._clock()

    async def mark_handled(self, key: str) -> None:
        return None

    async def unhandled(self) -> list[tuple[str, dict[str, str]]]:
        return []

    async def close(self) -> None:
        return None


class CallbackRecorder:
    """Records callbacks in a journal; while the database cannot be written, remembers them in
    memory instead (WeCom's retries of them are still dropped) so they are handled all the
    same: the member gets an answer, if only that the service is busy. One per receiver."""

    def __init__(self, journal: CallbackJournal, name: str) -> None:
        self.journal = journal
        self.memory = MemoryJournal()
        self.outage = Outage(logger, name)

    async def record(self, key: str, fields: dict[str, str]) -> bool:
        """False for a callback seen before (one of WeCom's retries)."""
        try:
            fresh = await self.journal.record(key, fields)
        except Exception as exc:
            if not is_storage_error(exc):
                raise
            self.outage.failed(exc)
            return await self.memory.record(key, fields)
        self.outage.succeeded()
        # A retry of a callback taken in while the journal could not be written.
        return fresh and not self.memory.knows(key)
