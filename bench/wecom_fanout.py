"""Fan-out on WeCom against its per-member limits: a phase start pushes ``--tasks`` tasks to
each of ``--members`` members, more than the 30 messages a minute WeCom lets an app send one
member (it drops the rest silently, answering errcode 0); ``huiwu run`` with WeCom only, in
its own process, against the WeCom API emulator enforcing those limits.

Prints the wall time from the first push to the last against the floor the per-member limit
sets (the 31st message to a member cannot arrive within a minute of the first), the messages
dropped by WeCom (must be 0), lost and duplicated.

Run: ``.venv/bin/python -m bench.wecom_fanout`` (about 70 s).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import socket
import sys
import tempfile
from collections import Counter
from pathlib import Path

from bot.sandbox.crash_harness import (
    PHASE_START,
    BotProcess,
    fanout_plan,
    prepare_database,
    wait_until,
)
from bot.sandbox.wecom.api import MEMBER_LIMITS, WeComEmulator

CORP_ID = "ww5f3e2d1c0b0a0987"
CORP_SECRET = "huiwu-bench-corp-secret-" + "x" * 19
AGENT_ID = 1000002
AES_KEY = base64.b64encode(hashlib.sha256(b"huiwu bench").digest()).decode()[:43]
PER_MINUTE, MINUTE = MEMBER_LIMITS[0]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="huiwu-wecom-fanout-") as tmp:
        workdir = Path(tmp)
        emulator = WeComEmulator(corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID)
        await emulator.start()
        try:
            userids = [f"member{index:04d}" for index in range(args.members)]
            for index, userid in enumerate(userids):
                emulator.add_user(userid, f"成员{index + 1:04d}")
            db_path = workdir / "huiwu.sqlite3"
            plan = fanout_plan(userids, tasks=args.tasks)
            await prepare_database(db_path, plan, now=PHASE_START, group_id=None)
            settings = {
                "WECOM_CORP_ID": CORP_ID,
                "WECOM_AGENT_ID": str(AGENT_ID),
                "WECOM_SECRET": CORP_SECRET,
                "WECOM_TOKEN": "HuiwuBenchToken",
                "WECOM_AES_KEY": AES_KEY,
                "WECOM_API_BASE_URL": emulator.base_url,
                "HUIWU_HTTP_PORT": str(free_port()),
            }
            bot = BotProcess(db_path, None, workdir=workdir, extra_env=settings)
            expected = args.members * args.tasks
            await bot.start()
            try:
                await wait_until(
                    lambda: (
                        sum(len(emulator.inbox(u)) for u in userids)
                        + emulator.stats.dropped_over_limit
                        >= expected
                    ),
                    timeout=MINUTE * (args.tasks // PER_MINUTE + 1) + 60,
                    what="every push",
                    bot=bot,
                    interval=0.2,
                )
                await asyncio.sleep(2.0)  # anything sent twice would arrive now
            finally:
                await bot.stop()
            inboxes = {userid: emulator.inbox(userid) for userid in userids}
            dropped = emulator.stats.dropped_over_limit
        finally:
            await emulator.stop()

    received = [message for inbox in inboxes.values() for message in inbox]
    times = sorted(message.time for message in received)
    wall = times[-1] - times[0]
    floor = MINUTE * ((args.tasks - 1) // PER_MINUTE)
    per_member = Counter(len(inbox) for inbox in inboxes.values())
    lost = sum(max(0, args.tasks - len(inbox)) for inbox in inboxes.values())
    duplicated = sum(max(0, len(inbox) - args.tasks) for inbox in inboxes.values())
    print(
        f"WeCom fan-out: {args.tasks} tasks pushed to each of {args.members} members "
        f"({PER_MINUTE} a minute per member allowed)"
    )
    print(f"  messages delivered          {len(received)} of {expected}")
    print(f"  wall, first to last         {wall:.2f} s")
    print(f"  floor (per-member limit)    {floor:.2f} s")
    if floor:
        print(f"  wall / floor                {wall / floor:.3f} (goal <= 1.10)")
    print(f"  dropped by WeCom            {dropped} (must be 0)")
    print(f"  lost / duplicated           {lost} / {duplicated} (must be 0 / 0)")
    print(f"  messages per member         {dict(per_member)}")
    return 0 if lost == dropped == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=35)
    sys.exit(asyncio.run(main(parser.parse_args())))
