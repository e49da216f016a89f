"""Issue 22, item 6: slow, idle and dropped connections to the WeCom callback server, with
real loopback sockets (bounded counts, short limits). Idle and slow clients are closed when
their time is up, connections beyond the cap are refused at once, a client that goes away
mid-body costs one log line and no traceback, and a real callback still gets through."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
from collections.abc import AsyncIterator

import pytest

from bot.adapters.guarded_site import ConnectionLimits
from bot.adapters.wecom.server import WeComCallbackServer
from bot.core.messaging import Event
from bot.sandbox.wecom.callbacks import WeComCallbackClient

CORP_ID = "ww0123456789abcdef"
TOKEN = "HuiwuConnToken"
AES_KEY = base64.b64encode(hashlib.sha256(b"huiwu conn").digest()).decode()[:43]
LIMITS = ConnectionLimits(
    max_connections=12, header_seconds=0.3, body_seconds=0.3, lingering_seconds=0.1
)


@pytest.fixture
async def server() -> AsyncIterator[tuple[WeComCallbackServer, list[Event]]]:
    events: list[Event] = []

    async def sink(event: Event) -> None:
        events.append(event)

    callbacks = WeComCallbackServer(
        corp_id=CORP_ID, token=TOKEN, aes_key=AES_KEY, sink=sink, limits=LIMITS
    )
    await callbacks.start()
    try:
        yield callbacks, events
    finally:
        await callbacks.stop()


async def _connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.open_connection("127.0.0.1", port)


async def _closed_by_server(reader: asyncio.StreamReader, seconds: float = 5.0) -> bytes:
    """Everything the server sent until it closed the connection (bounded wait)."""
    async with asyncio.timeout(seconds):
        return await reader.read()


async def test_idle_and_slow_header_connections_are_closed_in_time(
    server: tuple[WeComCallbackServer, list[Event]],
) -> None:
    callbacks, _events = server
    idle = [await _connect(callbacks.port) for _ in range(5)]
    slow = [await _connect(callbacks.port) for _ in range(5)]
    for _reader, writer in slow:  # a request line and one header, then nothing more
        writer.write(b"POST /wecom/callback?msg_signature=a&timestamp=1&nonce=n HTTP/1.1\r\n")
        writer.write(b"Host: 127.0.0.1\r\n")
        await writer.drain()
    assert callbacks.site is not None and callbacks.site.open_connections == 10
    for reader, writer in idle + slow:
        await _closed_by_server(reader)
        writer.close()
    assert callbacks.site.open_connections == 0


async def test_a_slow_body_gets_408_and_the_connection_is_closed(
    server: tuple[WeComCallbackServer, list[Event]],
) -> None:
    callbacks, _events = server
    reader, writer = await _connect(callbacks.port)
    writer.write(
        b"POST /wecom/callback?msg_signature=a&timestamp=1&nonce=n HTTP/1.1\r\n"
        b"Host: 127.0.0.1\r\nContent-Length: 500\r\n\r\n<xml>"
    )
    await writer.drain()
    answer = await _closed_by_server(reader)
    assert answer.startswith(b"HTTP/1.1 408 ")
    writer.close()


async def test_connections_beyond_the_cap_are_refused_and_callbacks_resume(
    server: tuple[WeComCallbackServer, list[Event]], caplog: pytest.LogCaptureFixture
) -> None:
    callbacks, events = server
    caplog.set_level(logging.INFO)
    held = [await _connect(callbacks.port) for _ in range(LIMITS.max_connections)]
    extra = [await _connect(callbacks.port) for _ in range(8)]
    for reader, writer in extra:
        assert (await _closed_by_server(reader)).startswith(b"HTTP/1.1 503 ")
        writer.close()
    assert callbacks.site is not None
    assert callbacks.site.refused == 8
    assert callbacks.site.open_connections <= LIMITS.max_connections
    full = [r for r in caplog.records if "refusing new ones" in r.getMessage()]
    assert len(full) == 1  # one line, not one per refused connection
    for reader, writer in held:  # they time out and free their places
        await _closed_by_server(reader)
        writer.close()
    async with WeComCallbackClient(callbacks.url, TOKEN, AES_KEY, CORP_ID, 1000002) as client:
        response = await client.send_text("tangjun", "/help")
    assert response.status == 200
    await callbacks.join(5)
    assert [e.text for e in events] == ["/help"]


async def test_a_client_gone_mid_body_costs_one_line_and_no_traceback(
    server: tuple[WeComCallbackServer, list[Event]], caplog: pytest.LogCaptureFixture
) -> None:
    callbacks, _events = server
    caplog.set_level(logging.INFO)
    for _ in range(3):
        _reader, writer = await _connect(callbacks.port)
        writer.write(
            b"POST /wecom/callback?msg_signature=a&timestamp=1&nonce=n HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nContent-Length: 500\r\n\r\n<xml>"
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    for _step in range(200):  # bounded: the server notices the three
        if callbacks.stats.dropped == 3:
            break
        await asyncio.sleep(0.01)
    assert callbacks.stats.dropped == 3
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    gone = [r for r in caplog.records if "went away" in r.getMessage()]
    assert len(gone) == 3
