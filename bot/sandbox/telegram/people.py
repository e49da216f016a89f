"""Simulated people on the Telegram emulator, so a demo or a test reads like a chat:
``fang = people.person("方磊")``, ``await fang.say("/submit")``, ``await fang.press("提交")``.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.sandbox.telegram.api import TelegramEmulator
from bot.sandbox.telegram.transcript import TranscriptEntry

Predicate = Callable[[TranscriptEntry], bool]


def contains(*fragments: str) -> Predicate:
    """A bot message whose text contains every fragment."""
    return lambda entry: all(fragment in entry.text for fragment in fragments)


class SimulatedPerson:
    """One user: acts in their private chat (or a group) and waits for the bot's answer."""

    def __init__(
        self, emulator: TelegramEmulator, user_id: int, name: str, *, timeout: float = 10.0
    ) -> None:
        self.emulator = emulator
        self.user_id = user_id
        self.name = name
        self.timeout = timeout

    def _mark(self, chat_id: int) -> int:
        return len(self.emulator.transcript(chat_id))

    async def say(
        self, text: str, *, group: int | None = None, expect: Predicate | None = None
    ) -> TranscriptEntry:
        """Send a text (or command) and return the bot's answer in that chat."""
        chat_id = group if group is not None else self.user_id
        since = self._mark(chat_id)
        self.emulator.send_text(self.user_id, text, chat_id=group)
        return await self.expect(expect, chat_id=chat_id, since=since)

    async def send_file(
        self,
        name: str,
        content: bytes,
        *,
        mime_type: str = "application/octet-stream",
        group: int | None = None,
    ) -> TranscriptEntry:
        chat_id = group if group is not None else self.user_id
        since = self._mark(chat_id)
        self.emulator.send_document(self.user_id, name, content, mime_type=mime_type, chat_id=group)
        return await self.expect(None, chat_id=chat_id, since=since)

    async def press(
        self,
        label: str,
        *,
        within: Predicate | None = None,
        expect: Predicate | None = None,
        stale: bool = False,
    ) -> TranscriptEntry:
        """Press the newest button in the private chat whose label or data is ``label``
        (a ``label`` ending in ":" matches data by prefix, e.g. "review:ret:"), in the newest
        message that satisfies ``within``, as the message stands now (after the bot's edits).
        ``stale``: as it was first shown, before edits took buttons away (a second device)."""
        chat_id = self.user_id
        messages = self.emulator.bot_messages(chat_id)
        if not stale:
            latest = {entry.message_id: entry for entry in messages}
            messages = [entry for entry in messages if latest[entry.message_id] is entry]
        for entry in reversed(messages):
            if within is not None and not within(entry):
                continue
            for row in entry.buttons:
                for text, data in row:
                    prefix = label.endswith(":") and data is not None and data.startswith(label)
                    if data is not None and (label in (text, data) or prefix):
                        since = self._mark(chat_id)
                        self.emulator.press_button(
                            self.user_id, entry.message_id, data, stale=stale
                        )
                        return await self.expect(expect, chat_id=chat_id, since=since)
        raise LookupError(f"{self.name} sees no button {label!r}")

    async def expect(
        self,
        predicate: Predicate | None = None,
        *,
        chat_id: int | None = None,
        since: int | None = None,
    ) -> TranscriptEntry:
        """Wait for a bot message in the chat (the private one by default); the bot's edits of
        earlier messages (a pressed message updated) are not answers and are passed over."""
        wanted = predicate or (lambda entry: True)
        return await self.emulator.wait_for_bot_message(
            self.user_id if chat_id is None else chat_id,
            lambda entry: not entry.edited and wanted(entry),
            timeout=self.timeout,
            since=since,
        )

    def inbox(self) -> list[TranscriptEntry]:
        return self.emulator.bot_messages(self.user_id)
