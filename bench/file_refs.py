"""What deleting unreferenced kept files costs (``storage.file_refs``).

* ``release``: what an event pays when its draft lets go of files — the reference check of ten
  candidates (an index lookup per table and the drafts' JSON) in a write transaction, then the
  unlinks. Baseline in the same run: one ``conversations.load`` (the read every draft step already
  makes) and one empty write transaction.
* ``sweep``: the start-up / daily pass over the whole folder. Baseline in the same run: listing the
  folder alone (``FileStore.contents``).

A database with ``--files`` kept files, each referred to by a submission, ``--drafts`` open drafts of
three files each, and ``--loose`` files nobody refers to.

Run: ``.venv/bin/python -m bench.file_refs [--files 20000] [--drafts 500] [--loose 2000]``
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

from storage import conversations, file_refs
from storage.db import Database
from storage.files import FileStore

AT = "2014-01-05T02:00:00+00:00"


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def place(store: FileStore, name: str) -> str:
    digest = sha(name)
    path = store.path_of(digest)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return digest


async def fill(db: Database, store: FileStore, files: int, drafts: int) -> list[str]:
    """Submissions referring to ``files`` files; ``drafts`` drafts; returns the drafts' files."""
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO plan_instances (title, plan_toml, created_at) VALUES ('b', '', ?)", (AT,)
        )
        await conn.execute(
            "INSERT INTO members (instance_id, member_key, name, roles) VALUES (1, 'm', 'M', '[]')"
        )
        await conn.execute(
            "INSERT INTO assignments (instance_id, task_id, member_id, due_at, assigned_at) "
            "VALUES (1, 't', 1, ?, ?)",
            (AT, AT),
        )
        await conn.execute(
            "INSERT INTO submissions (assignment_id, version, submitted_at, late) "
            "VALUES (1, 1, ?, 0)",
            (AT,),
        )
        for number in range(files):
            await conn.execute(
                "INSERT INTO submission_files (submission_id, platform, file_ref, file_name, "
                "size, sha256) VALUES (1, 'telegram', 'r', 'f', 1, ?)",
                (place(store, f"handed-in {number}"),),
            )
        in_drafts = []
        for number in range(drafts):
            names = [place(store, f"draft {number} {part}") for part in range(3)]
            in_drafts += names
            data = {"assignment": 1, "texts": [], "files": [{"sha256": n} for n in names]}
            await conn.execute(
                "INSERT INTO conversations (platform, user_id, state, data, updated_at) "
                "VALUES ('telegram', ?, 'collecting', ?, ?)",
                (str(number), json.dumps(data), AT),
            )
    return in_drafts


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


async def main(files: int, drafts: int, loose: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        db = await Database.open(Path(folder) / "bench.sqlite3")
        store = FileStore.beside(db.path)
        try:
            in_drafts = await fill(db, store, files, drafts)
            base, check = [], []
            for round_number in range(rounds):
                started = time.perf_counter()
                await conversations.load(db, "telegram", "0")
                async with db.transaction():
                    pass
                base.append(time.perf_counter() - started)
                candidates = set(in_drafts[:5]) | {
                    place(store, f"cancelled {round_number} {n}") for n in range(5)
                }
                started = time.perf_counter()
                deleted = await file_refs.release(db, store, candidates)
                check.append(time.perf_counter() - started)
                assert len(deleted) == 5, deleted
            for number in range(loose):
                place(store, f"loose {number}")
            started = time.perf_counter()
            listed = await asyncio.to_thread(store.contents)
            listing = time.perf_counter() - started
            started = time.perf_counter()
            removed = await file_refs.sweep(db, store)
            sweeping = time.perf_counter() - started
            assert removed == loose and len(listed) == files + 3 * drafts + loose
        finally:
            await db.close()
    print(f"{files} files handed in, {drafts} drafts of 3 files, {loose} loose files")
    print(
        f"release of 10 candidates (5 deleted): {median_ms(check):.2f} ms median over {rounds}; "
        f"baseline (draft read + empty transaction) {median_ms(base):.2f} ms; "
        f"ratio {statistics.median(check) / statistics.median(base):.1f}"
    )
    print(
        f"sweep: {sweeping * 1000:.0f} ms; baseline (listing the folder) {listing * 1000:.0f} ms; "
        f"ratio {sweeping / listing:.1f}"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--drafts", type=int, default=500)
    parser.add_argument("--loose", type=int, default=2_000)
    parser.add_argument("--rounds", type=int, default=50)
    args = parser.parse_args()
    asyncio.run(main(args.files, args.drafts, args.loose, args.rounds))
