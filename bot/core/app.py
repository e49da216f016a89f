"""The application core: one database, one clock, the plans, and the platforms' senders.

Adapters hand every event to ``Huiwu.handle``; handlers and the core reach users only
through ``bot.delivery.addressing``, which writes to the outbox, and the senders deliver.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.clock import Clock
from bot.core.messaging import IncomingFile
from bot.delivery.sender import OutboxSender
from bot.plan.cache import PlanCache
from storage.db import Database

logger = logging.getLogger(__name__)


@dataclass
class PlatformInfo:
    """What the core knows of a running platform."""

    sender: OutboxSender
    invite_link: Callable[[str], str] | None = None  # code -> link a member opens to bind


@dataclass
class Huiwu:
    db: Database
    clock: Clock
    default_locale: str = "zh_CN"
    platforms: dict[str, PlatformInfo] = field(default_factory=dict)
    board_url: str | None = None  # the plan board's public address (HUIWU_BOARD_URL), if served

    def __post_init__(self) -> None:
        self.plans = PlanCache(self.db)
        # Set when something moves the plan's schedule (a group bound, a phase advanced).
        self.schedule_changed = asyncio.Event()

    def add_platform(self, name: str, info: PlatformInfo) -> None:
        self.platforms[name] = info

    async def download(self, platform: str, file: IncomingFile) -> bytes:
        """The content of a file a user sent on a running platform."""
        return await self.platforms[platform].sender.messenger.download(file)

    def wake_senders(self) -> None:
        for info in self.platforms.values():
            info.sender.wake()

    async def drain(self, seconds: float = 30.0) -> None:
        """Wait until every platform has sent what is due."""
        for info in self.platforms.values():
            await info.sender.drain(seconds)
