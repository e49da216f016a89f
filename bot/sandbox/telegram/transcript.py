"""The conversation record of the Telegram emulator, and its rendering as readable text.

Every message a simulated user sends, every button press and every message the bot
sends or edits becomes a :class:`TranscriptEntry`; tests assert on them and the demo
prints them with :func:`render_entries`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

Button = tuple[str, str | None]
"""An inline button: its label and its ``callback_data`` (or its ``url``)."""


@dataclass(frozen=True)
class Attachment:
    """A file carried by a message: a document or a photo."""

    filename: str
    content: bytes
    mime_type: str
    file_id: str


@dataclass(frozen=True)
class PollSnapshot:
    """A poll as it was when the entry was recorded."""

    question: str
    options: tuple[str, ...]
    is_closed: bool


@dataclass
class TranscriptEntry:
    """One event of a chat, seen from the chat: a message, an edit, a button press, a join.

    ``direction`` is ``"in"`` for what users do (towards the bot) and ``"out"`` for what
    the bot sends.  An edit is a new ``"out"`` entry with ``edited=True`` and the
    ``message_id`` of the edited message.  A button press is an ``"in"`` entry whose
    ``text`` is the label, ``callback_data`` the data and ``message_id`` the message the
    button belongs to.  ``time`` comes from the emulator's monotonic clock.
    """

    direction: Literal["in", "out"]
    chat_id: int
    sender_id: int
    sender_name: str
    message_id: int
    text: str
    time: float
    date: dt.datetime
    buttons: list[list[Button]] = field(default_factory=list)
    keyboard: list[list[str]] = field(default_factory=list)
    document: Attachment | None = None
    photo: Attachment | None = None
    poll: PollSnapshot | None = None
    reply_to: int | None = None
    callback_data: str | None = None
    joined: bool = False
    edited: bool = False
    deleted: bool = False

    @property
    def button_labels(self) -> list[str]:
        """The labels of the inline buttons, row after row."""
        return [label for row in self.buttons for label, _ in row]

    def callback_data_for(self, label: str) -> str:
        """The ``callback_data`` of the inline button labelled ``label``.

        Raises:
            KeyError: no button has that label or it carries a URL instead of data.
        """
        for row in self.buttons:
            for button_label, data in row:
                if button_label == label and data is not None:
                    return data
        raise KeyError(f"no button labelled {label!r}; buttons: {self.button_labels}")


def render_entries(entries: Iterable[TranscriptEntry], *, with_time: bool = True) -> str:
    """Renders entries as lines such as ``09:30 方磊 → /submit`` and ``09:30 会务 ← ...``.

    Buttons follow their message on an indented line as ``[label]``; continuation lines
    of multi-line texts are indented too.
    """
    return "\n".join(_render_entry(entry, with_time) for entry in entries)


def _render_entry(entry: TranscriptEntry, with_time: bool) -> str:
    arrow = "→" if entry.direction == "in" else "←"
    prefix = f"{entry.date:%H:%M} " if with_time else ""
    head = f"{prefix}{entry.sender_name} {arrow} "
    indent = " " * len(head)
    if entry.callback_data is not None:
        body = [f"[{entry.text}]"]
    elif entry.joined:
        body = ["(加入群组)"]
    else:
        body = entry.text.splitlines() or [""]
    if entry.edited:
        body[0] = f"(编辑 #{entry.message_id}) {body[0]}"
    if entry.document is not None:
        body.append(f"📎 {entry.document.filename} ({len(entry.document.content)} B)")
    if entry.photo is not None:
        body.append(f"🖼 {entry.photo.filename} ({len(entry.photo.content)} B)")
    if entry.poll is not None:
        closed = " (已结束)" if entry.poll.is_closed else ""
        body.append(f"📊 {entry.poll.question}{closed}")
        body.extend(f"  ○ {option}" for option in entry.poll.options)
    body.extend(" ".join(f"[{label}]" for label, _ in row) for row in entry.buttons)
    body.extend(" ".join(f"⌨[{label}]" for label in row) for row in entry.keyboard)
    if entry.deleted:
        body[0] = f"{body[0]} (已删除)"
    return head + f"\n{indent}".join(body)
