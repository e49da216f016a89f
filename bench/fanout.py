"""Fan-out at Telegram's limits: a phase start pushes one task to each of 1,000 members
(and a notice to the group) while the emulator enforces Telegram's limits; ``huiwu run``
in its own process, as deployed.

Prints the wall time from the first push to the last against the floor that 30 messages a
second set (goal: at most 1.1 × the floor), the 429 answers (goal: 0), the messages lost
(must be 0) and duplicated, and Huiwu's resident memory idle (after its first poll) and
after the run.

Run: ``.venv/bin/python -m bench.fanout`` (``--members N``).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bot.sandbox.crash_harness import (
    GROUP_ID,
    PHASE_START,
    TOKEN,
    BotProcess,
    add_members,
    fanout_plan,
    prepare_database,
    wait_until,
)
from bot.sandbox.telegram.api import TelegramEmulator

TELEGRAM_RATE = 30.0  # messages a second, Telegram's documented overall limit
IDLE_SECONDS = 10.0  # the bot starts this long (real = simulated seconds) before the phase


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="huiwu-fanout-") as tmp:
        workdir = Path(tmp)
        async with TelegramEmulator() as emulator:  # Telegram's limits enforced
            emulator.add_bot(TOKEN)
            members = add_members(emulator, args.members)
            emulator.add_group("基准测试群", members[:1], chat_id=GROUP_ID)
            db_path = workdir / "huiwu.sqlite3"
            await prepare_database(db_path, fanout_plan(members), now=PHASE_START)
            clock_start = PHASE_START - timedelta(seconds=IDLE_SECONDS)
            bot = BotProcess(db_path, emulator, workdir=workdir, clock_start=clock_start)
            spawned = time.monotonic()
            await bot.start()
            try:
                await wait_until(
                    lambda: emulator.stats.requests_by_method["getUpdates"] > 0,
                    timeout=60,
                    what="the first poll",
                    bot=bot,
                )
                first_poll = time.monotonic() - spawned
                await asyncio.sleep(2.0)
                idle_rss = bot.rss_kib()
                expected = args.members + 1
                await wait_until(
                    lambda: emulator.stats.messages_sent >= expected,
                    timeout=IDLE_SECONDS + expected / 10,
                    what="every push",
                    bot=bot,
                    interval=0.05,
                )
                await asyncio.sleep(1.0)  # anything sent twice would arrive now
                after_rss = bot.rss_kib()
            finally:
                await bot.stop()
            received = {uid: emulator.bot_messages(uid) for uid in members}
            group = emulator.bot_messages(GROUP_ID)
            stats = emulator.stats

    entries = [entry for inbox in received.values() for entry in inbox] + group
    times = sorted(entry.time for entry in entries)
    wall = times[-1] - times[0]
    floor = (len(entries) - 1) / TELEGRAM_RATE
    lost = sum(1 for inbox in received.values() if not inbox) + (0 if group else 1)
    duplicated = sum(len(inbox) - 1 for inbox in received.values() if len(inbox) > 1)
    print(
        f"fan-out: a phase start pushing to {args.members} members and the group, Telegram's limits"
    )
    print(f"  messages delivered     {len(entries)}")
    print(f"  wall, first to last    {wall:.2f} s")
    print(f"  floor at 30 msg/s      {floor:.2f} s")
    print(f"  wall / floor           {wall / floor:.3f} (goal <= 1.10)")
    print(f"  429 answers            {stats.too_many_requests} (goal 0)")
    print(f"  messages lost          {lost} (must be 0)")
    print(f"  messages duplicated    {duplicated}")
    print(f"  start-up to first poll {first_poll:.2f} s")
    print(f"  RSS idle               {idle_rss / 1024:.1f} MiB")
    print(
        f"  RSS after the run      {after_rss / 1024:.1f} MiB ({after_rss / idle_rss:.2f} x idle)"
    )
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1000)
    sys.exit(asyncio.run(main(parser.parse_args())))
