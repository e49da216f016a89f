"""Simulated WeCom members for the demo and the tests: what they type, send or press goes to
the bot as a really signed and encrypted callback; what the bot sends them is read from the
WeCom emulator's inbox.

``VirtualTime`` (``bot.sandbox.virtual_time``), shared by the emulator's counting windows and
the bot's send limiters, lets WeCom's per-minute and per-hour limits be kept (and checked)
without waiting for them in real time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.sandbox.virtual_time import VirtualTime
from bot.sandbox.wecom.api import ReceivedMessage, WeComEmulator
from bot.sandbox.wecom.callbacks import CallbackResponse, WeComCallbackClient

__all__ = ["VirtualTime", "WeComPerson", "buttons_of", "card_text"]


def card_text(message: ReceivedMessage) -> str:
    """What a member reads in a message: the text, or a card's title and text."""
    content = message.content
    if message.msgtype in ("text", "markdown"):
        return str(content.get("content", ""))
    if message.msgtype == "template_card":
        title = content.get("main_title", {}).get("title", "")
        quote = content.get("quote_area", {}).get("quote_text", "")
        lines = [title, quote, content.get("sub_title_text", ""), content.get("replace_name", "")]
        return "\n".join(filter(None, lines))
    if message.msgtype == "textcard":
        return f"{content.get('title', '')}\n{content.get('description', '')}"
    return f"[{message.msgtype}]"


def buttons_of(message: ReceivedMessage) -> list[tuple[str, str]]:
    """(label, key) of a template card's buttons."""
    if message.msgtype != "template_card":
        return []
    return [(b["text"], b["key"]) for b in message.content.get("button_list", [])]


@dataclass
class WeComPerson:
    """A member using the WeCom app. ``settle`` waits until the bot has handled and answered."""

    emulator: WeComEmulator
    callbacks: WeComCallbackClient
    userid: str
    name: str
    settle: Callable[[], Awaitable[None]]
    log: list[tuple[str, str]] = field(default_factory=list)  # ("out" | "in", text)
    _logged: int = 0

    def inbox(self) -> list[ReceivedMessage]:
        return self.emulator.inbox(self.userid)

    def texts(self) -> list[str]:
        return [card_text(m) for m in self.inbox()]

    def sync_log(self) -> None:
        """Add what the bot sent since the last look to ``log``."""
        inbox = self.inbox()
        for message in inbox[self._logged :]:
            buttons = " ".join(f"[{label}]" for label, _key in buttons_of(message))
            self.log.append(("in", card_text(message) + (f"\n{buttons}" if buttons else "")))
        self._logged = len(inbox)

    async def _after(
        self, action: str, send: Callable[[], Awaitable[CallbackResponse]]
    ) -> list[ReceivedMessage]:
        self.sync_log()
        before = len(self.inbox())
        self.log.append(("out", action))
        response = await send()
        if response.status != 200:
            raise AssertionError(f"the callback of {self.name} got HTTP {response.status}")
        await self.settle()
        self.sync_log()
        return self.inbox()[before:]

    async def say(self, text: str) -> list[ReceivedMessage]:
        return await self._after(text, lambda: self.callbacks.send_text(self.userid, text))

    async def send_file(self, filename: str, content: bytes) -> list[ReceivedMessage]:
        media_id = self.emulator.add_media(filename, content)
        return await self._after(
            f"[file {filename}, {len(content)} bytes]",
            lambda: self.callbacks.send_file(self.userid, media_id),
        )

    async def send_image(self, content: bytes) -> list[ReceivedMessage]:
        media_id = self.emulator.add_media(
            "photo.jpg", content, media_type="image", content_type="image/jpeg"
        )
        url = f"https://wework.example/{media_id}.jpg"
        return await self._after(
            "[photo]", lambda: self.callbacks.send_image(self.userid, media_id, url)
        )

    async def click(self, key: str) -> list[ReceivedMessage]:
        """Click the app menu entry with ``key``."""
        return await self._after(
            f"[menu {key}]", lambda: self.callbacks.send_click(self.userid, key)
        )

    async def press(
        self, key_prefix: str, *, within: str | None = None, label: str | None = None
    ) -> list[ReceivedMessage]:
        """Press the newest card button whose key starts with ``key_prefix`` (labelled
        ``label``, on a card whose text contains ``within``, if given)."""
        found = next(
            (
                (str(message.content["task_id"]), key, shown)
                for message in reversed(self.inbox())
                if within is None or within in card_text(message)
                for shown, key in buttons_of(message)
                if key.startswith(key_prefix) and label in (None, shown)
            ),
            None,
        )
        if found is not None:
            task_id, key, shown = found
            return await self.press_card(task_id, key, shown)
        raise LookupError(f"{self.name} has no button {key_prefix!r} (within {within!r})")

    async def press_card(
        self, task_id: str, key: str, shown: str = "", *, response_code: str | None = None
    ) -> list[ReceivedMessage]:
        """Press the button ``key`` of the card ``task_id`` as WeCom reports it: with a fresh
        ResponseCode (or ``response_code``), also when the card no longer shows the button
        (a press the app saw before the card was updated, on another device)."""
        code = response_code or self.emulator.press_code(self.userid, task_id)
        return await self._after(
            f"[{shown or key}]",
            lambda: self.callbacks.send_template_card_event(
                self.userid, task_id, key, response_code=code
            ),
        )
