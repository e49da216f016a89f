"""The application core: one database, one clock, the plans, and the platforms' senders.

Adapters hand every event to ``handlers.router.dispatch(app, event)``; handlers and the core
reach users only through ``bot.delivery.addressing``, which writes to the outbox, and the
senders deliver. What the reminder engine reminds of is registered by whoever builds the app
(``bot.run.runtime``: ``bot.run.scheduler.REMINDER_SOURCES``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.core.clock import Clock
from bot.core.messaging import ByteSink, Event, IncomingFile, OutgoingMessage
from bot.core.policy import PlanLoaders, Quotas
from bot.delivery.sender import OutboxSender
from bot.plan.cache import PlanCache
from storage.db import Database
from storage.files import FileStore
from storage.outage import Outage
from storage.sealing import Sealer

if TYPE_CHECKING:  # the sources import the core: a type here, never an import at run time
    from bot.reminders.sources import ReminderSource

logger = logging.getLogger(__name__)


@dataclass
class PlatformInfo:
    """What the core knows of a running platform."""

    sender: OutboxSender
    invite_link: Callable[[str], str] | None = None  # code -> link a member opens to bind
    # (user id, [(command, description)], group chat id or None) -> that person's own command
    # menu in their private chat, or in that group, where supported
    set_menu: Callable[[str, list[tuple[str, str]], str | None], Awaitable[None]] | None = None
    # (chat id, action) -> show "typing" / "uploading" in a chat, where supported
    chat_action: Callable[[str, str], Awaitable[None]] | None = None
    # (event, its answers) -> (chat id, message) to queue, where the platform cannot deliver
    # some answers in the event's own chat (the WeCom robot's callback mode: no files there)
    shape_replies: (
        Callable[[Event, list[OutgoingMessage]], list[tuple[str, OutgoingMessage]]] | None
    ) = None
    # chat id -> True where a message gets one answer only (the robot's callback mode: one
    # response_url), which a progress note must not take
    answers_once: Callable[[str], bool] | None = None


@dataclass
class Huiwu:
    db: Database
    clock: Clock
    default_locale: str = "zh_CN"
    platforms: dict[str, PlatformInfo] = field(default_factory=dict)
    # Slow work answering someone says so after this many seconds (bot.delivery.progress).
    progress_after: float = 1.0
    plan_loaders: PlanLoaders = PlanLoaders.ORGANIZERS
    quotas: Quotas = field(default_factory=Quotas)
    reminder_sources: tuple[ReminderSource, ...] = ()
    # Seals drafts (a ballot being filled in, an opinion being written): see storage.sealing.
    sealer: Sealer = field(default_factory=Sealer.ephemeral)
    board_url: str | None = None  # the plan board's public address (HUIWU_BOARD_URL), if served

    def __post_init__(self) -> None:
        self.plans = PlanCache(self.db)
        self.files = FileStore.beside(self.db.path)
        # Set when something moves the plan's schedule (a group bound, a phase advanced).
        self.schedule_changed = asyncio.Event()
        # Events answered while the database could not be written (logged once per kind).
        self.storage_outage = Outage(logger, "handling messages")
        # What the clock's steps planned per plan instance, with the instance's version
        # (``storage.changes``): step name -> instance id ->
        # (version, next due time, planned at, valid until).
        self.memo: dict[
            str, dict[int, tuple[tuple[int, int], datetime | None, datetime, datetime]]
        ] = {}
        # Work started by a handler that it does not wait for (command menus).
        self.background: set[asyncio.Task[Any]] = set()

    def in_background(self, work: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def add_platform(self, name: str, info: PlatformInfo) -> None:
        self.platforms[name] = info

    async def download(self, platform: str, file: IncomingFile) -> bytes:
        """The content of a file a user sent on a running platform."""
        return await self.platforms[platform].sender.messenger.download(file)

    async def download_to(self, platform: str, file: IncomingFile, sink: ByteSink) -> None:
        """Write a file a user sent into ``sink`` as it arrives."""
        await self.platforms[platform].sender.messenger.download_to(file, sink)

    def download_limit(self, platform: str) -> int | None:
        """The largest file this platform lets the bot fetch (None: no limit of its own)."""
        info = self.platforms.get(platform)
        return None if info is None else info.sender.messenger.max_download_bytes

    def wake_senders(self) -> None:
        for info in self.platforms.values():
            info.sender.wake()

    @contextlib.contextmanager
    def holding_pushes(self) -> Iterator[None]:
        """While many plans queue their pushes (the 09:00 reminders), the senders send only
        answers; then they wake and take the plans in turns. Woken by an answer halfway,
        a sender took the plans queued so far first: with a pass slowed to seconds by a busy
        machine, the last plans' first reminder came that much later (bench/province.py)."""
        for info in self.platforms.values():
            info.sender.pushes_held += 1
        try:
            yield
        finally:
            for info in self.platforms.values():
                info.sender.pushes_held -= 1
            self.wake_senders()

    async def drain(self, seconds: float = 30.0) -> None:
        """Wait until every platform has sent what is due (and background work is done)."""
        if self.background:
            await asyncio.wait(list(self.background), timeout=seconds)
        for info in self.platforms.values():
            await info.sender.drain(seconds)
