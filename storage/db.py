"""The SQLite database: one aiosqlite connection, WAL, foreign keys, versioned migrations.

Migrations are the numbered ``migrations/NNNN_*.sql`` files, applied in number order at
start-up inside one transaction each. Numbers are reserved per issue, so they may land out
of order (0004 before 0002): ``schema_migrations`` records each one applied, so one that
lands later still runs on a database that has a higher one. ``PRAGMA user_version`` holds
the highest applied; a database with a migration the code does not know is refused.
Writers take ``transaction()``, which serialises them on the one connection. Hot reads are
cached until their tables change (``storage.readcache``). Deleted rows
are overwritten (``secure_delete``), and ``forget()`` empties the write-ahead log, so a
deleted ballot draft leaves no trace in the files.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from storage.changes import InstanceChanges
from storage.private_files import make_database_private
from storage.readcache import ReadCache

logger = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


class SchemaTooNewError(RuntimeError):
    """The database was written by a newer version of Huiwu."""


class DatabaseUnusableError(RuntimeError):
    """The database file cannot be opened or is not a database (``reason`` is SQLite's)."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def bundled_migrations() -> list[Migration]:
    """The migrations shipped with this version of Huiwu, in order."""
    found = []
    for entry in resources.files("storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), entry.name, entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


class Database:
    """An open Huiwu database."""

    def __init__(self, connection: aiosqlite.Connection, path: str) -> None:
        self.connection = connection
        self.path = path
        self._write_lock = asyncio.Lock()
        self.reads = ReadCache(connection)
        self.changes = InstanceChanges(connection)

    @classmethod
    async def open(
        cls, path: str | Path, migrations: Iterable[Migration] | None = None
    ) -> Database:
        """Open (creating if needed, 0600) and migrate the database at ``path``.

        Raises :class:`DatabaseUnusableError` when the file cannot be opened or is not a
        database, :class:`SchemaTooNewError` when a newer Huiwu wrote it.
        """
        await asyncio.to_thread(make_database_private, path)
        try:
            connection = await aiosqlite.connect(str(path), isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise DatabaseUnusableError(str(path), str(exc)) from None
        connection.row_factory = aiosqlite.Row
        try:
            try:
                # The first statement reads the file: a garbage file fails here.
                await connection.execute("PRAGMA journal_mode = WAL")
            except sqlite3.DatabaseError as exc:
                raise DatabaseUnusableError(str(path), str(exc)) from None
            await connection.execute("PRAGMA synchronous = NORMAL")
            await connection.execute("PRAGMA foreign_keys = ON")
            await connection.execute("PRAGMA busy_timeout = 5000")
            await connection.execute("PRAGMA secure_delete = ON")
            database = cls(connection, str(path))
            migrated = await database.migrate(
                bundled_migrations() if migrations is None else list(migrations)
            )
            if migrated:  # the log holds the pages as they were before
                await database.forget()
            await database.reads.watch()
            await database.changes.watch()
        except BaseException:
            await connection.close()
            raise
        return database

    async def close(self) -> None:
        await self.connection.close()

    async def schema_version(self) -> int:
        row = await self.fetch_one("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def applied_versions(self) -> set[int]:
        """The migrations this database has (before ``schema_migrations``: 1..user_version)."""
        if await self.fetch_one(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ):
            rows = await self.fetch_all("SELECT version FROM schema_migrations")
            return {int(row[0]) for row in rows}
        return set(range(1, await self.schema_version() + 1))

    async def migrate(self, migrations: list[Migration]) -> int:
        """Apply what is missing; return how many migrations ran."""
        current = await self.schema_version()
        known = {m.version for m in migrations}
        done = await self.applied_versions()
        highest = max(known, default=0)
        if current > highest or done - known:
            raise SchemaTooNewError(
                f"{self.path} has schema version {current}, but this Huiwu knows only up to "
                f"{highest}: upgrade Huiwu (or restore a backup) before starting it"
            )
        applied = 0
        for migration in migrations:
            if migration.version in done:
                continue
            logger.info("applying migration %s", migration.name)
            async with self.transaction() as conn:
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)"
                )
                await conn.executemany(
                    "INSERT OR IGNORE INTO schema_migrations (version) VALUES (?)",
                    [(version,) for version in done],
                )
                for statement in _split_sql(migration.sql):
                    await conn.execute(statement)
                await conn.execute(
                    "INSERT INTO schema_migrations (version) VALUES (?)", (migration.version,)
                )
                top = max(current, migration.version)
                await conn.execute(f"PRAGMA user_version = {top:d}")
            done.add(migration.version)
            current = max(current, migration.version)
            applied += 1
        return applied

    async def forget(self) -> None:
        """Copy the write-ahead log into the database and empty it: earlier versions of
        changed pages (a deleted draft, the order rows were written in) are gone. Between
        transactions: inside one the checkpoint fails ("database table is locked")."""
        async with self._write_lock:
            await self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction; everything in it lands together or not at all."""
        async with self._write_lock:
            try:
                await self.connection.execute("BEGIN IMMEDIATE")
            except asyncio.CancelledError:
                # The BEGIN still runs in aiosqlite's thread after its caller is cancelled
                # (a worker stopped at shutdown): undo it, queued behind it, or the next
                # writer's BEGIN fails with "cannot start a transaction within a transaction".
                with contextlib.suppress(sqlite3.Error):
                    await asyncio.shield(self.connection.execute("ROLLBACK"))
                raise
            try:
                yield self.connection
            except BaseException:
                await self.connection.execute("ROLLBACK")
                self.reads.note_change()  # cached reads may have seen the undone writes
                raise
            await self.connection.execute("COMMIT")

    async def write(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        """One write statement, atomic on its own (no BEGIN / COMMIT round trips: the sender
        marks every message it sends this way); returns the rows of a RETURNING clause."""
        async with self._write_lock:
            return list(await self.connection.execute_fetchall(sql, tuple(params)))

    # Each call is one trip to aiosqlite's thread (not three: execute, fetch, close): under
    # load those trips, not SQLite, bound how many updates a second the bot handles.
    async def fetch_one(self, sql: str, params: Iterable[Any] = ()) -> aiosqlite.Row | None:
        rows = await self.connection.execute_fetchall(sql, tuple(params))
        return next(iter(rows), None)

    async def fetch_all(self, sql: str, params: Iterable[Any] = ()) -> list[aiosqlite.Row]:
        return list(await self.connection.execute_fetchall(sql, tuple(params)))


def _split_sql(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement knows where one ends)."""
    statements, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(
        part.strip().startswith("--") or not part.strip() for part in buffer.splitlines()
    ):
        statements.append(buffer.strip())
    return statements
