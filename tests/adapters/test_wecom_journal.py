"""The WeCom callback journal on a real SQLite file: grouped writes, retries, recovery, pruning."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.wecom.journal import MemoryJournal, StoredJournal
from bot.core.clock import ManualClock
from storage.db import Database


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.fromisoformat("2013-12-03T09:00+08:00"))


async def test_concurrent_records_of_one_key_keep_it_once(db: Database, clock: ManualClock) -> None:
    journal = StoredJournal(db, clock)
    fields = {"MsgId": "1", "Content": "进度"}
    outcomes = await asyncio.gather(
        *(journal.record(key, fields) for key in ["msg:1", "msg:2", "msg:1", "msg:1", "msg:3"])
    )
    assert outcomes == [True, True, False, False, True]
    rows = await db.fetch_all("SELECT dedupe_key FROM wecom_callbacks ORDER BY id")
    assert [r[0] for r in rows] == ["msg:1", "msg:2", "msg:3"]
    await journal.mark_handled("msg:2")
    assert [key for key, _f in await journal.unhandled()] == ["msg:1", "msg:3"]
    [(_key, stored)] = [item for item in await journal.unhandled() if item[0] == "msg:1"]
    assert stored == fields
    # A new journal on the same database (a restart) still knows the keys.
    again = StoredJournal(db, clock)
    assert await again.record("msg:1", fields) is False
    await journal.close()


async def test_a_failed_write_fails_its_callers_and_the_journal_goes_on(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = await Database.open(tmp_path / "closing.sqlite3")
    journal = StoredJournal(db, clock)
    assert await journal.record("msg:1", {}) is True
    await db.close()
    with pytest.raises(Exception):  # noqa: B017 - whatever the closed connection raises
        await asyncio.wait_for(journal.record("msg:2", {}), 5)
    db = await Database.open(tmp_path / "closing.sqlite3")
    journal = StoredJournal(db, clock)
    assert await journal.record("msg:2", {}) is True
    await db.close()


async def test_handled_callbacks_are_pruned_after_two_days(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.adapters.wecom.journal.PRUNE_EVERY", 3)
    journal = StoredJournal(db, clock)
    for key in ("msg:1", "msg:2"):
        await journal.record(key, {})
    await journal.mark_handled("msg:1")
    await clock.set(clock.now() + timedelta(days=3))
    await journal.record("msg:3", {})  # the third record prunes
    await journal.close()
    rows = await db.fetch_all("SELECT dedupe_key FROM wecom_callbacks ORDER BY id")
    assert [r[0] for r in rows] == ["msg:2", "msg:3"]  # msg:2 is not handled: kept


async def test_the_memory_journal_forgets_after_its_time() -> None:
    now = [0.0]
    journal = MemoryJournal(ttl=10.0, capacity=2, clock=lambda: now[0])
    assert await journal.record("a", {}) is True
    assert await journal.record("a", {}) is False
    now[0] = 11.0
    assert await journal.record("a", {}) is True
    assert await journal.record("b", {}) is True
    assert await journal.record("c", {}) is True  # over capacity: the oldest is forgotten
    assert await journal.record("a", {}) is True
