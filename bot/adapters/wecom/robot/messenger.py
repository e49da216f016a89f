"""Sending to robot chats, and which path each WeCom message takes.

``ChannelMessenger`` is the WeCom platform's messenger when a robot is configured: rows for a
robot chat (``robot:<chatid>``) go through ``RobotMessenger``, all others (private pushes and
reminders to a member, the app's own group chat) through the app's ``WeComMessenger`` as
before. Why: the app reaches any member with message/send without prior contact, while the
robot reaches only chats it is in, and only the robot is in the groups people made themselves.

How ``RobotMessenger`` sends one message to a robot chat:

* text as markdown (WeCom's only text type for robots), cut under 20,480 bytes;
* first through the chat's oldest unused ``response_url`` (each usable once, within an hour:
  an answer to an @-mention quotes it), when the message needs no card (a group takes cards
  only by active push);
* otherwise by active push on the long connection (``aibot_send_msg``): markdown, and for
  buttons a ``button_interaction`` card (title, text up to 112 characters, up to six buttons
  whose keys are the buttons' data);
* in callback mode with no usable response_url: ``RecipientUnreachable``, so the outbox holds
  the message until the chat talks to the robot again (``chat_seen`` releases it);
* a pressed card's update (``OutgoingMessage.updates`` from the long connection) by
  ``aibot_respond_update_msg`` with the press's req_id: its buttons become one reading the
  outcome. WeCom takes it within five seconds; a refused or late one counts as done.

Files and pictures (``OutgoingMessage.file``), after the message's text, as the app does:

* long connection: uploaded over the WebSocket (``media.RobotUploader``: init, chunks,
  finish; a picture up to 10 MB as an image, anything else as a file) and shown by active
  push. A retry after a failure resumes at the file (the text is not sent again); an upload
  cut by a reconnect starts again with a new upload id; a finished upload's media id is used
  again by the retry. A file over WeCom's limits (20 MB) is not sent: the chat is told so;
* callback mode (no upload): the answers to someone go to them through the app before they
  get here (``replies.callback_replies``); a file in an announcement is left out and its text
  says so (``picture_left_out``).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from typing import Any

import aiohttp

from bot.adapters.wecom.events import PLATFORM
from bot.adapters.wecom.robot.connection import (
    SEND_MESSAGE,
    UPDATE_CARD,
    RobotConnection,
    RobotRefused,
    RobotUnavailable,
)
from bot.adapters.wecom.robot.frames import is_robot_chat, robot_chat
from bot.adapters.wecom.robot.media import MIN_BYTES, MediaTooLarge, RobotUploader, media_type
from bot.adapters.wecom.robot.receiver import CARD_UPDATE_PREFIX, ResponseUrls
from bot.core.formatting import split_text
from bot.core.i18n import _, use_locale
from bot.core.messaging import (
    Button,
    ByteSink,
    Event,
    IncomingFile,
    Messenger,
    OutgoingFile,
    OutgoingMessage,
    PermanentSendError,
    RecipientUnreachable,
    RetryAfter,
    TransientSendError,
)
from bot.delivery.limits import Limit

logger = logging.getLogger(__name__)

MAX_MARKDOWN_BYTES = 20480
CARD_TITLE_CHARS = 36
CARD_TEXT_CHARS = 112
CARD_BUTTONS = 6
FREQUENCY_ERRORS = frozenset({45009, 45033})
MEDIA_ID_UNKNOWN = 40007  # WeCom's "invalid media_id"
# WeCom documents 20 messages a minute for a group's robot; the intelligent robot's pushes are
# kept under the same, with a second's margin (a send counts when it starts here, on arrival
# there).
ROBOT_CHAT_LIMITS = (Limit(20, 61.0),)


def robot_limits(chat_id: str, to_group: bool) -> tuple[Limit, ...] | None:
    """The outbox sender's limits for a robot chat (None: the platform's usual ones)."""
    return ROBOT_CHAT_LIMITS if is_robot_chat(chat_id) else None


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def markdown_parts(text: str) -> list[str]:
    return [p for p in split_text(text, MAX_MARKDOWN_BYTES, _utf8) if p.strip()]


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _with_links(message: OutgoingMessage) -> str:
    links = [f"[{b.label}]({b.url})" for row in message.buttons for b in row if b.url]
    return "\n".join([message.text, *links]) if links else message.text


def robot_card(title: str, text: str, buttons: tuple[Button, ...]) -> dict[str, Any]:
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": {"title": _shorten(title or "…", CARD_TITLE_CHARS)},
        "task_id": f"hw_{secrets.token_hex(12)}",
        "button_list": [
            {"text": b.label, "style": 1 if i == 0 else 2, "key": b.data or ""}
            for i, b in enumerate(buttons)
        ],
    }
    if text:
        card["sub_title_text"] = text
    return card


def robot_render(message: OutgoingMessage, *, cards: bool) -> list[dict[str, Any]]:
    """The robot messages (``msgtype`` bodies) that deliver ``message``, in order."""
    text = _with_links(message)
    pressable = tuple(b for row in message.buttons for b in row if b.data) if cards else ()
    if not pressable:
        return [{"msgtype": "markdown", "markdown": {"content": p}} for p in markdown_parts(text)]
    lines = text.strip().splitlines()
    title = (message.title or (lines[0] if lines else "")).strip()
    body = "\n".join(lines[1:] if lines and lines[0].strip() == title else lines).strip()
    on_card = body if len(body) <= CARD_TEXT_CHARS else ""
    before = [] if on_card or not body else markdown_parts(text)
    steps: list[dict[str, Any]] = [
        {"msgtype": "markdown", "markdown": {"content": p}} for p in before
    ]
    for start in range(0, len(pressable), CARD_BUTTONS):
        chunk = pressable[start : start + CARD_BUTTONS]
        card = robot_card(title, on_card if start == 0 else "", chunk)
        steps.append({"msgtype": "template_card", "template_card": card})
    return steps


FILE_STEP = "file"  # a step that uploads and pushes the message's file


def robot_sends_for(message: OutgoingMessage) -> int:
    return max(1, len(robot_render(message, cards=True)) + (message.file is not None))


def too_large_note(file: OutgoingFile, limit: int) -> str:
    if len(file.content) < MIN_BYTES:
        return _("The file “{name}” was not sent: WeCom takes no file of 5 bytes or fewer.").format(
            name=file.name
        )
    return _(
        "The file “{name}” ({size} MB) was not sent: WeCom lets the robot send files up to {limit} MB."
    ).format(name=file.name, size=f"{len(file.content) / 2**20:.1f}", limit=limit // 2**20)


def picture_left_out(file: OutgoingFile) -> str:
    if file.is_photo:
        return _("(This message comes with a picture, which the robot cannot show in this chat.)")
    return _(
        "(This message comes with the file “{name}”, which the robot cannot send in this chat.)"
    ).format(name=file.name)


def _message_key(chat_id: str, message: OutgoingMessage) -> tuple[str, str, str]:
    """Identifies a message being sent without encoding its file again."""
    file = message.file
    digest = hashlib.sha256(file.content).hexdigest() + file.name if file is not None else ""
    text = (
        message.to_json()
        if file is None
        else OutgoingMessage(message.text, message.buttons, None, message.title).to_json()
    )
    return chat_id, text, digest


class RobotMessenger:
    """Sends the core's messages to robot chats (see the module docstring)."""

    platform = PLATFORM

    def __init__(
        self,
        *,
        response_urls: ResponseUrls,
        connection: RobotConnection | None = None,
        http_timeout: float = 10.0,
        retry_after: float = 2.0,
        locale: str = "zh_CN",
    ) -> None:
        self.response_urls = response_urls
        self.connection = connection
        self.uploader = RobotUploader(connection) if connection is not None else None
        self.locale = locale  # of what the robot says on its own (a file it could not send)
        self.sent_files = 0
        self.retry_after = retry_after
        self._timeout = aiohttp.ClientTimeout(total=http_timeout)
        self._http: aiohttp.ClientSession | None = None
        self.sent_by_response_url = 0
        self.sent_by_push = 0
        # Steps already delivered of a message being sent (chat, payload) -> count: a retry
        # after a failure resumes at the failed step instead of repeating the first ones.
        self._delivered: dict[tuple[str, str, str], int] = {}

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def send(self, chat_id: str, message: OutgoingMessage) -> None:
        if message.updates is not None:
            await self._update(message.updates, message.text)
            return
        file = message.file
        if file is not None and self.uploader is None:
            with use_locale(self.locale):
                note = picture_left_out(file)
            message = OutgoingMessage(
                f"{message.text.rstrip()}\n\n{note}" if message.text.strip() else note,
                message.buttons,
                None,
                message.title,
                message.to_group,
            )
            logger.info("WeCom robot (callback mode): the file %s is left out", file.name)
        steps = robot_render(message, cards=self.connection is not None)
        if message.file is not None:
            if message.text.strip() == message.file.name and not message.buttons:
                steps = []  # a file message shows its name: one push, not two
            steps.append({"msgtype": FILE_STEP})
        key = _message_key(chat_id, message)
        done = self._delivered.get(key, 0)
        try:
            for index, step in enumerate(steps[done:], start=done):
                if step["msgtype"] == FILE_STEP:
                    assert message.file is not None
                    await self._send_file(chat_id, message.file)
                else:
                    await self._send_step(chat_id, step)
                self._delivered[key] = index + 1
        except (PermanentSendError, RecipientUnreachable):
            self._delivered.pop(key, None)  # not retried here: nothing to resume
            raise
        self._delivered.pop(key, None)

    async def _send_file(self, chat_id: str, file: OutgoingFile) -> None:
        """Upload ``file`` on the long connection and push it to the chat."""
        assert self.uploader is not None
        try:
            kind, media_id = await self.uploader.upload_file(file)
        except MediaTooLarge as exc:
            logger.warning("WeCom robot: %s not sent to %s: %s", file.name, chat_id, exc)
            with use_locale(self.locale):
                note = too_large_note(file, exc.limit)
            await self._send_step(chat_id, {"msgtype": "markdown", "markdown": {"content": note}})
            return
        except RobotUnavailable as exc:
            raise TransientSendError(str(exc)) from exc
        except RobotRefused as exc:
            raise self._neutral(exc) from exc
        try:
            await self.uploader.push(robot_chat(chat_id), kind, media_id)
        except RobotUnavailable as exc:
            raise TransientSendError(str(exc)) from exc
        except RobotRefused as exc:
            if exc.errcode == MEDIA_ID_UNKNOWN:  # expired or forgotten: upload it again
                self.uploader.forget(media_id)
                raise TransientSendError(str(exc)) from exc
            raise self._neutral(exc) from exc
        self.sent_by_push += 1
        self.sent_files += 1
        logger.info("WeCom robot: %s %s sent to %s", media_type(file), file.name, chat_id)

    async def _send_step(self, chat_id: str, step: dict[str, Any]) -> None:
        if step["msgtype"] == "markdown":  # a card goes by push (WeCom's rule for groups)
            url = self.response_urls.take(chat_id)
            while url is not None:
                if await self._post_response(url, step):
                    self.sent_by_response_url += 1
                    return
                url = self.response_urls.take(chat_id)
        if self.connection is None:
            raise RecipientUnreachable(
                "no unused response_url for this robot chat; held until it talks to the robot"
            )
        try:
            await self.connection.send(SEND_MESSAGE, {"chatid": robot_chat(chat_id), **step})
        except RobotUnavailable as exc:
            raise TransientSendError(str(exc)) from exc
        except RobotRefused as exc:
            raise self._neutral(exc) from exc
        self.sent_by_push += 1

    async def _post_response(self, url: str, step: dict[str, Any]) -> bool:
        """POST to a response_url; False if WeCom refuses it (used or expired): the next one
        or an active push is tried. Network errors are passing (the URL is kept unused)."""
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._http.post(url, json=step) as response:
                if response.status >= 500:
                    raise TransientSendError(f"response_url answered HTTP {response.status}")
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise TransientSendError(f"response_url: {exc}") from exc
        errcode = int(answer.get("errcode", 0) or 0) if isinstance(answer, dict) else -1
        if errcode in FREQUENCY_ERRORS:
            raise RetryAfter(self.retry_after, f"response_url: {errcode}")
        if errcode:
            logger.info("WeCom robot: a response_url was refused (%s)", errcode)
            return False
        return True

    async def _update(self, reference: str, outcome: str) -> None:
        if self.connection is None or not reference.startswith(CARD_UPDATE_PREFIX):
            return  # nothing to update in callback mode: the press was answered by a message
        req_id, _, task_id = reference.removeprefix(CARD_UPDATE_PREFIX).partition("|")
        card = {
            "card_type": "button_interaction",
            "main_title": {"title": _shorten(outcome.strip() or "✓", CARD_TITLE_CHARS)},
            "task_id": task_id,
            "button_list": [
                {"text": _shorten(outcome.strip() or "✓", 10), "style": 2, "key": f"done:{task_id}"}
            ],
        }
        body = {"response_type": "update_template_card", "template_card": card}
        try:
            await self.connection.send(UPDATE_CARD, body, req_id=req_id)
        except (RobotUnavailable, RobotRefused) as exc:
            logger.info("WeCom robot: a pressed card was not updated: %s", exc)

    def _neutral(self, exc: RobotRefused) -> Exception:
        if exc.errcode in FREQUENCY_ERRORS:
            return RetryAfter(self.retry_after, str(exc))
        return PermanentSendError(str(exc))

    max_download_bytes: int | None = None

    async def download(self, file: IncomingFile) -> bytes:
        raise PermanentSendError("the robot's files are not taken")

    async def download_to(self, file: IncomingFile, sink: ByteSink) -> None:
        raise PermanentSendError("the robot's files are not taken")


class ChannelMessenger:
    """The WeCom platform's messenger with a robot: robot chats to the robot, the rest to the
    app."""

    platform = PLATFORM

    def __init__(self, app: Messenger, robot: RobotMessenger) -> None:
        self.app = app
        self.robot = robot
        self.max_download_bytes = app.max_download_bytes  # files come in through the app

    async def send(self, chat_id: str, message: OutgoingMessage) -> None:
        target = self.robot if is_robot_chat(chat_id) else self.app
        await target.send(chat_id, message)

    async def download(self, file: IncomingFile) -> bytes:
        return await self.app.download(file)

    async def download_to(self, file: IncomingFile, sink: ByteSink) -> None:
        await self.app.download_to(file, sink)

    async def prepare(self, event: Event) -> Event:
        prepare = getattr(self.app, "prepare", None)
        return await prepare(event) if prepare is not None else event
