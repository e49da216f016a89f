"""Serve an aiohttp application on a TCP port with its connections bounded.

aiohttp waits for a connection's first request as long as its keep-alive timeout (an hour by
default) and accepts every connection it is offered: 1,200 slow or idle clients held 1,020
descriptors of the WeCom callback server. Here:

* a connection must deliver a request's headers within ``header_seconds`` of opening (or of
  its last answer, when kept alive), or it is closed: that is aiohttp's keep-alive timer,
  which runs from the moment a connection opens and closes it while no request is read;
* a handler reads the body within ``body_seconds`` (``read_body``) or answers 408;
* beyond ``max_connections`` open at once, a new connection is answered 503 and closed at once;
* what a refused or dropped connection costs is one log line, never a traceback.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

logger = logging.getLogger(__name__)

_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass(frozen=True)
class ConnectionLimits:
    max_connections: int = 256
    header_seconds: float = 10.0  # WeCom sends a callback at once and waits 5 s for the answer
    body_seconds: float = 10.0
    lingering_seconds: float = 1.0  # reading what is left of a refused body before closing


class BodyTooSlow(Exception):
    """The body did not arrive within ``body_seconds``."""


class ClientGone(Exception):
    """The client closed the connection before its body arrived."""


async def read_body(request: web.Request, limits: ConnectionLimits) -> bytes:
    """The request's body within the time limit (``client_max_size`` bounds its size)."""
    try:
        async with asyncio.timeout(limits.body_seconds):
            return await request.read()
    except TimeoutError:
        raise BodyTooSlow from None
    except (ConnectionError, EOFError, OSError) as exc:
        raise ClientGone(type(exc).__name__) from None
    except Exception as exc:  # aiohttp's payload errors (a body cut short)
        if type(exc).__module__.startswith("aiohttp") and not isinstance(exc, web.HTTPException):
            raise ClientGone(type(exc).__name__) from None
        raise


class _Refused(asyncio.Protocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if isinstance(transport, asyncio.WriteTransport):
            transport.write(_BUSY)
        transport.close()


class GuardedSite:
    """Like ``web.TCPSite``, with ``ConnectionLimits`` (see the module docstring)."""

    def __init__(
        self, app: web.Application, host: str, port: int, limits: ConnectionLimits, name: str
    ) -> None:
        self.runner = web.AppRunner(
            app,
            access_log=None,
            keepalive_timeout=limits.header_seconds,
            lingering_time=limits.lingering_seconds,
        )
        self.host = host
        self.port = port
        self.limits = limits
        self.name = name
        self.refused = 0
        self._full = False
        self._server: asyncio.Server | None = None

    @property
    def open_connections(self) -> int:
        server = self.runner.server
        return len(server.connections) if server is not None else 0

    async def start(self) -> None:
        await self.runner.setup()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()  # no new connections
        await self.runner.cleanup()  # the open ones are answered and closed
        self._server = None

    def _protocol(self) -> asyncio.BaseProtocol:
        server = self.runner.server
        assert server is not None
        if len(server.connections) < self.limits.max_connections:
            if self._full:
                self._full = False
                logger.warning("%s: taking connections again", self.name)
            return server()
        self.refused += 1
        if not self._full:
            self._full = True
            logger.warning(
                "%s: %d connections open; refusing new ones (503) until some close",
                self.name,
                self.limits.max_connections,
            )
        return _Refused()
