"""The sending side of Huiwu's WeCom (企业微信) adapter: an asyncio wrapper over wechatpy.

:class:`WeComClient` wraps wechatpy's enterprise ``WeChatClient`` and adds what a bot needs
on top of it:

* **a configurable API base** (``WECOM_API_BASE_URL``; default the real
  ``https://qyapi.weixin.qq.com/cgi-bin/``). wechatpy hard-codes the real host in
  ``fetch_access_token`` and ``media.download``; both are replaced here;
* **one worker thread per client.** wechatpy is blocking (requests); every call runs on a
  single-thread executor, so the event loop never blocks and two calls never fetch the
  token at the same time;
* **the token is cached** (wechatpy session storage, MemoryStorage by default) and, when
  WeCom answers 40014 (invalid) or 42001 (expired), refreshed and the call retried -- at most
  twice. wechatpy's own unbounded retry (``auto_retry``) is switched off;
* **backoff on 45009/45033** (API frequency / concurrency limit): exponential, capped, a
  bounded number of attempts; the sleep is injectable;
* **a timeout on every request**, the token fetch and media download included;
* **WeCom's send limits are respected by queueing, never dropping.** WeCom silently drops an
  app's messages beyond 30 a minute or 1,000 an hour to one member, and group messages beyond
  200 a minute. The delivery layer's ``RateLimiter`` (sliding windows per member; one shared
  window for group chats, which also keeps every group member under WeCom's per-member
  200/minute), counting each send from when it finished, makes a send wait for a free slot.
  Clock and sleep are injectable.

Errors that remain after the retries raise :class:`WeComSendError` (``errcode``,
``errmsg``). Secrets never reach a log line: the corp secret and access tokens are redacted
from urllib3's request logging.

Calls that may have delivered a message (message/send, appchat/send, appchat/create) are
never repeated after an HTTP failure or timeout -- WeCom may have processed them; read-only
and idempotent calls (gettoken, media/get, appchat/get, media/upload, menu/create) are.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import logging
import re
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from types import TracebackType
from typing import Any, TypeVar

import requests
from wechatpy.enterprise.client import WeChatClient
from wechatpy.exceptions import WeChatClientException
from wechatpy.session.memorystorage import MemoryStorage

from bot.core.messaging import ByteSink
from bot.delivery.limits import Limit, RateLimiter
from storage.files import FileTooLarge

logger = logging.getLogger(__name__)

__all__ = [
    "APP_MESSAGE_LIMITS",
    "DEFAULT_API_BASE_URL",
    "GROUP_MESSAGE_LIMITS",
    "WeComClient",
    "WeComSendError",
    "button_interaction_card",
]

DEFAULT_API_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin/"

#: WeCom's documented limits (30 a minute and 1,000 an hour to one member, 200 a minute to
#: groups), each window a second longer for clock skew.
APP_MESSAGE_LIMITS: tuple[Limit, ...] = (Limit(30, 61.0), Limit(1000, 3601.0))
GROUP_MESSAGE_LIMITS: tuple[Limit, ...] = (Limit(200, 61.0),)
GROUP_KEY = "appchat"

TOKEN_ERRORS = frozenset({40014, 42001})
FREQUENCY_ERRORS = frozenset({45009, 45033})

T = TypeVar("T")

DOWNLOAD_CHUNK = 64 * 1024
MAX_WHOLE_DOWNLOAD = 20 * 1024 * 1024  # WeCom's own limit for a file's temporary media
MAX_JSON_ANSWER = 64 * 1024


class _BytesSink:
    """A sink that keeps the pieces in memory (for files read whole), up to ``limit``."""

    def __init__(self, limit: int) -> None:
        self.buffer = bytearray()
        self.limit = limit

    def write(self, chunk: bytes) -> None:
        if len(self.buffer) + len(chunk) > self.limit:
            raise FileTooLarge(None, self.limit)
        self.buffer += chunk


Sleep = Callable[[float], Awaitable[None]]

_SECRET_QUERY_RE = re.compile(r"(corpsecret|access_token)=[^&\s\"']+")


def _redact(text: str) -> str:
    return _SECRET_QUERY_RE.sub(r"\1=***", text)


class _RedactSecretsFilter(logging.Filter):
    """Blanks ``corpsecret=`` and ``access_token=`` in urllib3's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = _redact(record.getMessage())
            record.args = None
        elif isinstance(record.msg, str):
            record.msg = _redact(record.msg)
        return True


_REDACTOR = _RedactSecretsFilter()
for _name in ("urllib3.connectionpool", "wechatpy", "wechatpy.client.base"):
    if _REDACTOR not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_REDACTOR)


class WeComSendError(Exception):
    """A WeCom API call failed for good (after the retries that apply).

    ``errcode`` is WeCom's error code, or ``None`` for an HTTP or network failure (then
    ``http_status`` says which, if there was a response).
    """

    def __init__(self, errcode: int | None, errmsg: str, *, http_status: int | None = None):
        super().__init__(errcode, errmsg)
        self.errcode = errcode
        self.errmsg = errmsg
        self.http_status = http_status

    def __str__(self) -> str:
        where = f"HTTP {self.http_status}" if self.http_status else f"errcode {self.errcode}"
        return f"WeCom API error ({where}): {self.errmsg}"


class _HttpFailure(Exception):
    """An HTTP status or transport error below the WeCom JSON layer."""

    def __init__(self, message: str, http_status: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.http_status = http_status


# -- wechatpy with a configurable host ------------------------------------------------------


class _WeChatClient(WeChatClient):
    """wechatpy's enterprise client pointed at ``api_base_url``, with timeouts everywhere."""

    expires_at: int | None

    def __init__(
        self,
        corp_id: str,
        secret: str,
        *,
        api_base_url: str,
        timeout: float | tuple[float, float],
        session: Any = None,
    ) -> None:
        super().__init__(
            corp_id, secret, session=session or MemoryStorage(), timeout=timeout, auto_retry=False
        )
        self.API_BASE_URL = api_base_url

    @property
    def access_token_key(self) -> str:
        # wechatpy's key embeds the first ten characters of the secret; use a digest instead.
        digest = hashlib.sha256(self.secret.encode("utf-8")).hexdigest()[:16]
        return f"{self.corp_id}_{digest}_access_token"

    def fetch_access_token(self) -> dict[str, Any]:
        """GET gettoken on our API base, with the timeout; store the token in the session."""
        logger.info("Fetching a WeCom access token")
        try:
            res = self._http.get(
                url=self.API_BASE_URL + "gettoken",
                params={"corpid": self.corp_id, "corpsecret": self.secret},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            raise _HttpFailure(f"gettoken failed: {type(exc).__name__}", None) from None
        if res.status_code >= 400:
            raise _HttpFailure(f"gettoken answered HTTP {res.status_code}", res.status_code)
        try:
            result: dict[str, Any] = res.json()
        except ValueError:
            raise _HttpFailure("gettoken answered no JSON", res.status_code) from None
        if result.get("errcode", 0) != 0:
            raise WeChatClientException(result["errcode"], result.get("errmsg", ""))
        expires_in = int(result.get("expires_in", 7200))
        self.session.set(self.access_token_key, result["access_token"], expires_in)
        self.expires_at = int(time.time()) + expires_in
        return result

    def _request(self, method: str, url_or_endpoint: str, **kwargs: Any) -> Any:
        try:
            return super()._request(method, url_or_endpoint, **kwargs)
        except requests.RequestException as exc:
            raise _HttpFailure(f"{url_or_endpoint}: {type(exc).__name__}", None) from None
        except WeChatClientException as exc:
            if exc.errcode is None:  # raise_for_status() failed
                status = getattr(exc.response, "status_code", None)
                raise _HttpFailure(f"{url_or_endpoint}: HTTP {status}", status) from None
            raise

    def drop_token(self, used: str | None) -> None:
        """Forget the cached token if it is still ``used`` (another call may have renewed it)."""
        if used is None or self.session.get(self.access_token_key) == used:
            self.session.delete(self.access_token_key)
            self.expires_at = None


_EXT_FILENAME_RE = re.compile(r"filename\*\s*=\s*([^;]+)", re.IGNORECASE)
_FILENAME_RE = re.compile(r'filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;]+))', re.IGNORECASE)


def _filename_from_disposition(header: str | None) -> str | None:
    """The filename in a Content-Disposition header (RFC 6266 ``filename*`` preferred)."""
    if not header:
        return None
    extended = _EXT_FILENAME_RE.search(header)
    if extended:
        charset, _, rest = extended.group(1).strip().strip('"').partition("'")
        _, _, value = rest.partition("'")
        try:
            return urllib.parse.unquote(value, encoding=charset or "utf-8", errors="strict")
        except (LookupError, UnicodeDecodeError):
            pass
    plain = _FILENAME_RE.search(header)
    if not plain:
        return None
    name = plain.group(1) if plain.group(1) is not None else plain.group(2).strip()
    try:  # a raw UTF-8 filename arrives decoded as latin-1 by requests
        return name.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def button_interaction_card(
    *,
    task_id: str,
    title: str,
    buttons: Sequence[tuple[str, str]],
    desc: str | None = None,
    sub_title_text: str | None = None,
    quote_text: str | None = None,
    source_desc: str | None = None,
) -> dict[str, Any]:
    """Build a ``button_interaction`` template card; ``buttons`` are (text, key) pairs.

    ``task_id`` must be unique for the app (digits, letters and ``_-@``, at most 128 bytes);
    a pressed button comes back as a ``template_card_event`` carrying ``TaskId`` and its key
    as ``EventKey``. WeCom shows at most six buttons.
    """
    if not re.fullmatch(r"[0-9A-Za-z_\-@]{1,128}", task_id):
        raise ValueError("task_id may hold only digits, letters and _-@ (1 to 128 chars)")
    if not 1 <= len(buttons) <= 6:
        raise ValueError("a button_interaction card holds 1 to 6 buttons")
    main_title: dict[str, str] = {"title": title}
    if desc:
        main_title["desc"] = desc
    card: dict[str, Any] = {
        "card_type": "button_interaction",
        "main_title": main_title,
        "task_id": task_id,
        "button_list": [
            {"text": text, "style": 1 if i == 0 else 2, "key": key}
            for i, (text, key) in enumerate(buttons)
        ],
    }
    if source_desc:
        card["source"] = {"desc": source_desc}
    if sub_title_text:
        card["sub_title_text"] = sub_title_text
    if quote_text:
        card["quote_area"] = {"type": 0, "quote_text": quote_text}
    return card


class WeComClient:
    """Async sending side of the WeCom adapter; see the module docstring.

    Use ``async with WeComClient(...) as client`` or call :meth:`close`.
    """

    def __init__(
        self,
        *,
        corp_id: str,
        corp_secret: str,
        agent_id: int,
        api_base_url: str = DEFAULT_API_BASE_URL,
        timeout: float | tuple[float, float] = 15.0,
        session: Any = None,
        rate_limit: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        backoff_sleep: Sleep | None = None,
        max_token_retries: int = 2,
        max_backoff_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 30.0,
        max_http_retries: int = 2,
    ) -> None:
        if not api_base_url.endswith("/"):
            api_base_url += "/"
        self.agent_id = int(agent_id)
        self.api_base_url = api_base_url
        self._client = _WeChatClient(
            corp_id, corp_secret, api_base_url=api_base_url, timeout=timeout, session=session
        )
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wecom-api")
        # The guard counts sends from when they finished (WeCom counts arrivals): one limiter
        # for members, one for the groups.
        self.member_limiter: RateLimiter | None = None
        self.group_limiter: RateLimiter | None = None
        if rate_limit:
            self.member_limiter = RateLimiter(clock=clock, sleep=sleep)
            self.group_limiter = RateLimiter(clock=clock, sleep=sleep)
        self._backoff_sleep = backoff_sleep or sleep
        self.max_token_retries = max_token_retries
        self.max_backoff_retries = max_backoff_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_http_retries = max_http_retries
        self._closed = False

    def __repr__(self) -> str:  # never show the secret
        return f"WeComClient(api_base_url={self.api_base_url!r}, agent_id={self.agent_id})"

    async def __aenter__(self) -> WeComClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session and stop the worker thread."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._client._http.close)
        self._executor.shutdown(wait=False)

    # -- the call machinery ------------------------------------------------------------------

    async def _in_worker(self, fn: Callable[[], T]) -> T:
        if self._closed:
            raise RuntimeError("WeComClient is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def _attempt(self, fn: Callable[[], T]) -> tuple[T | None, str | None, Exception | None, bool]:
        """Runs in the worker: one try of ``fn``.

        Returns (result, token used, error, whether ``fn`` ran -- False when getting the
        token failed, so nothing was sent).
        """
        token: str | None = None
        try:
            token = self._client.access_token
        except (WeChatClientException, _HttpFailure) as exc:
            return None, None, exc, False
        try:
            return fn(), token, None, True
        except (WeChatClientException, _HttpFailure) as exc:
            return None, token, exc, True

    async def check_credentials(self) -> None:
        """Fetch an access token once, with no retry: a rejected CorpID or Secret raises
        ``WeComSendError`` with WeCom's errcode, an unreachable API with ``errcode=None``."""
        try:
            await self._in_worker(self._client.fetch_access_token)
        except _HttpFailure as exc:
            raise WeComSendError(None, exc.message, http_status=exc.http_status) from None
        except WeChatClientException as exc:
            code = int(exc.errcode) if exc.errcode is not None else None
            raise WeComSendError(code, str(exc.errmsg or "")) from None

    def _backoff(self, attempt: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * (2**attempt)))

    async def _call(self, what: str, fn: Callable[[], T], *, idempotent: bool) -> T:
        """Run ``fn`` in the worker, refreshing the token, backing off and retrying."""
        token_retries = backoff_retries = http_retries = 0
        while True:
            outcome = await self._in_worker(functools.partial(self._attempt, fn))
            result, used_token, error, ran = outcome
            if error is None:
                return result  # type: ignore[return-value]
            if isinstance(error, _HttpFailure):
                if (idempotent or not ran) and http_retries < self.max_http_retries:
                    delay = self._backoff(http_retries)
                    http_retries += 1
                    logger.warning("WeCom %s: %s; retrying in %.1f s", what, error.message, delay)
                    await self._backoff_sleep(delay)
                    continue
                raise WeComSendError(None, error.message, http_status=error.http_status)
            assert isinstance(error, WeChatClientException)
            errcode = int(error.errcode) if error.errcode is not None else None
            errmsg = str(error.errmsg or "")
            if errcode in TOKEN_ERRORS and token_retries < self.max_token_retries:
                token_retries += 1
                logger.info("WeCom %s: access token rejected (%s); refreshing", what, errcode)
                await self._in_worker(functools.partial(self._client.drop_token, used_token))
                continue
            if errcode in FREQUENCY_ERRORS and backoff_retries < self.max_backoff_retries:
                delay = self._backoff(backoff_retries)
                backoff_retries += 1
                logger.warning("WeCom %s: errcode %s; backing off %.1f s", what, errcode, delay)
                await self._backoff_sleep(delay)
                continue
            logger.warning("WeCom %s failed: errcode %s", what, errcode)
            raise WeComSendError(errcode, errmsg)

    async def _send_limited(
        self,
        what: str,
        limiter: RateLimiter | None,
        keys: Iterable[str],
        limits: tuple[Limit, ...],
        fn: Callable[[], T],
    ) -> T:
        if limiter is None:
            return await self._call(what, fn, idempotent=False)
        reservation = await limiter.reserve(
            [(f"window{i}", key, limit) for key in keys for i, limit in enumerate(limits)]
        )
        try:
            return await self._call(what, fn, idempotent=False)
        finally:
            reservation.complete()

    async def _send_app_message(
        self, userids: Sequence[str], msg: dict[str, Any]
    ) -> dict[str, Any]:
        users = [u for u in dict.fromkeys(userids) if u]
        if not users:
            raise ValueError("no recipients")
        fn = functools.partial(self._client.message.send, self.agent_id, users, msg=msg)
        keys = [f"user:{u}" for u in users]
        result: dict[str, Any] = await self._send_limited(
            f"message/send {msg['msgtype']}", self.member_limiter, keys, APP_MESSAGE_LIMITS, fn
        )
        if result.get("invaliduser"):
            logger.warning("WeCom: recipients not reachable: %s", result["invaliduser"])
        return result

    async def _send_chat_message(self, chatid: str, msgtype: str, **kwargs: Any) -> dict[str, Any]:
        fn = functools.partial(self._client.appchat.send, chatid, msgtype, **kwargs)
        result: dict[str, Any] = await self._send_limited(
            f"appchat/send {msgtype}", self.group_limiter, [GROUP_KEY], GROUP_MESSAGE_LIMITS, fn
        )
        return result

    async def _upload(self, media_type: str, filename: str, content: bytes) -> str:
        fn = functools.partial(self._client.media.upload, media_type, (filename, content))
        result = await self._call("media/upload", fn, idempotent=True)
        return str(result["media_id"])

    # -- app messages ------------------------------------------------------------------------

    async def send_text(self, userids: Sequence[str], content: str) -> dict[str, Any]:
        """Send a text message to members; returns WeCom's answer (``invaliduser``, ``msgid``)."""
        return await self._send_app_message(
            userids, {"msgtype": "text", "text": {"content": content}, "safe": 0}
        )

    async def send_markdown(self, userids: Sequence[str], content: str) -> dict[str, Any]:
        """Send a markdown message (WeCom's subset; at most 2,048 bytes)."""
        return await self._send_app_message(
            userids, {"msgtype": "markdown", "markdown": {"content": content}}
        )

    async def send_textcard(
        self,
        userids: Sequence[str],
        title: str,
        description: str,
        url: str,
        btntxt: str = "详情",
    ) -> dict[str, Any]:
        """Send a text card (title, HTML-ish description, link and button text)."""
        card = {"title": title, "description": description, "url": url, "btntxt": btntxt}
        return await self._send_app_message(userids, {"msgtype": "textcard", "textcard": card})

    async def send_template_card(
        self, userids: Sequence[str], card: dict[str, Any]
    ) -> dict[str, Any]:
        """Send a template card (see :func:`button_interaction_card`); the answer carries
        ``response_code`` for interactive cards."""
        return await self._send_app_message(
            userids, {"msgtype": "template_card", "template_card": card}
        )

    async def update_template_card(
        self, userids: Sequence[str], response_code: str, replace_name: str
    ) -> None:
        """message/update_template_card: turn the buttons of a card the members pressed into
        one that cannot be pressed, reading ``replace_name``. ``response_code`` (from the press's
        callback) can be used once, within 72 hours."""
        data = {
            "userids": [u for u in dict.fromkeys(userids) if u],
            "agentid": self.agent_id,
            "response_code": response_code,
            "button": {"replace_name": replace_name},
        }
        # Not a message/send: WeCom's per-member message limits do not count it.
        fn = functools.partial(self._client.post, "message/update_template_card", data=data)
        await self._call("message/update_template_card", fn, idempotent=False)

    async def send_file(
        self, userids: Sequence[str], filename: str, content: bytes, *, kind: str = "file"
    ) -> str:
        """Upload ``content`` as a temporary file (``kind="image"``: a picture) and send it;
        returns the media_id."""
        media_id = await self._upload(kind, filename, content)
        await self._send_app_message(
            userids, {"msgtype": kind, kind: {"media_id": media_id}, "safe": 0}
        )
        return media_id

    # -- group chats -------------------------------------------------------------------------

    async def create_chat(
        self, name: str, owner: str, userids: Sequence[str], chatid: str | None = None
    ) -> str:
        """Create a group chat (at least two members); returns its chatid."""
        fn = functools.partial(
            self._client.appchat.create,
            chat_id=chatid,
            name=name,
            owner=owner,
            user_list=list(userids),
        )
        result = await self._call("appchat/create", fn, idempotent=False)
        return str(result["chatid"])

    async def get_chat(self, chatid: str) -> dict[str, Any]:
        """The chat's ``chat_info`` (name, owner, userlist)."""
        fn = functools.partial(self._client.appchat.get, chatid)
        info: dict[str, Any] = await self._call("appchat/get", fn, idempotent=True)
        return info

    async def chat_send_text(self, chatid: str, content: str) -> None:
        """Send a text message to a group chat."""
        await self._send_chat_message(chatid, "text", content=content)

    async def chat_send_markdown(self, chatid: str, content: str) -> None:
        """Send a markdown message to a group chat."""
        await self._send_chat_message(chatid, "markdown", content=content)

    async def chat_send_file(
        self, chatid: str, filename: str, content: bytes, *, kind: str = "file"
    ) -> str:
        """Upload ``content`` (``kind="image"``: a picture) and send it to a group chat;
        returns the media_id."""
        media_id = await self._upload(kind, filename, content)
        await self._send_chat_message(chatid, kind, media_id=media_id)
        return media_id

    # -- media and menu ----------------------------------------------------------------------

    def _media_response(self, media_id: str) -> requests.Response:
        """Runs in the worker: GET media/get, streamed (the body is not read yet); a JSON
        answer is a WeCom error."""
        try:
            res = self._client._http.get(
                self.api_base_url + "media/get",
                params={"access_token": self._client.access_token, "media_id": media_id},
                timeout=self._client.timeout,
                stream=True,
            )
        except requests.RequestException as exc:
            raise _HttpFailure(f"media/get: {type(exc).__name__}", None) from None
        if res.status_code >= 400:
            res.close()
            raise _HttpFailure(f"media/get: HTTP {res.status_code}", res.status_code)
        content_type = res.headers.get("Content-Type", "")
        if content_type.startswith(("application/json", "text/plain")):
            try:
                payload = json.loads(res.raw.read(MAX_JSON_ANSWER, decode_content=True))
            except ValueError:
                payload = None
            finally:
                res.close()
            if isinstance(payload, dict) and payload.get("errcode"):
                raise WeChatClientException(int(payload["errcode"]), payload.get("errmsg", ""))
            raise _HttpFailure("media/get: an answer that is not a file", None)
        return res

    def _media_info(self, media_id: str) -> tuple[str, int | None]:
        """Runs in the worker: the file's name and size from media/get's headers; the body
        is not fetched."""
        res = self._media_response(media_id)
        try:
            filename = _filename_from_disposition(res.headers.get("Content-Disposition"))
            length = res.headers.get("Content-Length", "")
            return filename or media_id, int(length) if length.isdigit() else None
        finally:
            res.close()

    def _download_into(self, media_id: str, sink: ByteSink) -> str:
        """Runs in the worker: media/get's body, piece by piece, into ``sink``; returns the
        file's name."""
        res = self._media_response(media_id)
        try:
            for chunk in res.iter_content(DOWNLOAD_CHUNK):
                sink.write(chunk)
            return _filename_from_disposition(res.headers.get("Content-Disposition")) or media_id
        except requests.RequestException as exc:
            raise _HttpFailure(f"media/get: {type(exc).__name__}", None) from None
        finally:
            res.close()

    def _download(self, media_id: str) -> tuple[str, bytes]:
        """Runs in the worker: the whole file, up to MAX_WHOLE_DOWNLOAD bytes."""
        sink = _BytesSink(MAX_WHOLE_DOWNLOAD)
        name = self._download_into(media_id, sink)
        return name, bytes(sink.buffer)

    async def download_media(self, media_id: str) -> tuple[str, bytes]:
        """Download a temporary media file; returns (filename, bytes)."""
        fn = functools.partial(self._download, media_id)
        return await self._call("media/get", fn, idempotent=True)

    async def media_info(self, media_id: str) -> tuple[str, int | None]:
        """A temporary media file's name and size, without its content."""
        fn = functools.partial(self._media_info, media_id)
        return await self._call("media/get", fn, idempotent=True)

    async def download_media_into(self, media_id: str, sink: ByteSink) -> None:
        """Stream a temporary media file into ``sink``. Not retried once the body has begun:
        the sink would hold the first try's pieces too (the member is asked to send again)."""
        fn = functools.partial(self._download_into, media_id, sink)
        await self._call("media/get", fn, idempotent=False)

    async def create_menu(self, menu: dict[str, Any]) -> None:
        """Create (replace) the app's menu: ``{"button": [...]}``."""
        fn = functools.partial(self._client.menu.create, self.agent_id, menu)
        await self._call("menu/create", fn, idempotent=True)
