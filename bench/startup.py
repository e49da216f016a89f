"""Start-up: from starting the process to its first getUpdates, and resident memory once
idle, for ``huiwu run`` (a 1,000-member plan loaded) beside the bare python-telegram-bot
echo bot, each started ``--runs`` times in turn; medians and ratios.

Run: ``.venv/bin/python -m bench.startup``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.baseline import ECHO_TOKEN, echo_process
from bot.sandbox.crash_harness import (
    PHASE_START,
    TOKEN,
    BotProcess,
    add_members,
    fanout_plan,
    prepare_database,
    wait_until,
)
from bot.sandbox.telegram.api import TelegramEmulator

IDLE_SETTLE = 2.0  # seconds after the first poll before reading the memory


async def first_poll(emulator: TelegramEmulator, bot: BotProcess) -> tuple[float, int]:
    """Seconds from spawn to the bot's first getUpdates, and its RSS (KiB) once idle."""
    polls = emulator.stats.requests_by_method["getUpdates"]
    started = time.monotonic()
    await bot.start()
    try:
        await wait_until(
            lambda: emulator.stats.requests_by_method["getUpdates"] > polls,
            timeout=60,
            what="the first poll",
            bot=bot,
        )
        elapsed = time.monotonic() - started
        await asyncio.sleep(IDLE_SETTLE)
        return elapsed, bot.rss_kib()
    finally:
        await bot.stop()


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="huiwu-startup-") as tmp:
        workdir = Path(tmp)
        async with TelegramEmulator() as emulator:
            emulator.add_bot(TOKEN)
            emulator.add_bot(ECHO_TOKEN, username="echo_bot")
            members = add_members(emulator, 1000)
            db_path = workdir / "huiwu.sqlite3"
            await prepare_database(db_path, fanout_plan(members), now=PHASE_START, group_id=None)
            # Long before the phase: the bot only polls.
            huiwu = BotProcess(
                db_path,
                emulator,
                workdir=workdir,
                clock_start=PHASE_START - timedelta(days=1),
            )
            echo = echo_process(emulator, db_path, workdir)
            results: dict[str, list[tuple[float, int]]] = {"huiwu": [], "echo": []}
            for _run in range(args.runs):
                results["echo"].append(await first_poll(emulator, echo))
                results["huiwu"].append(await first_poll(emulator, huiwu))

    def medians(name: str) -> tuple[float, float]:
        return (
            statistics.median(t for t, _ in results[name]),
            statistics.median(rss for _, rss in results[name]) / 1024,
        )

    echo_start, echo_rss = medians("echo")
    huiwu_start, huiwu_rss = medians("huiwu")
    print(f"start-up to the first poll and idle memory, median of {args.runs} starts each")
    print(f"  {'':<32} {'first poll s':>12} {'RSS MiB':>8}")
    print(f"  {'bare python-telegram-bot echo':<32} {echo_start:12.2f} {echo_rss:8.1f}")
    print(f"  {'huiwu run (1,000-member plan)':<32} {huiwu_start:12.2f} {huiwu_rss:8.1f}")
    print(
        f"  ratio Huiwu / echo: start-up {huiwu_start / echo_start:.2f}, "
        f"memory {huiwu_rss / echo_rss:.2f}"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    sys.exit(asyncio.run(main(parser.parse_args())))
