"""Memory of the export .zip (issue 19): the peak of Python allocations (tracemalloc) while
``write_bundle`` streams every handed-in file of a plan into a .zip on disk, against a
baseline measured in the same run: reading one of those files from the database. With
contents read one at a time the ratio stays near 1-2 however many files the plan holds.

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

START = datetime.fromisoformat("2013-12-03T09:00+08:00")


async def fill(db: Database, files: int, size: int) -> int:
    """The seed plan with ``files`` uploads of ``size`` random (incompressible) bytes."""
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
        upload = ("telegram", f"f{number}", f"材料{number}.bin", "application/pdf", size)
        async with db.transaction() as conn:
            await assignments.add_submission(
                conn,
                record.id,
                text=None,
                files=[(*upload, os.urandom(size))],
                now=START + timedelta(hours=number),
                late=False,
            )
    return instance_id


async def measure(files: int, size: int, folder: Path) -> tuple[int, int, int]:
    """(baseline peak, bundle peak, bytes written) in bytes."""
    db = await Database.open(folder / f"bench-{files}.sqlite3")
    try:
        instance_id = await fill(db, files, size)
        app = Huiwu(db, ManualClock(START + timedelta(days=30)))
        first = (await assignments.file_index(db, instance_id))[0]["id"]
        tracemalloc.start()
        content = await assignments.file_content(db, first)
        assert content is not None and len(content) == size
        baseline = tracemalloc.get_traced_memory()[1]
        del content
        tracemalloc.reset_peak()
        target = folder / f"bundle-{files}.zip"
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
        print("| files | MB in the .zip | peak while bundling (MB) | one file read (MB) | ratio |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        for files in (1, args.files):
            baseline, peak, written = await measure(files, size, Path(folder))
            print(
                f"| {files} | {written / 2**20:.1f} | {peak / 2**20:.1f} | "
                f"{baseline / 2**20:.1f} | {peak / baseline:.2f} |"
            )


if __name__ == "__main__":
    asyncio.run(main())
