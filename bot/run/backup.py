"""Backups of the whole database with SQLite's online backup API, safe while the bot runs
(WAL: the copy is one consistent snapshot and writers are not blocked), and restoring one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from bot.core.i18n import _
from storage.db import bundled_migrations
from storage.files import PART_SUFFIX, FileStore
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
    with contextlib.closing(sqlite3.connect(source, timeout=30)) as live:
        live.execute("PRAGMA busy_timeout = 30000")
        with contextlib.closing(sqlite3.connect(partial)) as copy:
            live.backup(copy)  # all pages in one step: one read transaction, one snapshot
            copy.execute("PRAGMA journal_mode = DELETE")  # the backup is one self-contained file
    with contextlib.closing(sqlite3.connect(partial)) as copy:
        info = _describe(copy, partial)
    os.replace(partial, target)
    # After the snapshot: every file its rows name was kept before the row was written.
    copy_files(source, target)
    return BackupInfo(target, info.schema_version, target.stat().st_size, info.tables)


def copy_files(source_db: Path, target_db: Path) -> int:
    """Copy the files folder of ``source_db`` beside ``target_db`` (``<file>.files``): the
    files handed in, kept outside the database. Content-addressed, so a file already there
    is the same and is skipped; returns how many were copied."""
    source, target = FileStore.beside(source_db), FileStore.beside(target_db)
    if not source.root.is_dir():
        return 0
    copied = 0
    for path in sorted(source.root.glob("*/*")):
        if path.name.endswith(PART_SUFFIX) or not path.is_file():
            continue
        destination = target.path_of(path.name)
        if destination.exists():
            continue
        for folder in (target.root, destination.parent):
            folder.mkdir(mode=0o700, exist_ok=True)
            folder.chmod(0o700)
        partial = destination.with_name(destination.name + PART_SUFFIX)
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as out, path.open("rb") as handle:
            shutil.copyfileobj(handle, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, destination)
        copied += 1
    return copied


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
    copy_files(backup, target)
    return info
