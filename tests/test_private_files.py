"""Files only their owner reads (issue 15): the database and its side files, the lock,
backups, restored databases and exports are 0600, their new folders 0700, under a umask that
would let everyone read them; a database found readable by others is made private."""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.config import load_settings
from bot.run import cli_data
from bot.run.backup import backup_database, restore_database
from bot.run.lock import DatabaseInUse, DatabaseLock
from bot.sandbox.crash_harness import PHASE_START, fanout_plan, prepare_database
from storage.db import Database


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    previous = os.umask(0o002)
    try:
        yield
    finally:
        os.umask(previous)


async def test_the_database_its_side_files_backups_and_exports_are_private(
    tmp_path: Path,
) -> None:
    path = tmp_path / "huiwu.sqlite3"
    await prepare_database(path, fanout_plan([7_100_000_001]), now=PHASE_START, group_id=None)
    db = await Database.open(path)
    async with db.transaction() as conn:
        await conn.execute("UPDATE plan_instances SET title = 't'")
    assert {mode(p) for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm"))} == {0o600}
    lock = DatabaseLock.take(path)
    assert mode(Path(f"{path}.lock")) == 0o600
    lock.release()
    await db.close()

    backup = tmp_path / "backup.sqlite3"
    await asyncio.to_thread(backup_database, path, backup)
    assert mode(backup) == 0o600
    restored = tmp_path / "restored.sqlite3"
    await asyncio.to_thread(restore_database, backup, restored)
    assert mode(restored) == 0o600

    settings = load_settings({"HUIWU_DB": str(path)}, env_file=None)
    out = tmp_path / "exports" / "plan-1"
    assert await cli_data.export(settings, 1, str(out), as_json=True) == 0
    assert {mode(file) for file in out.iterdir()} == {0o600}
    assert mode(out) == mode(out.parent) == 0o700


async def test_a_database_readable_by_others_is_made_private_at_open(tmp_path: Path) -> None:
    path = tmp_path / "huiwu.sqlite3"
    db = await Database.open(path)
    await db.close()
    os.chmod(path, 0o644)
    db = await Database.open(path)
    await db.close()
    assert mode(path) == 0o600


def test_the_lock_is_held_until_released(tmp_path: Path) -> None:
    path = tmp_path / "huiwu.sqlite3"
    lock = DatabaseLock.take(path)
    with pytest.raises(DatabaseInUse) as refused:
        DatabaseLock.take(path)
    assert refused.value.holder == str(os.getpid())
    lock.release()
    DatabaseLock.take(path).release()


async def test_restoring_a_backup_is_refused_while_the_bot_holds_the_lock(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huiwu.sqlite3"
    db = await Database.open(path)
    await db.close()
    backup = tmp_path / "backup.sqlite3"
    await asyncio.to_thread(backup_database, path, backup)
    settings = load_settings({"HUIWU_DB": str(path)}, env_file=None)
    lock = DatabaseLock.take(path)
    try:
        assert await cli_data.restore(settings, str(backup), force=True) == 2
    finally:
        lock.release()
    assert f"会务程序（进程 {os.getpid()}）正在使用 {path}" in capsys.readouterr().err
    assert await cli_data.restore(settings, str(backup), force=True) == 0
