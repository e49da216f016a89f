"""The robot's long connection: a WebSocket the bot opens to WeCom's gateway (aiohttp's client).

No public URL and no callback encryption: the bot subscribes with the robot's id and secret
(``aibot_subscribe``), pings every ``heartbeat`` seconds (``ping``; two pings unanswered and
the connection is taken for dead), receives messages and events (``aibot_msg_callback``,
``aibot_event_callback``) and sends frames that WeCom acknowledges by their ``req_id``
(``aibot_send_msg`` active pushes, ``aibot_respond_update_msg`` card updates).

A lost connection is opened again with exponential backoff and jitter (the first try within
``first_backoff``, so a gateway restart costs well under a second); a refused subscription is
retried the same way, at most every ``max_backoff``. WeCom allows one connection per robot:
when another one subscribes, WeCom sends ``disconnected_event`` to this one, which then stops
for good instead of taking the robot back (two processes would otherwise evict each other
forever); ``taken_over`` says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.adapters.wecom.robot.frames import is_taken_over

logger = logging.getLogger(__name__)

DEFAULT_GATEWAY_URL = "wss://openws.work.weixin.qq.com"
SUBSCRIBE = "aibot_subscribe"
PING = "ping"
MESSAGE_CALLBACK = "aibot_msg_callback"
EVENT_CALLBACK = "aibot_event_callback"
SEND_MESSAGE = "aibot_send_msg"
UPDATE_CARD = "aibot_respond_update_msg"
MAX_FRAME_BYTES = 1024 * 1024

FrameSink = Callable[[dict[str, Any], str], Awaitable[object]]  # (body, req_id)


class RobotUnavailable(Exception):
    """Not connected (or the connection ended before WeCom answered): try again later."""


class RobotRefused(Exception):
    """WeCom answered a frame with an error code."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeCom robot error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


@dataclass
class ConnectionStats:
    connects: int = 0
    disconnects: int = 0
    refused_subscriptions: int = 0
    heartbeats: int = 0
    frames_in: int = 0
    taken_over: bool = False


class RobotConnection:
    """One long connection for one robot; ``start()`` keeps it open until ``stop()``."""

    def __init__(
        self,
        *,
        bot_id: str,
        secret: str,
        on_frame: FrameSink,
        url: str = DEFAULT_GATEWAY_URL,
        heartbeat: float = 30.0,
        ack_timeout: float = 10.0,
        first_backoff: float = 0.5,
        max_backoff: float = 30.0,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.bot_id = bot_id
        self._secret = secret
        self._on_frame = on_frame
        self.url = url
        self.heartbeat = heartbeat
        self.ack_timeout = ack_timeout
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self._jitter = jitter
        self.stats = ConnectionStats()
        self.connected = asyncio.Event()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._session: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None
        self._acks: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._ids = itertools.count(1)
        self._prefix = secrets.token_hex(4)
        self._stopping = False
        self._unanswered_pings = 0

    def __repr__(self) -> str:  # never show the secret
        return f"RobotConnection(bot_id={self.bot_id!r}, url={self.url!r})"

    @property
    def taken_over(self) -> bool:
        return self.stats.taken_over

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self._task = asyncio.create_task(self._run(), name="wecom-robot-connection")

    async def stop(self) -> None:
        self._stopping = True
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._session is not None:
            await self._session.close()

    async def wait_connected(self, seconds: float) -> None:
        async with asyncio.timeout(seconds):
            await self.connected.wait()

    def backoff(self, attempt: int) -> float:
        """Seconds before reconnection attempt ``attempt`` (1, 2, ...): doubling up to
        ``max_backoff``, each drawn between half and all of it (so many bots cut off at once
        do not come back at once)."""
        ceiling = min(self.max_backoff, self.first_backoff * 2 ** (attempt - 1))
        return ceiling * (0.5 + self._jitter() / 2)

    async def _run(self) -> None:
        attempt = 0
        while not self._stopping:
            try:
                if await self._connect_once():
                    attempt = 0  # it was up: the next loss starts the backoff anew
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # network errors, a refused subscription, a bad frame
                logger.warning("WeCom robot connection: %s", exc)
            finally:
                self._closed()
            if self._stopping or self.taken_over:
                break
            attempt += 1
            delay = self.backoff(attempt)
            logger.info("WeCom robot: reconnecting in %.2f s (attempt %d)", delay, attempt)
            await asyncio.sleep(delay)
        if self.taken_over:
            logger.error(
                "WeCom robot %s: another connection took over; this one stops. Run one Huiwu per robot.",
                self.bot_id,
            )

    async def _connect_once(self) -> bool:
        """One connection's life; True if it got subscribed."""
        assert self._session is not None
        async with self._session.ws_connect(
            self.url, autoping=True, max_msg_size=MAX_FRAME_BYTES
        ) as ws:
            self._ws = ws
            reader = asyncio.create_task(self._read(ws), name="wecom-robot-reader")
            try:
                await self._request(SUBSCRIBE, {"bot_id": self.bot_id, "secret": self._secret})
            except RobotRefused:
                self.stats.refused_subscriptions += 1
                reader.cancel()
                raise
            except BaseException:
                reader.cancel()
                raise
            self.stats.connects += 1
            self._unanswered_pings = 0
            self.connected.set()
            logger.info("WeCom robot %s: subscribed", self.bot_id)
            pinger = asyncio.create_task(self._ping(ws), name="wecom-robot-heartbeat")
            try:
                await reader
            finally:
                pinger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pinger
            return True

    def _closed(self) -> None:
        if self.connected.is_set():
            self.stats.disconnects += 1
        self.connected.clear()
        self._ws = None
        for future in self._acks.values():
            if not future.done():
                future.set_exception(RobotUnavailable("the connection ended before WeCom answered"))
        self._acks.clear()

    # -- frames --------------------------------------------------------------------------------

    def _req_id(self, cmd: str) -> str:
        return f"{cmd}_{self._prefix}_{next(self._ids)}"

    async def _request(
        self,
        cmd: str,
        body: dict[str, Any] | None,
        req_id: str | None = None,
        wait: float | None = None,  # seconds for the answer (default ack_timeout)
    ) -> dict[str, Any]:
        ws = self._ws
        if ws is None or ws.closed:
            raise RobotUnavailable("not connected to the WeCom gateway")
        req_id = req_id or self._req_id(cmd)
        frame: dict[str, Any] = {"cmd": cmd, "headers": {"req_id": req_id}}
        if body is not None:
            frame["body"] = body
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._acks[req_id] = future
        try:
            await ws.send_str(json.dumps(frame, ensure_ascii=False))
            async with asyncio.timeout(wait or self.ack_timeout):
                answer = await future
        except TimeoutError:
            raise RobotUnavailable(f"WeCom did not answer {cmd} in time") from None
        except (ConnectionError, aiohttp.ClientError) as exc:
            raise RobotUnavailable(str(exc)) from exc
        finally:
            self._acks.pop(req_id, None)
        errcode = int(answer.get("errcode", 0) or 0)
        if errcode:
            raise RobotRefused(errcode, str(answer.get("errmsg", "")))
        return answer

    async def send(
        self, cmd: str, body: dict[str, Any], *, req_id: str | None = None
    ) -> dict[str, Any]:
        """Send one frame and wait for WeCom's answer; ``RobotUnavailable`` when not
        connected (the outbox tries again later), ``RobotRefused`` for an error code."""
        if not self.connected.is_set():
            raise RobotUnavailable(
                "another connection took over this robot" if self.taken_over else "not connected"
            )
        return await self._request(cmd, body, req_id)

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type is not aiohttp.WSMsgType.TEXT:
                if message.type is aiohttp.WSMsgType.ERROR:
                    break
                continue
            try:
                frame = json.loads(message.data)
            except ValueError:
                logger.warning("WeCom robot: a frame that is not JSON was ignored")
                continue
            if not isinstance(frame, dict):
                continue
            await self._dispatch(ws, frame)

    async def _dispatch(self, ws: aiohttp.ClientWebSocketResponse, frame: dict[str, Any]) -> None:
        headers = frame.get("headers")
        req_id = str(headers.get("req_id", "")) if isinstance(headers, dict) else ""
        cmd = frame.get("cmd")
        if cmd in (MESSAGE_CALLBACK, EVENT_CALLBACK):
            body = frame.get("body")
            if not isinstance(body, dict):
                return
            if is_taken_over(body):
                self.stats.frames_in += 1
                self.stats.taken_over = True
                await ws.close()
                return
            try:
                await self._on_frame(body, req_id)
            except Exception:  # the receiver answers for its own errors; the reader goes on
                logger.exception("WeCom robot: a received frame could not be taken")
            self.stats.frames_in += 1  # taken (journaled and queued) or refused
            return
        future = self._acks.get(req_id)
        if future is not None and not future.done():
            future.set_result(frame)

    async def _ping(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        while not ws.closed:
            await asyncio.sleep(self.heartbeat)
            if self._unanswered_pings >= 2:
                logger.warning("WeCom robot: two heartbeats unanswered; reconnecting")
                await ws.close()
                return
            self._unanswered_pings += 1
            try:
                await self._request(PING, None, wait=min(self.heartbeat, self.ack_timeout))
            except (RobotUnavailable, RobotRefused) as exc:
                logger.info("WeCom robot heartbeat: %s", exc)
                continue
            self._unanswered_pings = 0
            self.stats.heartbeats += 1
