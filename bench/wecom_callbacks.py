"""How many WeCom callbacks a second Huiwu verifies, decrypts and dispatches (issue 5).

Run: ``.venv/bin/python bench/wecom_callbacks.py [--count N] [--concurrency C]``
(not collected by pytest). Every figure is measured in the same run and printed with its
ratio to the baseline, a bare ``WeChatCrypto.decrypt_message`` (signature check + AES +
corp id), the least any callback costs:

1. **in process**: ``WeComCallbackServer.decrypt_callback`` + ``accept`` (envelope parse,
   signature, AES, plaintext parse, Event, MsgId de-duplication, queued per member) and the
   background handling into a sink that counts;
2. **over HTTP**: the same through aiohttp on loopback, posted by a separate process with
   C requests in flight, from the first request until the last event reached the sink; with
   the journal in memory, and in SQLite as ``huiwu run`` has it (each callback recorded
   before it is answered, marked when handled);
3. **into the core**: over HTTP into the real bot (``Runtime`` with a SQLite file and the
   WeCom emulator): members of the seed plan send 我的任务, which the handlers answer through
   the outbox; from the first request until the last event is handled.

The goal is 500 callbacks a second or more over HTTP with the SQLite journal (2).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import secrets
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

from bot.adapters.wecom.journal import CallbackJournal, StoredJournal
from bot.adapters.wecom.server import WeComCallbackServer
from bot.core.clock import ManualClock
from bot.core.messaging import Event
from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.run.runtime import Runtime
from bot.sandbox.demo.telegram import seed_plan_text
from bot.sandbox.demo.wecom import options_on_emulator
from bot.sandbox.wecom.api import WeComEmulator
from bot.sandbox.wecom.callbacks import build_message_xml
from bot.sandbox.wecom.people import VirtualTime
from storage.db import Database

CORP_ID = "wwbench0123456789"
CORP_SECRET = "bench-secret-" + "b" * 30
AGENT_ID = 1000002
TOKEN = "HuiwuBenchToken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
SEED_USERIDS = ("FangLei", "TangJun", "MengPing", "DangZuShuJi")

Signed = tuple[dict[str, str], bytes]  # (query parameters, body)


def signed_callbacks(count: int, users: tuple[str, ...], text: str) -> list[Signed]:
    """``count`` text messages with distinct MsgIds, encrypted and signed as WeCom does."""
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    now = int(time.time())
    out = []
    for index in range(count):
        plain = build_message_xml(
            [
                ("ToUserName", CORP_ID),
                ("FromUserName", users[index % len(users)]),
                ("CreateTime", now + index),
                ("MsgType", "text"),
                ("Content", text),
                ("MsgId", 2**62 + index),
                ("AgentID", AGENT_ID),
            ]
        )
        nonce, timestamp = secrets.token_hex(8), str(now + index % 60)
        envelope = xmltodict.parse(crypto.encrypt_message(plain, nonce, timestamp))["xml"]
        body = build_message_xml(
            [("ToUserName", CORP_ID), ("AgentID", str(AGENT_ID)), ("Encrypt", envelope["Encrypt"])]
        ).encode()
        params = {"msg_signature": envelope["MsgSignature"], "timestamp": timestamp, "nonce": nonce}
        out.append((params, body))
    return out


def bare_decrypt_rate(callbacks: list[Signed]) -> float:
    crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
    envelopes = [(p, xmltodict.parse(body)["xml"]) for p, body in callbacks]
    started = time.perf_counter()
    for params, envelope in envelopes:
        crypto.decrypt_message(
            envelope, params["msg_signature"], params["timestamp"], params["nonce"]
        )
    return len(envelopes) / (time.perf_counter() - started)


class Counter:
    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.seen = 0
        self.done = asyncio.Event()

    async def __call__(self, event: Event) -> None:
        self.seen += 1
        if self.seen >= self.expected:
            self.done.set()


def _server(sink: Any, journal: CallbackJournal | None = None) -> WeComCallbackServer:
    return WeComCallbackServer(
        corp_id=CORP_ID, token=TOKEN, aes_key=AES_KEY, agent_id=AGENT_ID, sink=sink, journal=journal
    )


async def in_process_rate(callbacks: list[Signed]) -> float:
    counter = Counter(len(callbacks))
    server = _server(counter)
    started = time.perf_counter()
    for params, body in callbacks:
        fields = server.decrypt_callback(
            body, params["msg_signature"], params["timestamp"], params["nonce"]
        )
        await server.accept(fields)
    await counter.done.wait()
    return len(callbacks) / (time.perf_counter() - started)


def _post_all(url: str, callbacks: list[Signed], concurrency: int, go: Any, result: Any) -> None:
    """In a separate process: post every callback, ``concurrency`` at a time."""

    async def run() -> None:
        queue = list(reversed(callbacks))
        statuses: dict[int, int] = {}
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

            async def worker() -> None:
                while queue:
                    params, body = queue.pop()
                    async with http.post(url, params=params, data=body) as response:
                        await response.read()
                        statuses[response.status] = statuses.get(response.status, 0) + 1

            go.wait()
            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            result.put((time.perf_counter() - started, statuses))

    asyncio.run(run())


async def over_http(
    url: str, callbacks: list[Signed], concurrency: int, done: Callable[[], Awaitable[Any]]
) -> tuple[float, dict[int, int]]:
    """Seconds from the first request until every callback is answered and ``done()``
    returns (all handled), and the HTTP statuses."""
    context = multiprocessing.get_context("spawn")
    go, result = context.Event(), context.Queue()
    poster = context.Process(target=_post_all, args=(url, callbacks, concurrency, go, result))
    poster.start()
    await asyncio.sleep(1.0)  # let the poster start up (interpreter, imports)
    started = time.perf_counter()
    go.set()
    _posted, statuses = await asyncio.to_thread(result.get, True, 300)
    await asyncio.wait_for(done(), 300)
    elapsed = time.perf_counter() - started
    await asyncio.to_thread(poster.join, 30)
    return elapsed, statuses


async def http_rate(callbacks: list[Signed], concurrency: int, *, stored: bool) -> float:
    """Over HTTP into a counting sink; ``stored``: with the SQLite journal, as ``huiwu run``."""
    counter = Counter(len(callbacks))
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "journal.sqlite3") if stored else None
        clock = ManualClock(datetime.fromisoformat("2013-12-04T10:00+08:00"))
        server = _server(counter, StoredJournal(db, clock, b"bench") if db else None)
        await server.start()
        try:
            elapsed, statuses = await over_http(
                server.url, callbacks, concurrency, counter.done.wait
            )
        finally:
            await server.stop()
            if db is not None:
                await db.close()
    assert statuses == {200: len(callbacks)}, statuses
    return len(callbacks) / elapsed


async def core_rate(callbacks: list[Signed], concurrency: int) -> tuple[float, int]:
    virtual = VirtualTime()
    emulator = WeComEmulator(
        corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID, clock=virtual
    )
    async with emulator:
        for userid in SEED_USERIDS:
            emulator.add_user(userid, userid)
        with tempfile.TemporaryDirectory() as folder:
            runtime = Runtime(
                str(Path(folder) / "bench.sqlite3"),
                ManualClock(datetime.fromisoformat("2013-12-04T10:00+08:00")),
                wecom=options_on_emulator(emulator, CORP_SECRET, TOKEN, AES_KEY, virtual),
            )
            await runtime.start()
            try:
                text = seed_plan_text()
                async with runtime.app.db.transaction() as conn:
                    await store_plan(
                        conn, load_plan_text(text), text, loaded_by="bench", now=runtime.clock.now()
                    )
                server = runtime.wecom_server
                assert server is not None
                elapsed, statuses = await over_http(
                    server.url, callbacks, concurrency, lambda: server.join(300)
                )
                assert statuses == {200: len(callbacks)}, statuses
                assert server.stats.failed == 0
                rows = await runtime.app.db.fetch_one("SELECT COUNT(*) FROM outbox")
                answers = int(rows[0]) if rows else 0
            finally:
                await runtime.stop()
    return len(callbacks) / elapsed, answers


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    many_users = tuple(f"user{i:03d}" for i in range(200))
    callbacks = signed_callbacks(args.count, many_users, "进度")
    baseline = bare_decrypt_rate(callbacks)
    in_process = await in_process_rate(callbacks)
    memory_http = await http_rate(callbacks, args.concurrency, stored=False)
    stored_http = await http_rate(callbacks, args.concurrency, stored=True)
    core_count = min(args.count, 2000)
    core, answers = await core_rate(
        signed_callbacks(core_count, SEED_USERIDS, "我的任务"), args.concurrency
    )
    rows = [
        ("baseline: bare WeChatCrypto.decrypt_message", baseline),
        ("in process: verify+decrypt+parse+dispatch (memory journal)", in_process),
        ("over HTTP, memory journal", memory_http),
        ("over HTTP, SQLite journal (as huiwu run)", stored_http),
        (f"over HTTP into the core ({core_count} x 我的任务, answered)", core),
    ]
    print(f"WeCom callbacks: {args.count} distinct messages, {args.concurrency} in flight")
    for label, rate in rows:
        print(f"  {label:62} {rate:9.0f} /s  {rate / baseline:6.3f}")
    print(f"  ({answers} answers queued in the outbox by the core run)")
    verdict = "met" if stored_http >= 500 else "MISSED"
    print(f"  goal 500 /s over HTTP as huiwu run: {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
