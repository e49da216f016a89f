"""The platform-neutral face of a chat: what comes in (Event) and what goes out.

Adapters turn a Telegram update or a WeCom callback into an ``Event`` and implement
``Messenger`` to deliver an ``OutgoingMessage``; handlers and the core see nothing else.
"""

from __future__ import annotations

import base64
import enum
import json
from dataclasses import dataclass
from typing import Any, Protocol


class ChatType(enum.StrEnum):
    PRIVATE = "private"
    GROUP = "group"


@dataclass(frozen=True)
class IncomingFile:
    """A file or photo a user sent; ``file_ref`` is the platform's id for fetching it."""

    file_ref: str
    file_name: str | None = None
    mime_type: str | None = None
    size: int | None = None
    is_photo: bool = False


@dataclass(frozen=True)
class Event:
    """One thing a user did: a message, a command, a file, a button press, a group join."""

    platform: str
    chat_id: str
    chat_type: ChatType
    user_id: str
    user_name: str = ""
    language: str | None = None
    text: str = ""
    command: str | None = None  # lower case, without "/" or "@botname"
    args: tuple[str, ...] = ()
    files: tuple[IncomingFile, ...] = ()
    button: str | None = None  # the data of a pressed button
    joined_user_ids: tuple[str, ...] = ()
    # The platform's opaque reference to the message whose button was pressed, for updating
    # it (``OutgoingMessage.updates``): Telegram's chat, message id and text; WeCom's
    # ResponseCode (usable once, within 72 hours). None where the platform gives none.
    pressed: str | None = None

    @property
    def is_private(self) -> bool:
        return self.chat_type is ChatType.PRIVATE


@dataclass(frozen=True)
class Button:
    label: str
    data: str | None = None  # pressed: comes back as Event.button
    url: str | None = None  # opens a link instead
    web_app: bool = False  # the link opens inside the chat app (Telegram Mini App) where it can


@dataclass(frozen=True)
class OutgoingFile:
    name: str
    content: bytes
    mime_type: str = "application/octet-stream"
    is_photo: bool = False


@dataclass(frozen=True)
class OutgoingMessage:
    """A message to one chat. ``title`` lets platforms with cards (WeCom) show a heading."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    file: OutgoingFile | None = None
    title: str | None = None
    to_group: bool = False
    # Set: not a new message but the update of a pressed one (``Event.pressed``): its buttons
    # are taken away and ``text`` (what was chosen) shown. An update the platform refuses
    # (the message is gone, the reference used or expired) counts as done.
    updates: str | None = None

    def to_json(self) -> str:
        data: dict[str, Any] = {"text": self.text, "to_group": self.to_group}
        if self.title:
            data["title"] = self.title
        if self.updates:
            data["updates"] = self.updates
        if self.buttons:
            data["buttons"] = [
                [
                    {"label": b.label, "data": b.data, "url": b.url}
                    | ({"web_app": True} if b.web_app else {})
                    for b in row
                ]
                for row in self.buttons
            ]
        if self.file:
            data["file"] = {
                "name": self.file.name,
                "mime_type": self.file.mime_type,
                "is_photo": self.file.is_photo,
                "content": base64.b64encode(self.file.content).decode("ascii"),
            }
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, payload: str) -> OutgoingMessage:
        data = json.loads(payload)
        file = None
        if "file" in data:
            raw = data["file"]
            file = OutgoingFile(
                raw["name"],
                base64.b64decode(raw["content"]),
                raw["mime_type"],
                raw.get("is_photo", False),
            )
        buttons = tuple(
            tuple(
                Button(b["label"], b.get("data"), b.get("url"), b.get("web_app", False))
                for b in row
            )
            for row in data.get("buttons", [])
        )
        return cls(
            data["text"],
            buttons,
            file,
            data.get("title"),
            data.get("to_group", False),
            data.get("updates"),
        )


class SendError(Exception):
    """Delivery failed; subclasses say what to do about it."""


class RecipientUnreachable(SendError):
    """The platform will not deliver to this chat now (user never opened the bot, blocked it)."""


class RetryAfter(SendError):
    """The platform asks us to wait before sending again."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"retry after {seconds} s")
        self.seconds = seconds


class TransientSendError(SendError):
    """A network error or a server error: try again with backoff."""


class PermanentSendError(SendError):
    """The platform refuses this message for good (it is kept with the reason)."""


class ByteSink(Protocol):
    """Where a file is written as it is downloaded (``storage.files.FileSink``)."""

    def write(self, chunk: bytes) -> None:
        """Take the next piece; raises ``storage.files.FileTooLarge`` past its limit."""


class Messenger(Protocol):
    """What the core needs of a platform to deliver messages and fetch files."""

    platform: str
    # The largest file the platform lets a bot fetch (None: no limit of its own).
    max_download_bytes: int | None

    async def send(self, chat_id: str, message: OutgoingMessage) -> None:
        """Deliver one message, or raise a SendError subclass."""

    async def download(self, file: IncomingFile) -> bytes:
        """The content of a file a user sent (small files: a plan)."""

    async def download_to(self, file: IncomingFile, sink: ByteSink) -> None:
        """Write a file a user sent into ``sink`` piece by piece (memory stays flat); a file
        the platform will not hand out for its size raises ``storage.files.FileTooLarge``."""
