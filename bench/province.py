"""One process for a whole province's December (issue 21): thousands of plans at once, measured.

A world is written straight into a SQLite file (``bench/province_world.py``): ``--plans``
running plans of ``--members-per-plan`` members, alternately on Telegram and on WeCom, groups
bound, different timezones and calendars, and ``--finished`` plans of last year whose
rectification items are still reminded. Then, in the same run:

1. **ticks** (in process, no chat): the first scheduler tick (the schedule rebuilt), a tick
   with nothing due and the 09:00 tick with the reminders due, with 0 finished plans (the
   baseline) and with ``--finished``: the due work must not grow with the finished plans;
2. **the 09:00 burst** through ``huiwu run`` in its own process, in simulated time (starting
   ``--lead`` seconds before 09:00 on Monday 9 December 2013), against the Telegram emulator
   enforcing Telegram's limits and the WeCom emulator enforcing WeCom's per-member limits:
   start-up to the first poll and to the first tick's end, resident memory idle and at the
   peak, wall time against the floor 30 messages a second set, 429s, lost and duplicated
   messages, the time until each plan's first reminder against its fair share, WeCom's
   drops, and /mytasks round trips from a member whose plan is not reminding;
3. **the season's database**: its size, the rows of the tables that grow with time, and the
   same after ``huiwu``'s retention (``HUIWU_RETENTION_DAYS``) pruned them.

Run: ``.venv/bin/python -m bench.province`` (about 5 minutes; ``--plans 2000`` for the
whole province: 10,000 Telegram messages take 6 minutes at Telegram's 30 a second).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

from bench.province_world import BURST, FIRST_TELEGRAM_ID, World, build
from bot.core.app import Huiwu, PlatformInfo
from bot.core.clock import ManualClock
from bot.delivery.sender import OutboxSender, SendPolicy
from bot.run.scheduler import REMINDER_SOURCES, tick
from bot.sandbox.crash_harness import TOKEN, BotProcess, wait_until
from bot.sandbox.telegram.api import TelegramEmulator
from bot.sandbox.wecom.api import WeComEmulator
from storage import retention
from storage.db import Database
from storage.timefmt import to_db

TELEGRAM_RATE = 30.0
CORP_ID = "ww5f3e2d1c0b0a0987"
CORP_SECRET = "huiwu-bench-corp-secret-" + "x" * 19
AGENT_ID = 1000002
AES_KEY = base64.b64encode(hashlib.sha256(b"huiwu province").digest()).decode()[:43]
FAIRNESS_GOAL = 1.2


class _Unsent:
    """A messenger for the in-process ticks: rows are queued, nothing is sent."""

    def __init__(self, platform: str) -> None:
        self.platform = platform


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- 1. ticks, in process ---------------------------------------------------------------------


async def time_ticks(path: Path) -> dict[str, float]:
    db = await Database.open(str(path))
    try:
        clock = ManualClock(BURST - timedelta(seconds=30))
        app = Huiwu(db, clock, reminder_sources=REMINDER_SOURCES)
        for platform in ("telegram", "wecom"):
            sender = OutboxSender(db, clock, _Unsent(platform), SendPolicy())  # type: ignore[arg-type]
            app.add_platform(platform, PlatformInfo(sender))
        figures = {}
        started = time.perf_counter()
        await tick(app)
        figures["first"] = time.perf_counter() - started
        idle = []
        for _ in range(7):
            started = time.perf_counter()
            await tick(app)
            idle.append(time.perf_counter() - started)
        figures["idle"] = statistics.median(idle)
        await clock.set(BURST)
        due = []
        for _ in range(3):  # the same work each time: what the last one queued is taken back
            started = time.perf_counter()
            await tick(app)
            due.append(time.perf_counter() - started)
            row = await db.fetch_one("SELECT COUNT(*) FROM outbox WHERE state = 'pending'")
            figures["queued"] = float(row[0]) if row else 0.0
            async with db.transaction() as conn:
                await conn.execute("DELETE FROM outbox WHERE state = 'pending'")
                await conn.execute("DELETE FROM reminder_log WHERE sent_at = ?", (to_db(BURST),))
        figures["due"] = statistics.median(due)
        return figures
    finally:
        await db.close()


async def tick_figures(args: argparse.Namespace, workdir: Path) -> None:
    print(
        f"1. scheduler ticks in process: {args.plans} running plans x {args.members_per_plan} "
        "members; finished plans 0 (baseline) and "
        f"{args.finished}"
    )
    print(
        f"  {'finished plans':>14} {'first tick s':>12} {'idle ms':>8} {'09:00 ms':>9} {'queued':>7}"
    )
    results = {}
    warm = workdir / "warm-up.sqlite3"  # the first run pays for imports and catalogs
    await build(warm, plans=min(args.plans, 20), members_per_plan=2, finished=0)
    await time_ticks(warm)
    for finished in sorted({0, args.finished // 2, args.finished}):
        path = workdir / f"ticks-{finished}.sqlite3"
        await build(
            path, plans=args.plans, members_per_plan=args.members_per_plan, finished=finished
        )
        figures = await time_ticks(path)
        results[finished] = figures
        path.unlink()
        print(
            f"  {finished:>14} {figures['first']:>12.2f} {figures['idle'] * 1000:>8.1f}"
            f" {figures['due'] * 1000:>9.0f} {figures['queued']:>7.0f}"
        )
    base, top = results[0], results[args.finished]
    print(
        f"  ratio {args.finished} / 0 finished: idle {top['idle'] / base['idle']:.2f},"
        f" 09:00 {top['due'] / base['due']:.2f} (flat: about 1); goal idle < 50 ms"
    )


# -- 2. the burst through `huiwu run` ---------------------------------------------------------


def add_accounts(world: World, telegram: TelegramEmulator, wecom: WeComEmulator) -> None:
    for accounts in world.accounts.values():
        for account in accounts:
            if isinstance(account, int):
                telegram.add_user(f"成员{account - FIRST_TELEGRAM_ID}", user_id=account)
                telegram.open_private_chat(account)
            else:
                wecom.add_user(account, f"成员{account}")


async def ask_mytasks(
    telegram: TelegramEmulator,
    askers: list[int],
    latencies: list[tuple[float, float]],
    stop: asyncio.Event,
) -> None:
    """/mytasks twice a second from members whose plans are not reminding now, in turns
    (one chat gets about one message a second from a bot: no asker waits for that); each
    round trip as (when asked, seconds)."""
    turn = 0
    while not stop.is_set():
        user_id = askers[turn % len(askers)]
        turn += 1
        since = len(telegram.transcript(user_id))
        sent_at = time.monotonic()
        telegram.send_text(user_id, "/mytasks")
        reply = await telegram.wait_for_bot_message(user_id, since=since, timeout=60)
        latencies.append((sent_at, reply.time - sent_at))
        await asyncio.sleep(0.5)


async def sample_rss(bot: BotProcess, peak: list[int], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            peak[0] = max(peak[0], bot.rss_kib())
        except (OSError, StopIteration):
            return
        await asyncio.sleep(0.2)


def burst_floor(reminder_times: list[float], other_times: list[float]) -> float:
    """Seconds the bot token needs at 30 messages a second for the burst's reminders and
    whatever else it sent between the first and the last of them (the /mytasks answers of
    item 5 take the same token's slots: leaving them out made Huiwu's pacing at 28 look
    like 26 a second)."""
    first, last = min(reminder_times), max(reminder_times)
    others = sum(1 for t in other_times if first <= t <= last)
    return (len(reminder_times) + others - 1) / TELEGRAM_RATE


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


async def burst(args: argparse.Namespace, workdir: Path) -> Path:
    db_path = workdir / "province.sqlite3"
    started = time.perf_counter()
    world = await build(
        db_path, plans=args.plans, members_per_plan=args.members_per_plan, finished=args.finished
    )
    size = db_path.stat().st_size / 2**20
    print(
        f"\n2. the 09:00 burst through `huiwu run` (world built in "
        f"{time.perf_counter() - started:.0f} s, {size:.0f} MiB)"
    )
    tg_plans = world.burst_accounts("telegram")
    wc_plans = world.burst_accounts("wecom")
    askers = [
        account
        for spec in world.plans
        if spec.platform == "telegram" and not spec.in_burst
        for account in world.accounts[spec.index]
        if isinstance(account, int)
    ][:10]
    async with TelegramEmulator() as telegram:
        telegram.add_bot(TOKEN)
        wecom = WeComEmulator(corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID)
        await wecom.start()
        try:
            add_accounts(world, telegram, wecom)
            settings = {
                "WECOM_CORP_ID": CORP_ID,
                "WECOM_AGENT_ID": str(AGENT_ID),
                "WECOM_SECRET": CORP_SECRET,
                "WECOM_TOKEN": "HuiwuBenchToken",
                "WECOM_AES_KEY": AES_KEY,
                "WECOM_API_BASE_URL": wecom.base_url,
                "HUIWU_HTTP_PORT": str(free_port()),
                # Keep everything: the season's growth is measured, then pruned, below.
                "HUIWU_RETENTION_DAYS": "36500",
            }
            profile = ("-m", "cProfile", "-o", str(args.profile)) if args.profile else ()
            bot = BotProcess(
                db_path,
                telegram,
                workdir=workdir,
                clock_start=BURST - timedelta(seconds=args.lead),
                extra_env=settings,
                command=(*profile, "-m", "bot.run.cli", "run"),
            )
            spawned = time.monotonic()
            await bot.start()
            stop = asyncio.Event()
            peak = [0]
            latencies: list[tuple[float, float]] = []
            tasks = []
            try:
                await wait_until(
                    lambda: telegram.stats.requests_by_method["getUpdates"] > 0,
                    timeout=60,
                    what="the first poll",
                    bot=bot,
                )
                first_poll = time.monotonic() - spawned
                # Commands from the first poll on: answered while the plans are planned?
                tasks.append(asyncio.create_task(ask_mytasks(telegram, askers, latencies, stop)))
                await wait_until(
                    lambda: "schedule planned in" in bot.log(),
                    timeout=args.lead + 120,
                    what="the first tick",
                    bot=bot,
                    interval=0.05,
                )
                first_tick = time.monotonic() - spawned
                await wait_until(
                    lambda: "every plan planned" in bot.log(),
                    timeout=args.lead + 120,
                    what="the first planning of every plan",
                    bot=bot,
                    interval=0.05,
                )
                planned = time.monotonic()
                first_planning = planned - spawned
                await asyncio.sleep(2.0)
                idle_rss = bot.rss_kib()
                peak[0] = idle_rss
                tasks.append(asyncio.create_task(sample_rss(bot, peak, stop)))
                tg_expected = sum(len(a) for a in tg_plans.values())
                wc_expected = sum(len(a) for a in wc_plans.values())
                reminded = [u for a in tg_plans.values() for u in a]
                await wait_until(  # the /mytasks answers do not count: they began at start-up
                    lambda: any(telegram.bot_messages(u) for u in reminded),
                    timeout=args.lead + 60,
                    what="the first reminder",
                    bot=bot,
                    interval=0.05,
                )
                cpu_before, own_before, burst_started = (
                    bot.cpu_seconds(),
                    time.process_time(),
                    time.monotonic(),
                )
                await wait_until(
                    lambda: (
                        sum(len(telegram.bot_messages(u)) for a in tg_plans.values() for u in a)
                        >= tg_expected
                        and sum(len(wecom.inbox(u)) for a in wc_plans.values() for u in a)
                        + wecom.stats.dropped_over_limit
                        >= wc_expected
                    ),
                    timeout=tg_expected / 20 + 120,
                    what="every reminder",
                    bot=bot,
                    interval=0.5,
                )
                burst_cpu = bot.cpu_seconds() - cpu_before
                own_cpu = time.process_time() - own_before
                burst_ended = time.monotonic()
                burst_wall = burst_ended - burst_started
                await asyncio.sleep(2.0)  # anything sent twice would arrive now
            finally:
                stop.set()
                for task in tasks:
                    await task
                await bot.stop(timeout=30)
            tg_inboxes = {
                plan: [telegram.bot_messages(u) for u in accounts]
                for plan, accounts in tg_plans.items()
            }
            wc_inboxes = {
                plan: [wecom.inbox(u) for u in accounts] for plan, accounts in wc_plans.items()
            }
            too_many = telegram.stats.too_many_requests
            answer_times = [m.time for u in askers for m in telegram.bot_messages(u)]
            log = bot.log()
            dropped = wecom.stats.dropped_over_limit
        finally:
            await wecom.stop()

    print(
        f"  ran: {args.plans} running plans x {args.members_per_plan} members "
        f"({len(tg_plans)} Telegram and {len(wc_plans)} WeCom plans reminded at 09:00, "
        f"the others at 09:00 in Urumqi), {args.finished} finished plans"
    )
    print(f"  start-up to the first poll     {first_poll:6.2f} s (goal < 3 s)")
    print(f"  start-up to the first tick end {first_tick:6.2f} s (its first slice of plans)")
    print(f"  start-up to every plan planned {first_planning:6.2f} s")
    during_startup = [lat for asked, lat in latencies if asked < planned]
    print(
        f"  /mytasks until then: {len(during_startup)} round trips, p50 "
        f"{percentile(during_startup, 50) * 1000:.0f} ms, max {max(during_startup, default=0) * 1000:.0f} ms"
    )
    print(f"  RSS idle                       {idle_rss / 1024:6.1f} MiB (goal < 200 MiB)")
    print(
        f"  RSS peak                       {peak[0] / 1024:6.1f} MiB ({peak[0] / idle_rss:.2f} x idle)"
    )

    print(
        f"  CPU during the burst ({burst_wall:.0f} s): huiwu {burst_cpu:.1f} s "
        f"({burst_cpu / burst_wall:.0%} of a core), the emulators {own_cpu:.1f} s "
        f"({own_cpu / burst_wall:.0%})"
    )
    entries = [m for inboxes in tg_inboxes.values() for inbox in inboxes for m in inbox]
    times = sorted(m.time for m in entries)
    wall = times[-1] - times[0]
    floor = (len(entries) - 1) / TELEGRAM_RATE
    token_floor = burst_floor(times, answer_times)
    lost = sum(1 for inboxes in tg_inboxes.values() for inbox in inboxes if not inbox)
    duplicated = sum(
        len(inbox) - 1 for inboxes in tg_inboxes.values() for inbox in inboxes if len(inbox) > 1
    )
    fair_first = len(tg_plans) / TELEGRAM_RATE  # one round over the plans at the floor's rate
    firsts = [
        min(m.time for inbox in inboxes for m in inbox) - times[0]
        for inboxes in tg_inboxes.values()
        if any(inboxes)
    ]
    starved = sum(1 for t in firsts if t > FAIRNESS_GOAL * fair_first)
    if args.timeline:
        print("    first reminder of each plan, s:", " ".join(f"{t:.1f}" for t in sorted(firsts)))
    print(f"  Telegram: {len(entries)} reminders to {len(tg_plans)} plans' members")
    if args.timeline:
        buckets = Counter(int((t - times[0]) // 2) for t in times)
        print("    sent per 2 s:", " ".join(str(buckets[b]) for b in range(max(buckets) + 1)))
        print("   ", "\n    ".join(line for line in log.splitlines() if "schedule planned" in line))
    print(f"    wall, first to last          {wall:6.2f} s")
    print(f"    floor at 30 msg/s            {floor:6.2f} s")
    print(f"    wall / floor                 {wall / floor:6.3f} (reminders only)")
    print(
        f"    wall / floor of the token    {wall / token_floor:6.3f} (goal <= 1.10; the floor counts "
        f"the {round((token_floor - floor) * TELEGRAM_RATE)} /mytasks answers sent meanwhile too)"
    )
    print(f"    429 answers                  {too_many} (goal 0)")
    print(f"    lost / duplicated            {lost} / {duplicated} (goal 0 / 0)")
    print(
        f"    first reminder of a plan     median {statistics.median(firsts):.2f} s, "
        f"max {max(firsts):.2f} s; fair share {fair_first:.2f} s "
        f"(max / fair {max(firsts) / fair_first:.2f}, goal <= {FAIRNESS_GOAL})"
    )
    print(f"    plans starved (> {FAIRNESS_GOAL} x fair)    {starved}")
    wc_entries = [m for inboxes in wc_inboxes.values() for inbox in inboxes for m in inbox]
    wc_times = sorted(m.time for m in wc_entries)
    wc_lost = sum(1 for inboxes in wc_inboxes.values() for inbox in inboxes if not inbox)
    wc_dup = sum(
        len(inbox) - 1 for inboxes in wc_inboxes.values() for inbox in inboxes if len(inbox) > 1
    )
    print(f"  WeCom: {len(wc_entries)} reminders to {len(wc_plans)} plans' members")
    if wc_times:
        print(f"    wall, first to last          {wc_times[-1] - wc_times[0]:6.2f} s")
    print(f"    dropped by WeCom             {dropped} (must be 0)")
    print(f"    lost / duplicated            {wc_lost} / {wc_dup} (goal 0 / 0)")
    during_burst = [lat for asked, lat in latencies if burst_started <= asked <= burst_ended]
    print(
        f"  /mytasks during the burst: {len(during_burst)} round trips, p50 "
        f"{percentile(during_burst, 50) * 1000:.0f} ms, p99 {percentile(during_burst, 99) * 1000:.0f} ms"
        " (goal p99 < 100 ms)"
    )
    if args.timeline:
        slowest = sorted(
            ((lat, asked) for asked, lat in latencies if burst_started <= asked), reverse=True
        )[:3]
        print(
            "    slowest, ms (at s into the burst):",
            " ".join(f"{lat * 1000:.0f} ({asked - burst_started:.1f})" for lat, asked in slowest),
        )
    before = [lat for asked, lat in latencies if planned <= asked < burst_started]
    print(
        f"  /mytasks from every plan planned to the first reminder (the 09:00 pass among them): "
        f"{len(before)} round trips, p50 {percentile(before, 50) * 1000:.0f} ms, "
        f"p99 {percentile(before, 99) * 1000:.0f} ms, max {max(before, default=0) * 1000:.0f} ms"
    )
    return db_path


# -- 3. the season's database -----------------------------------------------------------------

GROWING = ("outbox", "reminder_log", "wecom_callbacks", "submissions", "ballots")


async def sizes(path: Path) -> tuple[float, float, Counter[str]]:
    db = await Database.open(str(path))
    try:
        rows = Counter()
        for table in GROWING:
            row = await db.fetch_one(f"SELECT COUNT(*) FROM {table}")
            rows[table] = int(row[0]) if row else 0
        page = await db.fetch_one("PRAGMA page_size")
        count = await db.fetch_one("PRAGMA page_count")
        free = await db.fetch_one("PRAGMA freelist_count")
        assert page and count and free
        live = (int(count[0]) - int(free[0])) * int(page[0]) / 2**20
        await db.forget()
        return path.stat().st_size / 2**20, live, rows  # noqa: ASYNC240
    finally:
        await db.close()


async def season(db_path: Path, days: int) -> None:
    import shutil

    shutil.copy(db_path, "/tmp/season.sqlite3")
    print(f"\n3. the database after the season, and with HUIWU_RETENTION_DAYS={days}")
    before_file, before_live, before_rows = await sizes(db_path)
    db = await Database.open(str(db_path))
    try:
        pruned = await retention.prune(db, BURST + timedelta(days=1), days)
    finally:
        await db.close()
    _after_file, after_live, after_rows = await sizes(db_path)
    print(f"  {'':<18} {'before':>9} {'pruned':>9} {'after':>9}")
    for table in GROWING:
        print(
            f"  {table + ' rows':<18} {before_rows[table]:>9} {pruned.get(table, 0):>9}"
            f" {after_rows[table]:>9}"
        )
    print(f"  {'data MiB':<18} {before_live:>9.1f} {'':>9} {after_live:>9.1f}")
    print(
        f"  file {before_file:.1f} MiB (pruned pages are reused; `sqlite3 FILE VACUUM` gives them back)"
    )


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="huiwu-province-") as tmp:
        workdir = Path(args.keep or tmp)
        workdir.mkdir(parents=True, exist_ok=True)  # noqa: ASYNC240
        if not args.skip_ticks:
            await tick_figures(args, workdir)
        if args.ticks_only:
            return 0
        db_path = await burst(args, workdir)
        await season(db_path, args.retention_days)
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plans", type=int, default=300, help="running plans")
    parser.add_argument("--members-per-plan", type=int, default=10)
    parser.add_argument("--finished", type=int, default=2000, help="last year's plans")
    parser.add_argument("--lead", type=float, default=30.0, help="seconds before 09:00")
    parser.add_argument("--retention-days", type=int, default=30)
    parser.add_argument("--keep", help="a folder to keep the database and the bot's log in")
    parser.add_argument("--profile", help="write a cProfile of the bot process to this file")
    parser.add_argument("--timeline", action="store_true", help="sends per 2 s, slow ticks")
    parser.add_argument("--ticks-only", action="store_true", help="only the in-process ticks")
    parser.add_argument("--skip-ticks", action="store_true", help="only the burst and the size")
    sys.exit(asyncio.run(main(parser.parse_args())))
