"""Start-up and shutdown in one place: database, clock, core, platforms, scheduler.

``huiwu run``, ``huiwu demo`` and the end-to-end tests all build the bot here, so what the
tests exercise is what runs in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from telegram import MenuButtonWebApp, WebAppInfo
from telegram import error as tg_error
from telegram.ext import Application

from bot.adapters.guarded_site import ConnectionLimits, GuardedSite
from bot.adapters.telegram import adapter as telegram_adapter
from bot.adapters.telegram.adapter import TELEGRAM_POLICY
from bot.adapters.telegram.webhook import MAX_BODY as HTTP_MAX_BODY
from bot.adapters.telegram.webhook import TelegramWebhook
from bot.adapters.wecom.client import DEFAULT_API_BASE_URL, WeComClient, WeComSendError
from bot.adapters.wecom.events import PLATFORM as WECOM
from bot.adapters.wecom.journal import StoredJournal
from bot.adapters.wecom.messenger import WECOM_POLICY, WeComMessenger, app_menu
from bot.adapters.wecom.robot.callback import RobotCallbackEndpoint
from bot.adapters.wecom.robot.connection import DEFAULT_GATEWAY_URL, RobotConnection
from bot.adapters.wecom.robot.frames import is_robot_chat
from bot.adapters.wecom.robot.messenger import ChannelMessenger, RobotMessenger, robot_limits
from bot.adapters.wecom.robot.receiver import ResponseUrls, RobotReceiver
from bot.adapters.wecom.robot.replies import callback_replies
from bot.adapters.wecom.server import WeComCallbackServer
from bot.board.links import TELEGRAM_ENTRY
from bot.board.web import WECOM_AUTHORIZE_URL, Board, BoardSettings
from bot.core.app import Huiwu, PlatformInfo
from bot.core.clock import Clock
from bot.core.i18n import _, use_locale
from bot.core.messaging import Event, Messenger
from bot.core.policy import PlanLoaders, Quotas
from bot.delivery.limits import RateLimiter
from bot.delivery.sender import OutboxSender, SendPolicy
from bot.run.failures import (
    listen_error,
    open_database,
    telegram_token_rejected,
    until_reachable,
    wecom_credentials_rejected,
)
from bot.run.retention import prune_daily, sweep_files
from bot.run.scheduler import REMINDER_SOURCES, PlanScheduler
from handlers import menus
from handlers.router import dispatch
from storage import outbox
from storage.sealing import Sealer
from storage.wecom_callbacks import journal_secret

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
    # The HTTP server's header, idle and body time limits and its connection cap (the one
    # server carries the webhook, WeCom's callbacks and the board).
    connection_limits: ConnectionLimits = field(default_factory=ConnectionLimits)
    register_commands: bool = True
    # Telegram's limits; a benchmark measuring the core's own speed may lift them.
    policy: SendPolicy = TELEGRAM_POLICY
    # The send limits' time: real, or a VirtualTime shared with the emulator (tests, demo).
    rate_clock: Callable[[], float] = time.monotonic
    rate_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


@dataclass
class RobotOptions:
    """The WeCom intelligent robot: ``bot_id`` + ``secret`` for the long connection, or
    ``token`` + ``aes_key`` for callback mode at ``path`` on the WeCom HTTP server."""

    bot_id: str | None = None
    secret: str | None = None
    gateway_url: str = DEFAULT_GATEWAY_URL
    token: str | None = None
    aes_key: str | None = None
    path: str = "/wecom/robot"
    heartbeat: float = 30.0
    first_backoff: float = 0.5
    max_backoff: float = 30.0

    @property
    def long_connection(self) -> bool:
        return bool(self.bot_id and self.secret)


@dataclass
class WeComOptions:
    corp_id: str
    agent_id: int
    secret: str
    token: str
    aes_key: str
    api_base_url: str = DEFAULT_API_BASE_URL
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    path: str = "/wecom/callback"
    create_menu: bool = True
    retry_after: float = 2.0  # first wait after 45009/45033; doubles while they last
    # Send limits count real time; tests pass a virtual clock shared with the emulator.
    rate_clock: Callable[[], float] = time.monotonic
    rate_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    robot: RobotOptions | None = None


@dataclass
class BoardOptions:
    """The plan board on the bot's HTTP server (``HUIWU_BOARD_URL``, ``HUIWU_HTTP_PORT``)."""

    public_url: str  # where people open it, e.g. https://huiwu.example.org/board
    listen_host: str = "127.0.0.1"
    listen_port: int = 8080
    wecom_authorize_url: str = WECOM_AUTHORIZE_URL
    set_menu_button: bool = True  # Telegram: the chat's menu button opens the Mini App


@dataclass
class Runtime:
    """A running Huiwu: ``await runtime.start()`` … ``await runtime.stop()``."""

    db_path: str
    clock: Clock
    default_locale: str = "zh_CN"
    telegram: TelegramOptions | None = None
    wecom: WeComOptions | None = None
    board: BoardOptions | None = None
    plan_loaders: PlanLoaders = PlanLoaders.ORGANIZERS
    quotas: Quotas = field(default_factory=Quotas)
    retention_days: int | None = None  # None: keep everything (tests, the demo)
    app: Huiwu = field(init=False)
    scheduler: PlanScheduler = field(init=False)
    telegram_application: Application | None = field(init=False, default=None)
    wecom_client: WeComClient | None = field(init=False, default=None)
    wecom_server: WeComCallbackServer | None = field(init=False, default=None)
    http_site: GuardedSite | None = field(init=False, default=None)
    http_port: int | None = field(init=False, default=None)
    pruner: asyncio.Task[None] | None = field(init=False, default=None)
    robot_receiver: RobotReceiver | None = field(init=False, default=None)
    robot_connection: RobotConnection | None = field(init=False, default=None)
    robot_messenger: RobotMessenger | None = field(init=False, default=None)

    async def start(self) -> None:
        """Start everything, or stop what started and raise (``OperatorError`` for the
        operator's failures). A platform that cannot be reached is tried again until it
        answers; cancel the start to give up."""
        db = await open_database(self.db_path)
        # One secret, the same when the other platform is added or removed: drafts stay readable.
        secrets = [self.telegram.token] if self.telegram else []
        secrets += [self.wecom.aes_key] if self.wecom and not secrets else []
        self.app = Huiwu(
            db,
            self.clock,
            self.default_locale,
            plan_loaders=self.plan_loaders,
            quotas=self.quotas,
            reminder_sources=REMINDER_SOURCES,
            sealer=Sealer.from_secrets(*secrets),
        )
        if self.board is not None:
            self.app.board_url = self.board.public_url.rstrip("/")
        await sweep_files(self.app, at_start=True)  # before any event can store one
        # One HTTP server, one port: the Telegram webhook, the WeCom callbacks and the board.
        http = web.Application(client_max_size=HTTP_MAX_BODY)
        try:
            if self.telegram is not None:
                await self._start_telegram(self.telegram, http)
            if self.wecom is not None:
                await self._start_wecom(self.wecom, http)
            if self.board is not None:
                self._install_board(self.board, http)
            if http.router.routes():
                await self._serve_http(http)
            for info in self.app.platforms.values():
                await info.sender.start()
            self.scheduler = PlanScheduler(self.app)
            await self.scheduler.start()
            for platform in self.app.platforms:  # roles may have changed while stopped
                self.app.in_background(menus.refresh_everyone(self.app, platform))
            if self.retention_days is not None:
                self.pruner = asyncio.create_task(
                    prune_daily(self.app, self.retention_days), name="retention"
                )
        except BaseException:
            await self.stop()
            raise
        logger.info("Huiwu started with platforms: %s", ", ".join(self.app.platforms) or "none")

    async def handle(self, event: Event) -> None:
        await dispatch(self.app, event)

    async def _start_telegram(self, options: TelegramOptions, http: web.Application) -> None:
        application = telegram_adapter.build_application(
            options.token, base_url=options.base_url, base_file_url=options.base_file_url
        )
        telegram_adapter.install(application, self.handle)
        self.telegram_application = application
        try:
            await until_reachable(
                "Telegram",
                application.initialize,
                lambda exc: isinstance(exc, tg_error.NetworkError),
            )
        except tg_error.InvalidToken:
            raise telegram_token_rejected() from None
        if options.register_commands:
            await telegram_adapter.register_commands(application)
        messenger = telegram_adapter.TelegramMessenger(application)
        sender = OutboxSender(
            self.app.db,
            self.clock,
            messenger,
            options.policy,
            limiter=RateLimiter(clock=options.rate_clock, sleep=options.rate_sleep),
        )
        self.app.add_platform(
            telegram_adapter.PLATFORM,
            PlatformInfo(
                sender,
                invite_link=telegram_adapter.invite_link(application.bot.username),
                set_menu=(
                    telegram_adapter.chat_menu_setter(application)
                    if options.register_commands
                    else None
                ),
                chat_action=telegram_adapter.chat_action_sender(application),
            ),
        )
        if self.board is not None and self.board.set_menu_button:
            await self._telegram_menu_button(application, self.board)
        await application.start()
        assert application.updater is not None
        if options.webhook_url:
            # Served by the bot's one HTTP server (with WeCom's callbacks and the board).
            webhook = TelegramWebhook(application, options.webhook_url, options.webhook_secret)
            webhook.install(http)
            await webhook.register()
        else:
            await application.updater.start_polling(
                poll_interval=0.0,
                timeout=30,
                drop_pending_updates=False,
                error_callback=_polling_failed,
            )

    async def _telegram_menu_button(self, application: Application, options: BoardOptions) -> None:
        """Every private chat's menu button opens the board as a Mini App."""
        with use_locale(self.default_locale):
            text = _("Plan board")
        url = options.public_url.rstrip("/") + TELEGRAM_ENTRY
        try:
            await application.bot.set_chat_menu_button(
                menu_button=MenuButtonWebApp(text, WebAppInfo(url))
            )
        except tg_error.TelegramError as exc:  # the commands work without it
            logger.warning("could not set the Telegram menu button: %s", exc)

    def _install_board(self, options: BoardOptions, http: web.Application) -> None:
        settings = BoardSettings(
            public_url=options.public_url,
            telegram_token=self.telegram.token if self.telegram else None,
            wecom_users=self.wecom_client,
            wecom_corp_id=self.wecom.corp_id if self.wecom else None,
            wecom_agent_id=self.wecom.agent_id if self.wecom else None,
            wecom_authorize_url=options.wecom_authorize_url,
        )
        Board(self.app, settings).install(http)

    async def _serve_http(self, http: web.Application) -> None:
        # The settings give every part the same HUIWU_HTTP_HOST / HUIWU_HTTP_PORT.
        if self.board is not None:
            host, port = self.board.listen_host, self.board.listen_port
        elif self.wecom is not None:
            host, port = self.wecom.listen_host, self.wecom.listen_port
        else:
            assert self.telegram is not None
            host, port = self.telegram.listen_host, self.telegram.listen_port
        # Bounded connections (issue 22: slow or idle clients are timed out, at most 256 at
        # once); no access log, which would hold the board's links.
        limits = self.telegram.connection_limits if self.telegram else ConnectionLimits()
        site = GuardedSite(http, host, port, limits, "HTTP server")
        try:
            await site.start()
        except OSError as exc:
            await site.runner.cleanup()
            raise listen_error(host, port, exc) from None
        self.http_site = site
        self.http_port = site.port
        if self.wecom_server is not None:
            self.wecom_server.host, self.wecom_server.port = host, self.http_port
        logger.info("HTTP server on http://%s:%d", host, self.http_port)

    async def _start_wecom(self, options: WeComOptions, http: web.Application) -> None:
        client = WeComClient(
            corp_id=options.corp_id,
            corp_secret=options.secret,
            agent_id=options.agent_id,
            api_base_url=options.api_base_url,
            max_backoff_retries=0,  # the outbox sender waits instead, holding no send slot
            clock=options.rate_clock,
            sleep=options.rate_sleep,
        )
        self.wecom_client = client
        try:
            await until_reachable(
                "WeCom",
                client.check_credentials,
                lambda exc: isinstance(exc, WeComSendError) and exc.errcode is None,
            )
        except WeComSendError as exc:
            raise wecom_credentials_rejected(exc.errcode) from None
        app_messenger = WeComMessenger(client, retry_after=options.retry_after)
        messenger: Messenger = app_messenger
        policy = WECOM_POLICY
        if options.robot is not None:
            messenger = self._build_robot(options.robot, app_messenger)
            policy = dataclasses.replace(WECOM_POLICY, chat_limits=robot_limits)
        limiter = RateLimiter(clock=options.rate_clock, sleep=options.rate_sleep)
        sender = OutboxSender(self.app.db, self.clock, messenger, policy, limiter=limiter)
        robot_callback_mode = options.robot is not None and not options.robot.long_connection
        info = PlatformInfo(sender)
        if robot_callback_mode:  # one answer per mention, and no files in the robot's chats
            info = PlatformInfo(sender, shape_replies=callback_replies, answers_once=is_robot_chat)
        self.app.add_platform(WECOM, info)
        server = WeComCallbackServer(
            corp_id=options.corp_id,
            token=options.token,
            aes_key=options.aes_key,
            agent_id=options.agent_id,
            sink=self.handle,
            prepare=app_messenger.prepare,
            journal=StoredJournal(self.app.db, self.clock, self._journal_secret()),
            path=options.path,
            host=options.listen_host,
            port=options.listen_port,
        )
        robot = options.robot
        if robot is not None and not robot.long_connection and self.robot_receiver is not None:
            endpoint = RobotCallbackEndpoint(
                token=robot.token or "",
                aes_key=robot.aes_key or "",
                receiver=self.robot_receiver,
                path=robot.path,
            )
            server.extra_routes.append(endpoint.install)
        server.install(http)
        self.wecom_server = server
        await server.resume()
        if self.robot_receiver is not None:
            await self.robot_receiver.resume()
        if self.robot_connection is not None:
            await self.robot_connection.start()
        if options.create_menu:
            with use_locale(self.default_locale):
                menu = app_menu(self.app.board_url)
            try:
                await client.create_menu(menu)
            except WeComSendError as exc:  # the text commands work without a menu
                logger.warning("could not set the WeCom app menu: %s", exc)

    def _journal_secret(self) -> bytes:
        """The WeCom callback journal's hashing key, from the app's callback secrets."""
        assert self.wecom is not None
        return journal_secret(self.wecom.token, self.wecom.aes_key)

    def _build_robot(self, options: RobotOptions, app_messenger: WeComMessenger) -> Messenger:
        """The robot's receiver (and long connection) and the messenger that routes robot
        chats to the robot, the rest to the app."""
        response_urls = ResponseUrls(self.clock.now)
        receiver = RobotReceiver(
            sink=self.handle,
            journal=StoredJournal(self.app.db, self.clock, self._journal_secret(), channel="robot"),
            response_urls=response_urls,
            chat_seen=None if options.long_connection else self._robot_chat_seen,
        )
        self.robot_receiver = receiver
        connection = None
        if options.long_connection:
            connection = RobotConnection(
                bot_id=options.bot_id or "",
                secret=options.secret or "",
                on_frame=receiver.accept,
                url=options.gateway_url,
                heartbeat=options.heartbeat,
                first_backoff=options.first_backoff,
                max_backoff=options.max_backoff,
            )
            self.robot_connection = connection
        self.robot_messenger = RobotMessenger(
            response_urls=response_urls, connection=connection, locale=self.default_locale
        )
        return ChannelMessenger(app_messenger, self.robot_messenger)

    async def _robot_chat_seen(self, chat_id: str) -> None:
        """Callback mode: a chat that talks to the robot gives a fresh response_url, so what
        waited for one is sent now."""
        async with self.app.db.transaction() as conn:
            released = await outbox.release_held(conn, WECOM, chat_id)
        if released:
            self.app.wake_senders()

    async def join(self, seconds: float = 30.0) -> None:
        """Wait until the platforms' received events are handled and what is due is sent."""
        if self.wecom_server is not None:
            await self.wecom_server.join(seconds)
        if self.robot_receiver is not None:
            await self.robot_receiver.join(seconds)
        await self.app.drain(seconds)

    async def stop(self) -> None:
        """Stop what is running; also after a start that failed halfway."""
        if hasattr(self, "app"):
            for task in list(self.app.background):  # menus being set: not needed any more
                task.cancel()
        if self.http_site is not None:
            await self.http_site.stop()
            self.http_site = None
        if self.robot_connection is not None:
            await self.robot_connection.stop()
        if self.wecom_server is not None:
            await self.wecom_server.stop()
        if self.robot_receiver is not None:
            await self.robot_receiver.stop()
        if hasattr(self, "scheduler"):
            await self.scheduler.stop()
        if self.pruner is not None:
            self.pruner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.pruner
        application = self.telegram_application
        if application is not None:
            if application.updater and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
        # Together: each lets its sends in flight finish (up to 10 s), so a stop takes at most
        # that once, not once per platform.
        await asyncio.gather(*(info.sender.stop() for info in self.app.platforms.values()))
        if application is not None:
            await application.shutdown()
            await application.bot.shutdown()  # its HTTP clients, if initialize() failed
        if self.wecom_client is not None:
            await self.wecom_client.close()
        if self.robot_messenger is not None:
            await self.robot_messenger.close()
        await self.app.db.close()


def _polling_failed(exc: tg_error.TelegramError) -> None:
    """One line per failed getUpdates (python-telegram-bot tries again by itself)."""
    logger.warning("Telegram polling failed (%s: %s); trying again", type(exc).__name__, exc)
