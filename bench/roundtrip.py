"""Command round trip: simulated members send /mytasks and /status to Huiwu through the
Telegram emulator; the same load goes to a bare python-telegram-bot echo bot on the same
emulator in the same run. Both bots run as their own processes.

Two measurements:

* capacity: the emulator without flood limits and Huiwu's sender without its limits, each
  member sending its next command as soon as the answer came (closed loop): updates handled
  per second, p50 / p99 from update to reply, and Huiwu's throughput as a ratio of the
  bare bot's (goal: at least 0.7);
* at Telegram's limits: the emulator enforcing them, Huiwu as deployed, members sending at
  a steady 20 updates a second in all: p50 / p99 latency (goal: p99 under 50 ms).

Run: ``.venv/bin/python -m bench.roundtrip`` (``--members``, ``--commands``, ``--rate``).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.baseline import ECHO_TOKEN, echo_process
from bot.sandbox.crash_harness import (
    GROUP_ID,
    PHASE_START,
    REPO,
    TOKEN,
    BotProcess,
    add_members,
    fanout_plan,
    prepare_database,
    wait_until,
)
from bot.sandbox.telegram.api import TelegramEmulator
from bot.sandbox.telegram.limits import FloodLimits

HUIWU_COMMANDS = ("/mytasks", "/status")


@dataclass
class Sample:
    latencies: list[float] = field(default_factory=list)  # seconds
    wall: float = 0.0
    cpu: float = 0.0  # seconds of the bot process's CPU during the run

    @property
    def per_second(self) -> float:
        return len(self.latencies) / self.wall if self.wall else 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] * 1000

    def line(self, name: str) -> str:
        return (
            f"  {name:<28} {self.per_second:8.1f} {self.percentile(50):8.1f}"
            f" {self.percentile(99):8.1f} {len(self.latencies):8d}"
            f" {self.cpu * 1000 / len(self.latencies):8.2f} {self.cpu / self.wall:6.0%}"
        )


async def ask(emulator: TelegramEmulator, user_id: int, text: str, sample: Sample) -> None:
    """One update and its reply; the latency is taken on the emulator's clock."""
    since = len(emulator.transcript(user_id))
    sent_at = time.monotonic()
    emulator.send_text(user_id, text)
    reply = await emulator.wait_for_bot_message(user_id, since=since, timeout=30)
    sample.latencies.append(reply.time - sent_at)


async def closed_loop(
    emulator: TelegramEmulator, members: list[int], texts: tuple[str, ...], per_member: int
) -> Sample:
    sample = Sample()

    async def member(user_id: int) -> None:
        for index in range(per_member):
            await ask(emulator, user_id, texts[index % len(texts)], sample)

    started = time.monotonic()
    await asyncio.gather(*(member(user_id) for user_id in members))
    sample.wall = time.monotonic() - started
    return sample


async def paced(
    emulator: TelegramEmulator,
    members: list[int],
    texts: tuple[str, ...],
    rate: float,
    seconds: float,
) -> Sample:
    """Members take turns so that ``rate`` updates a second arrive in all, evenly spread."""
    sample = Sample()
    period = len(members) / rate
    started = time.monotonic()

    async def member(offset: float, user_id: int) -> None:
        index = 0
        while (due := started + offset + index * period) < started + seconds:
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            await ask(emulator, user_id, texts[index % len(texts)], sample)
            index += 1

    await asyncio.gather(*(member(i * period / len(members), uid) for i, uid in enumerate(members)))
    sample.wall = time.monotonic() - started
    return sample


async def start_huiwu(
    emulator: TelegramEmulator,
    members: list[int],
    workdir: Path,
    *,
    unlimited: bool,
    profile: Path | None = None,
) -> BotProcess:
    """Huiwu with the members' plan, its first phase pushed (and delivered) at start."""
    emulator.use_bot(TOKEN)
    for user_id in members:
        emulator.open_private_chat(user_id)
    db_path = workdir / f"huiwu-{'capacity' if unlimited else 'limits'}.sqlite3"
    await prepare_database(db_path, fanout_plan(members, tasks=3), now=PHASE_START)
    command: tuple[str, ...] = (
        str(REPO / "bench" / "serve_bot.py"),
        *(["--unlimited"] if unlimited else []),
    )
    if profile is not None:  # cProfile writes the bot's profile when it stops
        report = profile / f"huiwu-{'capacity' if unlimited else 'limits'}.pstats"
        command = ("-m", "cProfile", "-o", str(report), *command)
    bot = BotProcess(db_path, emulator, workdir=workdir, command=command)
    sent_before = emulator.stats.messages_sent
    await bot.start()
    pushes = len(members) * 3 + 1
    try:
        await wait_until(
            lambda: emulator.stats.messages_sent - sent_before >= pushes,
            timeout=120,
            what="the first phase's pushes",
            bot=bot,
        )
    except BaseException:
        await bot.stop()  # never leave a bot process behind
        raise
    if not unlimited:
        # The pushes used each chat's burst of three; measure once the buckets are full again.
        await asyncio.sleep(3 / 0.95 + 0.5)
    return bot


async def start_echo(emulator: TelegramEmulator, members: list[int], workdir: Path) -> BotProcess:
    emulator.use_bot(ECHO_TOKEN)
    for user_id in members:
        emulator.open_private_chat(user_id)
    bot = echo_process(emulator, workdir / "unused.sqlite3", workdir)
    polls = emulator.stats.requests_by_method["getUpdates"]
    await bot.start()
    try:
        await wait_until(
            lambda: emulator.stats.requests_by_method["getUpdates"] > polls,
            timeout=60,
            what="the echo bot's first poll",
            bot=bot,
        )
    except BaseException:
        await bot.stop()
        raise
    return bot


async def measure(
    emulator: TelegramEmulator,
    members: list[int],
    workdir: Path,
    args: argparse.Namespace,
    *,
    capacity: bool,
) -> tuple[Sample, Sample]:
    """Both bots on the same emulator, taking turns under the same load: in capacity mode
    ``args.rounds`` turns each and the best of each bot (the least disturbed by the
    machine's other work), at the limits one turn each."""
    echo = await start_echo(emulator, members, workdir)
    try:
        huiwu = await start_huiwu(
            emulator, members, workdir, unlimited=capacity, profile=args.profile
        )
    except BaseException:
        await echo.stop()
        raise
    samples: dict[str, list[Sample]] = {ECHO_TOKEN: [], TOKEN: []}
    try:
        for _round in range(args.rounds if capacity else 1):
            for token in (ECHO_TOKEN, TOKEN):
                emulator.use_bot(token)
                process = echo if token == ECHO_TOKEN else huiwu
                cpu_before = process.cpu_seconds()
                if capacity:
                    sample = await closed_loop(emulator, members, HUIWU_COMMANDS, args.commands)
                else:
                    sample = await paced(emulator, members, HUIWU_COMMANDS, args.rate, args.seconds)
                sample.cpu = process.cpu_seconds() - cpu_before
                samples[token].append(sample)
    finally:
        await echo.stop()
        await huiwu.stop()
    best = [max(samples[token], key=lambda s: s.per_second) for token in (ECHO_TOKEN, TOKEN)]
    return best[0], best[1]


async def main(args: argparse.Namespace) -> int:
    header = (
        f"  {'':<28} {'upd/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'updates':>8}"
        f" {'cpu ms/u':>8} {'cpu':>6}"
    )
    with tempfile.TemporaryDirectory(prefix="huiwu-bench-") as tmp:
        workdir = Path(tmp)
        results = {}
        for limited in (False, True):
            limits = FloodLimits(enabled=limited)
            async with TelegramEmulator(limits=limits) as emulator:
                emulator.add_bot(TOKEN)
                emulator.add_bot(ECHO_TOKEN, username="echo_bot")
                members = add_members(emulator, args.members)
                emulator.add_group("基准测试群", members[:1], chat_id=GROUP_ID)
                echo, huiwu = await measure(emulator, members, workdir, args, capacity=not limited)
                results[limited] = (echo, huiwu, emulator.stats.too_many_requests)

    echo, huiwu, _ = results[False]
    print(
        f"command round trip, capacity: {args.members} members in a closed loop, "
        f"{args.commands} commands each, no flood limits, best of {args.rounds} turns"
    )
    print(header)
    print(echo.line("bare python-telegram-bot echo"))
    print(huiwu.line("Huiwu /mytasks + /status"))
    ratio = huiwu.per_second / echo.per_second
    print(f"  throughput ratio Huiwu / echo: {ratio:.2f} (goal >= 0.70)")
    echo, huiwu, too_many = results[True]
    print(
        f"command round trip at Telegram's limits: {args.rate:g} updates/s offered for "
        f"{args.seconds:g} s, Huiwu's sender as deployed"
    )
    print(header)
    print(echo.line("bare python-telegram-bot echo"))
    print(huiwu.line("Huiwu /mytasks + /status"))
    print(
        f"  Huiwu p99 {huiwu.percentile(99):.1f} ms (goal < 50 ms); "
        f"p99 ratio Huiwu / echo {huiwu.percentile(99) / echo.percentile(99):.2f}; "
        f"429 answers: {too_many}"
    )
    print(
        f"  median latency ratio Huiwu / echo: {statistics.median(huiwu.latencies) / statistics.median(echo.latencies):.2f}"
    )
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=3, help="turns per bot, capacity run")
    parser.add_argument("--commands", type=int, default=12, help="per member, capacity run")
    parser.add_argument("--rate", type=float, default=20.0, help="updates/s, limits run")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the limits run")
    parser.add_argument(
        "--profile", type=Path, help="write cProfile profiles (pstats) of Huiwu to this directory"
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
