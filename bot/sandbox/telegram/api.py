"""A loopback emulator of the Telegram Bot API, for the demo, the tests and the benchmarks.

python-telegram-bot's real ``Bot`` and ``Application`` talk HTTP to it on 127.0.0.1::

    async with TelegramEmulator() as emulator:
        emulator.add_bot(TOKEN)
        alice = emulator.add_user("方磊")
        bot = telegram.Bot(TOKEN, base_url=emulator.base_url,
                           base_file_url=emulator.base_file_url)
        emulator.send_text(alice, "/start")          # queued for getUpdates or the webhook
        ...
        reply = await emulator.wait_for_bot_message(alice)

Simulated users act through :class:`TelegramEmulator` (``send_text``, ``press_button``,
...); what the bot answers is kept in per-chat transcripts.  The Bot API methods live in
:mod:`bot.sandbox.telegram.methods`, flood limits and faults in
:mod:`bot.sandbox.telegram.limits`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import time
from collections.abc import Callable
from types import TracebackType
from typing import Self

from aiohttp import web

from bot.sandbox.telegram.limits import (
    Clock,
    FaultInjector,
    FaultKind,
    FaultPlan,
    FloodController,
    FloodLimits,
)
from bot.sandbox.telegram.methods import MAX_UPLOAD_BYTES, BotApiMethods
from bot.sandbox.telegram.state import (
    ApiError,
    BotAccount,
    EmulatorStats,
    JsonDict,
    RequestParams,
    SimChat,
    SimUser,
    StoredMessage,
    TelegramWorld,
    UploadedFile,
    too_many_requests,
)
from bot.sandbox.telegram.text import command_entities
from bot.sandbox.telegram.transcript import TranscriptEntry, render_entries

logger = logging.getLogger(__name__)

EntryPredicate = Callable[[TranscriptEntry], bool]


def _any_entry(entry: TranscriptEntry) -> bool:
    return True


class TelegramEmulator:
    """An in-memory Telegram serving the Bot API over HTTP, with simulated users.

    Args:
        host: interface to listen on.
        port: TCP port; 0 picks a free one (read :attr:`base_url` after :meth:`start`).
        limits: sending limits; Telegram's by default.
        faults: faults to inject into requests; none by default.
        clock: monotonic seconds used for flood limits and transcript times; inject a fake
            one for deterministic limit tests.
        webhook_retry_delay: first delay before retrying a failed webhook delivery; it
            doubles on each failure up to 5 s.
        answer_delay: real seconds every answer but getUpdates's waits after the request
            took effect (network latency: a bot stopped then has sends in flight whose
            message has already arrived).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        limits: FloodLimits | None = None,
        faults: FaultPlan | None = None,
        clock: Clock = time.monotonic,
        webhook_retry_delay: float = 0.2,
        answer_delay: float = 0.0,
    ) -> None:
        self._host = host
        self._answer_delay = answer_delay
        self._port = port
        self._limits = limits or FloodLimits()
        self._faults = FaultInjector(faults) if faults is not None else None
        self._world = TelegramWorld(clock)
        self._methods = BotApiMethods(self._world, webhook_retry_delay=webhook_retry_delay)
        self._runner: web.AppRunner | None = None
        self._stopping = asyncio.Event()
        self._primary_bot: BotAccount | None = None
        self._user_ids = itertools.count(7_000_000_001)
        self._group_ids = itertools.count(4_000_000_001)
        self._bot_ids = itertools.count(6_000_000_001)
        self._callback_query_ids = itertools.count(4_300_000_000_000_000_001)

    def inject_faults(self, faults: FaultPlan | None) -> None:
        """From now on, answer requests with the faults of ``faults`` (None: no faults)."""
        self._faults = FaultInjector(faults) if faults is not None else None

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        """Starts serving on ``host:port``."""
        app = web.Application(client_max_size=MAX_UPLOAD_BYTES + 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api_request)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._handle_file_download)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self._port = self._runner.addresses[0][1]
        self._stopping.clear()
        await self._methods.open()
        logger.info("Telegram emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Ends pending long polls and held requests, stops webhook delivery and serving."""
        self._stopping.set()
        await self._methods.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The ``base_url`` for python-telegram-bot, which appends ``<token>/<method>``."""
        return f"http://{self._host}:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        """The ``base_file_url`` for python-telegram-bot."""
        return f"http://{self._host}:{self._port}/file/bot"

    @property
    def stats(self) -> EmulatorStats:
        """Counters of requests, deliveries, 429s, 403s and injected faults."""
        return self._world.stats

    # --- accounts and chats --------------------------------------------------------------

    def add_bot(self, token: str, *, username: str = "huiwu_bot", first_name: str = "会务") -> int:
        """Registers a bot; returns its user id (the numeric prefix of ``token`` if any).

        Simulated users talk to the first bot added.
        """
        prefix = token.split(":", 1)[0]
        bot_id = int(prefix) if prefix.isdigit() else next(self._bot_ids)
        bot = BotAccount(
            token=token,
            user_id=bot_id,
            username=username,
            first_name=first_name,
            flood=FloodController(self._limits, self._world.clock),
        )
        self._world.bots[token] = bot
        self._primary_bot = self._primary_bot or bot
        return bot_id

    def use_bot(self, token: str) -> None:
        """Simulated users talk to this bot from now on (a benchmark runs two bots in turn)."""
        self._primary_bot = self._world.bots[token]

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "zh-hans",
        user_id: int | None = None,
    ) -> int:
        """Creates a simulated user; returns their user id (also their private chat id)."""
        user_id = user_id if user_id is not None else next(self._user_ids)
        self._world.users[user_id] = SimUser(
            user_id, first_name, last_name, username, language_code
        )
        return user_id

    def set_language(self, user_id: int, language_code: str | None) -> None:
        """The language the user's Telegram app reports from now on."""
        self._world.users[user_id].language_code = language_code

    def add_group(
        self,
        title: str,
        member_ids: list[int],
        *,
        chat_id: int | None = None,
        supergroup: bool = False,
    ) -> int:
        """Creates a group (or supergroup) with the bot and ``member_ids``; returns its id."""
        for user_id in member_ids:
            self._user(user_id)
        if chat_id is None:
            number = next(self._group_ids)
            chat_id = -(1_000_000_000_000 + number) if supergroup else -number
        self._world.chats[chat_id] = SimChat(
            chat_id,
            "supergroup" if supergroup else "group",
            title=title,
            member_ids=set(member_ids),
        )
        return chat_id

    # --- simulated users' actions --------------------------------------------------------

    def send_text(self, user_id: int, text: str, *, chat_id: int | None = None) -> JsonDict:
        """The user sends ``text`` (to the bot's private chat unless ``chat_id``).

        ``/command`` words get ``bot_command`` entities as Telegram adds them.
        Returns the update.
        """
        content: JsonDict = {"text": text}
        entities = command_entities(text)
        if entities:
            content["entities"] = entities
        return self._user_message(user_id, chat_id, content)

    def send_document(
        self,
        user_id: int,
        filename: str,
        content: bytes,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> JsonDict:
        """The user sends a file; the bot can download it with getFile. Returns the update."""
        stored = self._world.store_file(
            content, filename=filename, mime_type=mime_type, folder="documents"
        )
        message: JsonDict = {"document": stored.document_api()}
        if caption:
            message["caption"] = caption
        return self._user_message(user_id, chat_id, message)

    def send_photo(
        self,
        user_id: int,
        content: bytes,
        *,
        caption: str | None = None,
        chat_id: int | None = None,
    ) -> JsonDict:
        """The user sends a photo. Returns the update."""
        stored = self._world.store_file(
            content, filename="photo.jpg", mime_type="image/jpeg", folder="photos"
        )
        message: JsonDict = {"photo": stored.photo_api()}
        if caption:
            message["caption"] = caption
        return self._user_message(user_id, chat_id, message)

    def press_button(
        self,
        user_id: int,
        message_id: int,
        data: str,
        *,
        chat_id: int | None = None,
        stale: bool = False,
    ) -> JsonDict:
        """The user presses the inline button with ``callback_data == data``.

        ``stale``: the button is pressed on a view of the message older than an edit that took
        it away (the edit had not reached that device yet); Telegram still sends the press.

        Raises:
            ValueError: the bot's message ``message_id`` has no such button (and not ``stale``).

        Returns the ``callback_query`` update; its id is awaited by answerCallbackQuery.
        """
        bot = self._bot()
        user = self._user(user_id)
        chat = self._world.chats.get(user_id if chat_id is None else chat_id)
        stored = chat.messages.get(message_id) if chat is not None else None
        if chat is None or stored is None or not stored.from_bot:
            raise ValueError(f"no bot message {message_id} in chat {chat_id or user_id}")
        if chat.is_group and user_id not in chat.member_ids:
            raise ValueError(f"user {user_id} is not a member of group {chat.chat_id}")
        label = next(
            (
                button["text"]
                for row in stored.inline_keyboard()
                for button in row
                if button.get("callback_data") == data
            ),
            None,
        )
        if label is None and stale:
            label = data
        if label is None:
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}")
        query_id = str(next(self._callback_query_ids))
        self._world.open_callback_queries.add(query_id)
        self._world.append_entry(
            TranscriptEntry(
                direction="in",
                chat_id=chat.chat_id,
                sender_id=user_id,
                sender_name=user.full_name,
                message_id=message_id,
                text=label,
                time=self._world.clock(),
                date=dt.datetime.now().astimezone(),
                callback_data=data,
            )
        )
        query = {
            "id": query_id,
            "from": user.to_api(),
            "message": dict(stored.payload),
            "chat_instance": f"{bot.user_id}{abs(chat.chat_id)}",
            "data": data,
        }
        return self._enqueue(bot, "callback_query", query)

    def join_group(self, user_id: int, chat_id: int) -> JsonDict:
        """The user joins a group; the bot gets a ``new_chat_members`` message."""
        user = self._user(user_id)
        self._group(chat_id).member_ids.add(user_id)
        return self._user_message(user_id, chat_id, {"new_chat_members": [user.to_api()]})

    def block_bot(self, user_id: int) -> None:
        """The user blocks the bot: sends to them answer 403 until they write again.

        The bot gets a ``my_chat_member`` update, as from Telegram.
        """
        bot = self._bot()
        user = self._user(user_id)
        bot.blocked_by.add(user_id)
        chat = self._world.chats.get(user_id)
        if chat is None:
            return
        self._enqueue(
            bot,
            "my_chat_member",
            {
                "chat": chat.to_api(),
                "from": user.to_api(),
                "date": int(time.time()),
                "old_chat_member": {"status": "member", "user": bot.sender_api()},
                "new_chat_member": {"status": "kicked", "user": bot.sender_api(), "until_date": 0},
            },
        )

    def open_private_chat(self, user_id: int) -> None:
        """The user opened the bot some time ago: the bot may write to them; no update is sent
        (for benchmarks and crash tests that start with many members already bound)."""
        user = self._user(user_id)
        self._world.chats.setdefault(
            user_id, SimChat(user_id, "private", user=user, member_ids={user_id})
        )
        self._bot().started_by.add(user_id)

    def _user_message(self, user_id: int, chat_id: int | None, content: JsonDict) -> JsonDict:
        bot = self._bot()
        user = self._user(user_id)
        if chat_id is None:
            chat = self._world.chats.setdefault(
                user_id, SimChat(user_id, "private", user=user, member_ids={user_id})
            )
            bot.started_by.add(user_id)
            bot.blocked_by.discard(user_id)
        else:
            chat = self._group(chat_id)
            if user_id not in chat.member_ids:
                raise ValueError(f"user {user_id} is not a member of group {chat_id}")
        message = self._world.new_message(chat, user.to_api(), content)
        chat.messages[message["message_id"]] = StoredMessage(message, from_bot=False)
        self._world.record("in", chat, message, user.full_name)
        return self._enqueue(bot, "message", message)

    def _enqueue(self, bot: BotAccount, kind: str, body: JsonDict) -> JsonDict:
        update = bot.enqueue_update(kind, body)
        self._methods.notify_update(bot)
        return update

    def menu_button(self) -> JsonDict:
        """The bot's chat menu button as ``setChatMenuButton`` last set it."""
        return self._bot().menu_button

    def _bot(self) -> BotAccount:
        if self._primary_bot is None:
            raise RuntimeError("add_bot() must be called before simulating users")
        return self._primary_bot

    def _user(self, user_id: int) -> SimUser:
        user = self._world.users.get(user_id)
        if user is None:
            raise ValueError(f"unknown user {user_id}; create it with add_user()")
        return user

    def _group(self, chat_id: int) -> SimChat:
        chat = self._world.chats.get(chat_id)
        if chat is None or not chat.is_group:
            raise ValueError(f"unknown group {chat_id}; create it with add_group()")
        return chat

    # --- inspection ----------------------------------------------------------------------

    def transcript(self, chat_id: int) -> list[TranscriptEntry]:
        """Everything that happened in the chat, both directions, in order."""
        return list(self._world.transcripts.get(chat_id, []))

    def bot_messages(self, chat_id: int) -> list[TranscriptEntry]:
        """The bot's messages and edits in the chat, in order."""
        return [entry for entry in self.transcript(chat_id) if entry.direction == "out"]

    async def wait_for_bot_message(
        self,
        chat_id: int,
        predicate: EntryPredicate = _any_entry,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the emulator's documented API
        since: int | None = None,
    ) -> TranscriptEntry:
        """Waits for a bot message (or edit) in the chat that satisfies ``predicate``.

        Only entries at transcript index ``since`` or later count; by default, those
        recorded after the call.  To avoid missing a quick answer, take
        ``since = len(emulator.transcript(chat_id))`` *before* acting.

        Raises:
            TimeoutError: none came within ``timeout`` seconds; the message shows the chat.
        """
        entries = self._world.transcripts.setdefault(chat_id, [])
        checked = len(entries) if since is None else since
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for entry in entries[checked:]:
                if entry.direction == "out" and predicate(entry):
                    return entry
            checked = len(entries)
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"no matching bot message in chat {chat_id} within {timeout} s; chat so far:\n"
                    + self.render_transcript(chat_id)
                )
            await self._world.transcript_signal.wait(remaining)

    def render_transcript(self, chat_id: int, *, with_time: bool = True) -> str:
        """The chat as readable lines: ``HH:MM 方磊 → /submit``, ``HH:MM 会务 ← ...``."""
        return render_entries(self.transcript(chat_id), with_time=with_time)

    def callback_answer(self, query_id: str) -> JsonDict | None:
        """How the bot answered a button press (text, show_alert, url); ``None`` if not yet."""
        return self._world.callback_answers.get(query_id)

    def bot_commands(
        self, *, scope: JsonDict | None = None, language_code: str = ""
    ) -> list[tuple[str, str]]:
        """The (command, description) pairs the bot set for ``scope`` and ``language_code``."""
        key = (json.dumps(scope or {"type": "default"}, sort_keys=True), language_code)
        return [(c["command"], c["description"]) for c in self._bot().commands.get(key, [])]

    def chat_actions(self, chat_id: int) -> list[str]:
        """The chat actions ("typing", "upload_document", ...) the bot showed in a chat."""
        return [action for chat, action in self._bot().chat_actions if chat == chat_id]

    def menu_seen_by(self, user_id: int) -> list[str]:
        """The commands a user sees in the menu of their private chat with the bot, found as
        Telegram documents: the chat scope, then all private chats, then the default, each
        first in the user's language, then for any language."""
        commands = self._bot().commands
        language = (self._world.users[user_id].language_code or "").split("-")[0]
        for scope in (
            {"chat_id": user_id, "type": "chat"},
            {"type": "all_private_chats"},
            {"type": "default"},
        ):
            for code in (language, ""):
                key = (json.dumps(scope, sort_keys=True), code)
                if key in commands:
                    return [c["command"] for c in commands[key]]
        return []

    def group_menu_seen_by(self, chat_id: int, user_id: int) -> list[str]:
        """The commands a user sees in a group's menu, found as Telegram documents for a
        group member who is not an administrator: the chat-member scope, the chat scope,
        all group chats, then the default; each first in the user's language."""
        commands = self._bot().commands
        language = (self._world.users[user_id].language_code or "").split("-")[0]
        for scope in (
            {"chat_id": chat_id, "type": "chat_member", "user_id": user_id},
            {"chat_id": chat_id, "type": "chat"},
            {"type": "all_group_chats"},
            {"type": "default"},
        ):
            for code in (language, ""):
                key = (json.dumps(scope, sort_keys=True), code)
                if key in commands:
                    return [c["command"] for c in commands[key]]
        return []

    def pending_update_count(self) -> int:
        """How many updates the bot has not yet confirmed (getUpdates) or received (webhook)."""
        return len(self._bot().pending_updates)

    # --- HTTP ----------------------------------------------------------------------------

    async def _handle_api_request(self, request: web.Request) -> web.StreamResponse:
        self.stats.requests += 1
        bot = self._world.bots.get(request.match_info["token"])
        if bot is None:
            return self._error_response(ApiError(401, "Unauthorized"))
        known = self._methods.by_name.get(request.match_info["method"].lower())
        if known is None:
            return self._error_response(ApiError(404, "Not Found"))
        name, method = known
        self.stats.requests_by_method[name] += 1
        try:
            params = await _read_params(request)
            fault = self._faults.draw(name) if self._faults is not None else None
            if fault is not None and fault is not FaultKind.ERROR_AFTER_DELIVERY:
                return await self._answer_with_fault(fault, request)
            result = await method(bot, params)
        except ApiError as error:
            return self._error_response(error)
        if fault is FaultKind.ERROR_AFTER_DELIVERY:
            self._count_fault(fault)
            return self._error_response(ApiError(502, "Bad Gateway"))
        if self._answer_delay and name != "getUpdates":
            await asyncio.sleep(self._answer_delay)
        return web.json_response({"ok": True, "result": result})

    async def _answer_with_fault(
        self, fault: FaultKind, request: web.Request
    ) -> web.StreamResponse:
        assert self._faults is not None
        self._count_fault(fault)
        if fault is FaultKind.SERVER_ERROR:
            status = self._faults.server_error_status()
            description = "Internal Server Error" if status == 500 else "Bad Gateway"
            return self._error_response(ApiError(status, description))
        if fault is FaultKind.TOO_MANY:
            return self._error_response(too_many_requests(1))
        if fault is FaultKind.TIMEOUT:
            try:
                await asyncio.wait_for(self._stopping.wait(), self._faults.plan.timeout_delay)
            except TimeoutError:
                pass
            return self._error_response(ApiError(504, "Gateway Timeout"))
        if request.transport is not None:
            request.transport.close()
        return web.Response(status=502)

    def _count_fault(self, fault: FaultKind) -> None:
        logger.debug("injecting fault %s", fault)
        self.stats.injected_faults += 1
        self.stats.faults_by_kind[fault.value] += 1

    def _error_response(self, error: ApiError) -> web.Response:
        if error.status == 403:
            self.stats.forbidden += 1
        elif error.status == 429:
            self.stats.too_many_requests += 1
        logger.debug("answering %s %s", error.status, error.description)
        return web.json_response(error.body(), status=error.status)

    async def _handle_file_download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] not in self._world.bots:
            return self._error_response(ApiError(401, "Unauthorized"))
        stored = self._world.files_by_path.get(request.match_info["file_path"])
        if stored is None:
            return self._error_response(ApiError(404, "Not Found"))
        return web.Response(body=stored.content, content_type=stored.mime_type)


async def _read_params(request: web.Request) -> RequestParams:
    """Collects parameters from the query string and a form, multipart or JSON body."""
    values: JsonDict = dict(request.query)
    uploads: dict[str, UploadedFile] = {}
    if request.content_type == "application/json" and request.can_read_body:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            raise ApiError(400, "Bad Request: can't parse JSON request body") from None
        if isinstance(body, dict):
            values.update(body)
    elif request.can_read_body:
        for name, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                uploads[name] = UploadedFile(value.filename, value.file.read(), value.content_type)
            else:
                values[name] = value
    return RequestParams(values, uploads)


async def serve_forever(
    host: str = "127.0.0.1",
    port: int = 8081,
    token: str = "123456:emulated-token",
    *,
    setup: Callable[[TelegramEmulator], None] | None = None,
) -> None:
    """Serves an emulator with one bot until cancelled; ``setup`` may add users and groups."""
    async with TelegramEmulator(host=host, port=port) as emulator:
        emulator.add_bot(token)
        if setup is not None:
            setup(emulator)
        logger.info("serving bot token %s at %s", token, emulator.base_url)
        await asyncio.Event().wait()
