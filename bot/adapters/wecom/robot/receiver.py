"""What the robot receives, from either mode, on its way to the core.

Each message or event is journaled (``wecom_callbacks``, channel "robot", keyed by msgid)
before it is handed on, so a repeat (WeCom's retry of a callback, a frame delivered again
after a reconnect) is handled once, also across a restart, and what was received but not
handled when the process stopped is handled at the next start. Events are handled in order
per chat (a group's commands in the order they were sent), chats in parallel.

A message's ``response_url`` (usable once, within an hour) is offered to the messenger for
the chat's next answer (``ResponseUrls``).
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.adapters.wecom.events import MalformedCallback
from bot.adapters.wecom.journal import CallbackJournal, CallbackRecorder
from bot.adapters.wecom.ordered import OrderedHandling
from bot.adapters.wecom.robot.frames import dedupe_key, event_from_body
from bot.core.messaging import Event

logger = logging.getLogger(__name__)

RESPONSE_URL_LIFETIME = timedelta(hours=1)
RESPONSE_URLS_PER_CHAT = 16
CARD_UPDATE_PREFIX = "robot-update:"

EventSink = Callable[[Event], Awaitable[None]]
ChatSeen = Callable[[str], Awaitable[None]]


class ResponseUrls:
    """The unused response_urls of each robot chat, oldest first, for at most an hour."""

    def __init__(self, now: Callable[[], datetime]) -> None:
        self._now = now
        self._urls: dict[str, deque[tuple[datetime, str]]] = {}

    def offer(self, chat_id: str, url: str) -> None:
        urls = self._urls.setdefault(chat_id, deque(maxlen=RESPONSE_URLS_PER_CHAT))
        urls.append((self._now(), url))

    def take(self, chat_id: str) -> str | None:
        """The oldest response_url of the chat still usable (it is then spent)."""
        urls = self._urls.get(chat_id)
        limit = self._now() - RESPONSE_URL_LIFETIME
        while urls:
            received, url = urls.popleft()
            if received > limit:
                return url
        return None


@dataclass
class ReceiverStats:
    accepted: int = 0
    duplicates: int = 0
    ignored: int = 0
    malformed: int = 0
    handled: int = 0
    failed: int = 0


def card_update_ref(req_id: str, body: dict[str, Any]) -> str | None:
    """The reference a card press's update uses on the long connection: the event's req_id
    (WeCom takes the update within five seconds) and the card's task_id."""
    event = body.get("event")
    card = event.get("template_card_event") if isinstance(event, dict) else None
    task_id = card.get("task_id") if isinstance(card, dict) else None
    if not req_id or not isinstance(task_id, str):
        return None
    return f"{CARD_UPDATE_PREFIX}{req_id}|{task_id}"


class RobotReceiver:
    """Journal, dedupe and ordered hand-over of the robot's messages and events."""

    def __init__(
        self,
        *,
        sink: EventSink,
        journal: CallbackJournal,
        response_urls: ResponseUrls,
        chat_seen: ChatSeen | None = None,
        concurrency: int = 8,
    ) -> None:
        self._sink = sink
        self.journal = journal
        self.recorder = CallbackRecorder(journal, "WeCom robot messages")
        self.response_urls = response_urls
        self._chat_seen = chat_seen
        self.stats = ReceiverStats()
        # In order per chat, different chats at once.
        self.handling = OrderedHandling(
            self._handle, journal.mark_handled, concurrency=concurrency, name="wecom-robot-chat"
        )

    async def accept(self, body: dict[str, Any], req_id: str = "") -> bool:
        """Journal one message or event and queue it; False for a repeat, something Huiwu
        does not act on, or a malformed one (logged, nothing changed)."""
        try:
            key = dedupe_key(body)
            event = event_from_body(body, card_update_ref(req_id, body))
        except MalformedCallback as exc:
            self.stats.malformed += 1
            logger.warning("WeCom robot: a malformed message was refused: %s", exc)
            return False
        fields = {"body": json.dumps(body, ensure_ascii=False), "req_id": req_id}
        if not await self.recorder.record(key, fields):
            self.stats.duplicates += 1
            return False
        if event is None:
            self.stats.ignored += 1
            await self.journal.mark_handled(key)
            return False
        url = body.get("response_url")
        if isinstance(url, str) and url:
            self.response_urls.offer(event.chat_id, url)
        self.stats.accepted += 1
        self._enqueue(key, event)
        return True

    async def resume(self) -> int:
        """Queue what was received but not handled before the last stop; returns how many."""
        return await self.handling.resume(
            await self.journal.unhandled(), _stored_event, lambda event: event.chat_id
        )

    async def join(self, seconds: float = 30.0) -> None:
        await self.handling.join(seconds)

    async def stop(self, grace: float = 10.0) -> None:
        await self.handling.stop(grace)
        await self.journal.close()

    def _enqueue(self, key: str, event: Event) -> None:
        self.handling.enqueue(event.chat_id, key, event)

    async def _handle(self, event: Event) -> None:
        try:
            if self._chat_seen is not None:
                await self._chat_seen(event.chat_id)
            await self._sink(event)
        except Exception:
            self.stats.failed += 1
            logger.exception("handling a WeCom robot message from %s failed", event.user_id)
            return
        self.stats.handled += 1


def _stored_event(fields: dict[str, str]) -> Event | None:
    """A journaled message as an event again (None: nothing to act on, or malformed); the
    card update's five seconds are long gone."""
    try:
        return event_from_body(json.loads(fields["body"]), None)
    except (KeyError, ValueError, MalformedCallback):
        return None
