"""Huiwu as ``huiwu run`` runs it (settings from the environment), for the benchmarks.

``--unlimited`` lifts the sender's Telegram limits, so that a benchmark against an emulator
without flood limits measures the core's own speed rather than Telegram's 30 messages a
second.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import signal

from bot.adapters.telegram.adapter import TELEGRAM_POLICY
from bot.core.config import load_settings
from bot.run.runtime import Runtime, TelegramOptions

UNLIMITED = dataclasses.replace(
    TELEGRAM_POLICY, overall=None, per_private_chat=(), per_group_chat=()
)


async def serve(unlimited: bool) -> None:
    settings = load_settings()
    telegram = TelegramOptions(
        token=settings.telegram_token or "",
        base_url=settings.telegram_api_base_url,
        policy=UNLIMITED if unlimited else TELEGRAM_POLICY,
    )
    runtime = Runtime(
        str(settings.db_path), settings.make_clock(), settings.locale, telegram=telegram
    )
    await runtime.start()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    try:
        await stop.wait()
    finally:
        await runtime.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--unlimited", action="store_true")
    asyncio.run(serve(parser.parse_args().unlimited))
