"""The cache of hot reads (storage/readcache.py): a result is reused only while nothing it was
read from has changed, whoever changed it: this process through any module, a transaction
rolled back, or another process."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from storage import assignments, instances, readcache
from storage.db import Database

NOW = datetime(2013, 12, 3, 1, 0, tzinfo=UTC)
ROSTER = [
    ("fanglei", "方磊", ["organizer", "member"], None, {"telegram": "111"}),
    ("tangjun", "唐军", ["member"], None, {"telegram": "222"}),
]


async def new_instance(db: Database) -> int:
    async with db.transaction() as conn:
        return await instances.create_instance(
            conn, title="t", plan_toml="title = 't'", members=ROSTER, loaded_by="test", now=NOW
        )


async def member_id(db: Database, instance_id: int, key: str) -> int:
    member = await instances.member_by_key(db, instance_id, key)
    assert member is not None
    return member.id


async def test_a_repeated_read_is_served_from_memory(db: Database) -> None:
    instance_id = await new_instance(db)
    first = await instances.members_for_user(db, "telegram", "222")
    misses = db.reads.misses
    again = await instances.members_for_user(db, "telegram", "222")
    assert again == first and [m.member_key for m in again] == ["tangjun"]
    assert db.reads.misses == misses and db.reads.hits >= 1
    members, reachable = await instances.members_with_reach(db, instance_id, ["telegram"])
    assert sorted(m.member_key for m in members.values()) == ["fanglei", "tangjun"]
    assert reachable == set()  # nobody has opened the bot yet


async def test_results_handed_out_are_copies(db: Database) -> None:
    instance_id = await new_instance(db)
    found = await instances.members_for_user(db, "telegram", "222")
    found.clear()
    members, reachable = await instances.members_with_reach(db, instance_id, ["telegram"])
    members.clear()
    reachable.add(-1)
    assert len(await instances.members_for_user(db, "telegram", "222")) == 1
    members, reachable = await instances.members_with_reach(db, instance_id, ["telegram"])
    assert len(members) == 2 and reachable == set()


async def test_a_write_through_any_module_or_plain_sql_is_seen_at_once(db: Database) -> None:
    instance_id = await new_instance(db)
    tangjun = await member_id(db, instance_id, "tangjun")
    assert await instances.members_for_user(db, "wecom", "TangJun") == []
    async with db.transaction() as conn:
        await instances.set_identity(conn, tangjun, "wecom", "TangJun", reachable=False)
    assert [m.id for m in await instances.members_for_user(db, "wecom", "TangJun")] == [tangjun]

    # Reachability, written by plain SQL (no storage function involved).
    await db.write("UPDATE identities SET reachable = 1 WHERE member_id = ?", (tangjun,))
    _, reachable = await instances.members_with_reach(db, instance_id, ["wecom"])
    assert reachable == {tangjun}

    # Assignments and submissions: /mytasks and /status see the new task and the late flag.
    assert await assignments.assignments_of_member(db, [tangjun]) == []
    async with db.transaction() as conn:
        assignment_id = await assignments.assign(
            conn, instance_id, "opinions", tangjun, NOW + timedelta(days=3), NOW
        )
    assert assignment_id is not None
    assert [a.id for a in await assignments.assignments_of_member(db, [tangjun])] == [assignment_id]
    assert await assignments.assignments_with_lateness(db, instance_id) == [
        (await assignments.get_assignment(db, assignment_id), False)
    ]
    async with db.transaction() as conn:
        await assignments.add_submission(
            conn, assignment_id, text="意见", files=(), now=NOW, late=True
        )
    [(_, late)] = await assignments.assignments_with_lateness(db, instance_id)
    assert late is True


async def test_a_rolled_back_transaction_does_not_stay_in_the_cache(db: Database) -> None:
    instance_id = await new_instance(db)
    tangjun = await member_id(db, instance_id, "tangjun")

    class Undo(Exception):
        pass

    with pytest.raises(Undo):
        async with db.transaction() as conn:
            await instances.set_identity(conn, tangjun, "wecom", "TangJun", reachable=True)
            # Read inside the transaction: the one connection sees the uncommitted row.
            assert len(await instances.members_for_user(db, "wecom", "TangJun")) == 1
            raise Undo
    assert await instances.members_for_user(db, "wecom", "TangJun") == []


async def test_another_process_committing_is_seen_at_once(db: Database) -> None:
    instance_id = await new_instance(db)
    tangjun = await member_id(db, instance_id, "tangjun")
    assert await instances.members_for_user(db, "wecom", "TangJun") == []
    # As `huiwu wecom create-chat` or `huiwu plan load` would, from another connection.
    other = sqlite3.connect(db.path, isolation_level=None)
    try:
        other.execute(
            "INSERT INTO identities (member_id, platform, user_id, reachable) VALUES (?, ?, ?, 1)",
            (tangjun, "wecom", "TangJun"),
        )
    finally:
        other.close()
    assert [m.id for m in await instances.members_for_user(db, "wecom", "TangJun")] == [tangjun]


async def test_concurrent_readers_share_one_version_query(db: Database) -> None:
    await new_instance(db)
    statements: list[str] = []
    await db.connection.set_trace_callback(statements.append)
    try:
        await asyncio.gather(
            *(instances.members_for_user(db, "telegram", user) for user in ["111", "222"] * 10)
        )
    finally:
        await db.connection.set_trace_callback(None)
    version_queries = [s for s in statements if "data_version" in s]
    member_queries = [s for s in statements if "FROM members" in s]
    assert 1 <= len(version_queries) < 20
    assert len(member_queries) == 2  # one per user; the other 18 reads came from memory


async def test_the_cache_starts_over_when_full(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await new_instance(db)
    monkeypatch.setattr(readcache, "MAX_ENTRIES", 3)
    for user in ("1", "2", "3", "111"):
        await instances.members_for_user(db, "telegram", user)
    assert len(db.reads._entries) == 1  # emptied before the fourth went in
    assert [m.member_key for m in await instances.members_for_user(db, "telegram", "111")] == [
        "fanglei"
    ]
