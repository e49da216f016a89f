"""A comparable dump of a database's tables, to assert that refused input changed nothing."""

from __future__ import annotations

from typing import Any

from storage.db import Database


async def dump_tables(db: Database, *, exclude: tuple[str, ...] = ()) -> dict[str, list[Any]]:
    """Every row of every table (but ``exclude``), as sorted tuples, by table name."""
    tables = await db.fetch_all(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    dump: dict[str, list[Any]] = {}
    for (table,) in tables:
        if table in exclude:
            continue
        rows = await db.fetch_all(f'SELECT * FROM "{table}"')
        dump[table] = sorted((tuple(row) for row in rows), key=repr)
    return dump
