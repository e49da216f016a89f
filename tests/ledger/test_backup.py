"""Backups taken while the bot writes, JSON exports of a plan instance, and restoring both."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import stat
from datetime import datetime
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.i18n import use_locale
from bot.run.backup import BackupError, backup_database, restore_database
from bot.run.snapshot import SnapshotError, export_instance, restore_instance
from storage import assignments, instances
from storage.db import Database
from storage.files import FileSink, FileStore
from tests.ledger.conftest import NOW, fill

WRITERS = 3
PER_WRITER = 40


async def _write_submissions(db: Database, assignment_id: int, count: int) -> None:
    """One transaction per submission, each with a file: a restored copy must never hold a
    submission without its file."""
    for number in range(count):
        async with db.transaction() as conn:
            await assignments.add_submission(
                conn,
                assignment_id,
                text=f"第{number}版",
                files=[
                    (
                        "telegram",
                        f"ref-{number}",
                        f"{number}.pdf",
                        "application/pdf",
                        3,
                        b"%PDF" * 1000,
                    )
                ],
                now=datetime.fromisoformat(NOW),
                late=False,
            )
        await asyncio.sleep(0.002)  # pace the writers so that backups fall between them


async def test_a_backup_taken_during_writes_restores_with_every_submission(tmp_path: Path) -> None:
    live = tmp_path / "live.sqlite3"
    db = await Database.open(live)
    instance_id, _items = await fill(db, ManualClock(datetime.fromisoformat(NOW)))
    targets = (await assignments.assignments_of_instance(db, instance_id))[:WRITERS]
    before = await db.fetch_one("SELECT COUNT(*) FROM submissions")
    assert before is not None

    writing = asyncio.ensure_future(
        asyncio.gather(*(_write_submissions(db, a.id, PER_WRITER) for a in targets))
    )
    backups = []
    while not writing.done():  # back up again and again while the writers are busy
        target = tmp_path / f"b{len(backups)}.sqlite3"
        backups.append(await asyncio.to_thread(backup_database, live, target))
    await writing
    backups.append(await asyncio.to_thread(backup_database, live, tmp_path / "after.sqlite3"))
    written = WRITERS * PER_WRITER
    total = (await db.fetch_one("SELECT COUNT(*) FROM submissions"))[0]
    assert total == before[0] + written
    await db.close()

    counts = []
    for info in backups:
        with sqlite3.connect(info.path) as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
            orphans = copy.execute(
                "SELECT COUNT(*) FROM submissions s WHERE s.text LIKE '第%版' AND NOT EXISTS "
                "(SELECT 1 FROM submission_files f WHERE f.submission_id = s.id)"
            ).fetchone()[0]
            assert orphans == 0  # whole transactions only
            counts.append(copy.execute("SELECT COUNT(*) FROM submissions").fetchone()[0])
    assert counts == sorted(counts)  # each snapshot at least as new as the one before
    assert before[0] <= counts[0] and counts[-1] == total
    assert any(before[0] < c < total for c in counts[:-1]), counts  # taken mid-writing

    # Restore the last one into a new place and start Huiwu on it: every submission is there.
    restored_path = tmp_path / "restored.sqlite3"
    info = restore_database(backups[-1].path, restored_path)
    assert info.tables["submissions"] == total
    restored = await Database.open(restored_path)
    try:
        rows = await restored.fetch_all(
            "SELECT s.text, f.content FROM submissions s JOIN submission_files f ON f.submission_id = s.id "
            "WHERE s.text LIKE '第%版'"
        )
        assert len(rows) == written
        assert {row["content"] for row in rows} == {b"%PDF" * 1000}
    finally:
        await restored.close()


def test_restore_refuses_to_overwrite_without_force_and_refuses_non_databases(
    tmp_path: Path,
) -> None:
    source = tmp_path / "a.sqlite3"
    with sqlite3.connect(source) as conn:
        conn.execute("CREATE TABLE t (x)")
        conn.execute("INSERT INTO t VALUES (42)")
    target = tmp_path / "b.sqlite3"
    target.write_bytes(b"")
    with pytest.raises(BackupError, match="--force"):
        restore_database(source, target)
    restore_database(source, target, force=True)
    with sqlite3.connect(target) as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(42,)]
    text = tmp_path / "notes.txt"
    text.write_text("not a database")
    with use_locale("en"), pytest.raises(BackupError, match="not a SQLite database"):
        restore_database(text, tmp_path / "c.sqlite3")


async def test_a_json_export_restores_as_an_equal_instance(tmp_path: Path) -> None:
    clock = ManualClock(datetime.fromisoformat(NOW))
    db = await Database.open(tmp_path / "one.sqlite3")
    instance_id, _items = await fill(db, clock)
    exported = json.loads(json.dumps(await export_instance(db, instance_id), ensure_ascii=False))
    await db.close()
    tables = exported["tables"]
    assert {
        "members",
        "assignments",
        "submissions",
        "submission_files",
        "rectification_items",
        "rectification_history",
        "surveys",
        "ballots",
    } <= set(tables)
    assert "outbox" not in tables and "invites" not in tables

    other = await Database.open(tmp_path / "two.sqlite3")
    try:
        # Something in the target already, so new ids differ from the exported ones.
        await fill(other, clock)
        result = await restore_instance(other, exported)
        assert result.instance_id == 2
        for table, rows in tables.items():
            assert result.rows.get(table, 0) == len(rows), table
        again = await export_instance(other, result.instance_id)
        assert _without_ids(again["tables"]) == _without_ids(tables)
        members = await instances.members_of(other, result.instance_id)
        assert {m.name for m in members} >= {"方磊", "唐军"}
        with pytest.raises(SnapshotError):
            await restore_instance(other, {"format": "something else"})
        # Restored twice, the opinion link's code would be there twice: refused, nothing added.
        with pytest.raises(SnapshotError, match="opinion_windows"):
            await restore_instance(other, exported)
        assert len(await instances.list_instances(other)) == 2
    finally:
        await other.close()


def _without_ids(tables: dict[str, list[dict[str, object]]]) -> dict[str, list[dict[str, object]]]:
    """Rows without the columns that hold ids (a restore gives them anew) or random keys."""

    # The talks' member columns refer to members by id, without the "_id" ending.
    member_columns = {"member_a", "member_b", "recorded_by"}

    def kept(column: str) -> bool:
        return (
            column != "id" and not column.endswith(("_id", "_key")) and column not in member_columns
        )

    return {
        table: sorted(
            ({k: v for k, v in row.items() if kept(k)} for row in rows),
            key=lambda row: json.dumps(row, sort_keys=True, ensure_ascii=False),
        )
        for table, rows in tables.items()
    }


async def test_backup_and_restore_carry_the_files_kept_beside_the_database(
    tmp_path: Path,
) -> None:
    live = tmp_path / "live.sqlite3"
    store = FileStore.beside(live)

    async def fetch(sink: FileSink) -> None:
        sink.write(b"%PDF a hand-in kept outside the database")

    kept = await store.store(fetch, limit=1000)
    db = await Database.open(live)
    try:  # a draft refers to it: a backup carries only the files its rows refer to
        await db.write(
            "INSERT INTO conversations (platform, user_id, state, data, updated_at) "
            "VALUES ('telegram', '1', 'collecting', ?, '2014-01-05T02:00:00+00:00')",
            (json.dumps({"files": [{"sha256": kept.sha256}]}),),
        )
    finally:
        await db.close()
    backup = await asyncio.to_thread(backup_database, live, tmp_path / "copy.sqlite3")
    copied = FileStore.beside(backup.path).path_of(kept.sha256)
    assert copied.read_bytes() == b"%PDF a hand-in kept outside the database"
    assert stat.S_IMODE(copied.stat().st_mode) == 0o600
    restored = tmp_path / "elsewhere" / "restored.sqlite3"
    restored.parent.mkdir()
    await asyncio.to_thread(restore_database, backup.path, restored)
    assert FileStore.beside(restored).read(kept.sha256) == copied.read_bytes()
