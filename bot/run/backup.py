"""Backups of the whole database with SQLite's online backup API, safe while the bot runs
(WAL: the copy is one consistent snapshot and writers are not blocked), and restoring one.

The kept files (``storage.files``) go along: exactly those the copied database refers to
(``storage.file_refs``), so a file deleted from the live folder, or left there by a crash
before the sweep, is neither carried into a backup nor brought back by a restore. The live
folder's lock is held shared from the snapshot until its files are copied, so the bot
postpones deleting any of them meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.core.i18n import _
from storage.db import bundled_migrations
from storage.file_refs import referenced_in_file
from storage.files import FileStore
from storage.private_files import make_database_private, open_private

SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(RuntimeError):
    """The backup could not be made or is not one Huiwu can restore."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    schema_version: int
    size: int
    tables: dict[str, int]  # table -> rows
    files: int = 0  # kept files carried along
    missing_files: int = 0  # referred to but not found in the source's files folder


def is_sqlite_file(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def _describe(connection: sqlite3.Connection, path: Path) -> BackupInfo:
    check = connection.execute("PRAGMA integrity_check").fetchone()[0]
    if check != "ok":
        raise BackupError(
            _("{file}: integrity check failed: {problem}").format(file=path, problem=check)
        )
    tables = [
        row[0]
        for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    counts = {t: connection.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    return BackupInfo(path, int(version), path.stat().st_size, counts)


def backup_database(source: Path, target: Path) -> BackupInfo:
    """Copy the live database at ``source`` into the single file ``target`` (replaced whole)."""
    if not source.exists():
        raise BackupError(_("{file}: no such database").format(file=source))
    if target.is_dir():
        raise BackupError(
            _("{file}: this is a folder; give the name of the backup file").format(file=target)
        )
    if not target.parent.is_dir():
        raise BackupError(
            _("{file}: the folder {folder} does not exist").format(
                file=target, folder=target.parent
            )
        )
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(open_private(partial))  # SQLite keeps the mode of the file it finds
    with FileStore.beside(source).locked(exclusive=False):  # no deletion until copied
        with contextlib.closing(sqlite3.connect(source, timeout=30)) as live:
            live.execute("PRAGMA busy_timeout = 30000")
            with contextlib.closing(sqlite3.connect(partial)) as copy:
                live.backup(copy)  # all pages in one step: one read transaction, one snapshot
                copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
        with contextlib.closing(sqlite3.connect(partial)) as copy:
            info = _describe(copy, partial)
            wanted = referenced_in_file(copy)
        os.replace(partial, target)
        # After the snapshot: every file its rows name was kept before the row was written.
        copied, missing = copy_files(source, target, wanted)
    return BackupInfo(
        target, info.schema_version, target.stat().st_size, info.tables, copied, missing
    )


def copy_files(source_db: Path, target_db: Path, wanted: set[str]) -> tuple[int, int]:
    """Make the files folder beside ``target_db`` (``<file>.files``) hold exactly the files
    ``wanted`` from the one beside ``source_db``: each copied in pieces and checked against
    its content address, a file already there skipped, any other file there deleted.
    Returns how many were copied and how many wanted were not found."""
    source, target = FileStore.beside(source_db), FileStore.beside(target_db)
    for stale in set(target.contents()) - wanted:
        target.delete(stale)
    for part in target.parts():
        part.unlink(missing_ok=True)
    copied = missing = 0
    for sha256 in sorted(wanted):
        if target.path_of(sha256).exists():
            continue
        try:
            target.copy_from(source.path_of(sha256), sha256)
        except FileNotFoundError:
            missing += 1
            continue
        except ValueError as exc:  # the source's bytes are not what their name says
            raise BackupError(
                _("{file}: a kept file is damaged ({problem})").format(
                    file=source.path_of(sha256), problem=exc
                )
            ) from exc
        copied += 1
    return copied, missing


def restore_database(backup: Path, target: Path, *, force: bool = False) -> BackupInfo:
    """Make ``target`` a copy of ``backup`` (the bot must be stopped). An existing target is
    replaced only with ``force``."""
    if not backup.exists() or not is_sqlite_file(backup):
        raise BackupError(_("{file}: not a SQLite database").format(file=backup))
    with contextlib.closing(sqlite3.connect(backup)) as source:
        info = _describe(source, backup)
        known = bundled_migrations()[-1].version
        if info.schema_version > known:
            raise BackupError(
                _("{file} has schema version {version}; this Huiwu knows up to {known}").format(
                    file=backup, version=info.schema_version, known=known
                )
            )
        if target.exists() and not force:
            raise BackupError(_("{file} exists; pass --force to replace it").format(file=target))
        make_database_private(target)
        with contextlib.closing(sqlite3.connect(target, timeout=30)) as restored:
            source.backup(restored)
        wanted = referenced_in_file(source)
    copied, missing = copy_files(backup, target, wanted)
    return BackupInfo(info.path, info.schema_version, info.size, info.tables, copied, missing)
