"""What rewriting a round's ballots at each cast costs (issue 15).

Run: ``.venv/bin/python bench/ballot_cast.py [--voters 200]`` (not collected by pytest).
On a real SQLite file, ``--voters`` members each cast a three-item ballot, one after the
other, as ``handlers.voting.cast`` does: the cast's transaction (voter recorded, the round's
ballots deleted and written again in a fresh random order, the draft deleted), then
``Database.forget()`` (the write-ahead log emptied). Measured in the same run:

* **baseline**: the cast as it was before issue 15 (voter recorded, one ballot inserted, the
  draft deleted, the log emptied);
* **rewrite**: the cast as it is, for the whole round, and for the last cast (the round full).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from storage import instances, surveys
from storage.db import Database

NOW = datetime(2013, 12, 31, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


async def old_cast(db: Database, survey_id: int, member_id: int, answers: list[str]) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO survey_voters (survey_id, member_id) VALUES (?, ?)", (survey_id, member_id)
        )
        await conn.execute(
            "INSERT INTO ballots (ballot_key, survey_id, answers) VALUES (?, ?, ?)",
            (secrets.token_bytes(16), survey_id, json.dumps(answers, ensure_ascii=False)),
        )
        await conn.execute(
            "DELETE FROM ballot_drafts WHERE survey_id = ? AND member_id = ?",
            (survey_id, member_id),
        )
    await db.forget()


async def new_cast(db: Database, survey_id: int, member_id: int, answers: list[str]) -> None:
    async with db.transaction() as conn:
        await surveys.cast(conn, survey_id, member_id, answers)
    await db.forget()


async def round_times(folder: Path, name: str, voters: int, cast: object) -> list[float]:
    db = await Database.open(folder / f"{name}.sqlite3")
    try:
        people = [(f"m{n}", f"成员{n}", ["member"], None, {}) for n in range(voters)]
        async with db.transaction() as conn:
            instance_id = await instances.create_instance(
                conn, title="t", plan_toml="", members=people, loaded_by=None, now=NOW
            )
            survey = await surveys.open_round(conn, instance_id, "evaluation", NOW, None)
        members = [m.id for m in await instances.members_of(db, instance_id)]
        scale = ["好", "较好", "一般", "差"]
        times = []
        for n, member_id in enumerate(members):
            answers = [scale[(n + i) % 4] for i in range(3)]
            started = time.perf_counter()
            await cast(db, survey.id, member_id, answers)  # type: ignore[operator]
            times.append(time.perf_counter() - started)
        return times
    finally:
        await db.close()


async def main(voters: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = await round_times(Path(folder), "baseline", voters, old_cast)
        new = await round_times(Path(folder), "rewrite", voters, new_cast)
    print(f"ballot casts, a round of {voters} voters (ms; ratio to the baseline)")
    print(f"  baseline: one insert per cast, mean          {1000 * sum(base) / voters:7.2f}   1.00")
    mean = sum(new) / voters
    print(
        f"  rewrite:  the round per cast, mean           {1000 * mean:7.2f}   {mean / (sum(base) / voters):5.2f}"
    )
    print(
        f"  rewrite:  the last cast (round full)         {1000 * new[-1]:7.2f}   {new[-1] / (sum(base) / voters):5.2f}"
    )
    print(f"  whole round: baseline {sum(base):.2f} s, rewrite {sum(new):.2f} s")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--voters", type=int, default=200)
    asyncio.run(main(parser.parse_args().voters))
