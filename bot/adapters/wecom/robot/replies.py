"""The answers to a robot chat in callback mode, shaped to what that mode can deliver.

In callback mode the robot answers only through the mention's ``response_url``: once, with
markdown, and with no upload at all. So, before the answers to an event in a robot chat are
queued:

* a message carrying a file or a picture goes, whole, to the person who asked, in a private
  chat with the self-built app (which the robot always works beside: message/send reaches any
  member), and the robot chat is told so in one line; a message whose text is more than the
  file's name keeps that text in the robot chat too;
* the answers that are plain text (no buttons, no card update) and follow each other are
  joined into one markdown message while it stays under WeCom's 20,480 bytes, so one mention
  gets its whole answer through its one response_url instead of the rest waiting for the
  next mention.

Announcements (a phase summary's chart) have nobody who asked: ``RobotMessenger`` says there
that the picture cannot be shown (``picture_left_out``).
"""

from __future__ import annotations

import dataclasses

from bot.adapters.wecom.robot.frames import is_robot_chat
from bot.core.formatting import names_text
from bot.core.i18n import _
from bot.core.messaging import Event, OutgoingMessage

MAX_JOINED_BYTES = 20480


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _plain(message: OutgoingMessage) -> bool:
    return not message.buttons and message.file is None and message.updates is None


def join_texts(messages: list[OutgoingMessage]) -> list[OutgoingMessage]:
    """Consecutive plain texts as one message (each join stays under the markdown limit)."""
    joined: list[OutgoingMessage] = []
    for message in messages:
        last = joined[-1] if joined else None
        if (
            last is not None
            and _plain(last)
            and _plain(message)
            and last.to_group == message.to_group
            and _utf8(last.text) + _utf8(message.text) + 2 <= MAX_JOINED_BYTES
        ):
            joined[-1] = dataclasses.replace(
                last, text=f"{last.text.rstrip()}\n\n{message.text.lstrip()}"
            )
            continue
        joined.append(message)
    return joined


def sent_privately_note(names: list[str], group: bool) -> str:
    listed = names_text(names)
    if group:
        return _(
            "I sent {files} to you privately through the app: the robot cannot send files or pictures in this group."
        ).format(files=listed)
    return _(
        "I sent {files} to you privately through the app: the robot cannot send files or pictures here."
    ).format(files=listed)


def callback_replies(
    event: Event, messages: list[OutgoingMessage]
) -> list[tuple[str, OutgoingMessage]]:
    """(chat id, message) for each answer to ``event`` (see the module docstring); other
    chats' answers are left as they are. Called in the asker's locale."""
    if not is_robot_chat(event.chat_id):
        return [(event.chat_id, message) for message in messages]
    in_chat: list[OutgoingMessage] = []
    private: list[OutgoingMessage] = []
    names: list[str] = []
    for message in messages:
        file = message.file
        if file is None or message.updates is not None:
            in_chat.append(message)
            continue
        private.append(dataclasses.replace(message, to_group=False))
        names.append(file.name)
        if message.text.strip() and message.text.strip() != file.name:
            in_chat.append(dataclasses.replace(message, file=None))
    if names:
        in_chat.append(OutgoingMessage(sent_privately_note(names, not event.is_private)))
    return [
        *((event.user_id, m) for m in private),
        *((event.chat_id, m) for m in join_texts(in_chat)),
    ]
