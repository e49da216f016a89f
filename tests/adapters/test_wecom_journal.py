"""The WeCom callback journal on a real SQLite file: grouped writes, retries, recovery, pruning."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.adapters.wecom.journal import MemoryJournal, StoredJournal
from bot.core.clock import ManualClock
from storage.db import Database
from storage.wecom_callbacks import digest, journal_secret
from tests.storage.test_anonymous_storage import file_bytes

SECRET = journal_secret("token", "aes-key")


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime.fromisoformat("2013-12-03T09:00+08:00"))


async def test_concurrent_records_of_one_key_keep_it_once(db: Database, clock: ManualClock) -> None:
    journal = StoredJournal(db, clock, SECRET)
    fields = {"MsgId": "1", "Content": "进度"}
    outcomes = await asyncio.gather(
        *(journal.record(key, fields) for key in ["msg:1", "msg:2", "msg:1", "msg:1", "msg:3"])
    )
    assert outcomes == [True, True, False, False, True]
    rows = await db.fetch_all("SELECT dedupe_key FROM wecom_callbacks ORDER BY id")
    assert [r[0] for r in rows] == [digest(SECRET, k) for k in ["msg:1", "msg:2", "msg:3"]]
    await journal.mark_handled("msg:2")
    assert [key for key, _f in await journal.unhandled()] == [
        digest(SECRET, k) for k in ["msg:1", "msg:3"]
    ]
    [(_key, stored)] = [
        item for item in await journal.unhandled() if item[0] == digest(SECRET, "msg:1")
    ]
    assert stored == fields
    # A new journal on the same database (a restart) still knows the keys.
    again = StoredJournal(db, clock, SECRET)
    assert await again.record("msg:1", fields) is False
    await journal.close()


async def test_a_failed_write_fails_its_callers_and_the_journal_goes_on(
    tmp_path: Path, clock: ManualClock
) -> None:
    db = await Database.open(tmp_path / "closing.sqlite3")
    journal = StoredJournal(db, clock, SECRET)
    assert await journal.record("msg:1", {}) is True
    await db.close()
    with pytest.raises(Exception):  # noqa: B017 - whatever the closed connection raises
        await asyncio.wait_for(journal.record("msg:2", {}), 5)
    db = await Database.open(tmp_path / "closing.sqlite3")
    journal = StoredJournal(db, clock, SECRET)
    assert await journal.record("msg:2", {}) is True
    await db.close()


async def test_handled_callbacks_are_pruned_after_two_days(
    db: Database, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.adapters.wecom.journal.PRUNE_EVERY", 3)
    journal = StoredJournal(db, clock, SECRET)
    for key in ("msg:1", "msg:2"):
        await journal.record(key, {})
    await journal.mark_handled("msg:1")
    await clock.set(clock.now() + timedelta(days=3))
    await journal.record("msg:3", {})  # the third record prunes
    await journal.close()
    rows = await db.fetch_all("SELECT dedupe_key FROM wecom_callbacks ORDER BY id")
    assert [r[0] for r in rows] == [digest(SECRET, "msg:2"), digest(SECRET, "msg:3")]


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


async def test_a_handled_callback_keeps_neither_who_sent_it_nor_what_in_the_files(
    tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "journal.sqlite3"
    db = await Database.open(path)
    # A callback journalled by an older Huiwu, in clear and not yet handled at its stop.
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO wecom_callbacks (dedupe_key, fields, received_at) VALUES (?, ?, ?)",
            ("event:wangwei|1386036000|click|vote:3:0:2", '{"FromUserName": "wangwei"}', "x"),
        )
    journal = StoredJournal(db, clock, SECRET)
    press = {"FromUserName": "lina", "EventKey": "vote:3:1:0", "Event": "click"}
    opinion = {"MsgId": "42", "FromUserName": "lina", "Content": "匿名意见：会风需改进"}
    await journal.record("event:lina|1386036001|click|vote:3:1:0", press)
    await journal.record("msg:42", opinion)
    for key, _fields in await journal.unhandled():
        await journal.mark_handled(key)
    assert await journal.unhandled() == []
    # The keys still recognise WeCom's retries.
    assert await journal.record("msg:42", opinion) is False
    await journal.close()
    files = file_bytes(path)
    for secret in (b"lina", b"wangwei", b"vote:3", "匿名意见".encode()):
        assert secret not in files
    await db.close()
