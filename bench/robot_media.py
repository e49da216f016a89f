"""Pushing a file to a WeCom robot chat over the long connection (time and peak memory), against
the self-built app's media upload of the same file in the same run.

The robot's path: ``RobotMessenger.send`` of a message carrying the file to a robot group chat:
``aibot_upload_media_init``, the 512 KB chunks (base64 in JSON frames, each acknowledged before
the next), ``aibot_upload_media_finish``, then ``aibot_send_msg`` with the media id, over the
loopback WebSocket to the robot emulator. Baseline: ``WeComClient.chat_send_file`` of the same
file (media/upload multipart POST, then appchat/send), what the app's messenger does for a
group chat. Both emulators run in a child process, so only the bot's side is measured: wall
time and the peak of Python allocations (tracemalloc) above what was allocated before (the
file itself, held by the outbox row's message, is allocated before both).

Run: ``.venv/bin/python -m bench.robot_media [--size 10] [--trials 3]`` (size in MiB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from bot.adapters.wecom.client import WeComClient
from bot.adapters.wecom.robot.connection import RobotConnection
from bot.adapters.wecom.robot.messenger import RobotMessenger
from bot.adapters.wecom.robot.receiver import ResponseUrls
from bot.core.messaging import OutgoingFile, OutgoingMessage
from bot.sandbox.wecom.api import WeComEmulator
from bot.sandbox.wecom.robot import RobotEmulator

MIB = 1024 * 1024
CORP_ID, CORP_SECRET, AGENT_ID = "wwbenchmedia01", "bench-media-secret-" + "m" * 24, 1000002
BOT_ID, BOT_SECRET = "aibBenchMedia", "bench-media-bot-secret"
GROUP = "wrkBenchMedia"


async def serve() -> None:
    """The child: both emulators; prints where, waits for stdin to close."""
    api = WeComEmulator(corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID)
    await api.start()
    for userid in ("u1", "u2"):
        api.add_user(userid, userid)
    robot = RobotEmulator(bot_id=BOT_ID, secret=BOT_SECRET)
    await robot.start()
    print(json.dumps({"api": api.base_url, "ws": robot.ws_url}), flush=True)
    await asyncio.to_thread(sys.stdin.read)
    await robot.stop()
    await api.stop()


async def measure(action: Callable[[], Awaitable[object]]) -> tuple[float, int]:
    """(seconds, peak bytes allocated above what was allocated before) of ``action``."""
    before, _peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    await action()
    seconds = time.perf_counter() - started
    _now, peak = tracemalloc.get_traced_memory()
    return seconds, peak - before


async def main(size: int, trials: int) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.robot_media",
        "--serve",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdin is not None
    where = json.loads(await child.stdout.readline())
    client = WeComClient(
        corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID, api_base_url=where["api"]
    )

    async def ignore(_body: object, _req_id: str) -> None:
        return None

    connection = RobotConnection(
        bot_id=BOT_ID, secret=BOT_SECRET, on_frame=ignore, url=where["ws"], heartbeat=30.0
    )
    await connection.start()
    # No mention came, so no response_url: the messages go by active push, as announcements do.
    urls = ResponseUrls(lambda: datetime.now(UTC))
    messenger = RobotMessenger(response_urls=urls, connection=connection)
    app_times: list[float] = []
    app_peaks: list[int] = []
    robot_times: list[float] = []
    robot_peaks: list[int] = []
    try:
        await connection.wait_connected(10)
        chatid = await client.create_chat("bench", "u1", ["u1", "u2"])
        tracemalloc.start()
        for trial in range(trials):
            (app_s, app_m), (robot_s, robot_m) = await one_trial(
                client, messenger, chatid, size, trial
            )
            app_times.append(app_s)
            app_peaks.append(app_m)
            robot_times.append(robot_s)
            robot_peaks.append(robot_m)
        tracemalloc.stop()
    finally:
        await messenger.close()
        await connection.stop()
        child.stdin.close()
        await asyncio.wait_for(child.wait(), timeout=30)
    report(size, trials, app_times, app_peaks, robot_times, robot_peaks)


async def one_trial(
    client: WeComClient, messenger: RobotMessenger, chatid: str, size: int, trial: int
) -> tuple[tuple[float, int], tuple[float, int]]:
    """(app, robot) figures for one new file (new content each trial: the robot must not
    reuse an earlier upload's media id)."""
    content = os.urandom(size * MIB)
    name = f"全部材料-{trial}.zip"
    message = OutgoingMessage(name, file=OutgoingFile(name, content, "application/zip"))
    app = await measure(lambda: client.chat_send_file(chatid, name, content))
    robot = await measure(lambda: messenger.send("robot:" + GROUP, message))
    return app, robot


def report(
    size: int,
    trials: int,
    app_times: list[float],
    app_peaks: list[int],
    robot_times: list[float],
    robot_peaks: list[int],
) -> None:
    app_s, robot_s = statistics.median(app_times), statistics.median(robot_times)
    app_m, robot_m = max(app_peaks), max(robot_peaks)
    print(f"{size} MiB file, {trials} trials (median time, largest peak):")
    print("| path | time | peak memory above the file | ratio time / memory |")
    print("| --- | ---: | ---: | ---: |")
    print(
        f"| baseline: the app's media/upload + appchat/send | {app_s:.3f} s | "
        f"{app_m / MIB:.2f} MiB | 1.00 / 1.00 |"
    )
    print(
        f"| robot: upload init + {-(-size * MIB // (512 * 1024))} chunks + finish + push "
        f"| {robot_s:.3f} s | {robot_m / MIB:.2f} MiB | "
        f"{robot_s / app_s:.2f} / {robot_m / app_m:.2f} |"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=10, help="MiB")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(serve() if args.serve else main(args.size, args.trials))
