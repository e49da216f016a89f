"""Every file Huiwu writes is private whatever the umask: each writing command's own code
(called here without ``huiwu``'s ``umask(0o077)``, under a umask that lets everyone read)
leaves only 0600 files and 0700 folders — the plan ``huiwu plan import`` writes, the
database, the kept files, the documents, bundle, JSON and files of an export, backups,
restores (of a backup and of a JSON export), and any temporary file they make."""

from __future__ import annotations

import asyncio
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.core.config import load_settings
from bot.run import cli, cli_data
from storage.db import Database
from storage.files import FileSink, FileStore

REPO = Path(__file__).resolve().parents[1]
DOCUMENT = REPO / "tests/plan/documents/branch-units.txt"
SHIPPED = REPO / "bot/plans/democratic-life-meeting.toml"


@pytest.fixture
def everyone_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The usual umask, and temporary files under a folder of the test's own."""
    temporary = tmp_path / "out" / "tmp"
    temporary.mkdir(parents=True)
    for folder in (temporary, temporary.parent):
        folder.chmod(0o700)
    monkeypatch.setenv("TMPDIR", str(temporary))
    monkeypatch.setattr(tempfile, "tempdir", None)  # read TMPDIR again
    previous = os.umask(0o022)
    try:
        yield temporary.parent
    finally:
        os.umask(previous)


def modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.lstat().st_mode)
        for path in sorted(root.rglob("*"))
    }


async def hand_in_a_file(db_path: Path) -> None:
    db = await Database.open(db_path)
    try:
        store = FileStore.beside(db_path)

        async def fetch(sink: FileSink) -> None:
            sink.write(b"%PDF the minutes of the study session" * 100)

        kept = await store.store(fetch, limit=1 << 20)
        at = "2014-01-05T02:00:00+00:00"
        async with db.transaction() as conn:  # evidence of a rectification item, as a file
            cursor = await conn.execute(
                "INSERT INTO rectification_items (instance_id, description, source, category, "
                "created_at, updated_at) VALUES (1, '精简会议文件', 'opinion', 'immediate', ?, ?)",
                (at, at),
            )
            await conn.execute(
                "INSERT INTO rectification_evidence (item_id, platform, file_ref, file_name, "
                "size, sha256, added_at) VALUES (?, 'telegram', 'ref', '照片.pdf', ?, ?, ?)",
                (cursor.lastrowid, kept.size, kept.sha256, at),
            )
    finally:
        await db.close()


async def test_every_writing_command_leaves_only_private_files(
    everyone_reads: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = everyone_reads
    assert (
        await asyncio.to_thread(cli._plan_import, str(DOCUMENT), str(out / "plan.toml"), None) == 0
    )

    live = out / "live" / "huiwu.sqlite3"
    live.parent.mkdir(mode=0o700)
    settings = load_settings({"HUIWU_DB": str(live)}, env_file=None)
    assert await cli._plan_load(settings, str(SHIPPED)) == 0
    await hand_in_a_file(live)

    exports = out / "exports" / "plan-1"
    assert await cli_data.export(settings, 1, str(exports), as_json=True) == 0
    assert await cli_data.backup(settings, str(out / "backup.sqlite3")) == 0
    restored = load_settings({"HUIWU_DB": str(out / "restored.sqlite3")}, env_file=None)
    assert await cli_data.restore(restored, str(out / "backup.sqlite3"), force=False) == 0
    from_json = load_settings({"HUIWU_DB": str(out / "from-json.sqlite3")}, env_file=None)
    assert await cli_data.restore(from_json, str(exports / "instance-1.json"), force=False) == 0
    capsys.readouterr()

    written = modes(out)
    # What each command wrote is there, and so are the kept files each copy carries.
    for name in (
        "plan.toml",
        "live/huiwu.sqlite3",
        "exports/plan-1/instance-1.json",
        "exports/plan-1/领导班子专题民主生活会-全部材料.zip",
        "backup.sqlite3",
        "restored.sqlite3",
        "from-json.sqlite3",
    ):
        assert written.get(name) == 0o600, name
    for folder in ("live/huiwu.sqlite3.files", "exports/plan-1/instance-1.files"):
        assert any(name.startswith(folder + "/") for name in written), folder
    for db in ("backup", "restored", "from-json"):
        assert any(name.startswith(f"{db}.sqlite3.files/") for name in written), db
    readable = {
        name: oct(mode)
        for name, mode in written.items()
        if mode != (0o700 if (out / name).is_dir() else 0o600)
    }
    assert readable == {}
