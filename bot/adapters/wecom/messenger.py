"""WeCom (企业微信) messenger: the core's messages out through ``WeComClient``, files in.

How an ``OutgoingMessage`` looks on WeCom:

* to a member, with buttons: one ``button_interaction`` template card (title, the text, up to
  six buttons whose keys are the buttons' data; a press comes back as a callback event). The
  text sits in the card's sub-title (up to 112 characters) or, longer, in its quote area (up
  to ``CARD_QUOTE_CHARS``); only what does not fit follows as text, after the card, so the
  message reads in order: one outgoing message is one WeCom message wherever WeCom allows;
* to a member, without buttons: text (split at line ends under WeCom's 2,048 bytes);
* to the group: text through appchat/send (a group chat takes no cards with buttons);
* a file: uploaded with media/upload and sent as a file message after the text;
* the update of a pressed card (``OutgoingMessage.updates``, the press's ResponseCode):
  message/update_template_card turns its buttons into one that cannot be pressed, reading
  the outcome. WeCom takes a ResponseCode once, within 72 hours; a refused one means there
  is nothing left to update, so it counts as done.

``render`` lists those WeCom messages; ``WECOM_POLICY`` (the outbox sender's limits for WeCom)
counts each of them against WeCom's per-member and per-group limits.

WeCom's errors become the core's: 45009/45033 → ``RetryAfter`` (growing while they last),
a token still refused after the client's bounded refreshes, a timeout or a 5xx →
``TransientSendError``, a member or chat WeCom does not know → ``RecipientUnreachable``,
anything else → ``PermanentSendError``.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import secrets
from dataclasses import dataclass

from bot.adapters.wecom.client import (
    FREQUENCY_ERRORS,
    TOKEN_ERRORS,
    WeComClient,
    WeComSendError,
    button_interaction_card,
)
from bot.adapters.wecom.events import PLATFORM
from bot.core.formatting import split_text
from bot.core.i18n import _, current_locale
from bot.core.messaging import (
    Button,
    ByteSink,
    Event,
    IncomingFile,
    OutgoingFile,
    OutgoingMessage,
    PermanentSendError,
    RecipientUnreachable,
    RetryAfter,
    SendError,
    TransientSendError,
)
from bot.delivery.limits import Limit
from bot.delivery.sender import SendPolicy
from handlers.commands import APP_MENU, BY_NAME
from storage.files import FileTooLarge

logger = logging.getLogger(__name__)

MAX_TEXT_BYTES = 2048  # text and markdown content
CARD_TITLE_CHARS = 36
CARD_TEXT_CHARS = 112  # sub_title_text
# quote_area.quote_text: WeCom documents no limit; we keep to what shows without scrolling
# far on a phone, and the emulator refuses more.
CARD_QUOTE_CHARS = 600
CARD_BUTTONS = 6
REPLACE_NAME_CHARS = 24  # the text that replaces a pressed card's buttons
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024  # WeCom keeps no larger file as temporary media
IMAGE_MAX_BYTES = 10 * 1024 * 1024

UNREACHABLE_ERRORS = frozenset({60011, 60111, 81013, 86003})
BUSY_ERRORS = frozenset({-1})


def utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def text_parts(text: str) -> list[str]:
    return [part for part in split_text(text, MAX_TEXT_BYTES, utf8_size) if part.strip()]


def _with_links(message: OutgoingMessage) -> str:
    """The text with link buttons written out (WeCom cards here carry only pressed buttons)."""
    links = [f"{b.label}: {b.url}" for row in message.buttons for b in row if b.url]
    return "\n".join([message.text, *links]) if links else message.text


def _card_parts(message: OutgoingMessage, text: str) -> tuple[str, str]:
    """(card title, the text for the card's body); a title too long for a card is shortened
    there and kept whole in the body."""
    lines = text.splitlines()
    title = (message.title or (lines[0] if lines else "")).strip()
    if len(title) > CARD_TITLE_CHARS and not message.title:
        # A long first line: its first sentence heads the card, the rest is the card's text
        # (no shortened copy of what the card then says again in full).
        sentence = _FIRST_SENTENCE.match(title)
        if sentence and len(sentence[0].strip()) <= CARD_TITLE_CHARS:
            head = sentence[0].strip()
            return head, text.strip()[len(head) :].strip()
    if len(title) > CARD_TITLE_CHARS:
        return _shorten(title, CARD_TITLE_CHARS), text.strip()
    if lines and lines[0].strip() == title:
        lines = lines[1:]
    return title, "\n".join(lines).strip()


_FIRST_SENTENCE = re.compile(r".+?(?:[。！？]|[.!?](?=\s))")


def _kind(file: OutgoingFile) -> str:
    """WeCom's message type for a file: pictures up to 10 MB as images, the rest as files."""
    return "image" if file.is_photo and len(file.content) <= IMAGE_MAX_BYTES else "file"


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass(frozen=True)
class Step:
    """One WeCom message of an ``OutgoingMessage``: a text, a card with buttons, or a file."""

    text: str = ""
    title: str = ""
    buttons: tuple[Button, ...] = ()
    file: OutgoingFile | None = None


def render(message: OutgoingMessage) -> list[Step]:
    """The WeCom messages that deliver ``message``, in order (see the module docstring)."""
    if message.updates is not None:
        return [Step(message.text)]  # one update_template_card
    text = _with_links(message)
    files = [Step(file=message.file)] if message.file is not None else []
    pressable = (
        () if message.to_group else tuple(b for row in message.buttons for b in row if b.data)
    )
    if not pressable:
        return [*(Step(part) for part in text_parts(text)), *files]
    title, body = _card_parts(message, text)
    on_card, rest = _split_for_card(body)
    first, *more = [
        Step(on_card if start == 0 else "", title, pressable[start : start + CARD_BUTTONS])
        for start in range(0, len(pressable), CARD_BUTTONS)
    ]
    after = [Step(part) for part in text_parts(rest)] if rest else []
    return [first, *after, *files, *more]


def _split_for_card(body: str) -> tuple[str, str]:
    """(what the card holds, what follows as text): the card takes whole lines from the start
    up to ``CARD_QUOTE_CHARS``; a first line longer than that is cut."""
    if len(body) <= CARD_QUOTE_CHARS:
        return body, ""
    held = ""
    for line in body.splitlines(keepends=True):
        if len(held) + len(line) > CARD_QUOTE_CHARS:
            break
        held += line
    if not held:
        held = body[:CARD_QUOTE_CHARS]
    return held.rstrip("\n"), body[len(held) :].lstrip("\n")


def sends_for(message: OutgoingMessage) -> int:
    """How many messages WeCom counts against its limits for ``message``."""
    return max(1, len(render(message)))


WECOM_POLICY = SendPolicy(
    # WeCom silently drops an app's messages beyond 30 a minute and 1,000 an hour to one
    # member, and group messages beyond 200 a minute: queue under each with a margin (a send
    # is counted when it starts, WeCom counts it when it arrives, a little later), counting
    # every WeCom message an outgoing message becomes.
    per_private_chat=(Limit(29, 61.0), Limit(990, 3601.0)),
    per_group_chat=(Limit(195, 61.0),),
    concurrency=4,
    cost=sends_for,
)


def _menu_entry(name: str) -> dict[str, object]:
    spec = BY_NAME[name]
    label = spec.keywords[0] if spec.keywords and current_locale() == "zh_CN" else "/" + name
    return {"type": "click", "name": label, "key": name}


def app_menu() -> dict[str, object]:
    """The app's menu (menu/create) from the command table, in the current locale; a click
    comes back as a callback with the command's name as its key."""
    buttons: list[dict[str, object]] = [_menu_entry(group[0]) for group in APP_MENU[:-1]]
    more = APP_MENU[-1]
    buttons.append({"name": _("More"), "sub_button": [_menu_entry(name) for name in more]})
    return {"button": buttons}


class WeComMessenger:
    """Delivers the core's messages with ``WeComClient``; maps WeCom's errors to the core's."""

    platform = PLATFORM
    max_download_bytes: int | None = MAX_DOWNLOAD_BYTES

    def __init__(
        self, client: WeComClient, *, retry_after: float = 2.0, max_retry_after: float = 60.0
    ) -> None:
        self.client = client
        self.retry_after = retry_after
        self.max_retry_after = max_retry_after
        self._next_retry_after = retry_after

    # -- sending -----------------------------------------------------------------------------

    async def send(self, chat_id: str, message: OutgoingMessage) -> None:
        try:
            if message.updates is not None:
                await self._update(chat_id, message.updates, message.text)
            elif message.to_group:
                await self._send_group(chat_id, message)
            else:
                await self._send_private(chat_id, message)
        except WeComSendError as exc:
            raise self._neutral(exc) from exc
        self._next_retry_after = self.retry_after

    async def _update(self, userid: str, response_code: str, outcome: str) -> None:
        try:
            replace_name = _shorten(outcome.strip() or "✓", REPLACE_NAME_CHARS)
            await self.client.update_template_card([userid], response_code, replace_name)
        except WeComSendError as exc:
            error = self._neutral(exc)
            if isinstance(error, PermanentSendError | RecipientUnreachable):
                logger.info("the pressed card of %s was not updated: %s", userid, exc)
                return
            raise error from exc

    async def _send_private(self, userid: str, message: OutgoingMessage) -> None:
        for step in render(message):
            if step.file is not None:
                file = step.file
                await self.client.send_file([userid], file.name, file.content, kind=_kind(file))
            elif step.buttons:
                card = self._card(step.title, step.text, step.buttons)
                await self._checked(await self.client.send_template_card([userid], card), userid)
            else:
                await self._checked(await self.client.send_text([userid], step.text), userid)

    @staticmethod
    def _card(title: str, text: str, buttons: tuple[Button, ...]) -> dict[str, object]:
        short = len(text) <= CARD_TEXT_CHARS
        return button_interaction_card(
            task_id=f"hw_{secrets.token_hex(12)}",
            title=title or "…",
            sub_title_text=(text or None) if short else None,
            quote_text=None if short else text,
            buttons=[(b.label, b.data or "") for b in buttons],
        )

    @staticmethod
    async def _checked(result: dict[str, object], userid: str) -> None:
        if userid in str(result.get("invaliduser") or "").split("|"):
            raise RecipientUnreachable(f"WeCom does not know the member {userid}")

    async def _send_group(self, chatid: str, message: OutgoingMessage) -> None:
        for step in render(message):
            if step.file is not None:
                file = step.file
                await self.client.chat_send_file(chatid, file.name, file.content, kind=_kind(file))
            else:
                await self.client.chat_send_text(chatid, step.text)

    def _neutral(self, exc: WeComSendError) -> SendError:
        if exc.errcode in FREQUENCY_ERRORS:
            seconds = self._next_retry_after
            self._next_retry_after = min(seconds * 2, self.max_retry_after)
            return RetryAfter(seconds, str(exc))
        if exc.errcode is None:
            if exc.http_status is not None and 400 <= exc.http_status < 500:
                return PermanentSendError(str(exc))
            return TransientSendError(str(exc))
        if exc.errcode in TOKEN_ERRORS or exc.errcode in BUSY_ERRORS:
            return TransientSendError(str(exc))
        if exc.errcode in UNREACHABLE_ERRORS:
            return RecipientUnreachable(str(exc))
        return PermanentSendError(str(exc))

    # -- files sent by members -----------------------------------------------------------------

    async def prepare(self, event: Event) -> Event:
        """Learn the names and sizes of an incoming event's files (WeCom's callback carries
        only a MediaId) from media/get's headers; the content is fetched when it is kept."""
        files = []
        for file in event.files:
            try:
                name, size = await self.client.media_info(file.file_ref)
            except WeComSendError as exc:
                logger.warning("WeCom media/get failed (%s); the MediaId is kept", exc)
                files.append(file)
                continue
            known_name = None if name == file.file_ref else name
            files.append(
                dataclasses.replace(
                    file, file_name=file.file_name or known_name, size=size or file.size
                )
            )
        return dataclasses.replace(event, files=tuple(files))

    async def download(self, file: IncomingFile) -> bytes:
        try:
            _name, content = await self.client.download_media(file.file_ref)
        except WeComSendError as exc:
            raise TransientSendError(str(exc)) from exc
        return content

    async def download_to(self, file: IncomingFile, sink: ByteSink) -> None:
        if file.size is not None and file.size > MAX_DOWNLOAD_BYTES:
            raise FileTooLarge(file.size, MAX_DOWNLOAD_BYTES)
        try:
            await self.client.download_media_into(file.file_ref, sink)
        except WeComSendError as exc:
            raise TransientSendError(str(exc)) from exc
