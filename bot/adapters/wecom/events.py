"""WeCom (企业微信) callbacks, decrypted, as neutral ``bot.core.messaging.Event``s.

A member talks to the app in the app's own chat, so every callback is a private event whose
chat is the member's userid. Text is a command when it starts with "/" (the Chinese keywords
such as 我的任务 are recognised by the router, as on Telegram); images and files are files
whose ``file_ref`` is the MediaId; a menu click carries a command name (or button data) as its
EventKey; a pressed template-card button carries the button's data. ``enter_agent`` (the
member opened the app) means what /start means on Telegram: the member can be written to.
"""

from __future__ import annotations

from typing import Any
from xml.parsers.expat import ExpatError

import xmltodict

from bot.core.messaging import ChatType, Event, IncomingFile
from handlers.commands import BY_NAME

PLATFORM = "wecom"

FILE_TYPES = {"image", "file", "video"}


class MalformedCallback(ValueError):
    """The decrypted callback is not a WeCom message we can read."""


def parse_xml(xml: str | bytes) -> dict[str, str]:
    """The fields of a WeCom ``<xml>`` document (one level, text values)."""
    try:
        document = xmltodict.parse(xml, disable_entities=True)
    except (ExpatError, ValueError, TypeError) as exc:
        raise MalformedCallback(f"not XML: {type(exc).__name__}") from None
    root = document.get("xml") if isinstance(document, dict) else None
    if not isinstance(root, dict):
        raise MalformedCallback("no <xml> root")
    return {key: _text(value) for key, value in root.items()}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise MalformedCallback("nested element where a value was expected")


def dedupe_key(fields: dict[str, str]) -> str:
    """What identifies one callback across WeCom's retries: the MsgId of a message; for an
    event (which has none) who, when, which event and which key, and a card press's
    ResponseCode (a retry repeats it; a second press within the same second has its own)."""
    if fields.get("MsgId"):
        return "msg:" + fields["MsgId"]
    parts: tuple[str, ...] = (
        fields.get("FromUserName", ""),
        fields.get("CreateTime", ""),
        fields.get("Event", ""),
        fields.get("EventKey", ""),
        fields.get("TaskId", ""),
    )
    if fields.get("ResponseCode"):
        parts += (fields["ResponseCode"],)
    return "event:" + "|".join(parts)


def _command(text: str) -> tuple[str | None, tuple[str, ...]]:
    stripped = text.strip()
    if not stripped.startswith(("/", "／")):
        return None, ()
    words = stripped[1:].split()
    if not words:
        return None, ()
    return words[0].lower(), tuple(words[1:])


def event_from_fields(fields: dict[str, str]) -> Event | None:
    """The neutral event for a callback, or None for what Huiwu does not act on."""
    user = fields.get("FromUserName", "")
    msg_type = fields.get("MsgType", "").lower()
    if not user or not msg_type:
        raise MalformedCallback("FromUserName or MsgType missing")
    base: dict[str, Any] = {
        "platform": PLATFORM,
        "chat_id": user,
        "chat_type": ChatType.PRIVATE,
        "user_id": user,
    }
    if msg_type == "text":
        text = fields.get("Content", "")
        command, args = _command(text)
        return Event(**base, text=text, command=command, args=args)
    if msg_type in FILE_TYPES:
        media_id = fields.get("MediaId", "")
        if not media_id:
            raise MalformedCallback("MediaId missing")
        name = fields.get("FileName") or fields.get("Title") or None
        file = IncomingFile(
            media_id,
            name,
            "image/jpeg" if msg_type == "image" else None,
            None,
            is_photo=msg_type == "image",
        )
        return Event(**base, files=(file,))
    if msg_type != "event":
        return None  # voice, location, link: nothing Huiwu takes
    event = fields.get("Event", "").lower()
    key = fields.get("EventKey", "").strip()
    if event == "click" and key:
        name = key.lstrip("/").lower()
        if name in BY_NAME:
            return Event(**base, text="/" + name, command=name)
        return Event(**base, button=key)
    if event == "template_card_event" and key:
        return Event(**base, button=key, pressed=fields.get("ResponseCode") or None)
    if event == "enter_agent":
        return Event(**base, text="/start", command="start")
    return None
