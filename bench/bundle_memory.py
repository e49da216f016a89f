"""Memory of the export .zip (issue 19): the peak of Python allocations (tracemalloc) while
``write_bundle`` streams every handed-in file of a plan into a .zip on disk, against a
baseline measured in the same run: reading one of those files whole. Files in the files
folder (as uploads are kept now) and files kept as bytes in the database (rows from before)
are both measured; neither peak grows with the number of files.

Run: ``.venv/bin/python -m bench.bundle_memory [--files 40] [--mb 2]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import tracemalloc
from datetime import datetime, timedelta
from pathlib import Path

from bot.core.app import Huiwu
from bot.core.clock import ManualClock
from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.reports.bundle import write_bundle
from bot.sandbox.demo.telegram import seed_plan_text
from storage import assignments, instances
from storage.db import Database
from storage.files import CHUNK, FileSink
from storage.records import FileCopy

START = datetime.fromisoformat("2013-12-03T09:00+08:00")


async def fill(app: Huiwu, files: int, size: int, in_folder: bool) -> int:
    """The seed plan with ``files`` uploads of ``size`` random (incompressible) bytes."""
    db = app.db
    text = seed_plan_text()
    plan = load_plan_text(text)
    async with db.transaction() as conn:
        instance_id = await store_plan(conn, plan, text, loaded_by="bench", now=START)
    members = await instances.members_of(db, instance_id)
    task = plan.task("statements")
    async with db.transaction() as conn:
        await assignments.start_phase(conn, instance_id, task.phase_id, START)
        for member in members[:4]:
            await assignments.assign(conn, instance_id, task.id, member.id, task.due, START)
    records = await assignments.assignments_of_instance(db, instance_id)
    for number in range(files):
        record = records[number % len(records)]
        name = f"材料{number}.bin"
        if in_folder:

            async def fetch(sink: FileSink) -> None:
                for _piece in range(0, size, CHUNK):
                    sink.write(os.urandom(min(CHUNK, size)))

            stored = await app.files.store(fetch, limit=size + CHUNK)
            upload = FileCopy(
                "telegram", f"f{number}", name, "application/pdf", size, stored.sha256
            )
        else:
            upload = FileCopy(
                "telegram", f"f{number}", name, "application/pdf", size, content=os.urandom(size)
            )
        async with db.transaction() as conn:
            await assignments.add_submission(
                conn,
                record.id,
                text=None,
                files=[upload],
                now=START + timedelta(hours=number),
                late=False,
            )
    return instance_id


async def measure(files: int, size: int, folder: Path, in_folder: bool) -> tuple[int, int, int]:
    """(baseline peak, bundle peak, bytes written) in bytes."""
    db = await Database.open(folder / f"bench-{files}-{in_folder}.sqlite3")
    try:
        app = Huiwu(db, ManualClock(START + timedelta(days=30)))
        instance_id = await fill(app, files, size, in_folder)
        first = (await assignments.file_index(db, instance_id))[0]
        tracemalloc.start()
        if in_folder:
            content: bytes | None = app.files.read(first["sha256"])
        else:
            content = await assignments.file_content(db, first["id"])
        assert content is not None and len(content) == size
        baseline = tracemalloc.get_traced_memory()[1]
        del content
        tracemalloc.reset_peak()
        target = folder / f"bundle-{files}-{in_folder}.zip"
        with target.open("wb") as stream:
            await write_bundle(app, instance_id, [], stream)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return baseline, peak, target.stat().st_size
    finally:
        await db.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=40)
    parser.add_argument("--mb", type=float, default=2)
    args = parser.parse_args()
    size = int(args.mb * 1024 * 1024)
    with tempfile.TemporaryDirectory() as folder:
        print(
            "| kept in | files | MB in the .zip | peak while bundling (MB) "
            "| one file read whole (MB) | ratio |"
        )
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for in_folder in (True, False):
            for files in (1, args.files):
                baseline, peak, written = await measure(files, size, Path(folder), in_folder)
                print(
                    f"| {'files folder' if in_folder else 'database'} | {files} "
                    f"| {written / 2**20:.1f} | {peak / 2**20:.2f} | {baseline / 2**20:.2f} "
                    f"| {peak / baseline:.2f} |"
                )


if __name__ == "__main__":
    asyncio.run(main())
