"""The bot as a real process, killed and restarted: a reusable harness for crash tests and
benchmarks.

``BotProcess`` runs ``python -m bot.run.cli run`` (what ``huiwu run`` runs) against a Telegram
emulator served by the calling process, with the database file and simulated time given by
environment variables, and can kill it with SIGKILL (no shutdown code runs) or stop it with
SIGTERM. ``fanout_plan`` and ``prepare_database`` build a plan whose members are already
bound and reachable, so that starting the bot at the phase's start pushes one task to each
of them at once::

    emulator = TelegramEmulator(); await emulator.start(); emulator.add_bot(TOKEN)
    ids = add_members(emulator, 200)
    await prepare_database(db_path, fanout_plan(ids), now=PHASE_START)
    bot = BotProcess(db_path, emulator, clock_start=PHASE_START, workdir=tmp_path)
    await bot.start(); ...; bot.kill(); await bot.wait(); await bot.start()
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.sandbox.telegram.api import TelegramEmulator
from storage import instances
from storage.db import Database

REPO = Path(__file__).resolve().parents[2]
TOKEN = "123456:HUIWU-CRASH"
PHASE_START = datetime.fromisoformat("2013-12-03T09:00:01+08:00")  # the phase has just begun
FIRST_USER_ID = 7_100_000_001
GROUP_ID = -4_100_000_001


def add_members(emulator: TelegramEmulator, count: int) -> list[int]:
    """``count`` users who have opened the bot before; returns their ids, in order."""
    ids = []
    for index in range(count):
        user_id = emulator.add_user(f"成员{index + 1:04d}", user_id=FIRST_USER_ID + index)
        emulator.open_private_chat(user_id)
        ids.append(user_id)
    return ids


def fanout_plan(user_ids: list[int] | list[str], *, tasks: int = 1) -> str:
    """A one-phase plan starting 2013-12-03 whose ``tasks`` tasks go to every member; the
    first member is also the organizer. Members are bound by their Telegram ids (numbers) or
    their WeCom userids (strings)."""
    lines = [
        'title = "压力测试方案"',
        'timezone = "Asia/Shanghai"',
        'locale = "zh_CN"',
    ]
    for index, user_id in enumerate(user_ids):
        roles = '["organizer", "member"]' if index == 0 else '["member"]'
        lines += [
            "[[roster]]",
            f'id = "m{index + 1:04d}"',
            f'name = "成员{index + 1:04d}"',
            f"roles = {roles}",
            f'wecom_userid = "{user_id}"'
            if isinstance(user_id, str)
            else f"telegram_id = {user_id}",
        ]
    lines += ["[[phases]]", 'id = "work"', 'title = "工作阶段"']
    lines += ['start = "2013-12-03"', 'end = "2013-12-20"']
    for number in range(1, tasks + 1):
        lines += [
            "[[phases.tasks]]",
            f'id = "task{number}"',
            f'title = "任务{number}"',
            'assignees = ["@members"]',
            f'due = "2013-12-{min(9 + number, 20):02d}"',
            'submission = "text"',
        ]
    return "\n".join(lines) + "\n"


async def prepare_database(
    db_path: Path, plan_text: str, *, now: datetime, group_id: int | None = GROUP_ID
) -> int:
    """Store the plan as an active instance, every member reachable, the group bound."""
    db = await Database.open(str(db_path))
    try:
        plan = load_plan_text(plan_text)
        async with db.transaction() as conn:
            instance_id = await store_plan(conn, plan, plan_text, loaded_by="harness", now=now)
            await conn.execute("UPDATE identities SET reachable = 1")
            if group_id is not None:
                await instances.bind_chat(conn, instance_id, "telegram", str(group_id), now)
            await instances.set_status(conn, instance_id, "active")
    finally:
        await db.close()
    return instance_id


class BotProcess:
    """``huiwu run`` in a child process, talking to the Telegram ``emulator`` (or, given
    ``WECOM_*`` settings in ``extra_env``, to a WeCom one)."""

    def __init__(
        self,
        db_path: Path,
        emulator: TelegramEmulator | None,
        *,
        workdir: Path,
        clock_start: datetime | None = PHASE_START,
        clock_speed: float = 1.0,
        token: str = TOKEN,
        command: tuple[str, ...] = ("-m", "bot.run.cli", "run"),
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.workdir = workdir
        self.command = command
        inherited = ("HUIWU_", "TELEGRAM_", "WECOM_")
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(inherited)},
            "PYTHONPATH": str(REPO),
            "HUIWU_DB": str(db_path),
            "HUIWU_LOG_LEVEL": "INFO",
            "PTB_TIMEDELTA": "true",
            **(extra_env or {}),  # e.g. WECOM_* settings, with emulator=None for WeCom only
        }
        if emulator is not None:
            self.env["TELEGRAM_BOT_TOKEN"] = token
            self.env["TELEGRAM_API_BASE_URL"] = emulator.base_url
        if clock_start is not None:
            self.env["HUIWU_CLOCK_START"] = clock_start.isoformat()
            self.env["HUIWU_CLOCK_SPEED"] = str(clock_speed)
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    @property
    def log_path(self) -> Path:
        return self.workdir / f"bot-{self.starts}.log"

    async def start(self) -> None:
        """Start a new process (the previous one must have ended)."""
        assert self.process is None or self.process.returncode is not None
        self.starts += 1
        with self.log_path.open("wb") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                *self.command,
                cwd=self.workdir,  # no developer's .env is read from here
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def kill(self) -> None:
        """SIGKILL: the process dies at once, whatever it was doing."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)

    async def wait(self, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        assert self.process is not None
        return await asyncio.wait_for(self.process.wait(), timeout)

    async def stop(self, timeout: float = 10.0) -> int:  # noqa: ASYNC109
        """SIGTERM (a clean shutdown), SIGKILL if it does not end within ``timeout``."""
        if self.process is None:
            return 0
        if self.process.returncode is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return await self.wait(timeout)
        except TimeoutError:
            self.kill()
            return await self.wait()

    def rss_kib(self) -> int:
        """The process's resident memory (VmRSS) in KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
        return int(line.split()[1])

    def cpu_seconds(self) -> float:
        """CPU time the process has used so far, all threads, user and system."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def log(self) -> str:
        """Everything the current process wrote so far (for failure messages)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


async def wait_until(
    condition: Callable[[], bool],
    *,
    timeout: float,  # noqa: ASYNC109
    what: str,
    bot: BotProcess | None = None,
    interval: float = 0.005,
) -> None:
    """Poll ``condition`` until it holds; on timeout say what was awaited and show the log."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if bot is not None and bot.process is not None and bot.process.returncode is not None:
            raise AssertionError(
                f"the bot exited ({bot.process.returncode}) while waiting for {what}:\n{bot.log()}"
            )
        if loop.time() > deadline:
            log = f"\nbot log:\n{bot.log()[-4000:]}" if bot is not None else ""
            raise TimeoutError(f"not within {timeout} s: {what}{log}")
        await asyncio.sleep(interval)
