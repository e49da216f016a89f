"""Start-up and shutdown in one place: database, clock, core, platforms, scheduler.

``huiwu run``, ``huiwu demo`` and the end-to-end tests all build the bot here, so what the
tests exercise is what runs in production.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from telegram.ext import Application

from bot.adapters import telegram as telegram_adapter
from bot.app import Huiwu, PlatformInfo
from bot.clock import Clock
from bot.messaging import Event
from bot.scheduler import PlanScheduler
from bot.sender import TELEGRAM_POLICY, OutboxSender, SendPolicy
from handlers.router import dispatch
from storage.db import Database

logger = logging.getLogger(__name__)


@dataclass
class TelegramOptions:
    token: str
    base_url: str | None = None
    base_file_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    register_commands: bool = True
    # Telegram's limits; a benchmark measuring the core's own speed may lift them.
    policy: SendPolicy = TELEGRAM_POLICY


@dataclass
class Runtime:
    """A running Huiwu: ``await runtime.start()`` … ``await runtime.stop()``."""

    db_path: str
    clock: Clock
    default_locale: str = "zh_CN"
    telegram: TelegramOptions | None = None
    app: Huiwu = field(init=False)
    scheduler: PlanScheduler = field(init=False)
    telegram_application: Application | None = field(init=False, default=None)

    async def start(self) -> None:
        db = await Database.open(self.db_path)
        self.app = Huiwu(db, self.clock, self.default_locale)
        if self.telegram is not None:
            await self._start_telegram(self.telegram)
        for info in self.app.platforms.values():
            await info.sender.start()
        self.scheduler = PlanScheduler(self.app)
        await self.scheduler.start()
        logger.info("Huiwu started with platforms: %s", ", ".join(self.app.platforms) or "none")

    async def handle(self, event: Event) -> None:
        await dispatch(self.app, event)

    async def _start_telegram(self, options: TelegramOptions) -> None:
        application = telegram_adapter.build_application(
            options.token, base_url=options.base_url, base_file_url=options.base_file_url
        )
        telegram_adapter.install(application, self.handle)
        await application.initialize()
        if options.register_commands:
            await telegram_adapter.register_commands(application)
        messenger = telegram_adapter.TelegramMessenger(application)
        sender = OutboxSender(self.app.db, self.clock, messenger, options.policy)
        self.app.add_platform(
            telegram_adapter.PLATFORM,
            PlatformInfo(
                sender,
                invite_link=telegram_adapter.invite_link(application.bot.username),
            ),
        )
        await application.start()
        assert application.updater is not None
        if options.webhook_url:
            await application.updater.start_webhook(
                listen=options.listen_host,
                port=options.listen_port,
                url_path="telegram",
                webhook_url=options.webhook_url,
                secret_token=options.webhook_secret,
            )
        else:
            await application.updater.start_polling(
                poll_interval=0.0, timeout=30, drop_pending_updates=False
            )
        self.telegram_application = application

    async def stop(self) -> None:
        await self.scheduler.stop()
        application = self.telegram_application
        if application is not None:
            if application.updater and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
        for info in self.app.platforms.values():
            await info.sender.stop()
        if application is not None:
            await application.shutdown()
        await self.app.db.close()
