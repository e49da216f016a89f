"""What a member decided not to hand in does not stay on the disk: the files of a cancelled,
replaced or abandoned draft are deleted once nothing refers to them, bytes shared with a
hand-in or another draft are kept, a crash between the commit and the deletion is made good
at the next start, and backups carry only what their rows refer to. On the Telegram
emulator, over real HTTP, with the real files folder beside the database.
"""

from __future__ import annotations

import asyncio
import hashlib
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from bot.run.backup import backup_database, restore_database
from bot.run.retention import sweep_files
from bot.sandbox.telegram.people import SimulatedPerson, contains
from storage import file_refs, retention
from storage.files import FileStore
from tests.e2e.conftest import World, zh

CANCELLED = zh("Cancelled. Nothing was stored.")


def address(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def kept(world: World) -> set[str]:
    return set(world.app.files.contents())


async def crash_before_deleting(*_args: object) -> set[str]:
    """In place of ``file_refs.release``: the process stops right after the commit that let
    go of the files."""
    return set()


async def open_draft(world: World, name: str = "方磊", task: str = "study") -> SimulatedPerson:
    await world.at("2013-12-03T09:10+08:00")
    person = world.people[name]
    await person.press(f"submit:{await world.assignment_id(name, task)}")
    return person


async def test_cancelling_a_draft_deletes_its_files_and_keeps_the_folder_private(
    world: World,
) -> None:
    fang = await open_draft(world)
    first, second = b"%PDF private notes " * 500, b"PK\x03\x04 a draft spreadsheet" * 300
    await fang.send_file("个人笔记.pdf", first)
    await fang.send_file("草稿.xlsx", second)
    assert kept(world) == {address(first), address(second)}

    answer = await fang.press("draft:cancel")

    assert answer.text == CANCELLED
    assert kept(world) == set()
    assert not world.app.files.path_of(address(first)).exists()
    root = world.app.files.root
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*") if p.is_file()} <= {0o600}


async def test_bytes_a_hand_in_or_another_draft_refers_to_are_kept(world: World) -> None:
    handed_in, shared, own = b"%PDF minutes " * 400, b"%PDF shared agenda " * 400, b"own" * 400
    fang = await open_draft(world)
    await fang.send_file("学习记录.pdf", handed_in)
    await fang.press("draft:send", expect=contains("组织学习"))
    await world.bind("唐军")
    tang = await open_draft(world, "唐军", "statements")
    await tang.send_file("议程.pdf", shared)

    await fang.say("/submit")
    await fang.press(f"submit:{await world.assignment_id('方磊', 'opinions')}")
    for name, content in (("副本.pdf", handed_in), ("议程.pdf", shared), ("自己的.pdf", own)):
        await fang.send_file(name, content)
    assert kept(world) == {address(handed_in), address(shared), address(own)}
    assert (await fang.press("draft:cancel")).text == CANCELLED

    assert kept(world) == {address(handed_in), address(shared)}  # the hand-in's, 唐军's draft's
    await tang.press("draft:send", expect=contains("撰写剖析材料"))
    rows = await world.rows("SELECT sha256 FROM submission_files ORDER BY id")
    assert [row[0] for row in rows] == [address(handed_in), address(shared)]
    assert world.app.files.read(address(shared)) == shared


async def test_a_draft_replaced_by_another_one_lets_go_of_its_files(world: World) -> None:
    fang = await open_draft(world)
    dropped = b"%PDF first thoughts " * 300
    await fang.send_file("初稿.pdf", dropped)
    await fang.say("/submit")
    await fang.press(f"submit:{await world.assignment_id('方磊', 'opinions')}")
    kept_now = b"%PDF the opinions " * 300
    await fang.send_file("意见.pdf", kept_now)

    assert kept(world) == {address(kept_now)}
    await fang.press("draft:send", expect=contains("征求意见"))
    assert kept(world) == {address(kept_now)}


async def test_a_crash_after_the_commit_leaves_a_file_the_next_start_deletes(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    fang = await open_draft(world)
    handed_in, cancelled = b"%PDF handed in " * 300, b"%PDF cancelled " * 300
    await fang.send_file("上交.pdf", handed_in)
    await fang.press("draft:send", expect=contains("组织学习"))

    with monkeypatch.context() as patched:
        patched.setattr(file_refs, "release", crash_before_deleting)
        fang = await open_draft(world, task="opinions")
        await fang.send_file("不交了.pdf", cancelled)
        assert (await fang.press("draft:cancel")).text == CANCELLED
        assert kept(world) == {address(handed_in), address(cancelled)}  # the leak
        part = world.app.files.root / "0123456789abcdef.part"  # a download cut short
        part.write_bytes(b"half a file")

    await world.restart()

    assert kept(world) == {address(handed_in)}
    assert not part.exists()
    assert world.app.files.read(address(handed_in)) == handed_in


async def test_retention_prunes_an_abandoned_draft_and_its_files(world: World) -> None:
    fang = await open_draft(world)
    handed_in, abandoned = b"%PDF handed in " * 300, b"%PDF never sent " * 300
    await fang.send_file("上交.pdf", handed_in)
    await fang.press("draft:send", expect=contains("组织学习"))
    fang = await open_draft(world, task="opinions")
    await fang.send_file("忘了.pdf", abandoned)

    later = world.clock.now() + timedelta(days=181)
    pruned = await retention.prune(world.app.db, later, 180)
    removed = await sweep_files(world.app)  # what the daily pruning does next

    assert pruned["conversations"] == 1
    assert removed == 1
    assert kept(world) == {address(handed_in)}
    assert await world.rows("SELECT * FROM conversations") == []


async def test_a_plans_rows_deleted_take_their_files_at_the_next_sweep(world: World) -> None:
    """Plans are never pruned today; whatever deletes rows someday, the sweep follows the
    references, not a list of events."""
    fang = await open_draft(world)
    content = b"%PDF of a plan deleted " * 300
    await fang.send_file("材料.pdf", content)
    await fang.press("draft:send", expect=contains("组织学习"))
    async with world.app.db.transaction() as conn:
        await conn.execute("DELETE FROM submission_files")

    assert await sweep_files(world.app) == 1
    assert kept(world) == set()


async def test_backups_carry_only_what_their_rows_refer_to_and_restores_bring_back_nothing_else(
    world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fang = await open_draft(world)
    handed_in, cancelled = b"%PDF handed in " * 300, b"%PDF cancelled " * 300
    await fang.send_file("上交.pdf", handed_in)
    await fang.press("draft:send", expect=contains("组织学习"))
    with monkeypatch.context() as patched:  # a crash left the cancelled file before the sweep
        patched.setattr(file_refs, "release", crash_before_deleting)
        fang = await open_draft(world, task="opinions")
        await fang.send_file("不交了.pdf", cancelled)
        await fang.press("draft:cancel")
    assert kept(world) == {address(handed_in), address(cancelled)}
    backup_path = tmp_path / "backup.sqlite3"
    # A backup made earlier to the same name held the file; the new one must not.
    FileStore.beside(backup_path).copy_from(
        world.app.files.path_of(address(cancelled)), address(cancelled)
    )

    backup = await asyncio.to_thread(backup_database, Path(world.db_path), backup_path)
    assert set(FileStore.beside(backup_path).contents()) == {address(handed_in)}
    assert (backup.files, backup.missing_files) == (1, 0)
    restored = tmp_path / "restored.sqlite3"
    info = await asyncio.to_thread(restore_database, backup_path, restored)

    assert set(FileStore.beside(restored).contents()) == {address(handed_in)}
    assert FileStore.beside(restored).read(address(handed_in)) == handed_in
    assert info.missing_files == 0
