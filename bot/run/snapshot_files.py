"""The kept files of a plan instance's JSON export (``bot.run.snapshot``), so that the export
is complete: ``huiwu export N --json --out DIR`` writes ``instance-N.json`` and, when the
plan has files, the folder ``instance-N.files`` beside it, laid out like the database's own
files folder (``storage.files``: each file named by the SHA-256 of its content). The JSON
lists them (``"files"``: SHA-256 -> size), so ``huiwu restore`` refuses an export whose
files are missing or damaged rather than restore submissions without their files.

Every file is copied in pieces and checked against its name both ways (memory stays flat);
while files are copied the live folder's lock is held shared, so the bot does not delete one
in between (``FileStore.locked``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from bot.core.i18n import _, ngettext
from bot.run.snapshot import SnapshotError
from storage.file_refs import COLUMNS
from storage.files import FileStore, is_content_name

MANIFEST = "files"


def files_folder(json_path: Path) -> Path:
    """``instance-3.json`` -> ``instance-3.files`` (the folder goes where the JSON goes)."""
    return json_path.with_name(json_path.stem + ".files")


def wanted_files(snapshot: dict[str, Any]) -> set[str]:
    """The kept files the rows of an export refer to."""
    tables = snapshot.get("tables", {})
    return {
        str(row[column])
        for table, column in COLUMNS
        for row in tables.get(table, [])
        if isinstance(row.get(column), str)
    }


@contextlib.asynccontextmanager
async def relying_on(store: FileStore, *, create: bool) -> AsyncIterator[None]:
    """Hold the live files folder's lock shared (``create``: make the folder if missing, as
    a restore that is about to put files there); waited for in a thread, as the bot holds
    it exclusively for a moment while it deletes."""
    if not create and not store.root.is_dir():
        yield  # no folder: no file to protect
        return
    fd = await asyncio.to_thread(store.take_lock, exclusive=False)
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)


def write_files(live: FileStore, folder: Path, wanted: set[str]) -> tuple[dict[str, int], int]:
    """Copy the ``wanted`` files into ``folder`` (any other file there is removed); returns
    the manifest (SHA-256 -> size) and how many were not found in the live folder."""
    target = FileStore(folder)
    for stale in set(target.contents()) - wanted:
        target.delete(stale)
    manifest: dict[str, int] = {}
    missing = 0
    for sha256 in sorted(wanted):
        source = live.path_of(sha256)
        try:
            target.copy_from(source, sha256)
        except FileNotFoundError:
            missing += 1
            continue
        except ValueError as exc:
            raise SnapshotError(
                _("{file}: a kept file is damaged ({problem})").format(file=source, problem=exc)
            ) from exc
        manifest[sha256] = target.path_of(sha256).stat().st_size
    return manifest, missing


def read_manifest(snapshot: dict[str, Any]) -> dict[str, int]:
    """The files an export says it carries (none for an export from before they did)."""
    manifest = snapshot.get(MANIFEST, {})
    if not isinstance(manifest, dict) or not all(
        isinstance(name, str)
        and is_content_name(name)
        and isinstance(size, int)
        and not isinstance(size, bool)
        and size >= 0
        for name, size in manifest.items()
    ):
        raise SnapshotError(_("not a Huiwu plan instance export"))
    return manifest


def take_files(
    live: FileStore, json_path: Path, manifest: dict[str, int], copied: set[str]
) -> None:
    """Copy the export's files into the live folder, each checked, adding to ``copied`` the
    ones it did not hold yet; raises ``SnapshotError`` (naming the first missing or damaged
    one) before anything refers to them."""
    if not manifest:
        return
    folder = files_folder(json_path)
    if not folder.is_dir():
        raise SnapshotError(
            ngettext(
                "{file} comes with {count} file in the folder {folder}, which is not there: put that folder next to it (huiwu export --json --out DIR writes both)",
                "{file} comes with {count} files in the folder {folder}, which is not there: put that folder next to it (huiwu export --json --out DIR writes both)",
                len(manifest),
            ).format(file=json_path, count=len(manifest), folder=folder)
        )
    source = FileStore(folder)
    for sha256, size in sorted(manifest.items()):
        if live.path_of(sha256).exists():
            continue
        try:
            live.copy_from(source.path_of(sha256), sha256, size)
        except FileNotFoundError:
            raise SnapshotError(
                _("{file}: this file of the export is missing").format(file=source.path_of(sha256))
            ) from None
        except ValueError:
            raise SnapshotError(
                _("{file}: this file of the export is damaged (its content does not match)").format(
                    file=source.path_of(sha256)
                )
            ) from None
        copied.add(sha256)
