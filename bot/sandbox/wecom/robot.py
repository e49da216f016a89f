"""Loopback emulator of WeCom's intelligent robot (智能机器人, API mode), both modes.

``RobotEmulator`` plays WeCom's side for one robot:

* **long connection**: a WebSocket gateway at ``ws_url``. A client subscribes
  (``aibot_subscribe`` with the robot's id and secret; a wrong one answers 40001 and the
  socket stays open without callbacks), pings (``ping``, counted in ``stats.heartbeats``),
  receives ``aibot_msg_callback`` / ``aibot_event_callback`` frames and sends
  ``aibot_send_msg`` (markdown or template_card to a chatid) and ``aibot_respond_update_msg``
  (a pressed card's update, within five seconds of the press, once). Each frame is answered
  with its req_id and an errcode. WeCom keeps one connection per robot: a second subscription
  sends the first ``disconnected_event`` and closes it (:meth:`take_over` does the same from
  outside). :meth:`force_disconnect` drops the connection as a network failure would. What is
  said while no connection is subscribed is delivered when one subscribes, and the last
  ``redeliver`` frames delivered before a drop are delivered again (at least once: the bot
  must recognise them by msgid);
* **callback mode**: messages and events POSTed to the bot's callback URL as WeCom does,
  JSON AES-encrypted with the robot's token and key and an empty ReceiveId (wechatpy's crypto);
* **response_url** ``POST /cgi-bin/aibot/response?response_code=…``: markdown (and a card
  only for a single chat), each URL once and within one hour; a used or expired one answers
  an error and shows nothing;
* **temporary media** on the long connection: ``aibot_upload_media_init`` (type file, image,
  voice or video; filename; total_size within the type's limit and over 5 bytes;
  total_chunks at most 100 and enough for 512 KB chunks; md5), then
  ``aibot_upload_media_chunk`` in order from index 0 (each at most 512 KB once decoded), then
  ``aibot_upload_media_finish`` (every chunk there, the size and MD5 right): a ``media_id``
  valid three days. An upload not finished within 30 minutes is forgotten. A media id is
  shown by ``aibot_send_msg`` or ``aibot_respond_msg`` (the reply to a delivered frame, by
  its req_id) with the msgtype of the uploaded type. Anything else is refused with WeCom's
  error codes (40004 media type, 40006 size, 40007 media id, 40008 msgtype, 40058 parameter).
  :attr:`drop_after_chunks` drops the connection after that many chunks (a reconnect in the
  middle of an upload).

Every message shown in a chat is kept (``messages(chatid)``) with how it came (``via``:
"response_url" or "push"); ``updates`` lists card updates. Time (the hour of a response_url,
the five seconds of an update) comes from ``clock`` (seconds).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import itertools
import json
import logging
import re
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from aiohttp import web
from wechatpy.crypto import _get_signature
from wechatpy.enterprise.crypto import PrpCrypto

logger = logging.getLogger(__name__)

__all__ = ["RobotEmulator", "RobotMessage"]

RESPONSE_URL_SECONDS = 3600.0
UPLOAD_SECONDS = 1800.0  # an unfinished upload's life (not documented; half an hour here)
MEDIA_SECONDS = 3 * 86400.0
REPLY_SECONDS = 86400.0  # how long a received frame may be replied to (assumed: a day)
CHUNK_BYTES = 512 * 1024
MAX_CHUNKS = 100
MB = 1024 * 1024
MEDIA_LIMITS = {"file": 20 * MB, "image": 10 * MB, "voice": 2 * MB, "video": 10 * MB}
OPEN_UPLOADS = 32
UPDATE_SECONDS = 5.0
MAX_MARKDOWN_BYTES = 20480
ROBOT_NAME = "会务助手"
_TASK_ID = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")


@dataclass(frozen=True)
class RobotMessage:
    chatid: str
    msgtype: str
    content: dict[str, Any]
    via: str  # "response_url" or "push"

    @property
    def text(self) -> str:
        if self.msgtype == "markdown":
            return str(self.content.get("content", ""))
        if self.msgtype in MEDIA_LIMITS:
            return ""
        title = self.content.get("main_title", {}).get("title", "")
        return "\n".join(filter(None, [title, self.content.get("sub_title_text", "")]))

    @property
    def buttons(self) -> list[tuple[str, str]]:
        if self.msgtype != "template_card":
            return []
        return [(b["text"], b["key"]) for b in self.content.get("button_list", [])]

    @property
    def filename(self) -> str | None:
        """The shown name of a file or picture message."""
        return self.content.get("filename") if self.msgtype in MEDIA_LIMITS else None


@dataclass
class _Upload:
    kind: str
    filename: str
    total_size: int
    total_chunks: int
    md5: str | None
    started: float
    received: list[bytes] = field(default_factory=list)

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.received)


@dataclass(frozen=True)
class StoredMedia:
    kind: str
    filename: str
    content: bytes
    created: float


@dataclass
class RobotStats:
    subscriptions: int = 0
    refused_subscriptions: int = 0
    heartbeats: int = 0
    frames_delivered: int = 0
    redelivered: int = 0
    pushes: int = 0
    responses: int = 0
    refused_responses: int = 0
    updates: int = 0
    refused_updates: int = 0
    uploads_started: int = 0
    uploads_finished: int = 0
    chunks: int = 0
    refused_media: int = 0
    media_shown: int = 0
    replies: int = 0


@dataclass
class _ResponseUrl:
    chatid: str
    single: bool
    issued: float
    used: bool = False


@dataclass
class _Press:
    task_id: str
    at: float
    used: bool = False


@dataclass
class _Connection:
    ws: web.WebSocketResponse
    subscribed: bool = False
    delivered: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=64))


class RobotEmulator:
    """WeCom's side of one intelligent robot, on 127.0.0.1 (see the module docstring)."""

    def __init__(
        self,
        *,
        bot_id: str = "aibBOT0001",
        secret: str = "robot-secret",
        token: str = "RobotToken",
        aes_key: str = "",
        clock: Callable[[], float] = time.time,
        redeliver: int = 0,
    ) -> None:
        self.bot_id = bot_id
        self._secret = secret
        self.token = token
        self.aes_key = aes_key
        self.clock = clock
        self.redeliver = redeliver
        self.callback_url: str | None = None  # callback mode: the bot's robot URL
        self.answer_pings = True  # False: a gateway that stopped answering (a dead link)
        self.stats = RobotStats()
        self.updates: list[dict[str, Any]] = []
        self._messages: dict[str, list[RobotMessage]] = {}
        self._urls: dict[str, _ResponseUrl] = {}
        self._presses: dict[str, _Press] = {}  # req_id of a card event -> its press
        self._task_ids: set[str] = set()
        self._uploads: dict[str, _Upload] = {}
        self.media: dict[str, StoredMedia] = {}
        self._frames: dict[str, tuple[str, float]] = {}  # delivered req_id -> (chat, when)
        self.drop_after_chunks: int | None = None
        self._pending: deque[dict[str, Any]] = deque()  # said while nobody was subscribed
        self._connection: _Connection | None = None
        self._ids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.port = 0
        self.subscribed = asyncio.Event()
        self.arrived = asyncio.Event()  # set whenever a message is shown in a chat

    def __repr__(self) -> str:  # never show the secret
        return f"RobotEmulator(bot_id={self.bot_id!r}, port={self.port})"

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/ws", self._gateway)
        app.router.add_post("/cgi-bin/aibot/response", self._response)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.ws.close()
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws"

    def messages(self, chatid: str) -> list[RobotMessage]:
        return list(self._messages.get(chatid, []))

    async def wait_for_messages(self, chatid: str, count: int, seconds: float = 30.0) -> None:
        """Wait until ``chatid`` shows ``count`` messages."""
        async with asyncio.timeout(seconds):
            while len(self._messages.get(chatid, [])) < count:
                self.arrived.clear()
                await self.arrived.wait()

    @property
    def connected(self) -> bool:
        return self._connection is not None and self._connection.subscribed

    # -- what people do ----------------------------------------------------------------------

    def _msgid(self) -> str:
        return f"robotmsg{next(self._ids):08d}{secrets.token_hex(4)}"

    def _base(self, userid: str, chatid: str | None) -> dict[str, Any]:
        msgid = self._msgid()
        body: dict[str, Any] = {
            "msgid": msgid,
            "aibotid": self.bot_id,
            "chattype": "group" if chatid else "single",
            "from": {"userid": userid},
        }
        if chatid:
            body["chatid"] = chatid
        code = secrets.token_urlsafe(12)
        self._urls[code] = _ResponseUrl(chatid or userid, chatid is None, self.clock())
        body["response_url"] = (
            f"http://127.0.0.1:{self.port}/cgi-bin/aibot/response?response_code={code}"
        )
        return body

    def text_body(self, userid: str, text: str, chatid: str | None = None) -> dict[str, Any]:
        """A text message: in a group it starts with the robot's @-mention, as WeCom sends it."""
        body = self._base(userid, chatid)
        body["msgtype"] = "text"
        body["text"] = {"content": f"@{ROBOT_NAME} {text}" if chatid else text}
        return body

    def press_body(
        self, userid: str, task_id: str, key: str, chatid: str | None = None
    ) -> dict[str, Any]:
        body = self._base(userid, chatid)
        body["create_time"] = int(self.clock())
        body["msgtype"] = "event"
        body["event"] = {
            "eventtype": "template_card_event",
            "template_card_event": {
                "card_type": "button_interaction",
                "event_key": key,
                "task_id": task_id,
            },
        }
        return body

    async def deliver(self, body: dict[str, Any]) -> None:
        """Hand one message or event to the bot: over the long connection (queued while none
        is subscribed) or, in callback mode, POSTed to ``callback_url``."""
        if self.callback_url is not None:
            status = await self.post_callback(body)
            if status != 200:
                raise AssertionError(f"the robot callback got HTTP {status}")
            return
        cmd = "aibot_event_callback" if body.get("msgtype") == "event" else "aibot_msg_callback"
        req_id = f"cb_{secrets.token_hex(6)}"
        frame = {"cmd": cmd, "headers": {"req_id": req_id}, "body": body}
        chat = body.get("chatid") or body.get("from", {}).get("userid", "")
        self._frames[req_id] = (str(chat), self.clock())
        if body.get("msgtype") == "event" and "template_card_event" in body["event"]:
            card = body["event"]["template_card_event"]
            self._presses[req_id] = _Press(card["task_id"], self.clock())
        connection = self._connection
        if connection is None or not connection.subscribed:
            self._pending.append(frame)
            return
        await self._send_frame(connection, frame)

    async def mention(self, chatid: str, userid: str, text: str) -> None:
        await self.deliver(self.text_body(userid, text, chatid))

    async def say_single(self, userid: str, text: str) -> None:
        await self.deliver(self.text_body(userid, text))

    async def press(self, chatid: str | None, userid: str, task_id: str, key: str) -> None:
        await self.deliver(self.press_body(userid, task_id, key, chatid))

    async def _send_frame(self, connection: _Connection, frame: dict[str, Any]) -> None:
        try:
            await connection.ws.send_str(json.dumps(frame, ensure_ascii=False))
        except (ConnectionError, RuntimeError):
            self._pending.append(frame)
            return
        connection.delivered.append(frame)
        self.stats.frames_delivered += 1

    # -- faults --------------------------------------------------------------------------------

    async def force_disconnect(self) -> None:
        """Drop the connection as a network failure would (no goodbye frame)."""
        connection = self._connection
        if connection is not None:
            self._requeue(connection)
            self._connection = None
            self.subscribed.clear()
            await connection.ws.close(code=1011, message=b"gateway restart")

    async def take_over(self) -> None:
        """Another connection subscribed for this robot: tell this one and close it."""
        connection = self._connection
        if connection is None:
            return
        self._connection = None
        self.subscribed.clear()
        body = {
            "msgid": self._msgid(),
            "aibotid": self.bot_id,
            "create_time": int(self.clock()),
            "msgtype": "event",
            "event": {"eventtype": "disconnected_event"},
        }
        frame = {"cmd": "aibot_event_callback", "headers": {"req_id": "cb_takeover"}, "body": body}
        await connection.ws.send_str(json.dumps(frame))
        await connection.ws.close()

    def _requeue(self, connection: _Connection) -> None:
        if self.redeliver:
            again = list(connection.delivered)[-self.redeliver :]
            self.stats.redelivered += len(again)
            self._pending.extendleft(reversed(again))

    # -- the gateway ---------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        connection = _Connection(ws)
        try:
            async for message in ws:
                if message.type is not aiohttp.WSMsgType.TEXT:
                    continue
                frame = json.loads(message.data)
                await self._frame(connection, frame)
        finally:
            if self._connection is connection:
                self._requeue(connection)
                self._connection = None
                self.subscribed.clear()
        return ws

    async def _answer(
        self, connection: _Connection, req_id: str, errcode: int = 0, errmsg: str = "ok"
    ) -> None:
        answer = {"headers": {"req_id": req_id}, "errcode": errcode, "errmsg": errmsg}
        if not connection.ws.closed:
            await connection.ws.send_str(json.dumps(answer))

    async def _frame(self, connection: _Connection, frame: dict[str, Any]) -> None:
        cmd = frame.get("cmd")
        req_id = str(frame.get("headers", {}).get("req_id", ""))
        body = frame.get("body") or {}
        if cmd == "aibot_subscribe":
            if body.get("bot_id") != self.bot_id or body.get("secret") != self._secret:
                self.stats.refused_subscriptions += 1
                await self._answer(connection, req_id, 40001, "invalid bot_id or secret")
                return
            if self._connection is not None and self._connection is not connection:
                await self.take_over()
            self._connection = connection
            connection.subscribed = True
            self.stats.subscriptions += 1
            await self._answer(connection, req_id)
            self.subscribed.set()
            while self._pending and self._connection is connection:
                await self._send_frame(connection, self._pending.popleft())
            return
        if not connection.subscribed:
            await self._answer(connection, req_id, 40001, "not subscribed")
            return
        if cmd == "ping":
            self.stats.heartbeats += 1
            if self.answer_pings:
                await self._answer(connection, req_id)
        elif cmd == "aibot_send_msg":
            errcode, errmsg = self._push(body)
            await self._answer(connection, req_id, errcode, errmsg)
        elif cmd == "aibot_respond_update_msg":
            errcode, errmsg = self._update(req_id, body)
            await self._answer(connection, req_id, errcode, errmsg)
        elif cmd == "aibot_respond_msg":
            errcode, errmsg = self._reply(req_id, body)
            await self._answer(connection, req_id, errcode, errmsg)
        elif cmd == "aibot_upload_media_init":
            answer = self._upload_init(body)
            await self._answer_body(connection, req_id, answer)
        elif cmd == "aibot_upload_media_chunk":
            errcode, errmsg = self._upload_chunk(body)
            await self._answer(connection, req_id, errcode, errmsg)
            if errcode == 0 and self.drop_after_chunks is not None:
                self.drop_after_chunks -= 1
                if self.drop_after_chunks <= 0:
                    self.drop_after_chunks = None
                    await self.force_disconnect()
        elif cmd == "aibot_upload_media_finish":
            await self._answer_body(connection, req_id, self._upload_finish(body))
        else:
            await self._answer(connection, req_id, 40008, f"unknown cmd {cmd}")

    async def _answer_body(
        self, connection: _Connection, req_id: str, answer: tuple[int, str, dict[str, Any]]
    ) -> None:
        errcode, errmsg, body = answer
        frame: dict[str, Any] = {
            "headers": {"req_id": req_id},
            "errcode": errcode,
            "errmsg": errmsg,
        }
        if errcode == 0:
            frame["body"] = body
        if not connection.ws.closed:
            await connection.ws.send_str(json.dumps(frame))

    # -- temporary media -----------------------------------------------------------------------

    def _refuse_media(self, errcode: int, errmsg: str) -> tuple[int, str, dict[str, Any]]:
        self.stats.refused_media += 1
        return errcode, errmsg, {}

    def _upload_init(self, body: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
        self._forget_stale_uploads()
        kind, filename = body.get("type"), body.get("filename")
        size, chunks, md5 = body.get("total_size"), body.get("total_chunks"), body.get("md5")
        if kind not in MEDIA_LIMITS:
            return self._refuse_media(40004, f"invalid media type {kind!r}")
        if not isinstance(filename, str) or not filename.strip() or len(filename) > 256:
            return self._refuse_media(40058, "filename missing")
        if (
            not isinstance(size, int)
            or isinstance(size, bool)
            or not 5 < size <= MEDIA_LIMITS[kind]
        ):
            return self._refuse_media(40006, f"invalid {kind} size {size!r}")
        needed = -(-size // CHUNK_BYTES)
        if not isinstance(chunks, int) or not needed <= chunks <= MAX_CHUNKS:
            return self._refuse_media(40058, f"total_chunks must be {needed} to {MAX_CHUNKS}")
        if md5 is not None and not (isinstance(md5, str) and re.fullmatch(r"[0-9a-f]{32}", md5)):
            return self._refuse_media(40058, "bad md5")
        if len(self._uploads) >= OPEN_UPLOADS:
            return self._refuse_media(45009, "too many uploads in progress")
        upload_id = f"up_{secrets.token_hex(12)}"
        self._uploads[upload_id] = _Upload(kind, filename, size, chunks, md5, self.clock())
        self.stats.uploads_started += 1
        return 0, "ok", {"upload_id": upload_id}

    def _forget_stale_uploads(self) -> None:
        now = self.clock()
        for upload_id, upload in list(self._uploads.items()):
            if now - upload.started > UPLOAD_SECONDS:
                del self._uploads[upload_id]

    def _upload_chunk(self, body: dict[str, Any]) -> tuple[int, str]:
        self._forget_stale_uploads()
        upload = self._uploads.get(str(body.get("upload_id", "")))
        if upload is None:
            self.stats.refused_media += 1
            return 40058, "unknown or expired upload_id"
        index, data = body.get("chunk_index"), body.get("base64_data")
        if not isinstance(index, int) or index != len(upload.received):
            self.stats.refused_media += 1
            return 40058, f"chunk_index {index!r} out of order (expected {len(upload.received)})"
        if index >= upload.total_chunks:
            self.stats.refused_media += 1
            return 40058, "more chunks than total_chunks"
        try:
            chunk = base64.b64decode(str(data), validate=True)
        except ValueError:
            self.stats.refused_media += 1
            return 40058, "base64_data is not base64"
        if not chunk or len(chunk) > CHUNK_BYTES or upload.size + len(chunk) > upload.total_size:
            self.stats.refused_media += 1
            return 40006, "chunk empty, over 512 KB or past total_size"
        upload.received.append(chunk)
        self.stats.chunks += 1
        return 0, "ok"

    def _upload_finish(self, body: dict[str, Any]) -> tuple[int, str, dict[str, Any]]:
        upload_id = str(body.get("upload_id", ""))
        self._forget_stale_uploads()
        upload = self._uploads.get(upload_id)
        if upload is None:
            return self._refuse_media(40058, "unknown or expired upload_id")
        content = b"".join(upload.received)
        if len(upload.received) != upload.total_chunks or len(content) != upload.total_size:
            return self._refuse_media(40058, "chunks missing")
        if upload.md5 is not None and hashlib.md5(content).hexdigest() != upload.md5:
            del self._uploads[upload_id]
            return self._refuse_media(40058, "md5 does not match")
        del self._uploads[upload_id]
        media_id = f"media_{secrets.token_hex(16)}"
        created = self.clock()
        self.media[media_id] = StoredMedia(upload.kind, upload.filename, content, created)
        self.stats.uploads_finished += 1
        return 0, "ok", {"type": upload.kind, "media_id": media_id, "created_at": int(created)}

    def media_of(self, message: RobotMessage) -> StoredMedia:
        """The uploaded media a file or picture message shows."""
        return self.media[str(message.content["media_id"])]

    def _media_content(
        self, msgtype: str, body: dict[str, Any]
    ) -> tuple[str, dict[str, Any]] | str:
        part = body.get(msgtype)
        media_id = part.get("media_id") if isinstance(part, dict) else None
        media = self.media.get(str(media_id))
        if media is None or self.clock() - media.created > MEDIA_SECONDS:
            self.stats.refused_media += 1
            return "40007 invalid media_id"
        if media.kind != msgtype:
            self.stats.refused_media += 1
            return f"40008 a {media.kind} media sent as {msgtype}"
        self.stats.media_shown += 1
        return msgtype, {
            "media_id": media_id,
            "filename": media.filename,
            "size": len(media.content),
        }

    def _reply(self, req_id: str, body: dict[str, Any]) -> tuple[int, str]:
        """A reply to a delivered frame: markdown or a media, in the frame's chat."""
        frame = self._frames.get(req_id)
        if frame is None or self.clock() - frame[1] > REPLY_SECONDS:
            return 40058, "no received frame with this req_id"
        content = self._content(body)
        if isinstance(content, str):
            return _error(content)
        msgtype, payload = content
        chat = frame[0]
        self._messages.setdefault(chat, []).append(RobotMessage(chat, msgtype, payload, "reply"))
        self.arrived.set()
        self.stats.replies += 1
        return 0, "ok"

    def _content(self, body: dict[str, Any]) -> tuple[str, dict[str, Any]] | str:
        msgtype = body.get("msgtype")
        if msgtype in MEDIA_LIMITS:
            return self._media_content(str(msgtype), body)
        if msgtype == "markdown":
            content = body.get("markdown", {}).get("content")
            if not isinstance(content, str) or not content.strip():
                return "markdown.content missing"
            if len(content.encode()) > MAX_MARKDOWN_BYTES:
                return "markdown.content over 20480 bytes"
            return msgtype, body["markdown"]
        if msgtype == "template_card":
            card = body.get("template_card", {})
            buttons = card.get("button_list", [])
            if card.get("card_type") != "button_interaction" or not 1 <= len(buttons) <= 6:
                return "a button_interaction card with 1 to 6 buttons is expected"
            if not card.get("main_title", {}).get("title"):
                return "main_title.title missing"
            if not _TASK_ID.match(str(card.get("task_id", ""))):
                return "bad task_id"
            return msgtype, card
        return f"msgtype {msgtype!r} is not supported"

    def _push(self, body: dict[str, Any]) -> tuple[int, str]:
        chatid = body.get("chatid")
        if not isinstance(chatid, str) or not chatid:
            return 40003, "chatid missing"
        content = self._content(body)
        if isinstance(content, str):
            return _error(content)
        msgtype, payload = content
        if msgtype == "template_card":
            if payload["task_id"] in self._task_ids:
                return 40008, "task_id used before"
            self._task_ids.add(payload["task_id"])
        self._messages.setdefault(chatid, []).append(RobotMessage(chatid, msgtype, payload, "push"))
        self.arrived.set()
        self.stats.pushes += 1
        return 0, "ok"

    def _update(self, req_id: str, body: dict[str, Any]) -> tuple[int, str]:
        press = self._presses.get(req_id)
        card = body.get("template_card", {})
        if (
            press is None
            or press.used
            or self.clock() - press.at > UPDATE_SECONDS
            or body.get("response_type") != "update_template_card"
            or card.get("task_id") != press.task_id
        ):
            self.stats.refused_updates += 1
            return 40058, "no card event to update (unknown, used or late)"
        press.used = True
        self.updates.append(card)
        self.stats.updates += 1
        for messages in self._messages.values():
            for index, message in enumerate(messages):
                if message.content.get("task_id") == press.task_id:
                    messages[index] = RobotMessage(
                        message.chatid, "template_card", card, message.via
                    )
        return 0, "ok"

    # -- response_url --------------------------------------------------------------------------

    async def _response(self, request: web.Request) -> web.Response:
        code = request.query.get("response_code", "")
        url = self._urls.get(code)
        try:
            body = await request.json()
        except ValueError:
            body = {}
        if url is None or url.used or self.clock() - url.issued > RESPONSE_URL_SECONDS:
            self.stats.refused_responses += 1
            return web.json_response({"errcode": 40058, "errmsg": "response_code used or expired"})
        content = self._content(body) if body.get("msgtype") not in MEDIA_LIMITS else None
        if content is None or isinstance(content, str):  # no media: callback mode has no upload
            errcode, errmsg = _error(content or "40008 no media through a response_url")
            return web.json_response({"errcode": errcode, "errmsg": errmsg})
        msgtype, payload = content
        if msgtype == "template_card" and not url.single:
            return web.json_response({"errcode": 40008, "errmsg": "cards only in single chats"})
        url.used = True
        self._messages.setdefault(url.chatid, []).append(
            RobotMessage(url.chatid, msgtype, payload, "response_url")
        )
        self.arrived.set()
        self.stats.responses += 1
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    # -- callback mode -------------------------------------------------------------------------

    def encrypt(self, body: dict[str, Any], timestamp: str, nonce: str) -> tuple[str, str]:
        """(encrypt, msg_signature) of a robot callback, as WeCom makes them."""
        key = base64.b64decode(self.aes_key + "=")
        encrypted = PrpCrypto(key).encrypt(json.dumps(body, ensure_ascii=False), "")
        encrypted = encrypted.decode() if isinstance(encrypted, bytes) else encrypted
        return encrypted, _get_signature(self.token, timestamp, nonce, encrypted)

    async def verify_url(self, echo: str, *, forged: bool = False) -> tuple[int, str]:
        """WeCom's URL check (GET with an encrypted echostr): (status, body answered)."""
        assert self.callback_url is not None
        if self._http is None:
            self._http = aiohttp.ClientSession()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        key = base64.b64decode(self.aes_key + "=")
        encrypted = PrpCrypto(key).encrypt(echo, "")
        encrypted = encrypted.decode() if isinstance(encrypted, bytes) else encrypted
        signature = _get_signature(self.token, timestamp, nonce, encrypted)
        query = {
            "msg_signature": signature[::-1] if forged else signature,
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": encrypted,
        }
        async with self._http.get(self.callback_url, params=query) as response:
            return response.status, await response.text()

    async def post_callback(self, body: dict[str, Any], *, forged: bool = False) -> int:
        assert self.callback_url is not None
        if self._http is None:
            self._http = aiohttp.ClientSession()
        timestamp, nonce = str(int(time.time())), secrets.token_hex(8)
        encrypted, signature = self.encrypt(body, timestamp, nonce)
        if forged:
            signature = signature[::-1]
        query = {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}
        async with self._http.post(
            self.callback_url, params=query, json={"encrypt": encrypted}
        ) as response:
            await response.read()
            return response.status


def _error(reason: str) -> tuple[int, str]:
    """(errcode, errmsg) of a refusal: "40007 why" carries its own code, else 40008."""
    code, _, rest = reason.partition(" ")
    return (int(code), rest) if code.isdigit() else (40008, reason)
