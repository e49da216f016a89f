"""Loopback emulator of the WeCom (企业微信) server API for tests and local runs.

``WeComEmulator`` serves the subset of ``https://qyapi.weixin.qq.com/cgi-bin/`` that Huiwu
uses, on 127.0.0.1, with aiohttp:

* ``GET gettoken`` (corpid + corpsecret; 40013 wrong corp id, 40001 wrong secret). Within
  its validity a repeated ``gettoken`` answers the same token, as WeCom does;
* ``POST message/send`` (text, markdown, textcard, template_card, file, image, news);
  ``touser`` is ``"a|b"`` or ``"@all"``; unknown members come back in ``invaliduser``;
* ``POST appchat/create``, ``POST appchat/send``, ``GET appchat/get``;
* ``POST media/upload`` (multipart field ``media``), ``GET media/get``;
* ``POST message/update_template_card`` (``button.replace_name`` or a whole new
  ``template_card``) with a ``response_code``: one from message/send's answer or one a press
  carried (:meth:`WeComEmulator.press_code`). Each code works once and for 72 hours; a used,
  unknown or expired one answers 40058 and changes nothing;
* ``POST menu/create``.

Every API call checks ``access_token``: missing 41001, unknown 40014, expired 42001.

WeCom's send limits are enforced the way WeCom enforces them: an app may send one member at
most 30 messages a minute and 1,000 an hour, and a group chat at most 200 messages a minute;
messages over the limit are silently *dropped* -- the API still answers ``errcode 0`` -- and
counted in ``stats.dropped_over_limit``. (WeCom counts the group limit per receiving member
across chats; the emulator counts it per chat, which is the same for a single chat.)

Errors can be injected with :meth:`WeComEmulator.fail_next` (e.g. 45009 "api freq out of
limit", 45033 "api concurrent out of limit", 40014, or an HTTP 5xx with ``errcode=-500``) and
all tokens can be expired with :meth:`WeComEmulator.expire_tokens`. Time (token TTL, send
windows, message timestamps) comes from an injectable ``clock``.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import re
import secrets
import time
import urllib.parse
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

logger = logging.getLogger(__name__)

__all__ = ["EmulatorStats", "ReceivedMessage", "WeComEmulator"]

#: Send limits WeCom documents for an app: (max messages, window seconds).
MEMBER_LIMITS: tuple[tuple[int, float], ...] = ((30, 60.0), (1000, 3600.0))
CHAT_LIMITS: tuple[tuple[int, float], ...] = ((200, 60.0),)

MEDIA_TTL = 3 * 86400.0  # temporary media are valid for three days
MEDIA_TYPES = {"image": 10 * 1024 * 1024, "voice": 2 * 1024 * 1024, "video": 10 * 1024 * 1024}
MEDIA_TYPES["file"] = 20 * 1024 * 1024
RESPONSE_CODE_TTL = 72 * 3600.0  # a response_code updates a card once, within 72 hours
MEDIA_MIN_SIZE = 5  # "所有文件size必须大于5个字节"

APP_MSGTYPES = frozenset({"text", "markdown", "textcard", "template_card", "file", "image", "news"})
CHAT_MSGTYPES = frozenset({"text", "markdown", "textcard", "file", "image", "news"})
CARD_TYPES = frozenset(
    {"text_notice", "news_notice", "button_interaction", "vote_interaction", "multiple_interaction"}
)
_TASK_ID_RE = re.compile(r"^[0-9A-Za-z_\-@]{1,128}$")
_CHAT_ID_RE = re.compile(r"^[0-9A-Za-z]{1,32}$")

ERRMSG: dict[int, str] = {
    0: "ok",
    40001: "invalid credential",
    40004: "invalid media type",
    40006: "invalid file size",
    40007: "invalid media_id",
    40008: "invalid message type",
    40013: "invalid corpid",
    40014: "invalid access_token",
    40056: "invalid agentid",
    40058: "invalid parameter",
    41001: "access_token missing",
    41002: "corpid missing",
    41004: "corpsecret missing",
    42001: "access_token expired",
    44004: "empty content",
    45009: "api freq out of limit",
    45033: "api concurrent out of limit",
    47001: "data format error",
    60011: "no privilege to access/modify contact/party/agent",
    81013: "user & party & tag all invalid",
    86001: "invalid chatid",
    86003: "chatid not found",
    86004: "invalid chat name",
    86005: "invalid chat owner",
    86006: "invalid chat member count",
    86215: "chatid already exists",
    86216: "invalid chat member",
}


def _errmsg(errcode: int, detail: str | None = None) -> str:
    """Format an errmsg the way WeCom does (reason, hint, link to the error-code tool)."""
    base = detail or ERRMSG.get(errcode, "error")
    if errcode == 0:
        return base
    return (
        f"{base}, hint: [{secrets.token_hex(6)}], from ip: 127.0.0.1, "
        f"more info at https://open.work.weixin.qq.com/devtool/query?e={errcode}"
    )


def _json(payload: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        status=status,
        body=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
        content_type="application/json",
        charset="utf-8",
    )


def _error(errcode: int, detail: str | None = None) -> web.Response:
    return _json({"errcode": errcode, "errmsg": _errmsg(errcode, detail)})


class _ApiError(Exception):
    """Raised inside handlers to answer a WeCom error payload."""

    def __init__(self, errcode: int, detail: str | None = None) -> None:
        super().__init__(errcode, detail)
        self.errcode = errcode
        self.detail = detail


@dataclass(frozen=True)
class ReceivedMessage:
    """A message the app delivered to a member's inbox or to a group chat."""

    msgtype: str
    content: dict[str, Any]
    time: float
    msgid: str
    to: str  # userid (inbox) or chatid (chat)
    updated: bool = False  # changed by message/update_template_card since it arrived


@dataclass
class EmulatorStats:
    """Counters the tests assert on."""

    requests: int = 0
    tokens_issued: int = 0
    delivered: int = 0
    dropped_over_limit: int = 0
    errors_injected: int = 0
    cards_updated: int = 0
    response_codes_refused: int = 0
    per_path: Counter[str] = field(default_factory=Counter)
    per_user_delivered: Counter[str] = field(default_factory=Counter)
    per_user_dropped: Counter[str] = field(default_factory=Counter)
    per_chat_delivered: Counter[str] = field(default_factory=Counter)
    per_chat_dropped: Counter[str] = field(default_factory=Counter)


@dataclass
class _Injection:
    errcode: int
    remaining: int
    path: str | None


@dataclass
class _Media:
    media_type: str
    filename: str
    content_type: str
    data: bytes
    created_at: float


@dataclass
class _ResponseCode:
    task_id: str
    userids: frozenset[str]  # whose copies of the card it may update
    issued_at: float
    used: bool = False


@dataclass
class _Chat:
    chatid: str
    name: str
    owner: str
    userlist: list[str]


class _Windows:
    """Sliding windows of delivery times per key (member or chat)."""

    def __init__(self, limits: tuple[tuple[int, float], ...]) -> None:
        self._limits = limits
        self._longest = max(window for _, window in limits)
        self._times: dict[str, deque[float]] = {}

    def try_take(self, key: str, now: float) -> bool:
        times = self._times.setdefault(key, deque())
        while times and times[0] <= now - self._longest:
            times.popleft()
        for limit, window in self._limits:
            if sum(1 for t in times if t > now - window) >= limit:
                return False
        times.append(now)
        return True


class WeComEmulator:
    """The WeCom server API on a loopback port; see the module docstring."""

    def __init__(
        self,
        *,
        corp_id: str,
        corp_secret: str,
        agent_id: int,
        host: str = "127.0.0.1",
        port: int = 0,
        token_ttl: int = 7200,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.corp_id = corp_id
        self._corp_secret = corp_secret
        self.agent_id = agent_id
        self.host = host
        self.port = port
        self.token_ttl = token_ttl
        self.clock = clock
        self.stats = EmulatorStats()
        self.users: dict[str, str] = {}
        self.chats: dict[str, _Chat] = {}
        self.menus: dict[int, dict[str, Any]] = {}
        self.media: dict[str, _Media] = {}
        self.task_ids: set[str] = set()
        self.response_codes: dict[str, _ResponseCode] = {}
        self._tokens: dict[str, float] = {}  # token -> expiry (clock time)
        self._current_token: str | None = None
        self._injections: list[_Injection] = []
        self._inboxes: dict[str, list[ReceivedMessage]] = {}
        self._chat_logs: dict[str, list[ReceivedMessage]] = {}
        self._member_windows = _Windows(MEMBER_LIMITS)
        self._chat_windows = _Windows(CHAT_LIMITS)
        self._msgids = itertools.count(1)
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    def __repr__(self) -> str:  # never show the secret
        return (
            f"WeComEmulator(corp_id={self.corp_id!r}, agent_id={self.agent_id}, port={self.port})"
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the loopback port and serve."""
        app = web.Application(client_max_size=32 * 1024 * 1024, middlewares=[self._middleware])
        app.router.add_get("/cgi-bin/gettoken", self._gettoken)
        app.router.add_post("/cgi-bin/message/send", self._message_send)
        app.router.add_post("/cgi-bin/message/update_template_card", self._update_template_card)
        app.router.add_post("/cgi-bin/appchat/create", self._appchat_create)
        app.router.add_post("/cgi-bin/appchat/send", self._appchat_send)
        app.router.add_get("/cgi-bin/appchat/get", self._appchat_get)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, self.host, self.port)
        await self._site.start()
        self.port = int(self._runner.addresses[0][1])
        logger.info("WeCom emulator listening on %s", self.base_url)

    async def stop(self) -> None:
        """Stop serving and release the port."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._site = None

    async def __aenter__(self) -> WeComEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The API base a client needs, e.g. ``http://127.0.0.1:PORT/cgi-bin/``."""
        return f"http://{self.host}:{self.port}/cgi-bin/"

    # -- control and inspection ----------------------------------------------------------------

    def add_user(self, userid: str, name: str) -> None:
        """Add a member visible to the app."""
        self.users[userid] = name

    def add_media(
        self,
        filename: str,
        content: bytes,
        *,
        media_type: str = "file",
        content_type: str = "application/octet-stream",
    ) -> str:
        """Store a file a member sent to the app (WeCom keeps it; the callback names its
        MediaId); returns the MediaId, fetchable with media/get."""
        media_id = "emu_" + secrets.token_urlsafe(32)
        self.media[media_id] = _Media(media_type, filename, content_type, content, self.clock())
        return media_id

    def expire_tokens(self) -> None:
        """Expire every issued token: the next call with one answers 42001."""
        now = self.clock()
        for token in self._tokens:
            self._tokens[token] = min(self._tokens[token], now - 1.0)
        self._current_token = None

    def fail_next(self, errcode: int, count: int = 1, *, path: str | None = None) -> None:
        """Answer the next ``count`` calls with ``errcode`` instead of serving them.

        ``path`` is relative to the API base (``"message/send"``, ``"gettoken"``); ``None``
        matches every API call except ``gettoken``. A negative ``errcode`` answers that HTTP
        status instead (``-500`` → HTTP 500, ``-502`` → HTTP 502).
        """
        if count < 1:
            raise ValueError("count must be at least 1")
        self._injections.append(_Injection(errcode, count, path))

    def inbox(self, userid: str) -> list[ReceivedMessage]:
        """Messages the app delivered to ``userid``, oldest first."""
        return list(self._inboxes.get(userid, []))

    def chat_messages(self, chatid: str) -> list[ReceivedMessage]:
        """Messages the app delivered to group chat ``chatid``, oldest first."""
        return list(self._chat_logs.get(chatid, []))

    def menu(self, agent_id: int | None = None) -> dict[str, Any] | None:
        """The menu last created for ``agent_id`` (default: the emulated app)."""
        return self.menus.get(self.agent_id if agent_id is None else agent_id)

    # -- plumbing ----------------------------------------------------------------------------

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        self.stats.requests += 1
        path = request.path.removeprefix("/cgi-bin/")
        self.stats.per_path[path] += 1
        injected = self._take_injection(path)
        if injected is not None:
            self.stats.errors_injected += 1
            logger.debug("WeCom emulator: injecting %s on %s", injected, path)
            if injected < 0:
                return web.Response(status=-injected, text="injected server error")
            return _error(injected)
        if path != "gettoken":
            token_error = self._check_token(request.query.get("access_token"))
            if token_error:
                return _error(token_error)
        try:
            response: web.StreamResponse = await handler(request)
        except _ApiError as exc:
            return _error(exc.errcode, exc.detail)
        return response

    def _take_injection(self, path: str) -> int | None:
        for injection in self._injections:
            matches = injection.path == path or (injection.path is None and path != "gettoken")
            if matches:
                injection.remaining -= 1
                if injection.remaining <= 0:
                    self._injections.remove(injection)
                return injection.errcode
        return None

    def _check_token(self, token: str | None) -> int:
        if not token:
            return 41001
        expiry = self._tokens.get(token)
        if expiry is None:
            return 40014
        if self.clock() >= expiry:
            return 42001
        return 0

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, Any]:
        try:
            body = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError) as exc:
            raise _ApiError(47001) from exc
        if not isinstance(body, dict):
            raise _ApiError(47001)
        return body

    def _next_msgid(self) -> str:
        return f"emu{next(self._msgids):012d}"

    # -- gettoken ----------------------------------------------------------------------------

    async def _gettoken(self, request: web.Request) -> web.Response:
        corpid = request.query.get("corpid")
        secret = request.query.get("corpsecret")
        if not corpid:
            return _error(41002)
        if not secret:
            return _error(41004)
        if corpid != self.corp_id:
            return _error(40013)
        if not secrets.compare_digest(secret, self._corp_secret):
            return _error(40001)
        now = self.clock()
        token = self._current_token
        if token is None or self._tokens.get(token, 0.0) <= now:
            token = secrets.token_urlsafe(48)
            self._tokens[token] = now + self.token_ttl
            self._current_token = token
            self.stats.tokens_issued += 1
        expires_in = max(0, int(self._tokens[token] - now))
        return _json(
            {"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": expires_in}
        )

    # -- message/send ------------------------------------------------------------------------

    def _validate_content(self, msgtype: str, body: dict[str, Any]) -> dict[str, Any]:
        content = body.get(msgtype)
        if not isinstance(content, dict):
            raise _ApiError(40058, f"missing {msgtype}")
        if msgtype in ("text", "markdown"):
            if not str(content.get("content") or "").strip():
                raise _ApiError(44004)
        elif msgtype in ("file", "image"):
            media = self.media.get(str(content.get("media_id") or ""))
            if media is None or self.clock() - media.created_at > MEDIA_TTL:
                raise _ApiError(40007)
        elif msgtype == "textcard":
            for key in ("title", "description", "url"):
                if not content.get(key):
                    raise _ApiError(40058, f"textcard.{key} missing")
        elif msgtype == "news":
            articles = content.get("articles")
            if not isinstance(articles, list) or not 1 <= len(articles) <= 8:
                raise _ApiError(40058, "news.articles must hold 1 to 8 articles")
            if any(not isinstance(a, dict) or not a.get("title") for a in articles):
                raise _ApiError(40058, "news article title missing")
        elif msgtype == "template_card":
            self._validate_card(content)
        return content

    def _validate_card(self, card: dict[str, Any]) -> None:
        card_type = card.get("card_type")
        if card_type not in CARD_TYPES:
            raise _ApiError(40058, "invalid template_card.card_type")
        task_id = card.get("task_id")
        needs_task = card_type in ("button_interaction", "vote_interaction", "multiple_interaction")
        if needs_task or card.get("action_menu"):
            if not isinstance(task_id, str) or not _TASK_ID_RE.match(task_id):
                raise _ApiError(40058, "invalid template_card.task_id")
            if task_id in self.task_ids:
                # WeCom: "同一个应用任务id不能重复"; the exact errcode is not documented here.
                raise _ApiError(40058, "duplicate template_card.task_id")
        if card_type == "button_interaction":
            title = card.get("main_title")
            if not isinstance(title, dict) or not title.get("title"):
                raise _ApiError(40058, "template_card.main_title.title missing")
            # WeCom recommends at most 112 characters of sub-title; the quote area's text has
            # no documented limit, so the emulator holds the bot to the one it assumes (600).
            if len(str(card.get("sub_title_text") or "")) > 112:
                raise _ApiError(40058, "template_card.sub_title_text longer than 112")
            quote = card.get("quote_area") or {}
            if len(str(quote.get("quote_text") or "")) > 600:
                raise _ApiError(40058, "template_card.quote_area.quote_text longer than 600")
            buttons = card.get("button_list")
            if not isinstance(buttons, list) or not 1 <= len(buttons) <= 6:
                raise _ApiError(40058, "template_card.button_list must hold 1 to 6 buttons")
            for button in buttons:
                if not isinstance(button, dict) or not button.get("text"):
                    raise _ApiError(40058, "button text missing")
                if button.get("type", 0) == 1:
                    if not button.get("url"):
                        raise _ApiError(40058, "button url missing")
                elif not button.get("key"):
                    raise _ApiError(40058, "button key missing")

    async def _message_send(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        try:
            agentid = int(body.get("agentid", -1))
        except (TypeError, ValueError):
            agentid = -1
        if agentid != self.agent_id:
            return _error(40056)
        msgtype = body.get("msgtype")
        if msgtype not in APP_MSGTYPES:
            return _error(40008)
        content = self._validate_content(msgtype, body)
        touser = str(body.get("touser") or "")
        toparty = str(body.get("toparty") or "")
        totag = str(body.get("totag") or "")
        if touser.strip() == "@all":
            recipients, invalid = sorted(self.users), []
            toparty = totag = ""
        else:
            wanted = [u.strip() for u in touser.split("|") if u.strip()]
            recipients = [u for u in dict.fromkeys(wanted) if u in self.users]
            invalid = [u for u in dict.fromkeys(wanted) if u not in self.users]
        # The emulator has no departments or tags: every one asked for is invalid.
        if not recipients:
            return _error(81013)
        if msgtype == "template_card" and content.get("task_id"):
            self.task_ids.add(str(content["task_id"]))
        msgid = self._next_msgid()
        now = self.clock()
        for userid in recipients:
            if self._member_windows.try_take(userid, now):
                message = ReceivedMessage(msgtype, dict(content), now, msgid, userid)
                self._inboxes.setdefault(userid, []).append(message)
                self.stats.delivered += 1
                self.stats.per_user_delivered[userid] += 1
            else:
                self.stats.dropped_over_limit += 1
                self.stats.per_user_dropped[userid] += 1
                logger.debug("WeCom emulator: dropped message to %s over the limit", userid)
        payload: dict[str, Any] = {
            "errcode": 0,
            "errmsg": "ok",
            "invaliduser": "|".join(invalid),
            "invalidparty": toparty,
            "invalidtag": totag,
            "unlicenseduser": "",
            "msgid": msgid,
        }
        if msgtype == "template_card" and content.get("task_id"):
            payload["response_code"] = self._issue_code(str(content["task_id"]), recipients)
        return _json(payload)

    # -- message/update_template_card ----------------------------------------------------------

    def _issue_code(self, task_id: str, userids: list[str]) -> str:
        code = secrets.token_urlsafe(24)
        self.response_codes[code] = _ResponseCode(task_id, frozenset(userids), self.clock())
        return code

    def press_code(self, userid: str, task_id: str) -> str:
        """The ResponseCode WeCom puts in the callback of ``userid`` pressing a button on the
        card ``task_id``: it may update that member's copy of the card once."""
        return self._issue_code(task_id, [userid])

    async def _update_template_card(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        if str(body.get("agentid")) != str(self.agent_id):
            return _error(40056)
        code = self.response_codes.get(str(body.get("response_code") or ""))
        if code is None or code.used or self.clock() - code.issued_at > RESPONSE_CODE_TTL:
            self.stats.response_codes_refused += 1
            return _error(40058, "invalid response_code: unknown, used or expired")
        button = body.get("button")
        card = body.get("template_card")
        if isinstance(card, dict):
            card = dict(card)
            card_type = card.get("card_type")
            if card_type not in CARD_TYPES or not card.get("main_title", {}).get("title"):
                raise _ApiError(40058, "invalid template_card")
        elif not isinstance(button, dict) or not str(button.get("replace_name") or "").strip():
            raise _ApiError(40058, "button.replace_name or template_card missing")
        userids = code.userids if body.get("atall") else set(body.get("userids") or ())
        code.used = True
        for userid in userids & code.userids:
            inbox = self._inboxes.get(userid, [])
            for index, message in enumerate(inbox):
                if message.content.get("task_id") != code.task_id:
                    continue
                if isinstance(card, dict):
                    content = {**card, "task_id": code.task_id}
                else:
                    content = {k: v for k, v in message.content.items() if k != "button_list"}
                    content["replace_name"] = str(button["replace_name"])  # type: ignore[index]
                inbox[index] = dataclasses.replace(message, content=content, updated=True)
                self.stats.cards_updated += 1
        return _json({"errcode": 0, "errmsg": "ok", "invaliduser": []})

    # -- appchat -----------------------------------------------------------------------------

    async def _appchat_create(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        userlist = body.get("userlist")
        if not isinstance(userlist, list) or not 2 <= len(set(map(str, userlist))) <= 2000:
            return _error(86006)
        members = list(dict.fromkeys(str(u) for u in userlist))
        if any(u not in self.users for u in members):
            return _error(86216)
        owner = str(body.get("owner") or members[0])
        if owner not in members:
            return _error(86005)
        name = str(body.get("name") or "")
        if len(name) > 50:
            name = name[:50]  # WeCom truncates long names
        chatid = body.get("chatid")
        if chatid is None or chatid == "":
            chatid = secrets.token_hex(16)
        chatid = str(chatid)
        if not _CHAT_ID_RE.match(chatid):
            return _error(86001)
        if chatid in self.chats:
            return _error(86215)
        self.chats[chatid] = _Chat(chatid, name, owner, members)
        return _json({"errcode": 0, "errmsg": "ok", "chatid": chatid})

    async def _appchat_send(self, request: web.Request) -> web.Response:
        body = await self._json_body(request)
        chatid = str(body.get("chatid") or "")
        if chatid not in self.chats:
            return _error(86003)
        msgtype = body.get("msgtype")
        if msgtype not in CHAT_MSGTYPES:
            return _error(40008)
        content = self._validate_content(msgtype, body)
        now = self.clock()
        if self._chat_windows.try_take(chatid, now):
            message = ReceivedMessage(msgtype, dict(content), now, self._next_msgid(), chatid)
            self._chat_logs.setdefault(chatid, []).append(message)
            self.stats.delivered += 1
            self.stats.per_chat_delivered[chatid] += 1
        else:
            self.stats.dropped_over_limit += 1
            self.stats.per_chat_dropped[chatid] += 1
        return _json({"errcode": 0, "errmsg": "ok"})

    async def _appchat_get(self, request: web.Request) -> web.Response:
        chat = self.chats.get(request.query.get("chatid", ""))
        if chat is None:
            return _error(86003)
        info = {
            "chatid": chat.chatid,
            "name": chat.name,
            "owner": chat.owner,
            "userlist": list(chat.userlist),
            "chat_type": 0,
        }
        return _json({"errcode": 0, "errmsg": "ok", "chat_info": info})

    # -- media -------------------------------------------------------------------------------

    async def _media_upload(self, request: web.Request) -> web.Response:
        media_type = request.query.get("type", "")
        if media_type not in MEDIA_TYPES:
            return _error(40004)
        try:
            form = await request.post()
        except ValueError:
            return _error(47001)
        part = form.get("media")
        if not isinstance(part, web.FileField):
            return _error(40058, "media part missing")
        data = part.file.read()
        if not MEDIA_MIN_SIZE < len(data) <= MEDIA_TYPES[media_type]:
            return _error(40006)
        media_id = "emu_" + secrets.token_urlsafe(32)
        now = self.clock()
        self.media[media_id] = _Media(
            media_type=media_type,
            filename=part.filename or media_id,
            content_type=part.content_type or "application/octet-stream",
            data=data,
            created_at=now,
        )
        return _json(
            {
                "errcode": 0,
                "errmsg": "",
                "type": media_type,
                "media_id": media_id,
                "created_at": str(int(time.time())),
            }
        )

    async def _media_get(self, request: web.Request) -> web.Response:
        media = self.media.get(request.query.get("media_id", ""))
        if media is None or self.clock() - media.created_at > MEDIA_TTL:
            return _error(40007)
        ascii_name = media.filename.encode("ascii", "replace").decode("ascii").replace('"', "_")
        quoted = urllib.parse.quote(media.filename, safe="")
        disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"
        return web.Response(
            body=media.data,
            headers={"Content-Disposition": disposition, "Content-Type": media.content_type},
        )

    # -- menu --------------------------------------------------------------------------------

    async def _menu_create(self, request: web.Request) -> web.Response:
        try:
            agentid = int(request.query.get("agentid", "-1"))
        except ValueError:
            agentid = -1
        if agentid != self.agent_id:
            return _error(40056)
        body = await self._json_body(request)
        buttons = body.get("button")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            return _error(40058, "menu must hold 1 to 3 buttons")
        self.menus[agentid] = body
        return _json({"errcode": 0, "errmsg": "ok"})
