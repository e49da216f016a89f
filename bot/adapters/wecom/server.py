"""The WeCom (企业微信) callback endpoint: an aiohttp server at ``HUIWU_WECOM_PATH``.

* ``GET`` is WeCom's URL check: the signature over the encrypted ``echostr`` is verified and
  the decrypted plaintext is answered, bare.
* ``POST`` carries a message or event: the signature is verified and the body decrypted with
  wechatpy's enterprise ``WeChatCrypto`` (which also checks the corp id inside), the XML is
  parsed and turned into a neutral ``Event``, and the callback is answered at once (WeCom
  retries what is not answered within 5 s). The event is then handled in the background, in
  order per member, members in parallel.
* WeCom's retries are recognised by MsgId (for events: member, time, event and key) and
  handled once. The journal (``bot.adapters.wecom.journal``; the database when the bot runs)
  records each callback before it is answered and marks it when handled, so retries are known
  across a restart and what was answered but not handled is handled at the next start.
* A bad signature, a wrong corp id or a signed timestamp more than a day off gets 403,
  malformed XML or missing parameters 400, a body over ``max_body`` 413; none of them changes
  anything. Nothing secret is logged.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.enterprise.exceptions import InvalidCorpIdException
from wechatpy.exceptions import InvalidSignatureException

from bot.adapters.guarded_site import (
    BodyTooSlow,
    ClientGone,
    ConnectionLimits,
    GuardedSite,
    read_body,
)
from bot.adapters.wecom.events import (
    MalformedCallback,
    dedupe_key,
    event_from_fields,
    parse_xml,
)
from bot.adapters.wecom.journal import CallbackJournal, CallbackRecorder, MemoryJournal
from bot.adapters.wecom.ordered import OrderedHandling
from bot.core.messaging import Event

logger = logging.getLogger(__name__)

EventSink = Callable[[Event], Awaitable[None]]
EventPreparer = Callable[[Event], Awaitable[Event]]

MAX_BODY = 64 * 1024  # a WeCom callback is a few hundred bytes
MAX_AGE_SECONDS = 86400.0  # a signed callback older (or newer) than this is refused
ENTER_AGENT_QUIET_SECONDS = 12 * 3600.0  # opening the app greets a member at most this often


@dataclass
class CallbackStats:
    accepted: int = 0
    duplicates: int = 0
    rejected: dict[int, int] = field(default_factory=dict)  # HTTP status -> count
    ignored: int = 0
    handled: int = 0
    failed: int = 0
    dropped: int = 0  # clients that went away before their body arrived


class _Rejected(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class WeComCallbackServer:
    """Verifies, decrypts and accepts WeCom callbacks; hands events to ``sink``."""

    def __init__(
        self,
        *,
        corp_id: str,
        token: str,
        aes_key: str,
        sink: EventSink,
        path: str = "/wecom/callback",
        host: str = "127.0.0.1",
        port: int = 0,
        agent_id: int | None = None,
        prepare: EventPreparer | None = None,
        journal: CallbackJournal | None = None,
        max_body: int = MAX_BODY,
        concurrency: int = 8,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        max_age: float = MAX_AGE_SECONDS,
        limits: ConnectionLimits | None = None,
    ) -> None:
        self.corp_id = corp_id
        self.agent_id = agent_id
        self.path = path
        self.host = host
        self.port = port
        self.max_body = max_body
        self.stats = CallbackStats()
        self._crypto = WeChatCrypto(token, aes_key, corp_id)
        self._sink = sink
        self._prepare = prepare
        self._clock = clock
        self._wall_clock = wall_clock
        self.max_age = max_age
        self.journal = journal or MemoryJournal()
        self.recorder = CallbackRecorder(self.journal, "WeCom callbacks")
        self._entered: dict[str, float] = {}
        # In order per member, different members at once.
        self.handling = OrderedHandling(
            self._handle, self.journal.mark_handled, concurrency=concurrency, name="wecom-callback"
        )
        self.limits = limits or ConnectionLimits()
        self.site: GuardedSite | None = None
        # Other endpoints on the same HTTP server (the robot's callback URL), added at start.
        self.extra_routes: list[Callable[[web.Application], None]] = []

    def __repr__(self) -> str:  # never show the token or the AES key
        return f"WeComCallbackServer(corp_id={self.corp_id!r}, path={self.path!r})"

    # -- lifecycle ---------------------------------------------------------------------------

    def application(self) -> web.Application:
        app = web.Application(client_max_size=self.max_body)
        self.install(app)
        return app

    def install(self, app: web.Application) -> None:
        """Add the callback routes to ``app`` (the bot's one HTTP server, shared with the
        board); whoever runs ``app`` then sets ``port``."""
        app.router.add_get(self.path, self._verify_url)
        app.router.add_post(self.path, self._receive)
        for install in self.extra_routes:
            install(app)

    async def start(self) -> None:
        self.site = GuardedSite(
            self.application(), self.host, self.port, self.limits, "WeCom callbacks"
        )
        await self.site.start()
        self.port = self.site.port
        logger.info("WeCom callbacks on http://%s:%d%s", self.host, self.port, self.path)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop taking callbacks; let what is being handled finish (for ``grace`` seconds;
        what is left is handled at the next start)."""
        if self.site is not None:
            await self.site.stop()
            self.site = None
        await self.handling.stop(grace)
        await self.journal.close()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{self.path}"

    async def join(self, seconds: float = 30.0) -> None:
        """Wait until every accepted callback has been handled."""
        await self.handling.join(seconds)

    # -- HTTP --------------------------------------------------------------------------------

    def _reject(self, status: int, reason: str) -> web.Response:
        self.stats.rejected[status] = self.stats.rejected.get(status, 0) + 1
        logger.warning("WeCom callback refused (%d): %s", status, reason)
        response = web.Response(status=status, text=reason)
        if status in (408, 413):  # the rest of the body is not read: close the connection
            response.force_close()
        return response

    @staticmethod
    def _signed_params(request: web.Request) -> tuple[str, str, str]:
        query = request.query
        values = tuple(query.get(name, "") for name in ("msg_signature", "timestamp", "nonce"))
        if not all(values):
            raise _Rejected(400, "msg_signature, timestamp and nonce are required")
        return values  # type: ignore[return-value]

    async def _verify_url(self, request: web.Request) -> web.Response:
        try:
            signature, timestamp, nonce = self._signed_params(request)
            echostr = request.query.get("echostr", "")
            if not echostr:
                raise _Rejected(400, "echostr is required")
            plain = self._decrypt(
                lambda: self._crypto.check_signature(signature, timestamp, nonce, echostr)
            )
        except _Rejected as exc:
            return self._reject(exc.status, exc.reason)
        return web.Response(text=plain)

    def _decrypt(self, decrypt: Callable[[], str]) -> str:
        try:
            return decrypt()
        except InvalidSignatureException:
            raise _Rejected(403, "bad signature") from None
        except InvalidCorpIdException:
            raise _Rejected(403, "wrong corp id") from None
        except Exception as exc:  # bad base64, bad padding, bad length: not from WeCom
            raise _Rejected(400, f"cannot decrypt ({type(exc).__name__})") from None

    def _check_fresh(self, timestamp: str) -> None:
        """A signed callback older than ``max_age`` is a replay: the journal may have forgotten
        it (it keeps handled callbacks two days), WeCom itself retries within seconds."""
        try:
            sent = int(timestamp)
        except ValueError:
            raise _Rejected(400, "timestamp is not a number") from None
        if abs(self._wall_clock() - sent) > self.max_age:
            raise _Rejected(403, "stale timestamp")

    async def _receive(self, request: web.Request) -> web.Response:
        try:
            signature, timestamp, nonce = self._signed_params(request)
            if (request.content_length or 0) > self.max_body:
                raise _Rejected(413, "body too large")
            try:
                body = await read_body(request, self.limits)
            except web.HTTPRequestEntityTooLarge:
                raise _Rejected(413, "body too large") from None
            except BodyTooSlow:
                raise _Rejected(408, "body not received in time") from None
            except ClientGone as gone:  # nothing to answer: one line, no traceback
                self.stats.dropped += 1
                logger.info("WeCom callback: the client went away mid-request (%s)", gone)
                return web.Response(status=400)
            if len(body) > self.max_body:  # on the shared server the limit is the largest part's
                raise _Rejected(413, "body too large")
            fields = self.decrypt_callback(body, signature, timestamp, nonce)
            await self.accept(fields)
        except _Rejected as exc:
            return self._reject(exc.status, exc.reason)
        return web.Response(text="")

    def decrypt_callback(
        self, body: bytes, signature: str, timestamp: str, nonce: str
    ) -> dict[str, str]:
        """The plaintext fields of a POSTed callback, or ``_Rejected``."""
        try:
            envelope = parse_xml(body)
        except MalformedCallback as exc:
            raise _Rejected(400, str(exc)) from None
        if not envelope.get("Encrypt"):
            raise _Rejected(400, "Encrypt missing")
        if envelope.get("ToUserName") and envelope["ToUserName"] != self.corp_id:
            raise _Rejected(403, "wrong corp id")
        plaintext = self._decrypt(
            lambda: self._crypto.decrypt_message(envelope, signature, timestamp, nonce)
        )
        self._check_fresh(timestamp)
        try:
            fields = parse_xml(plaintext)
        except MalformedCallback as exc:
            raise _Rejected(400, str(exc)) from None
        agent = fields.get("AgentID", "")
        if self.agent_id is not None and agent and agent != str(self.agent_id):
            raise _Rejected(403, "callback for another app")
        return fields

    # -- accepting and handling ----------------------------------------------------------------

    async def accept(self, fields: dict[str, str]) -> bool:
        """Record the callback and queue its event for handling; False for one of WeCom's
        retries or a kind Huiwu ignores."""
        try:
            event = event_from_fields(fields)
        except MalformedCallback as exc:
            raise _Rejected(400, str(exc)) from None
        key = dedupe_key(fields)
        if not await self.recorder.record(key, fields):
            self.stats.duplicates += 1
            return False
        if event is None or self._quiet_enter(fields, event.user_id):
            self.stats.ignored += 1
            await self.journal.mark_handled(key)
            return False
        self.stats.accepted += 1
        self._enqueue(key, event)
        return True

    async def resume(self) -> int:
        """Queue what was answered but not handled before the last stop; returns how many."""
        return await self.handling.resume(
            await self.journal.unhandled(), _stored_event, lambda event: event.user_id
        )

    def _enqueue(self, key: str, event: Event) -> None:
        self.handling.enqueue(event.user_id, key, event)

    def _quiet_enter(self, fields: dict[str, str], user_id: str) -> bool:
        """Opening the app again soon after is not worth a greeting each time."""
        if fields.get("Event", "").lower() != "enter_agent":
            return False
        now = self._clock()
        last = self._entered.get(user_id)
        if last is not None and now - last < ENTER_AGENT_QUIET_SECONDS:
            return True
        self._entered[user_id] = now
        return False

    async def _handle(self, event: Event) -> None:
        try:
            if self._prepare is not None and event.files:
                event = await self._prepare(event)
            await self._sink(event)
        except Exception:
            self.stats.failed += 1
            logger.exception("handling a WeCom callback from %s failed", event.user_id)
            return
        self.stats.handled += 1


def _stored_event(fields: dict[str, str]) -> Event | None:
    """A journaled callback as an event again (None: nothing to act on, or malformed)."""
    try:
        return event_from_fields(fields)
    except MalformedCallback:
        return None
