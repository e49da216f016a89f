"""The WeCom robot's group command round trip and its recovery after a forced disconnect
(issue 17).

Run: ``.venv/bin/python bench/wecom_robot.py [--count 200] [--trials 20]`` (not collected by
pytest). The real bot (``Runtime`` with a SQLite file) runs in this process against the WeCom
API emulator and the robot emulator (its WebSocket gateway and response_url endpoint), all on
loopback; send limits run on virtual time (as in the tests), so only the path is measured.

1. **Round trip**: the organizer @-mentions the robot in the plan's group with /status; from
   the gateway sending the frame until the answer is shown in the group (frame → journal →
   router → handler → outbox → response_url POST). Baseline, in the same run: the same
   /status sent to the self-built app as a signed, encrypted callback, answered in the app
   chat by message/send. p50 and p99 of each, and their ratio.
2. **Recovery**: the gateway drops the connection (as a network failure), a member mentions
   the robot while the bot is away, and the time from the drop until that answer is shown
   is measured; the gateway also delivers the last two frames again. Goal: under 5 s, no
   command lost, none answered twice. The bot's production backoff is used (first retry after
   0.25-0.5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bot.core.clock import ManualClock
from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.run.runtime import RobotOptions, Runtime
from bot.sandbox.demo.telegram import seed_plan_text
from bot.sandbox.demo.wecom import USERIDS, options_on_emulator, with_city_leader_on_wecom
from bot.sandbox.wecom.api import WeComEmulator
from bot.sandbox.wecom.callbacks import WeComCallbackClient
from bot.sandbox.wecom.people import VirtualTime
from bot.sandbox.wecom.robot import RobotEmulator

CORP_ID = "wwbenchrobot012345"
CORP_SECRET = "bench-robot-secret-" + "b" * 24
AGENT_ID = 1000002
TOKEN = "HuiwuBenchToken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
BOT_ID, BOT_SECRET = "aibBench01", "bench-bot-secret"
GROUP = "wrkBenchGroup"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def main(count: int, trials: int) -> None:
    virtual = VirtualTime()
    api = WeComEmulator(corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID, clock=virtual)
    clock = ManualClock(datetime.fromisoformat("2013-12-03T10:00+08:00"))
    robot = RobotEmulator(
        bot_id=BOT_ID, secret=BOT_SECRET, clock=lambda: clock.now().timestamp(), redeliver=2
    )
    async with api:
        await robot.start()
        for name, userid in USERIDS.items():
            api.add_user(userid, name)
        with tempfile.TemporaryDirectory(prefix="huiwu-bench-robot-") as folder:
            options = options_on_emulator(
                api,
                CORP_SECRET,
                TOKEN,
                AES_KEY,
                virtual,
                create_menu=False,
                robot=RobotOptions(bot_id=BOT_ID, secret=BOT_SECRET, gateway_url=robot.ws_url),
            )
            runtime = Runtime(str(Path(folder) / "bench.sqlite3"), clock, wecom=options)
            await runtime.start()
            text = with_city_leader_on_wecom(seed_plan_text())
            async with runtime.app.db.transaction() as conn:
                instance_id = await store_plan(
                    conn, load_plan_text(text), text, loaded_by="bench", now=clock.now()
                )
            del instance_id  # bound by /setup in the group, below
            assert runtime.wecom_server is not None
            await asyncio.wait_for(robot.subscribed.wait(), 10)
            callbacks = WeComCallbackClient(
                runtime.wecom_server.url, TOKEN, AES_KEY, CORP_ID, AGENT_ID
            )
            try:
                await robot.mention(GROUP, "FangLei", "/setup")
                await robot.wait_for_messages(GROUP, 1)
                await runtime.join()
                robot_times = await robot_round_trips(robot, count)
                app_times = await app_round_trips(api, callbacks, count)
                recoveries, lost, doubled = await recover(robot, runtime, trials)
            finally:
                await callbacks.close()
                await runtime.stop()
                await robot.stop()
    report(robot_times, app_times, recoveries, lost, doubled, count, trials)


async def robot_round_trips(robot: RobotEmulator, count: int) -> list[float]:
    times = []
    for _ in range(count):
        shown = len(robot.messages(GROUP))
        started = time.perf_counter()
        await robot.mention(GROUP, "FangLei", "/status")
        await robot.wait_for_messages(GROUP, shown + 1)
        times.append(time.perf_counter() - started)
    return times


async def app_round_trips(
    api: WeComEmulator, callbacks: WeComCallbackClient, count: int
) -> list[float]:
    times = []
    for _ in range(count):
        shown = len(api.inbox("FangLei"))
        started = time.perf_counter()
        response = await callbacks.send_text("FangLei", "/status")
        assert response.status == 200
        async with asyncio.timeout(30):
            while len(api.inbox("FangLei")) <= shown:  # noqa: ASYNC110 (the app emulator has no signal)
                await asyncio.sleep(0.0005)
        times.append(time.perf_counter() - started)
    return times


async def recover(
    robot: RobotEmulator, runtime: Runtime, trials: int
) -> tuple[list[float], int, int]:
    recoveries, lost, doubled = [], 0, 0
    for trial in range(trials):
        shown = len(robot.messages(GROUP))
        subscriptions = robot.stats.subscriptions
        started = time.perf_counter()
        await robot.force_disconnect()
        await robot.mention(GROUP, "TangJun", "/plan" if trial % 2 else "/status")
        try:
            await robot.wait_for_messages(GROUP, shown + 1, seconds=30)
        except TimeoutError:
            lost += 1
            continue
        recoveries.append(time.perf_counter() - started)
        assert robot.stats.subscriptions == subscriptions + 1
        await runtime.join()
        await asyncio.sleep(0.05)  # room for a duplicate answer to show, were there one
        doubled += max(0, len(robot.messages(GROUP)) - shown - 1)
    return recoveries, lost, doubled


def report(
    robot_times: list[float],
    app_times: list[float],
    recoveries: list[float],
    lost: int,
    doubled: int,
    count: int,
    trials: int,
) -> None:
    def ms(value: float) -> str:
        return f"{value * 1000:8.2f} ms"

    print(f"Group command round trip, {count} × /status (sequential)")
    print(f"{'':44}{'p50':>11}{'p99':>11}   ratio p50 / p99")
    base50, base99 = percentile(app_times, 0.5), percentile(app_times, 0.99)
    print(
        f"{'baseline: the app (callback → message/send)':44}{ms(base50)}{ms(base99)}   1.00 / 1.00"
    )
    r50, r99 = percentile(robot_times, 0.5), percentile(robot_times, 0.99)
    print(
        f"{'robot: group @-mention → response_url':44}{ms(r50)}{ms(r99)}"
        f"   {r50 / base50:.2f} / {r99 / base99:.2f}"
    )
    print(f"\nRecovery after a forced disconnect, {trials} trials (goal < 5 s)")
    if recoveries:
        print(
            f"  p50 {statistics.median(recoveries):.3f} s, max {max(recoveries):.3f} s;"
            f" lost {lost}, answered twice {doubled}"
        )
    else:
        print(f"  no recovery; lost {lost}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--trials", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.count, args.trials))
