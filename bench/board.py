"""The plan board's speed and weight: a 40-member and a 1,000-member plan (five tasks each,
half of them handed in), served by Huiwu's own HTTP server.

For each plan it prints the server's time to first byte of the organizer's page (median and
95th percentile of sequential requests from an aiohttp client; and the median when the page
token is sent in a form instead of the cookie, as the Mini App does), Chromium's full load of the page
(navigation start to the load event, Debian's ``chromium`` driven by Playwright) and the page's
weight (HTML + stylesheet; the board has no charts). Baseline, measured in the same run on the
same server: a static page of the same size from a bare aiohttp handler.

Goals (issue 18): under 200 ms server time and under 1 s in Chromium; under 100 KB.

Run: ``.venv/bin/python -m bench.board`` (``--requests 40``, ``--loads 10``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import aiohttp
from aiohttp import web

from bot.board.auth import SESSION_TTL, page_token
from bot.board.links import one_time_link
from bot.core.app import Huiwu
from bot.core.clock import ManualClock
from bot.run.runtime import BoardOptions, Runtime
from bot.sandbox.crash_harness import PHASE_START, fanout_plan, prepare_database
from bot.tasks import phases
from storage import assignments, instances
from storage import board as board_store
from storage.db import Database

CHROMIUM = "/usr/bin/chromium"
HAS_CHROMIUM = Path(CHROMIUM).exists()
TASKS = 5


async def build(db_path: Path, members: int) -> int:
    user_ids = list(range(5_000_000, 5_000_000 + members))
    instance_id = await prepare_database(
        db_path, fanout_plan(user_ids, tasks=TASKS), now=PHASE_START
    )
    db = await Database.open(str(db_path))
    try:
        app = Huiwu(db, ManualClock(PHASE_START + timedelta(hours=1)))
        plan = await app.plans.get(instance_id)
        await phases.start_phase(app, instance_id, plan.phases[0])
        records = await assignments.assignments_of_instance(db, instance_id)
        async with db.transaction() as conn:
            for record in records[::2]:
                await assignments.add_submission(
                    conn,
                    record.id,
                    text="已完成，详见附件。",
                    files=[("telegram", "ref", "材料.docx", None, 10, b"0123456789")],
                    now=app.clock.now(),
                    late=False,
                )
                await assignments.set_assignment_status(conn, record, "submitted")
    finally:
        await db.close()
    return instance_id


async def timed_get(session: aiohttp.ClientSession, url: str) -> tuple[float, bytes]:
    started = time.perf_counter()
    async with session.get(url) as response:
        first_byte = time.perf_counter() - started
        body = await response.read()
        assert response.status == 200, response.status
    return first_byte, body


def summary(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def chromium_loads(url: str, cookie_url: str, loads: int) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        page = await context.new_page()
        await page.goto(cookie_url)  # signs in (the one-time link sets the cookie)
        times = []
        for _ in range(loads):
            await page.goto(url, wait_until="load")
            entry = await page.evaluate(
                "JSON.stringify(performance.getEntriesByType('navigation')[0])"
            )
            navigation = json.loads(entry)
            times.append(navigation["loadEventEnd"] / 1000)
        await browser.close()
    return times


async def measure(members: int, args: argparse.Namespace, tmp: Path) -> dict[str, float]:
    db_path = tmp / f"board-{members}.sqlite3"
    instance_id = await build(db_path, members)
    clock = ManualClock(PHASE_START + timedelta(days=2))
    runtime = Runtime(
        str(db_path), clock, board=BoardOptions("http://127.0.0.1:0/board", listen_port=0)
    )
    await runtime.start()
    port = runtime.http_port
    base = f"http://127.0.0.1:{port}/board"
    runtime.app.board_url = base
    try:
        organizer = next(
            m
            for m in await instances.members_of(runtime.app.db, instance_id)
            if "organizer" in m.roles
        )
        user = (await instances.identities_of(runtime.app.db, organizer.id))[0]

        async def fresh_link() -> str:
            return await one_time_link(
                runtime.app.db, base, user.platform, user.user_id, instance_id, clock.now()
            )

        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(cookie_jar=jar) as session:
            async with session.get(await fresh_link()) as response:
                page = await response.read()
            css = (await timed_get(session, f"{base}/static/board.css"))[1]
            page_times = []
            for _ in range(args.requests):
                first_byte, page = await timed_get(session, f"{base}/{instance_id}")
                page_times.append(first_byte)
            # The Mini App's way: no cookie, the page token in each request's form.
            session_token = await board_store.open_session(
                runtime.app.db, user.platform, user.user_id, None, clock.now() + SESSION_TTL
            )
            carried = page_token(
                board_store.digest(session_token),
                await board_store.signing_key(runtime.app.db),
                clock.now(),
            )
            token_times = []
            async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
                for _ in range(args.requests):
                    started = time.perf_counter()
                    async with bare.post(
                        f"{base}/{instance_id}", data={"session": carried}
                    ) as response:
                        token_times.append(time.perf_counter() - started)
                        await response.read()
                        assert response.status == 200, response.status
            static_body = b"<!doctype html>" + b"x" * (len(page) - 15)
            baseline_app = web.Application()

            async def static(_request: web.Request) -> web.Response:
                return web.Response(body=static_body, content_type="text/html")

            baseline_app.router.add_get("/", static)
            runner = web.AppRunner(baseline_app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            baseline_url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
            baseline_times = [
                (await timed_get(session, baseline_url))[0] for _ in range(args.requests)
            ]
            await runner.cleanup()
        loads: list[float] = []
        if HAS_CHROMIUM:
            loads = await chromium_loads(f"{base}/{instance_id}", await fresh_link(), args.loads)
    finally:
        await runtime.stop()
    median, p95 = summary(page_times)
    token_median, _ = summary(token_times)
    base_median, _ = summary(baseline_times)
    return {
        "members": members,
        "ttfb_median_ms": median * 1000,
        "ttfb_p95_ms": p95 * 1000,
        "baseline_ms": base_median * 1000,
        "ratio": median / base_median,
        "token_median_ms": token_median * 1000,
        "token_ratio": token_median / base_median,
        "chromium_median_ms": statistics.median(loads) * 1000 if loads else float("nan"),
        "chromium_max_ms": max(loads) * 1000 if loads else float("nan"),
        "html_kb": len(page) / 1024,
        "css_kb": len(css) / 1024,
    }


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="huiwu-board-") as folder:
        results = [await measure(n, args, Path(folder)) for n in args.members]
    print(
        f"plan board, {TASKS} tasks, half handed in; {args.requests} requests, {args.loads} Chromium loads"
    )
    print(
        "| members | server TTFB median (p95) | baseline: static page | ratio "
        "| Mini App (page token) TTFB median, ratio "
        "| Chromium load median (max) | weight: HTML + CSS |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(
            f"| {r['members']:,} | {r['ttfb_median_ms']:.1f} ms ({r['ttfb_p95_ms']:.1f}) "
            f"| {r['baseline_ms']:.2f} ms | {r['ratio']:.1f} "
            f"| {r['token_median_ms']:.1f} ms, {r['token_ratio']:.1f} "
            f"| {r['chromium_median_ms']:.0f} ms ({r['chromium_max_ms']:.0f}) "
            f"| {r['html_kb']:.1f} KB + {r['css_kb']:.1f} KB |"
        )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, nargs="+", default=[40, 1000])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--loads", type=int, default=10)
    raise SystemExit(asyncio.run(main(parser.parse_args())))
