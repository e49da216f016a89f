"""The robot's JSON messages and events as neutral ``bot.core.messaging.Event``s.

Robot chats get their own chat ids, ``robot:<chatid>`` for a group and ``robot:<userid>`` for a
single chat with the robot, so the outbox (platform ``wecom``) knows which rows the robot
sends; the members are the same WeCom userids as the app's, so memberships, roles and
private pushes are unchanged. A group @-mention's text starts with the robot's name
("@会务助手 /status"): the mention is dropped before the command is read.
"""

from __future__ import annotations

import json
import re
from typing import Any

from bot.adapters.wecom.events import PLATFORM, MalformedCallback
from bot.core.messaging import ChatType, Event

ROBOT_CHAT_PREFIX = "robot:"
MAX_BODY_CHARS = 64 * 1024
_MENTION = re.compile(r"^\s*(@\S+\s*)+")


def is_robot_chat(chat_id: str) -> bool:
    return chat_id.startswith(ROBOT_CHAT_PREFIX)


def robot_chat(chat_id: str) -> str:
    """The robot's own id of a chat (``robot:`` taken away)."""
    return chat_id.removeprefix(ROBOT_CHAT_PREFIX)


def parse_body(text: str | bytes) -> dict[str, Any]:
    """A robot message or event as a dict; ``MalformedCallback`` for anything else."""
    if len(text) > MAX_BODY_CHARS:
        raise MalformedCallback("robot message too large")
    try:
        body = json.loads(text)
    except (ValueError, TypeError) as exc:
        raise MalformedCallback(f"not JSON: {type(exc).__name__}") from None
    if not isinstance(body, dict):
        raise MalformedCallback("not a JSON object")
    return body


def dedupe_key(body: dict[str, Any]) -> str:
    """WeCom's msgid identifies a message or event across its repeats."""
    msgid = body.get("msgid")
    if not isinstance(msgid, str) or not msgid:
        raise MalformedCallback("msgid missing")
    return "robot:" + msgid


def chat_of(body: dict[str, Any]) -> tuple[str, ChatType]:
    """The neutral chat id and type of a robot message."""
    sender = _sender(body)
    if body.get("chattype") == "group":
        chatid = body.get("chatid")
        if not isinstance(chatid, str) or not chatid:
            raise MalformedCallback("chatid missing in a group message")
        return ROBOT_CHAT_PREFIX + chatid, ChatType.GROUP
    return ROBOT_CHAT_PREFIX + sender, ChatType.PRIVATE


def _sender(body: dict[str, Any]) -> str:
    sender = body.get("from")
    userid = sender.get("userid") if isinstance(sender, dict) else None
    if not isinstance(userid, str) or not userid:
        raise MalformedCallback("from.userid missing")
    return userid


def _command(text: str) -> tuple[str | None, tuple[str, ...]]:
    stripped = text.strip()
    if not stripped.startswith(("/", "／")):
        return None, ()
    words = stripped[1:].split()
    if not words:
        return None, ()
    return words[0].lower(), tuple(words[1:])


def without_mention(text: str) -> str:
    """ "@会务助手 /status" → "/status" (a group message to the robot always mentions it)."""
    return _MENTION.sub("", text, count=1).strip()


def event_from_body(body: dict[str, Any], pressed: str | None = None) -> Event | None:
    """The neutral event of a robot message or event, or None for what Huiwu does not act on
    (images, voice, files: the robot's are encrypted downloads Huiwu does not take; enter_chat;
    feedback). ``pressed`` is the reference a card press's update will use (long connection)."""
    user = _sender(body)
    chat_id, chat_type = chat_of(body)
    base: dict[str, Any] = {
        "platform": PLATFORM,
        "chat_id": chat_id,
        "chat_type": chat_type,
        "user_id": user,
    }
    msgtype = body.get("msgtype")
    if msgtype == "text":
        text_part = body.get("text")
        content = text_part.get("content") if isinstance(text_part, dict) else None
        if not isinstance(content, str):
            raise MalformedCallback("text.content missing")
        text = without_mention(content) if chat_type is ChatType.GROUP else content.strip()
        command, args = _command(text)
        return Event(**base, text=text, command=command, args=args)
    if msgtype != "event":
        return None
    event = body.get("event")
    if not isinstance(event, dict):
        raise MalformedCallback("event missing")
    if event.get("eventtype") != "template_card_event":
        return None
    card = event.get("template_card_event")
    key = card.get("event_key") if isinstance(card, dict) else None
    if not isinstance(key, str) or not key:
        raise MalformedCallback("template_card_event.event_key missing")
    return Event(**base, button=key, pressed=pressed)


def is_taken_over(body: dict[str, Any]) -> bool:
    """WeCom's notice that another connection for this robot was opened (this one ends)."""
    event = body.get("event")
    return isinstance(event, dict) and event.get("eventtype") == "disconnected_event"
