"""Memory while a member's file is kept (issue 22, item 5): the peak Python allocation
(tracemalloc) while one file is fetched from the Telegram emulator over loopback HTTP and kept,
for several sizes. The emulator runs in a child process, so only the bot's side is measured. Baseline, in the same run: python-telegram-bot's own download of the same
file into memory (``File.download_as_bytearray``, how Huiwu fetched hand-ins before), which
holds the whole file. Huiwu now streams it into the files folder (``storage.files``).

Run: ``.venv/bin/python -m bench.upload_memory [--sizes 1 5 19]`` (sizes in MiB).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path

from bot.adapters.telegram.adapter import TelegramMessenger, build_application
from bot.core.messaging import IncomingFile
from bot.sandbox.telegram.api import TelegramEmulator
from storage.files import FileStore

TOKEN = "123456:BENCH-UPLOAD"
MIB = 1024 * 1024


async def peak_of(action: Callable[[], Awaitable[object]]) -> int:
    """The peak of traced memory above what was allocated before ``action``."""
    before, _peak = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    await action()
    _now, peak = tracemalloc.get_traced_memory()
    return peak - before


async def serve(sizes: list[int]) -> None:
    """The child: the emulator with one file per size; prints where, waits for stdin to close."""
    emulator = TelegramEmulator()
    await emulator.start()
    emulator.add_bot(TOKEN)
    user = emulator.add_user("Member")
    files = {}
    for size in sizes:
        update = emulator.send_document(user, f"file-{size}.bin", b"\1" * (size * MIB))
        files[size] = update["message"]["document"]["file_id"]
    print(
        json.dumps({"api": emulator.base_url, "files_url": emulator.base_file_url, "files": files}),
        flush=True,
    )
    await asyncio.to_thread(sys.stdin.read)
    await emulator.stop()


async def main(sizes: list[int]) -> None:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.upload_memory",
        "--serve",
        "--sizes",
        *map(str, sizes),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    assert child.stdout is not None and child.stdin is not None
    where = json.loads(await child.stdout.readline())
    application = build_application(TOKEN, base_url=where["api"], base_file_url=where["files_url"])
    await application.initialize()
    messenger = TelegramMessenger(application)
    rows = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            store = FileStore(Path(folder) / "huiwu.sqlite3.files")
            tracemalloc.start()
            for size in sizes:
                file = IncomingFile(where["files"][str(size)], size=size * MIB)
                baseline = await peak_of(lambda f=file: messenger.download(f))
                streamed = await peak_of(
                    lambda f=file: store.store(
                        lambda sink: messenger.download_to(f, sink), limit=20 * MIB
                    )
                )
                rows.append((size, baseline, streamed))
            tracemalloc.stop()
    finally:
        await application.shutdown()
        child.stdin.close()
        await asyncio.wait_for(child.wait(), timeout=30)
    print("| file | PTB download into memory (baseline) | streamed into the files folder | ratio |")
    print("| ---: | ---: | ---: | ---: |")
    for size, baseline, streamed in rows:
        print(
            f"| {size} MiB | {baseline / MIB:.2f} MiB | {streamed / MIB:.2f} MiB"
            f" | {streamed / baseline:.3f} |"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1, 5, 19])
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    asyncio.run(serve(args.sizes) if args.serve else main(args.sizes))
