"""``huiwu export N --json --out DIR`` is complete: the files handed in go along, in the folder
``instance-N.files`` beside the JSON, checked on the way out and on the way in, and
``huiwu restore`` of the JSON elsewhere brings back every file byte for byte; an export
whose files are missing or damaged is refused and restores nothing."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

import pytest

from bot.core.config import load_settings
from bot.core.i18n import use_locale
from bot.run import cli_data
from bot.sandbox.telegram.people import contains
from storage.files import FileStore
from tests.e2e.conftest import World

FILES = {
    "学习记录.pdf": b"%PDF-1.7 study notes " * 9_000,
    "照片.jpg": bytes(range(256)) * 700,
    "副本.pdf": b"%PDF-1.7 study notes " * 9_000,  # the same bytes: kept once
}


def restored_files(db_path: Path) -> dict[str, bytes]:
    store = FileStore.beside(db_path)
    with sqlite3.connect(db_path) as conn:
        rows = conn.execute("SELECT file_name, sha256 FROM submission_files").fetchall()
    return {name: store.read(sha256) for name, sha256 in rows}


async def handed_in(world: World) -> None:
    await world.at("2013-12-03T09:10+08:00")
    fang = world.people["方磊"]
    await fang.press(f"submit:{await world.assignment_id('方磊', 'study')}")
    for name, content in FILES.items():
        await fang.send_file(name, content)
    await fang.press("draft:send", expect=contains("组织学习"))


async def export_to(world: World, out: Path) -> Path:
    settings = load_settings({"HUIWU_DB": world.db_path}, env_file=None)
    assert await cli_data.export(settings, world.instance_id, str(out), as_json=True) == 0
    return out / f"instance-{world.instance_id}.json"


async def restore_into(
    db_path: Path, exported: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    settings = load_settings({"HUIWU_DB": str(db_path), "HUIWU_LOCALE": "en"}, env_file=None)
    with use_locale("en"):
        code = await cli_data.restore(settings, str(exported), force=False)
    captured = capsys.readouterr()
    return code, captured.out + captured.err


async def test_a_json_export_restored_elsewhere_has_every_file_byte_for_byte(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await handed_in(world)
    exported = await export_to(world, tmp_path / "out")

    folder = tmp_path / "out" / f"instance-{world.instance_id}.files"
    manifest = json.loads(exported.read_text(encoding="utf-8"))["files"]
    assert manifest == {
        hashlib.sha256(content).hexdigest(): len(content) for content in FILES.values()
    }
    assert sorted(FileStore(folder).contents()) == sorted(manifest)
    elsewhere = tmp_path / "elsewhere" / "huiwu.sqlite3"
    elsewhere.parent.mkdir()
    code, said = await restore_into(elsewhere, exported, capsys)

    assert code == 0, said
    assert "2 files of the export are kept beside the database (2 new)." in said
    assert restored_files(elsewhere) == FILES


@pytest.mark.parametrize("damage", ["missing folder", "missing file", "changed byte"])
async def test_an_export_whose_files_are_missing_or_damaged_restores_nothing(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    await handed_in(world)
    exported = await export_to(world, tmp_path / "out")
    folder = tmp_path / "out" / f"instance-{world.instance_id}.files"
    victim = FileStore(folder).path_of(hashlib.sha256(FILES["照片.jpg"]).hexdigest())
    if damage == "missing folder":
        folder.rename(tmp_path / "elsewhere.files")
    elif damage == "missing file":
        victim.unlink()
    else:
        content = bytearray(victim.read_bytes())
        content[1000] ^= 1
        victim.write_bytes(bytes(content))
    elsewhere = tmp_path / "huiwu.sqlite3"

    code, said = await restore_into(elsewhere, exported, capsys)

    assert code == 2
    expected = {
        "missing folder": "which is not there: put that folder next to it",
        "missing file": "this file of the export is missing",
        "changed byte": "this file of the export is damaged",
    }[damage]
    assert expected in said
    with sqlite3.connect(elsewhere) as conn:
        assert conn.execute("SELECT COUNT(*) FROM plan_instances").fetchone()[0] == 0


async def test_json_on_standard_output_says_the_files_need_an_out_folder(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    await handed_in(world)
    settings = load_settings({"HUIWU_DB": world.db_path, "HUIWU_LOCALE": "en"}, env_file=None)
    capsys.readouterr()

    with use_locale("en"):
        assert await cli_data.export(settings, world.instance_id, None, as_json=True) == 0

    captured = capsys.readouterr()
    assert len(json.loads(captured.out)["files"]) == 2
    assert "give --out DIR to export them with the JSON" in captured.err


async def test_a_kept_file_damaged_on_the_disk_is_not_exported_as_if_sound(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    await handed_in(world)
    damaged = world.app.files.path_of(hashlib.sha256(FILES["照片.jpg"]).hexdigest())
    damaged.write_bytes(b"not the photo")
    settings = load_settings({"HUIWU_DB": world.db_path}, env_file=None)

    with use_locale("en"):
        code = await cli_data.export(settings, world.instance_id, str(tmp_path), as_json=True)

    assert code == 2
    assert f"{damaged}: a kept file is damaged" in capsys.readouterr().err
    assert not (tmp_path / f"instance-{world.instance_id}.json").exists()
