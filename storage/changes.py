"""Which plan instances' rows changed: a version per instance, so the clock's steps can skip a
plan whose schedule nothing has touched since they last planned it.

A province runs thousands of plans in one database; planning every one of them at every tick
took seconds (``bench/province.py``). The tables a plan's schedule is computed from carry its
instance id; temporary triggers on them call back into Python on every insert, update or delete
by this process and bump that instance's version (a rolled-back write counts as a change too).
A commit by another process (``huiwu plan load``) moves SQLite's ``PRAGMA data_version``, which
makes every instance's version new at once.
"""

from __future__ import annotations

from collections import defaultdict

import aiosqlite

# The tables a plan's phases and reminders are computed from, and how each names its instance.
WATCHED = {
    "plan_instances": "id",
    "members": "instance_id",
    "phase_runs": "instance_id",
    "assignments": "instance_id",
    "reminder_log": "instance_id",
    "reminder_pauses": "instance_id",
    "rectification_items": "instance_id",
    "talks": "instance_id",
}

_FUNCTION = "huiwu_instance_changed"


class InstanceChanges:
    """Versions of the plan instances of one database connection."""

    def __init__(self, connection: aiosqlite.Connection) -> None:
        self._connection = connection
        self._counts: defaultdict[int, int] = defaultdict(int)
        self._epoch = 0
        self._data_version: int | None = None

    async def watch(self) -> None:
        """Install the triggers (temporary: they belong to this connection only)."""
        await self._connection.create_function(_FUNCTION, 1, self._changed)
        marks = ", ".join("?" for _ in WATCHED)
        present = await self._connection.execute_fetchall(
            f"SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ({marks})",
            list(WATCHED),
        )
        for (table,) in present:
            column = WATCHED[table]
            for operation, rows in (
                ("INSERT", ("NEW",)),
                ("UPDATE", ("OLD", "NEW")),
                ("DELETE", ("OLD",)),
            ):
                calls = " ".join(f"SELECT {_FUNCTION}({row}.{column});" for row in rows)
                await self._connection.execute(
                    f"CREATE TEMP TRIGGER IF NOT EXISTS changes_{table}_{operation.lower()} "
                    f"AFTER {operation} ON main.{table} BEGIN {calls} END"
                )

    def _changed(self, instance_id: int | None) -> None:
        # Called in aiosqlite's thread, the only writer of the counts.
        if instance_id is not None:
            self._counts[instance_id] += 1

    async def refresh(self) -> None:
        """Notice another process's commits (call once before reading versions)."""
        rows = await self._connection.execute_fetchall("PRAGMA data_version")
        version = int(next(iter(rows))[0])
        if self._data_version is not None and version != self._data_version:
            self._epoch += 1
        self._data_version = version

    def version(self, instance_id: int) -> tuple[int, int]:
        """Changes when a row of the instance changes (or another process commits)."""
        return self._epoch, self._counts.get(instance_id, 0)
