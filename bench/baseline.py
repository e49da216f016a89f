"""The baseline the Telegram benchmarks measure Huiwu against: the bare python-telegram-bot
echo bot (``bench/echo_bot.py``), run as its own process on the benchmark's emulator."""

from __future__ import annotations

from pathlib import Path

from bot.sandbox.crash_harness import REPO, BotProcess
from bot.sandbox.telegram.api import TelegramEmulator

ECHO_TOKEN = "654321:BENCH-ECHO"


def echo_process(emulator: TelegramEmulator, db_path: Path, workdir: Path) -> BotProcess:
    """The echo bot as a process (not started); ``db_path`` is unused but the harness wants one."""
    return BotProcess(
        db_path,
        emulator,
        workdir=workdir,
        token=ECHO_TOKEN,
        clock_start=None,
        command=(str(REPO / "bench" / "echo_bot.py"),),
    )
