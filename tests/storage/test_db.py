"""The SQLite storage: migrations, pragmas, transactions and round trips (issue 2)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage import assignments, conversations, instances, outbox
from storage.db import Database, Migration, SchemaTooNewError, bundled_migrations

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2013, 12, 3, 9, 0, tzinfo=SHANGHAI)
TABLES = {
    "plan_instances",
    "chat_bindings",
    "members",
    "identities",
    "invites",
    "phase_runs",
    "assignments",
    "submissions",
    "submission_files",
    "reviews",
    "conversations",
    "outbox",
    "surveys",
    "survey_voters",
    "ballots",
    "rectification_items",
}
ROSTER = [
    ("fanglei", "方磊", ["organizer", "member"], "zh_CN", {"wecom": "FangLei", "telegram": "111"}),
    ("tangjun", "唐军", ["member"], None, {"telegram": "222"}),
    ("secretary", "党组书记", ["chair", "lead", "member"], "en", {}),
]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "huiwu.sqlite3"


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(db_path)
    try:
        yield database
    finally:
        await database.close()


async def table_names(db: Database) -> set[str]:
    rows = await db.fetch_all("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {row[0] for row in rows}


async def columns(db: Database, table: str) -> list[str]:
    return [row["name"] for row in await db.fetch_all(f"PRAGMA table_info({table})")]


async def new_instance(db: Database, title: str = "民主生活会") -> int:
    async with db.transaction() as conn:
        return await instances.create_instance(
            conn, title=title, plan_toml="title = 'x'", members=ROSTER, loaded_by="cli", now=NOW
        )


# --- migrations -----------------------------------------------------------------------------


async def test_migrations_on_an_empty_database_create_every_table(db: Database) -> None:
    migrations = bundled_migrations()
    versions = [m.version for m in migrations]
    assert versions == sorted(set(versions)) and versions[0] == 1
    assert await db.schema_version() == versions[-1]
    assert await db.applied_versions() == set(versions)
    assert await table_names(db) >= TABLES


async def test_reopening_runs_no_migration_again(db_path: Path) -> None:
    first = await Database.open(db_path)
    await new_instance(first)
    await first.close()

    again = await Database.open(db_path)
    try:
        assert await again.migrate(bundled_migrations()) == 0
        assert await again.schema_version() == bundled_migrations()[-1].version
        assert len(await instances.list_instances(again)) == 1  # the data survived
    finally:
        await again.close()


async def test_each_migration_runs_exactly_once(db_path: Path) -> None:
    one = Migration(1, "0001_t.sql", "CREATE TABLE t (x INTEGER);\nINSERT INTO t VALUES (1);\n")
    two = Migration(2, "0002_t.sql", "-- a second step\nINSERT INTO t VALUES (2);\n")

    db = await Database.open(db_path, migrations=[one])
    await db.close()
    db = await Database.open(db_path, migrations=[one])
    try:
        assert await db.migrate([one, two]) == 1
        assert await db.migrate([one, two]) == 0
        rows = await db.fetch_all("SELECT x FROM t ORDER BY x")
        assert [row[0] for row in rows] == [1, 2]
        assert await db.schema_version() == 2
    finally:
        await db.close()


async def test_a_migration_that_lands_after_a_higher_one_still_runs(db_path: Path) -> None:
    """Numbers are reserved per issue: 0003 may be on main before 0002."""
    one = Migration(1, "0001_t.sql", "CREATE TABLE t (x INTEGER);\n")
    two = Migration(2, "0002_t.sql", "INSERT INTO t VALUES (2);\n")
    three = Migration(3, "0003_t.sql", "INSERT INTO t VALUES (3);\n")

    db = await Database.open(db_path, migrations=[one, three])
    try:
        assert await db.schema_version() == 3
        assert await db.migrate([one, two, three]) == 1
        assert await db.migrate([one, two, three]) == 0
        rows = await db.fetch_all("SELECT x FROM t ORDER BY x")
        assert [row[0] for row in rows] == [2, 3]
        assert await db.applied_versions() == {1, 2, 3}
        assert await db.schema_version() == 3
    finally:
        await db.close()
    with pytest.raises(SchemaTooNewError):  # 0003 applied, but this code lacks it
        await Database.open(db_path, migrations=[one, two])


async def test_a_failing_migration_leaves_nothing_behind(db_path: Path) -> None:
    broken = Migration(
        1, "0001_bad.sql", "CREATE TABLE t (x INTEGER);\nINSERT INTO nowhere VALUES (1);\n"
    )
    with pytest.raises(sqlite3.OperationalError):
        await Database.open(db_path, migrations=[broken])
    db = await Database.open(db_path, migrations=[])
    try:
        assert await db.schema_version() == 0
        assert "t" not in await table_names(db)
    finally:
        await db.close()


async def test_a_database_from_a_newer_huiwu_is_refused(db_path: Path) -> None:
    known = bundled_migrations()[-1].version
    db = await Database.open(db_path)
    await db.connection.execute(f"PRAGMA user_version = {known + 1}")
    await db.close()

    with pytest.raises(SchemaTooNewError) as caught:
        await Database.open(db_path)
    message = str(caught.value)
    assert str(db_path) in message
    assert f"schema version {known + 1}" in message
    assert f"only up to {known}" in message
    assert "upgrade Huiwu" in message


async def test_wal_and_foreign_keys_are_on(db: Database) -> None:
    journal = await db.fetch_one("PRAGMA journal_mode")
    assert journal is not None and journal[0].lower() == "wal"
    foreign_keys = await db.fetch_one("PRAGMA foreign_keys")
    assert foreign_keys is not None and foreign_keys[0] == 1
    with pytest.raises(sqlite3.IntegrityError):
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO members (instance_id, member_key, name, roles) VALUES (999, 'x', 'x', '')"
            )


async def test_a_failed_transaction_rolls_back_everything(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.transaction() as conn:
            instance_id = await instances.create_instance(
                conn, title="半途", plan_toml="", members=ROSTER, loaded_by=None, now=NOW
            )
            await outbox.enqueue(conn, platform="telegram", chat_id="1", payload="{}", now=NOW)
            assert instance_id == 1
            raise Boom
    for table in ("plan_instances", "members", "identities", "outbox"):
        row = await db.fetch_one(f"SELECT COUNT(*) FROM {table}")
        assert row is not None and row[0] == 0, table
    # the connection is usable afterwards
    assert await new_instance(db) >= 1


async def test_a_writer_cancelled_while_its_transaction_begins_leaves_none_open(
    db: Database,
) -> None:
    """A worker cancelled at shutdown while its BEGIN is on aiosqlite's thread: the BEGIN
    still runs there, and the next writer must still find no transaction open."""

    async def write_one() -> None:
        async with db.transaction() as conn:
            await outbox.enqueue(conn, platform="telegram", chat_id="1", payload="{}", now=NOW)

    writer = asyncio.create_task(write_one())
    await asyncio.sleep(0)  # the writer now waits for its BEGIN
    writer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writer
    # This BEGIN failed: "cannot start a transaction within a transaction".
    async with db.transaction() as conn:
        await outbox.enqueue(conn, platform="telegram", chat_id="2", payload="{}", now=NOW)
    rows = await db.fetch_all("SELECT chat_id FROM outbox")
    assert [row[0] for row in rows] == ["2"]


async def test_ballots_keep_no_voter_and_no_time(db: Database) -> None:
    ballot_columns = await columns(db, "ballots")
    assert sorted(ballot_columns) == ["answers", "ballot_key", "survey_id"]
    for name in ballot_columns:
        assert "member" not in name and "voter" not in name
        assert not name.endswith("_at") and "time" not in name
    # who voted is kept apart, with nothing about what they chose
    assert sorted(await columns(db, "survey_voters")) == ["member_id", "survey_id"]


# --- instances ------------------------------------------------------------------------------


async def test_instance_members_and_identities_round_trip(db: Database) -> None:
    instance_id = await new_instance(db)
    record = await instances.get_instance(db, instance_id)
    assert record is not None
    assert (record.title, record.status, record.created_at) == ("民主生活会", "loaded", NOW)

    members = await instances.members_of(db, instance_id)
    assert [(m.member_key, m.name, m.roles, m.locale) for m in members] == [
        ("fanglei", "方磊", frozenset({"organizer", "member"}), "zh_CN"),
        ("tangjun", "唐军", frozenset({"member"}), None),
        ("secretary", "党组书记", frozenset({"chair", "lead", "member"}), "en"),
    ]
    fanglei = members[0]
    identities = await instances.identities_of(db, fanglei.id)
    # WeCom users are reachable at once; Telegram users only after they open the bot
    assert [(i.platform, i.user_id, i.reachable) for i in identities] == [
        ("telegram", "111", False),
        ("wecom", "FangLei", True),
    ]
    assert await instances.identities_of(db, members[2].id) == []
    assert await instances.member_by_key(db, instance_id, "tangjun") == members[1]
    assert await instances.member_by_key(db, instance_id, "nobody") is None
    assert [m.id for m in await instances.members_for_user(db, "telegram", "222")] == [
        members[1].id
    ]

    async with db.transaction() as conn:
        assert await instances.mark_reachable(conn, "telegram", "111", True) == 1
        assert await instances.mark_reachable(conn, "telegram", "111", True) == 0
    assert (await instances.identities_of(db, fanglei.id))[0].reachable


async def test_memberships_list_running_plans_first_and_keep_finished_ones(db: Database) -> None:
    older, finished, newer = [await new_instance(db) for _ in range(3)]
    async with db.transaction() as conn:
        await instances.set_status(conn, finished, "finished")
    found = await instances.members_for_user(db, "telegram", "222")
    assert [m.instance_id for m in found] == [newer, older, finished]


async def test_bind_chat_and_instance_for_chat(db: Database) -> None:
    first, second = await new_instance(db, "一"), await new_instance(db, "二")
    assert await instances.instance_for_chat(db, "telegram", "-100") is None
    async with db.transaction() as conn:
        await instances.bind_chat(conn, first, "telegram", "-100", NOW)
        await instances.bind_chat(conn, first, "wecom", "room-1", NOW)
    assert await instances.instance_for_chat(db, "telegram", "-100") == first
    assert await instances.instance_for_chat(db, "wecom", "-100") is None
    assert await instances.group_chats(db, first) == [("telegram", "-100"), ("wecom", "room-1")]

    async with db.transaction() as conn:  # a chat belongs to one instance: binding again moves it
        await instances.bind_chat(conn, second, "telegram", "-100", NOW)
    assert await instances.instance_for_chat(db, "telegram", "-100") == second
    assert await instances.group_chats(db, first) == [("wecom", "room-1")]


async def test_an_invite_is_redeemed_once_only(db: Database) -> None:
    instance_id = await new_instance(db)
    member = (await instances.members_of(db, instance_id))[1]
    async with db.transaction() as conn:
        code = await instances.create_invite(conn, member.id, NOW)
    assert len(code) >= 16
    assert await instances.open_invite_for(db, member.id) == code

    async with db.transaction() as conn:
        assert await instances.redeem_invite(conn, code, NOW + timedelta(hours=1)) == member.id
        assert await instances.redeem_invite(conn, code, NOW + timedelta(hours=2)) is None
        assert await instances.redeem_invite(conn, "not-a-code", NOW) is None
    assert await instances.open_invite_for(db, member.id) is None
    used = await db.fetch_one("SELECT used_at FROM invites WHERE code = ?", (code,))
    assert used is not None
    assert datetime.fromisoformat(used[0]) == NOW + timedelta(hours=1)


# --- assignments ----------------------------------------------------------------------------


async def test_assigning_is_idempotent(db: Database) -> None:
    instance_id = await new_instance(db)
    member = (await instances.members_of(db, instance_id))[0]
    due = datetime(2013, 12, 6, 23, 59, tzinfo=SHANGHAI)
    async with db.transaction() as conn:
        first = await assignments.assign(conn, instance_id, "study", member.id, due, NOW)
        second = await assignments.assign(conn, instance_id, "study", member.id, due, NOW)
    assert first is not None
    assert second is None
    (record,) = await assignments.assignments_of_instance(db, instance_id)
    assert (record.id, record.task_id, record.status) == (first, "study", "pending")
    assert record.due_at == due
    assert record.due_at.tzinfo is not None and record.due_at.utcoffset() == timedelta(0)


async def test_submissions_keep_every_version_with_files_and_reviews(db: Database) -> None:
    instance_id = await new_instance(db)
    members = await instances.members_of(db, instance_id)
    author, reviewer = members[0], members[2]
    due = datetime(2013, 12, 20, 23, 59, tzinfo=SHANGHAI)
    pdf = b"%PDF-1.4\n\x00\xff binary"
    async with db.transaction() as conn:
        assignment_id = await assignments.assign(
            conn, instance_id, "statements", author.id, due, NOW
        )
        assert assignment_id is not None
        v1 = await assignments.add_submission(
            conn, assignment_id, text="初稿", files=[], now=NOW, late=False
        )
        v2 = await assignments.add_submission(
            conn,
            assignment_id,
            text=None,
            files=[
                ("telegram", "file-1", "剖析材料.pdf", "application/pdf", len(pdf), pdf),
                ("telegram", "file-2", "附件.txt", "text/plain", 2, b"ok"),
            ],
            now=NOW + timedelta(days=1),
            late=False,
        )
        v3 = await assignments.add_submission(
            conn, assignment_id, text="定稿", files=[], now=due + timedelta(hours=1), late=True
        )
        await assignments.add_review(conn, v3.id, reviewer.id, "returned", "再改改", NOW)
        await assignments.add_review(conn, v3.id, reviewer.id, "approved", None, NOW)

    assert [v1.version, v2.version, v3.version] == [1, 2, 3]
    stored = await assignments.submissions_of(db, assignment_id)
    assert [(s.version, s.text, s.late) for s in stored] == [
        (1, "初稿", False),
        (2, None, False),
        (3, "定稿", True),
    ]
    assert stored[2].submitted_at == due + timedelta(hours=1)
    assert await assignments.latest_submissions(db, instance_id) == {assignment_id: stored[2]}

    files = await assignments.files_of(db, v2.id)
    assert [(f.file_ref, f.file_name, f.mime_type, f.size, f.content) for f in files] == [
        ("file-1", "剖析材料.pdf", "application/pdf", len(pdf), pdf),
        ("file-2", "附件.txt", "text/plain", 2, b"ok"),
    ]
    assert await assignments.files_of(db, v1.id) == []

    reviews = await assignments.reviews_of(db, v3.id)
    assert [(r.reviewer_id, r.verdict, r.comment) for r in reviews] == [
        (reviewer.id, "returned", "再改改"),
        (reviewer.id, "approved", None),
    ]
    assert await assignments.reviews_of(db, v2.id) == []


async def test_versions_are_counted_per_assignment(db: Database) -> None:
    instance_id = await new_instance(db)
    a, b = (await instances.members_of(db, instance_id))[:2]
    due = datetime(2013, 12, 15, 23, 59, tzinfo=SHANGHAI)
    async with db.transaction() as conn:
        first = await assignments.assign(conn, instance_id, "talks", a.id, due, NOW)
        second = await assignments.assign(conn, instance_id, "talks", b.id, due, NOW)
        assert first is not None and second is not None
        await assignments.add_submission(conn, first, text="1", files=[], now=NOW, late=False)
        await assignments.add_submission(conn, first, text="2", files=[], now=NOW, late=False)
        other = await assignments.add_submission(
            conn, second, text="x", files=[], now=NOW, late=False
        )
    assert other.version == 1


# --- outbox ---------------------------------------------------------------------------------


async def test_enqueue_with_the_same_dedupe_key_twice_keeps_one_row(db: Database) -> None:
    async with db.transaction() as conn:
        first = await outbox.enqueue(
            conn, platform="telegram", chat_id="111", payload='{"n": 1}', now=NOW, dedupe_key="k"
        )
        second = await outbox.enqueue(
            conn, platform="telegram", chat_id="111", payload='{"n": 2}', now=NOW, dedupe_key="k"
        )
    assert first is not None and second is None
    (row,) = await outbox.messages(db)
    assert (row.id, row.payload, row.state, row.attempts) == (first, '{"n": 1}', "pending", 0)


async def test_claim_marks_sending_and_recovery_puts_them_back(db: Database) -> None:
    async with db.transaction() as conn:
        ids = [
            await outbox.enqueue(conn, platform="telegram", chat_id=str(n), payload="{}", now=NOW)
            for n in range(3)
        ]
        await outbox.enqueue(conn, platform="wecom", chat_id="w", payload="{}", now=NOW)

    claimed = await outbox.claim_due(db, "telegram", NOW, limit=2)
    assert [r.id for r in claimed] == ids[:2]
    assert all(r.state == "sending" and r.attempts == 1 for r in claimed)
    rest = await outbox.claim_due(db, "telegram", NOW)
    assert [r.id for r in rest] == ids[2:]
    assert await outbox.claim_due(db, "telegram", NOW) == []

    await outbox.mark_sent(db, ids[0], NOW)
    # a crash now: two rows were claimed but never marked
    assert await outbox.recover_in_flight(db, "telegram") == 2
    states = {r.id: r.state for r in await outbox.messages(db, platform="telegram")}
    assert states == {ids[0]: "sent", ids[1]: "pending", ids[2]: "pending"}
    again = await outbox.claim_due(db, "telegram", NOW)
    assert [(r.id, r.attempts) for r in again] == [(ids[1], 2), (ids[2], 2)]
    # the other platform's row was never touched
    assert [r.state for r in await outbox.messages(db, platform="wecom")] == ["pending"]


async def held_chats(db: Database) -> set[str]:
    return {r.chat_id for r in await outbox.messages(db, platform="telegram", state="held")}


async def test_held_messages_wait_for_release(db: Database) -> None:
    async with db.transaction() as conn:
        held = await outbox.enqueue(
            conn, platform="telegram", chat_id="111", payload="{}", now=NOW, held=True
        )
        later = await outbox.enqueue(
            conn, platform="telegram", chat_id="222", payload="{}", now=NOW
        )
    assert held is not None and later is not None
    assert [r.id for r in await outbox.claim_due(db, "telegram", NOW)] == [later]
    await outbox.hold(db, later, "Forbidden: bot can't initiate conversation")
    assert await held_chats(db) == {"111", "222"}
    assert await outbox.claim_due(db, "telegram", NOW) == []

    async with db.transaction() as conn:
        assert await outbox.release_held(conn, "telegram", "222") == 1
        assert await outbox.release_held(conn, "telegram", "222") == 0
    assert [r.id for r in await outbox.claim_due(db, "telegram", NOW)] == [later]
    assert await held_chats(db) == {"111"}


async def test_not_before_is_respected(db: Database) -> None:
    soon = NOW + timedelta(minutes=10)
    async with db.transaction() as conn:
        delayed = await outbox.enqueue(
            conn, platform="telegram", chat_id="1", payload="{}", now=NOW, not_before=soon
        )
    assert await outbox.next_due_time(db, "telegram") == soon
    assert await outbox.claim_due(db, "telegram", NOW) == []
    assert await outbox.claim_due(db, "telegram", soon - timedelta(microseconds=1)) == []
    (claimed,) = await outbox.claim_due(db, "telegram", soon)
    assert claimed.id == delayed
    assert claimed.not_before == soon

    await outbox.retry_later(db, claimed.id, soon + timedelta(seconds=30), "429 Too Many Requests")
    assert await outbox.claim_due(db, "telegram", soon + timedelta(seconds=29)) == []
    assert len(await outbox.claim_due(db, "telegram", soon + timedelta(seconds=30))) == 1


async def test_not_before_compares_instants_not_wall_clocks(db: Database) -> None:
    """A not_before given in +08:00 is due at that instant, whatever zone 'now' is in."""
    due = datetime(2013, 12, 3, 18, 0, tzinfo=SHANGHAI)  # 10:00 UTC
    async with db.transaction() as conn:
        await outbox.enqueue(
            conn, platform="telegram", chat_id="1", payload="{}", now=NOW, not_before=due
        )
    assert await outbox.claim_due(db, "telegram", datetime(2013, 12, 3, 9, 59, tzinfo=UTC)) == []
    assert (
        len(await outbox.claim_due(db, "telegram", datetime(2013, 12, 3, 10, 0, tzinfo=UTC))) == 1
    )


# --- conversations --------------------------------------------------------------------------


async def test_conversations_survive_closing_and_reopening(db_path: Path) -> None:
    db = await Database.open(db_path)
    draft = {"task": "statements", "text": "对照检查材料", "files": ["file-1"]}
    async with db.transaction() as conn:
        await conversations.save(conn, "telegram", "111", "composing", draft, NOW)
        await conversations.save(conn, "wecom", "111", "confirming", {"n": 1}, NOW)
    await db.close()

    db = await Database.open(db_path)
    try:
        assert await conversations.load(db, "telegram", "111") == ("composing", draft)
        assert await conversations.load(db, "wecom", "111") == ("confirming", {"n": 1})
        assert await conversations.load(db, "telegram", "999") is None
        async with db.transaction() as conn:
            await conversations.save(conn, "telegram", "111", "confirming", {"n": 2}, NOW)
        assert await conversations.load(db, "telegram", "111") == ("confirming", {"n": 2})
        async with db.transaction() as conn:
            await conversations.clear(conn, "telegram", "111")
    finally:
        await db.close()

    db = await Database.open(db_path)
    try:
        assert await conversations.load(db, "telegram", "111") is None
        assert await conversations.load(db, "wecom", "111") == ("confirming", {"n": 1})
    finally:
        await db.close()
