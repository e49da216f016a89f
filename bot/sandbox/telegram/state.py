"""In-memory state of the Telegram Bot API emulator: bots, users, chats, messages, files.

:class:`TelegramWorld` holds everything the emulated Telegram knows.  It is mutated on the
event loop thread, by the Bot API method handlers (:mod:`bot.sandbox.telegram.methods`)
and by the simulated users' actions (:class:`bot.sandbox.telegram.api.TelegramEmulator`).
This module also defines the error answers (:class:`ApiError`) and the parsed request
parameters (:class:`RequestParams`) shared by both.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.sandbox.telegram.limits import Clock, FloodController
from bot.sandbox.telegram.transcript import (
    Attachment,
    Button,
    PollSnapshot,
    TranscriptEntry,
)

JsonDict = dict[str, Any]

UPDATES_EXCLUDED_BY_DEFAULT = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
"""Update types Telegram sends only when ``allowed_updates`` names them."""


class ApiError(Exception):
    """A Bot API error answer: its HTTP status, description and optional ``parameters``."""

    def __init__(self, status: int, description: str, parameters: JsonDict | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters

    def body(self) -> JsonDict:
        """The JSON body Telegram answers with."""
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(reason: str) -> ApiError:
    """A 400 answer, described as Telegram does: ``Bad Request: <reason>``."""
    return ApiError(400, f"Bad Request: {reason}")


def forbidden(reason: str) -> ApiError:
    """A 403 answer, described as Telegram does: ``Forbidden: <reason>``."""
    return ApiError(403, f"Forbidden: {reason}")


def too_many_requests(retry_after: int) -> ApiError:
    """A 429 answer with ``parameters.retry_after``."""
    return ApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


@dataclass
class EmulatorStats:
    """Counters of what the emulator answered and delivered."""

    requests: int = 0
    messages_sent: int = 0
    too_many_requests: int = 0
    injected_faults: int = 0
    forbidden: int = 0
    webhook_deliveries: int = 0
    webhook_failures: int = 0
    requests_by_method: Counter[str] = field(default_factory=Counter)
    faults_by_kind: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class UploadedFile:
    """A file part of a multipart request."""

    filename: str
    content: bytes
    mime_type: str


class RequestParams:
    """The parameters of one Bot API call, whether sent as query, form, multipart or JSON.

    Form values are strings, and nested objects arrive as JSON text inside them; JSON
    bodies carry typed values.  The accessors accept both and raise a 400
    :class:`ApiError` for values Telegram would reject.
    """

    def __init__(self, values: Mapping[str, Any], uploads: Mapping[str, UploadedFile]) -> None:
        self._values = dict(values)
        self._uploads = dict(uploads)

    def text(self, name: str) -> str | None:
        """The parameter as a string, ``None`` when absent."""
        value = self._values.get(name)
        if value is None:
            return None
        return value if isinstance(value, str) else json.dumps(value)

    def required_text(self, name: str, *, missing: str | None = None) -> str:
        """The parameter as a non-empty string; 400 with ``missing`` (or a default) if absent."""
        value = self.text(name)
        if not value:
            raise bad_request(missing or f"parameter {name!r} is required")
        return value

    def integer(self, name: str) -> int | None:
        """The parameter as an integer, ``None`` when absent."""
        value = self._values.get(name)
        if value is None or value == "":
            return None
        try:
            return int(value)
        except (TypeError, ValueError):
            raise bad_request(f"invalid {name} specified") from None

    def required_integer(self, name: str, *, missing: str | None = None) -> int:
        """The parameter as an integer; 400 with ``missing`` (or a default) if absent."""
        value = self.integer(name)
        if value is None:
            raise bad_request(missing or f"parameter {name!r} is required")
        return value

    def flag(self, name: str, *, default: bool = False) -> bool:
        """The parameter as a boolean (``true``/``false``, ``1``/``0``)."""
        value = self._values.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        return str(value).lower() in {"true", "1"}

    def json(self, name: str) -> Any:
        """The parameter as a JSON value, parsing it when it came as text in a form."""
        value = self._values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            raise bad_request(f"can't parse {name} JSON object") from None

    def upload(self, name: str) -> UploadedFile | None:
        """The file uploaded for the parameter, directly or through an ``attach://`` URI."""
        value = self._values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return self._uploads.get(value.removeprefix("attach://"))
        return self._uploads.get(name)


@dataclass
class SimUser:
    """A simulated Telegram user."""

    user_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    @property
    def full_name(self) -> str:
        """First and last name, as Telegram clients show them."""
        return f"{self.first_name} {self.last_name}" if self.last_name else self.first_name

    def to_api(self) -> JsonDict:
        """The Bot API ``User`` object."""
        user: JsonDict = {"id": self.user_id, "is_bot": False, "first_name": self.first_name}
        for key, value in (
            ("last_name", self.last_name),
            ("username", self.username),
            ("language_code", self.language_code),
        ):
            if value is not None:
                user[key] = value
        return user


@dataclass
class StoredMessage:
    """A message of a chat as the Bot API returns it, and who sent it."""

    payload: JsonDict
    from_bot: bool

    def inline_keyboard(self) -> list[list[JsonDict]]:
        """The rows of the message's inline keyboard, empty if it has none."""
        markup = self.payload.get("reply_markup") or {}
        keyboard: list[list[JsonDict]] = markup.get("inline_keyboard", [])
        return keyboard


@dataclass
class SimChat:
    """A private chat with a user, or a group the bot is a member of."""

    chat_id: int
    type: Literal["private", "group", "supergroup"]
    title: str | None = None
    user: SimUser | None = None
    member_ids: set[int] = field(default_factory=set)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    next_message_id: int = 1

    @property
    def is_group(self) -> bool:
        """Whether the chat is a group or supergroup."""
        return self.type != "private"

    def to_api(self) -> JsonDict:
        """The Bot API ``Chat`` object."""
        if self.user is not None:
            chat = self.user.to_api()
            for key in ("is_bot", "language_code"):
                chat.pop(key, None)
            return {**chat, "type": "private"}
        return {"id": self.chat_id, "type": self.type, "title": self.title}

    def allocate_message_id(self) -> int:
        """The next message id of this chat (bot and user messages share the sequence)."""
        message_id = self.next_message_id
        self.next_message_id += 1
        return message_id


@dataclass
class StoredFile:
    """A file known to the emulated Telegram, downloadable at ``file_path``."""

    file_id: str
    file_unique_id: str
    file_path: str
    filename: str
    mime_type: str
    content: bytes

    def to_api(self) -> JsonDict:
        """The Bot API ``File`` object, as ``getFile`` returns it."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.content),
            "file_path": self.file_path,
        }

    def document_api(self) -> JsonDict:
        """The Bot API ``Document`` object."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_name": self.filename,
            "mime_type": self.mime_type,
            "file_size": len(self.content),
        }

    def photo_api(self) -> list[JsonDict]:
        """The Bot API ``PhotoSize`` array: one size, with nominal 800×600 dimensions."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "width": 800,
                "height": 600,
                "file_size": len(self.content),
            }
        ]

    def attachment(self) -> Attachment:
        """The file as a transcript attachment."""
        return Attachment(self.filename, self.content, self.mime_type, self.file_id)


@dataclass
class WebhookConfig:
    """Where and how updates are pushed while a webhook is set."""

    url: str
    secret_token: str | None
    max_connections: int


class _Signal:
    """Wakes every coroutine waiting at the time of :meth:`notify`, without busy looping."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()
        self._event = asyncio.Event()

    async def wait(self, max_seconds: float | None) -> None:
        """Returns at the next :meth:`notify` or after ``max_seconds`` (``None``: no limit)."""
        try:
            await asyncio.wait_for(self._event.wait(), max_seconds)
        except TimeoutError:
            pass


@dataclass
class BotAccount:
    """A bot known to the emulator: its identity, update queue, webhook and settings."""

    token: str
    user_id: int
    username: str
    first_name: str
    flood: FloodController
    started_by: set[int] = field(default_factory=set)
    blocked_by: set[int] = field(default_factory=set)
    pending_updates: list[JsonDict] = field(default_factory=list)
    next_update_id: int = 1
    allowed_updates: frozenset[str] | None = None
    webhook: WebhookConfig | None = None
    webhook_last_error: tuple[int, str] | None = None
    commands: dict[tuple[str, str], list[JsonDict]] = field(default_factory=dict)
    chat_actions: list[tuple[int, str]] = field(default_factory=list)  # (chat id, action)
    polling_generation: int = 0
    updates_signal: _Signal = field(default_factory=_Signal)

    def to_api(self) -> JsonDict:
        """The Bot API ``User`` object of the bot, as ``getMe`` returns it."""
        return {
            **self.sender_api(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def sender_api(self) -> JsonDict:
        """The bot as the ``from`` of its messages."""
        return {
            "id": self.user_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }

    def enqueue_update(self, kind: str, body: JsonDict) -> JsonDict:
        """Queues an update of type ``kind`` for getUpdates or the webhook; returns it."""
        update = {"update_id": self.next_update_id, kind: body}
        self.next_update_id += 1
        self.pending_updates.append(update)
        self.updates_signal.notify()
        return update

    def confirm_updates(self, offset: int | None) -> None:
        """Forgets updates as getUpdates' ``offset`` asks (a negative one keeps the last)."""
        if offset is None or offset == 0:
            return
        if offset < 0:
            del self.pending_updates[:offset]
        else:
            self.pending_updates = [u for u in self.pending_updates if u["update_id"] >= offset]

    def deliverable_updates(self, limit: int) -> list[JsonDict]:
        """Drops queued updates of types not allowed, and returns the first ``limit`` others."""
        self.pending_updates = [u for u in self.pending_updates if self._is_allowed(u)]
        return self.pending_updates[:limit]

    def _is_allowed(self, update: JsonDict) -> bool:
        kind = next(key for key in update if key != "update_id")
        if self.allowed_updates is None:
            return kind not in UPDATES_EXCLUDED_BY_DEFAULT
        return kind in self.allowed_updates


class TelegramWorld:
    """Everything the emulated Telegram knows, and the conversation record of each chat."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.stats = EmulatorStats()
        self.bots: dict[str, BotAccount] = {}
        self.users: dict[int, SimUser] = {}
        self.chats: dict[int, SimChat] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.open_callback_queries: set[str] = set()
        self.callback_answers: dict[str, JsonDict] = {}
        self.transcripts: dict[int, list[TranscriptEntry]] = {}
        self.transcript_signal = _Signal()
        self._next_file_number = 1

    def new_message(self, chat: SimChat, sender: JsonDict, content: JsonDict) -> JsonDict:
        """Builds a ``Message`` payload with the next message id of ``chat``."""
        return {
            "message_id": chat.allocate_message_id(),
            "from": sender,
            "chat": chat.to_api(),
            "date": int(time.time()),
            **content,
        }

    def store_file(
        self, content: bytes, *, filename: str, mime_type: str, folder: str
    ) -> StoredFile:
        """Keeps ``content`` in memory and gives it a file id and a download path."""
        number = self._next_file_number
        self._next_file_number += 1
        digest = hashlib.sha256(content).hexdigest()
        extension = filename.rsplit(".", 1)[1] if "." in filename else "bin"
        stored = StoredFile(
            file_id=f"BQACAgUAAx{number:08d}{digest[:16]}",
            file_unique_id=f"AgAD{digest[:12]}",
            file_path=f"{folder}/file_{number}.{extension}",
            filename=filename,
            mime_type=mime_type,
            content=content,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored

    def record(
        self,
        direction: Literal["in", "out"],
        chat: SimChat,
        message: JsonDict,
        sender_name: str,
        *,
        keyboard: list[list[str]] | None = None,
        edited: bool = False,
    ) -> TranscriptEntry:
        """Adds a message (or a new version of it) to the chat's transcript."""
        document = message.get("document")
        photo = message.get("photo")
        poll = message.get("poll")
        reply_to = message.get("reply_to_message")
        entry = TranscriptEntry(
            direction=direction,
            chat_id=chat.chat_id,
            sender_id=message["from"]["id"],
            sender_name=sender_name,
            message_id=message["message_id"],
            text=message.get("text") or message.get("caption") or "",
            time=self.clock(),
            date=dt.datetime.now().astimezone(),
            buttons=button_rows(message.get("reply_markup")),
            keyboard=keyboard or [],
            document=self.files[document["file_id"]].attachment() if document else None,
            photo=self.files[photo[-1]["file_id"]].attachment() if photo else None,
            poll=PollSnapshot(
                poll["question"], tuple(o["text"] for o in poll["options"]), poll["is_closed"]
            )
            if poll
            else None,
            reply_to=reply_to["message_id"] if reply_to else None,
            joined=bool(message.get("new_chat_members")),
            edited=edited,
        )
        self.append_entry(entry)
        return entry

    def append_entry(self, entry: TranscriptEntry) -> None:
        """Appends an entry to its chat's transcript and wakes whoever waits for one."""
        self.transcripts.setdefault(entry.chat_id, []).append(entry)
        self.transcript_signal.notify()


def button_rows(markup: JsonDict | None) -> list[list[Button]]:
    """The inline keyboard of a ``reply_markup`` as rows of (label, callback_data or url)."""
    if not markup:
        return []
    return [
        [(button["text"], button.get("callback_data", button.get("url"))) for button in row]
        for row in markup.get("inline_keyboard", [])
    ]
