"""Telegram adapter: python-telegram-bot updates in, neutral events out, and back.

Every update goes through one TypeHandler to ``handlers.router.dispatch``; the core's
messages come back through ``TelegramMessenger.send``. PTB's own rate limiter is not used:
the outbox sender (``bot.delivery.sender``) keeps Telegram's limits, including the per-private-chat
one that AIORateLimiter lacks, and retries without dropping.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from functools import partial

import httpx
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeChat,
    BotCommandScopeChatMember,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputFile,
    Message,
    Update,
    WebAppInfo,
)
from telegram import error as tg_error
from telegram.constants import MessageEntityType
from telegram.ext import (
    Application,
    ApplicationBuilder,
    ContextTypes,
    ExtBot,
    TypeHandler,
)
from telegram.request import HTTPXRequest

from bot.adapters.telegram.updates import (
    PacedUpdateQueue,
    PacedUpdatesRequest,
    PerUserUpdateProcessor,
    UpdatePacer,
)
from bot.core.formatting import split_text
from bot.core.i18n import use_locale
from bot.core.messaging import (
    ByteSink,
    ChatType,
    Event,
    IncomingFile,
    OutgoingMessage,
    PermanentSendError,
    RecipientUnreachable,
    RetryAfter,
    TransientSendError,
)
from bot.delivery.limits import Limit
from bot.delivery.sender import SendPolicy
from handlers.menus import everyones_group_menu, menu_for_roles
from storage.files import FileTooLarge

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # getFile refuses bigger files (Bot API, not local mode)
DOWNLOAD_CHUNK = 64 * 1024
DOWNLOAD_TIMEOUT = httpx.Timeout(30.0, read=60.0)

logger = logging.getLogger(__name__)

PLATFORM = "telegram"
MAX_TEXT = 4096  # Telegram's limits, counted in UTF-16 code units (an emoji counts two)
MAX_CAPTION = 1024


def telegram_length(text: str) -> int:
    """The length of a text as Telegram counts it against MAX_TEXT and MAX_CAPTION."""
    return len(text.encode("utf-16-le")) // 2


def requests_for(message: OutgoingMessage) -> int:
    """How many Bot API requests deliver ``message`` (each counts against the limits)."""
    if message.updates is not None:
        return 1
    if message.file is None:
        return len(split_text(message.text, MAX_TEXT, telegram_length))
    if message.text and telegram_length(message.text) > MAX_CAPTION:
        return len(split_text(message.text, MAX_TEXT, telegram_length)) + 1
    return 1


TELEGRAM_POLICY = SendPolicy(
    # Telegram: ~30 messages a second overall, ~1 a second per chat with a short burst
    # allowed, 20 a minute per group. Three in a row to one chat, then one a second on
    # average; we stay a little under the per-chat and group limits.
    # Overall, Telegram counts arrivals: a send counts from its request until its answer and
    # then for a second from the answer (``count_until_answered``). Whenever the requests
    # arrived, no second then holds more than 30, so the limit is Telegram's own: pacing at
    # 28 a second instead (a margin for the network) made a burst 7 % slower than the floor,
    # and with the answers to commands sharing the token, reminders 15 % (bench/province.py).
    overall=Limit(30, 1.0),
    count_until_answered=True,
    # ... and spread evenly within the second (at most two at once), so that an answer to
    # a command takes the next slot within a thirtieth of a second, not the next second's.
    overall_pace=Limit(30, 1.0, burst=2),
    per_private_chat=(Limit(19, 20.0, burst=3),),
    per_group_chat=(Limit(19, 20.0, burst=3), Limit(19, 60.0)),
    # Two seconds' worth claimed and not finished at once: the send order is the claim order
    # (plans taking turns, answers first), not a race of a thousand waiting sends.
    claim_depth=60,
    cost=requests_for,
)


EventSink = Callable[[Event], Awaitable[None]]


class HuiwuBot(ExtBot[None]):
    """python-telegram-bot's bot, with a way to send a text without reading the answer.

    ``send_message`` turns Telegram's answer into a ``Message`` (sender, chat, entities,
    keyboard) that the core never reads: under load that parsing was 8 % of the bot's CPU per
    reply (``bench/roundtrip.py``). Errors are raised as by ``send_message``.
    """

    async def send_text(
        self, chat_id: int, text: str, reply_markup: InlineKeyboardMarkup | None = None
    ) -> None:
        await self._post(
            "sendMessage", {"chat_id": chat_id, "text": text, "reply_markup": reply_markup}
        )


def build_application(
    token: str, *, base_url: str | None = None, base_file_url: str | None = None
) -> Application:
    base_url = base_url or "https://api.telegram.org/bot"
    pacer = UpdatePacer()
    bot = HuiwuBot(
        token,
        base_url=base_url,
        base_file_url=base_file_url or base_url.replace("/bot", "/file/bot"),
        request=HTTPXRequest(
            connection_pool_size=256,
            connect_timeout=10,
            read_timeout=15,
            write_timeout=30,
            pool_timeout=10,
        ),
        get_updates_request=PacedUpdatesRequest(pacer, read_timeout=40),
    )
    builder = ApplicationBuilder().bot(bot).update_queue(PacedUpdateQueue(pacer))
    return builder.concurrent_updates(PerUserUpdateProcessor(pacer)).build()


def event_from_update(update: Update, bot_id: int) -> Event | None:
    """The neutral event for an update, or None for updates Huiwu does not act on."""
    query = update.callback_query
    if query is not None:
        message = query.message
        if message is None or query.from_user is None:
            return None
        return Event(
            platform=PLATFORM,
            chat_id=str(message.chat.id),
            chat_type=ChatType.PRIVATE if message.chat.type == "private" else ChatType.GROUP,
            user_id=str(query.from_user.id),
            user_name=query.from_user.full_name,
            language=query.from_user.language_code,
            button=query.data or "",
            pressed=pressed_reference(message),
        )
    message = update.message
    if message is None or message.from_user is None:
        return None
    chat_type = ChatType.PRIVATE if message.chat.type == "private" else ChatType.GROUP
    text = message.text or message.caption or ""
    command, args = _command(message, text)
    joined = tuple(str(u.id) for u in message.new_chat_members or () if u.id != bot_id)
    return Event(
        platform=PLATFORM,
        chat_id=str(message.chat.id),
        chat_type=chat_type,
        user_id=str(message.from_user.id),
        user_name=message.from_user.full_name,
        language=message.from_user.language_code,
        text=text,
        command=command,
        args=args,
        files=_files(message),
        joined_user_ids=joined,
    )


def pressed_reference(message: object) -> str | None:
    """The reference an update of a pressed message needs: chat, message id and the text (the
    Bot API cannot read a message back, and editMessageText takes the whole new text)."""
    if not isinstance(message, Message):
        return None  # too old for Telegram to say what it was: nothing to update
    media = message.text is None
    return json.dumps(
        {
            "chat": message.chat.id,
            "message": message.message_id,
            "text": "" if media else message.text,
            "media": media,
        },
        ensure_ascii=False,
    )


def updated_text(original: str, outcome: str) -> str:
    """The pressed message's text with what was chosen under it, within Telegram's limit."""
    room = MAX_TEXT - telegram_length(outcome) - 2
    while original and telegram_length(original) > room:
        original = original[: -max(1, telegram_length(original) - room)]
    return f"{original}\n\n{outcome}" if original else outcome


def _command(message: Message, text: str) -> tuple[str | None, tuple[str, ...]]:
    entities = message.entities or ()
    first = next(
        (e for e in entities if e.type == MessageEntityType.BOT_COMMAND and e.offset == 0), None
    )
    if first is None:
        return None, ()
    name = text[1 : first.length].split("@", 1)[0].lower()
    return name, tuple(text[first.length :].split())


def _files(message: Message) -> tuple[IncomingFile, ...]:
    if message.document is not None:
        doc = message.document
        return (IncomingFile(doc.file_id, doc.file_name, doc.mime_type, doc.file_size),)
    if message.photo:
        photo = max(message.photo, key=lambda p: p.width * p.height)
        return (IncomingFile(photo.file_id, None, "image/jpeg", photo.file_size, is_photo=True),)
    return ()


def _markup(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(b.label, web_app=WebAppInfo(b.url))
                if b.url and b.web_app
                else InlineKeyboardButton(b.label, url=b.url)
                if b.url
                else InlineKeyboardButton(b.label, callback_data=b.data)
                for b in row
            ]
            for row in message.buttons
        ]
    )


class TelegramMessenger:
    """Delivers the core's messages with the Bot API; maps Telegram's errors to the core's.

    A message may take several requests (a long text in parts, a long caption before its
    file). The parts already delivered are remembered until the whole message is, so a retry
    after a failure goes on from the part that failed instead of sending earlier ones again.
    """

    platform = PLATFORM
    max_download_bytes: int | None = MAX_DOWNLOAD_BYTES

    def __init__(self, application: Application) -> None:
        if not isinstance(application.bot, HuiwuBot):
            raise TypeError("build the application with build_application()")
        self.application = application
        self.bot = application.bot
        self._parts_sent: dict[tuple[str, OutgoingMessage], int] = {}

    async def send(self, chat_id: str, message: OutgoingMessage) -> None:
        if message.updates is not None:
            await self._update(message.updates, message.text)
            return
        key = (chat_id, message)
        steps = self._requests(int(chat_id), message)
        try:
            for index in range(self._parts_sent.get(key, 0), len(steps)):
                await steps[index]()
                self._parts_sent[key] = index + 1
        except tg_error.RetryAfter as exc:
            raise RetryAfter(_seconds(exc.retry_after), str(exc)) from exc
        except tg_error.Forbidden as exc:
            raise RecipientUnreachable(str(exc)) from exc
        except tg_error.BadRequest as exc:
            if "chat not found" in str(exc).lower():
                raise RecipientUnreachable(str(exc)) from exc
            self._parts_sent.pop(key, None)
            raise PermanentSendError(str(exc)) from exc
        except tg_error.TelegramError as exc:  # NetworkError, TimedOut, server errors
            raise TransientSendError(str(exc)) from exc
        self._parts_sent.pop(key, None)

    async def _update(self, reference: str, outcome: str) -> None:
        """Take the buttons off a pressed message and show ``outcome`` under its text (a file's
        caption is kept as it is). A refusal (not modified, gone, too old to edit, the chat
        blocked) means there is nothing left to update: done, and the chat's next messages go."""
        pressed = json.loads(reference)
        bot = self.application.bot
        try:
            if pressed["media"]:
                await bot.edit_message_reply_markup(pressed["chat"], pressed["message"])
            else:
                await bot.edit_message_text(
                    updated_text(pressed["text"], outcome), pressed["chat"], pressed["message"]
                )
        except tg_error.RetryAfter as exc:
            raise RetryAfter(_seconds(exc.retry_after), str(exc)) from exc
        except (tg_error.BadRequest, tg_error.Forbidden) as exc:
            logger.info("the pressed message was not updated: %s", exc)
        except tg_error.TelegramError as exc:  # NetworkError, TimedOut, server errors
            raise TransientSendError(str(exc)) from exc

    def _requests(
        self, chat_id: int, message: OutgoingMessage
    ) -> list[Callable[[], Awaitable[object]]]:
        """The Bot API requests that deliver the message, in order."""
        bot = self.bot
        markup = _markup(message)
        if message.file is None:
            parts = split_text(message.text, MAX_TEXT, telegram_length)
            return [
                partial(bot.send_text, chat_id, part, markup if index == len(parts) - 1 else None)
                for index, part in enumerate(parts)
            ]
        caption = message.text if telegram_length(message.text) <= MAX_CAPTION else None
        steps: list[Callable[[], Awaitable[object]]] = []
        if caption is None and message.text:
            steps = [
                partial(bot.send_text, chat_id, part)
                for part in split_text(message.text, MAX_TEXT, telegram_length)
            ]
        upload = InputFile(message.file.content, filename=message.file.name)
        send_file = bot.send_photo if message.file.is_photo else bot.send_document
        steps.append(partial(send_file, chat_id, upload, caption=caption, reply_markup=markup))
        return steps

    async def download(self, file: IncomingFile) -> bytes:
        telegram_file = await self.application.bot.get_file(file.file_ref)
        return bytes(await telegram_file.download_as_bytearray())

    async def download_to(self, file: IncomingFile, sink: ByteSink) -> None:
        """Stream the file into ``sink`` (PTB's own download holds it whole in memory)."""
        if file.size is not None and file.size > MAX_DOWNLOAD_BYTES:
            raise FileTooLarge(file.size, MAX_DOWNLOAD_BYTES)
        try:
            telegram_file = await self.application.bot.get_file(file.file_ref)
        except tg_error.BadRequest as exc:
            if "too big" in str(exc).lower():
                raise FileTooLarge(file.size, MAX_DOWNLOAD_BYTES) from exc
            raise
        url = telegram_file.file_path
        if url is None:
            raise TransientSendError("getFile gave no file path")
        try:
            async with (
                httpx.AsyncClient(timeout=DOWNLOAD_TIMEOUT) as client,
                client.stream("GET", url) as response,
            ):
                response.raise_for_status()
                async for chunk in response.aiter_bytes(DOWNLOAD_CHUNK):
                    sink.write(chunk)
        except httpx.HTTPError as exc:
            raise TransientSendError(f"file download: {type(exc).__name__}") from exc


def _seconds(value: object) -> float:
    total_seconds = getattr(value, "total_seconds", None)
    return float(total_seconds()) if callable(total_seconds) else float(value)  # type: ignore[arg-type]


def install(application: Application, sink: EventSink) -> None:
    """Route every update to the core."""

    async def on_update(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        if update.callback_query is not None:
            try:
                await update.callback_query.answer()
            except tg_error.TelegramError as exc:  # the spinner stays; the press is still handled
                logger.info("answerCallbackQuery failed: %s", exc)
        event = event_from_update(update, context.bot.id)
        if event is not None:
            await sink(event)

    application.add_handler(TypeHandler(Update, on_update))


async def register_commands(application: Application) -> None:
    """setMyCommands for private and group chats, in Chinese (default) and English. The
    private menu is a stranger's (what anyone may use), the group menu a plain member's; each
    bound person gets their own private menu by role, and their own group menu where their
    roles allow more there (``chat_menu_setter``)."""
    bot = application.bot
    for language, locale in ((None, "zh_CN"), ("en", "en"), ("zh", "zh_CN")):
        with use_locale(locale):
            private = [BotCommand(name, text) for name, text in menu_for_roles(set())]
            await bot.set_my_commands(
                private, scope=BotCommandScopeAllPrivateChats(), language_code=language
            )
            group = [BotCommand(name, text) for name, text in everyones_group_menu()]
            await bot.set_my_commands(
                group, scope=BotCommandScopeAllGroupChats(), language_code=language
            )


def chat_action_sender(application: Application) -> Callable[[str, str], Awaitable[None]]:
    async def show(chat_id: str, action: str) -> None:
        await application.bot.send_chat_action(int(chat_id), action)

    return show


def chat_menu_setter(
    application: Application,
) -> Callable[[str, list[tuple[str, str]], str | None], Awaitable[None]]:
    """Set one person's menu in their private chat (BotCommandScopeChat) or in one group
    (BotCommandScopeChatMember), for any language."""

    async def set_menu(user_id: str, entries: list[tuple[str, str]], group: str | None) -> None:
        commands = [BotCommand(name, text) for name, text in entries]
        scope: BotCommandScopeChat | BotCommandScopeChatMember = (
            BotCommandScopeChat(int(user_id))
            if group is None
            else BotCommandScopeChatMember(int(group), int(user_id))
        )
        await application.bot.set_my_commands(commands, scope=scope)

    return set_menu


def invite_link(bot_username: str) -> Callable[[str], str]:
    return lambda code: f"https://t.me/{bot_username}?start={code}"
