"""Results of the hot reads (who a user is, a plan's roster and progress), kept in memory until
the tables they come from change.

Every command starts by finding who is speaking and /status reads a plan's whole roster and
progress; under load those reads took about a third of the bot's CPU (``bench/roundtrip.py``). The
tables behind them change rarely (a plan loaded, a member bound, a submission), so their
results are kept and handed out again until something changes:

* in this process, temporary triggers on the watched tables call back into Python on every
  insert, update or delete (and a rolled-back transaction counts as a change), so no write,
  whichever module makes it, is missed;
* in another process (``huiwu plan load`` or ``huiwu wecom create-chat`` while the bot runs),
  SQLite's ``PRAGMA data_version`` moves when that process commits.

A cached result is tagged with both counters as read before the query; it is used only while
both are unchanged. Concurrent readers share one ``data_version`` query, and readers of the
same key one load.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

import aiosqlite

T = TypeVar("T")

WATCHED_TABLES = ("plan_instances", "members", "identities", "assignments", "submissions")
MAX_ENTRIES = 20_000  # past this the cache starts over (strangers' lookups are cached too)

_CHANGED_FUNCTION = "huiwu_watched_table_changed"


class ReadCache:
    """Cached read results of one database connection."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self.local_changes = 0
        self._entries: dict[Hashable, tuple[tuple[int, int], Any]] = {}
        self._loading: dict[Hashable, tuple[tuple[int, int], asyncio.Future[Any]]] = {}
        self._version_query: asyncio.Future[int] | None = None
        self.hits = 0
        self.misses = 0

    async def watch(self) -> None:
        """Install the triggers that count this connection's writes to the watched tables."""
        await self._connection.create_function(_CHANGED_FUNCTION, 0, self.note_change)
        marks = ", ".join("?" for _ in WATCHED_TABLES)
        present = await self._connection.execute_fetchall(
            f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({marks})",
            WATCHED_TABLES,
        )
        for (table,) in present:
            for operation in ("INSERT", "UPDATE", "DELETE"):
                await self._connection.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS watch_{table}_{operation.lower()} "
                    f"AFTER {operation} ON main.{table} "
                    f"BEGIN SELECT {_CHANGED_FUNCTION}(); END"
                )

    def note_change(self) -> None:
        """A watched table changed (called by the triggers, in aiosqlite's thread)."""
        self.local_changes += 1

    async def get(self, key: Hashable, load: Callable[[], Awaitable[T]]) -> T:
        """The cached result for ``key``, or ``load()``'s, kept for next time. Readers of the
        same key at the same time share one load."""
        local = self.local_changes  # before the query: a change during it makes this stale
        version = (local, await self._data_version())
        entry = self._entries.get(key)
        if entry is not None and entry[0] == version:
            self.hits += 1
            return entry[1]
        loading = self._loading.get(key)
        if loading is not None and loading[0] == version:
            self.hits += 1
            return await asyncio.shield(loading[1])
        self.misses += 1
        task = asyncio.ensure_future(load())
        self._loading[key] = (version, task)
        try:
            value = await asyncio.shield(task)
        finally:
            if self._loading.get(key, (None, None))[1] is task:
                del self._loading[key]
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (version, value)
        return value

    async def _data_version(self) -> int:
        query = self._version_query
        if query is None:
            query = self._version_query = asyncio.ensure_future(self._read_data_version())
            query.add_done_callback(self._query_done)
        return await asyncio.shield(query)

    def _query_done(self, query: asyncio.Future[int]) -> None:
        if self._version_query is query:
            self._version_query = None

    async def _read_data_version(self) -> int:
        rows = await self._connection.execute_fetchall("PRAGMA data_version")
        return int(next(iter(rows))[0])
