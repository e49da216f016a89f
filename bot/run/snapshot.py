"""One plan instance as JSON (``huiwu export N --json``) and back (``huiwu restore``).

The tables to take are found from the schema itself: every table that refers to the
instance, directly or through other tables (foreign keys), so tables added by later
migrations come along without changes here. Restoring inserts the rows as a new instance:
integer ids are given anew and every reference follows them. Sent messages (outbox),
invite codes and half-done conversations are not part of it.
"""

from __future__ import annotations

import base64
import secrets
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import aiosqlite

from bot.core.i18n import _
from storage.db import Database

FORMAT = "huiwu-instance"
VERSION = 1
ROOT = "plan_instances"
EXCLUDED = frozenset({"outbox", "invites", "conversations"})
_BLOB = "$base64"


class SnapshotError(ValueError):
    """The JSON is not a Huiwu instance export this version can restore."""


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[str, ...]
    references: tuple[tuple[str, str], ...]  # (column, table it refers to)
    integer_id: bool  # "id INTEGER PRIMARY KEY": new ids on restore
    blob_key: str | None  # a random BLOB primary key (ballots): new random bytes on restore


async def _tables(db: aiosqlite.Connection) -> dict[str, TableInfo]:
    async def rows(sql: str) -> list[Any]:
        async with db.execute(sql) as cursor:
            return list(await cursor.fetchall())

    names = [
        r[0]
        for r in await rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    found = {}
    for name in names:
        info = await rows(f'PRAGMA table_info("{name}")')
        keys = [r for r in info if r[5]]
        references = tuple((r[3], r[2]) for r in await rows(f'PRAGMA foreign_key_list("{name}")'))
        found[name] = TableInfo(
            name,
            tuple(r[1] for r in info),
            references,
            len(keys) == 1 and keys[0][1] == "id" and keys[0][2].upper() == "INTEGER",
            keys[0][1] if len(keys) == 1 and keys[0][2].upper() == "BLOB" else None,
        )
    return found


def _order(tables: dict[str, TableInfo]) -> list[str]:
    """The tables belonging to an instance, each after the tables it refers to."""
    included = {ROOT}
    changed = True
    while changed:
        changed = False
        for table in tables.values():
            if table.name in included or table.name in EXCLUDED:
                continue
            if any(target in included for _column, target in table.references):
                included.add(table.name)
                changed = True
    order: list[str] = []
    while len(order) < len(included):
        for name in sorted(included - set(order)):
            needs = {t for _c, t in tables[name].references if t in included and t != name}
            if needs <= set(order):
                order.append(name)
                break
        else:
            raise SnapshotError("the tables refer to each other in a cycle")
    return order


def _encode(value: Any) -> Any:
    return {_BLOB: base64.b64encode(value).decode("ascii")} if isinstance(value, bytes) else value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {_BLOB}:
        return base64.b64decode(value[_BLOB])
    return value


async def export_instance(db: Database, instance_id: int) -> dict[str, Any]:
    tables = await _tables(db.connection)
    order = _order(tables)
    ids: dict[str, set[Any]] = {ROOT: {instance_id}}
    data: dict[str, list[dict[str, Any]]] = {}
    for name in order:
        table = tables[name]
        if name == ROOT:
            rows = await db.fetch_all(f'SELECT * FROM "{ROOT}" WHERE id = ?', (instance_id,))
        else:
            rows = [
                row
                for row in await db.fetch_all(f'SELECT * FROM "{name}"')
                if any(row[column] in ids.get(target, ()) for column, target in table.references)
            ]
        if table.integer_id:
            ids[name] = {row["id"] for row in rows}
        data[name] = [{key: _encode(row[key]) for key in row.keys()} for row in rows]  # noqa: SIM118
    version = await db.fetch_one("PRAGMA user_version")
    return {
        "format": FORMAT,
        "version": VERSION,
        "schema_version": int(version[0]) if version else 0,
        "instance_id": instance_id,
        "tables": data,
    }


@dataclass(frozen=True)
class RestoreResult:
    instance_id: int
    rows: dict[str, int]  # table -> rows inserted
    skipped: dict[str, int]  # table -> rows already there (e.g. a chat bound to another instance)


async def restore_instance(db: Database, snapshot: dict[str, Any]) -> RestoreResult:
    """Insert an exported instance as a new one, in one transaction."""
    if snapshot.get("format") != FORMAT or snapshot.get("version") != VERSION:
        raise SnapshotError(_("not a Huiwu plan instance export"))
    current = await db.fetch_one("PRAGMA user_version")
    if int(snapshot.get("schema_version", 0)) > (int(current[0]) if current else 0):
        raise SnapshotError(_("the export comes from a newer Huiwu; upgrade Huiwu first"))
    tables = await _tables(db.connection)
    data: dict[str, list[dict[str, Any]]] = snapshot.get("tables", {})
    unknown = [name for name in data if name not in tables]
    if unknown or ROOT not in data or len(data[ROOT]) != 1:
        raise SnapshotError(
            _(
                "the export holds tables this Huiwu does not know, or no plan instance: {tables}"
            ).format(tables=", ".join(unknown))
        )
    new_ids: dict[str, dict[Any, Any]] = {}
    inserted: dict[str, int] = {}
    skipped: dict[str, int] = {}
    async with db.transaction() as conn:
        for name in _order(tables):
            table = tables[name]
            for raw in data.get(name, []):
                row = {key: _decode(value) for key, value in raw.items()}
                _check_columns(table, row)
                for column, target in table.references:
                    if row.get(column) is not None and target in new_ids:
                        row[column] = new_ids[target].get(row[column], row[column])
                old_id = row.pop("id") if table.integer_id else None
                if table.blob_key:
                    row[table.blob_key] = secrets.token_bytes(len(row[table.blob_key]))
                try:
                    cursor = await _insert(conn, name, row, ignore=not table.integer_id)
                except sqlite3.IntegrityError as exc:
                    raise SnapshotError(
                        _("{table}: a row is already in this database ({problem})").format(
                            table=name, problem=exc
                        )
                    ) from exc
                if cursor.rowcount != 1:
                    skipped[name] = skipped.get(name, 0) + 1
                    continue
                inserted[name] = inserted.get(name, 0) + 1
                if table.integer_id:
                    new_ids.setdefault(name, {})[old_id] = cursor.lastrowid
    return RestoreResult(next(iter(new_ids[ROOT].values())), inserted, skipped)


def _check_columns(table: TableInfo, row: dict[str, Any]) -> None:
    extra = set(row) - set(table.columns)
    if extra:
        raise SnapshotError(
            _("{table}: columns this Huiwu does not know: {columns}").format(
                table=table.name, columns=", ".join(sorted(extra))
            )
        )


async def _insert(
    conn: aiosqlite.Connection, name: str, row: dict[str, Any], *, ignore: bool
) -> aiosqlite.Cursor:
    columns: Iterable[str] = row.keys()
    names = ", ".join(f'"{c}"' for c in columns)
    marks = ", ".join("?" * len(row))
    verb = "INSERT OR IGNORE" if ignore else "INSERT"
    return await conn.execute(
        f'{verb} INTO "{name}" ({names}) VALUES ({marks})', tuple(row.values())
    )
