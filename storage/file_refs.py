"""Which kept files (``storage.files``) are still referred to, and deleting those that are not.

A file is kept once per content, so the same bytes may belong to several hand-ins, pieces of
evidence and drafts: it is deleted only when none refers to it. The references are the
``sha256`` columns in ``COLUMNS`` and any ``"sha256"`` value in a conversation's data (a
hand-in draft). A table added later that refers to kept files must be named in ``COLUMNS``,
or its files are deleted as unreferenced.

Deleting comes after the commit that let go of a file (a crash in between leaves a file
nobody refers to, never a reference to a missing file), and ``sweep`` removes what such a
crash left at the next start and then daily. Both check the references inside a write
transaction (no other writer is half-way) and skip a file pinned by an event in flight or
when another process holds the folder's lock (``FileStore.locked``); they try again later.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Iterable
from typing import Any

import aiosqlite

from storage.db import Database
from storage.files import FileStore

logger = logging.getLogger(__name__)

COLUMNS = (("submission_files", "sha256"), ("rectification_evidence", "sha256"))
DRAFTS = "conversations"
# A ``.part`` older than this is left by a crash, not a download in flight.
PART_AGE_SECONDS = 24 * 3600.0
SWEEP_BATCH = 500  # files checked and deleted per write transaction


def hashes_in(data: Any) -> set[str]:
    """The ``"sha256"`` values anywhere in a conversation's data."""
    found: set[str] = set()
    pending = [data]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                if key == "sha256" and isinstance(value, str):
                    found.add(value)
                else:
                    pending.append(value)
        elif isinstance(item, list):
            pending.extend(item)
    return found


def _sources(tables: dict[str, set[str]], among: str = "") -> list[str]:
    """One SELECT per place a reference can be, for the tables this database has; ``among``
    (e.g. ``IN (?, ?)``) narrows each to some addresses."""
    selects = [
        f'SELECT "{column}" AS sha256 FROM "{table}" WHERE "{column}" ' + (among or "IS NOT NULL")
        for table, column in COLUMNS
        if column in tables.get(table, set())
    ]
    if "data" in tables.get(DRAFTS, set()):
        selects.append(
            f"SELECT t.value AS sha256 FROM {DRAFTS} c, json_tree(c.data) t "
            "WHERE t.key = 'sha256' AND t.type = 'text' AND json_valid(c.data)"
            + (f" AND t.value {among}" if among else "")
        )
    return selects


_TABLES_SQL = (
    "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'"
)


def _tables(rows: Iterable[Any]) -> dict[str, set[str]]:
    tables: dict[str, set[str]] = {}
    for table, column in rows:
        tables.setdefault(table, set()).add(column)
    return tables


async def referenced(conn: aiosqlite.Connection) -> set[str]:
    """Every kept file something refers to."""
    sources = _sources(_tables(await conn.execute_fetchall(_TABLES_SQL)))
    if not sources:
        return set()
    rows = await conn.execute_fetchall(" UNION ".join(sources))
    return {str(row[0]) for row in rows}


def referenced_in_file(conn: sqlite3.Connection) -> set[str]:
    """``referenced`` for a database opened with ``sqlite3`` (a backup, a restored copy)."""
    sources = _sources(_tables(conn.execute(_TABLES_SQL)))
    if not sources:
        return set()
    return {str(row[0]) for row in conn.execute(" UNION ".join(sources))}


async def _referenced_among(conn: aiosqlite.Connection, candidates: set[str]) -> set[str]:
    """Those of ``candidates`` something refers to, in one statement (an index lookup per
    table, migration 0013, and one pass over the drafts)."""
    names = sorted(candidates)
    among = f"IN ({', '.join('?' * len(names))})"
    sources = _sources(_tables(await conn.execute_fetchall(_TABLES_SQL)), among)
    if not sources:
        return set()
    rows = await conn.execute_fetchall(" UNION ".join(sources), names * len(sources))
    return {str(row[0]) for row in rows}


async def release(db: Database, store: FileStore, candidates: set[str]) -> set[str]:
    """Delete those of ``candidates`` nothing refers to (after the commit that let go of
    them); returns the ones deleted. Postponed (left to ``sweep``) while another process
    relies on the folder."""
    candidates = {sha256 for sha256 in candidates if not store.is_pinned(sha256)}
    if not candidates or not store.root.is_dir():
        return set()
    deleted: set[str] = set()
    with store.locked(exclusive=True, wait=False) as mine:
        if not mine:
            return deleted
        async with db.transaction() as conn:
            kept = await _referenced_among(conn, candidates)
            for sha256 in sorted(candidates - kept):
                if store.delete(sha256):  # the pin is checked here, with no await before
                    deleted.add(sha256)
    return deleted


async def sweep(db: Database, store: FileStore, *, at_start: bool = False) -> int:
    """Delete every kept file nothing refers to, and the ``.part`` files left by a crash (at
    the start, before anything is downloaded, all of them); returns how many files went."""
    if not store.root.is_dir():
        return 0
    contents = set(await asyncio.to_thread(store.contents))
    parts = await asyncio.to_thread(store.parts)
    removed = 0
    with store.locked(exclusive=True, wait=False) as mine:
        if not mine:
            logger.info("the files folder is in use by another process; sweeping later")
            return 0
        old = time.time() - PART_AGE_SECONDS
        for part in parts:
            try:
                if at_start or part.stat().st_mtime < old:
                    part.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        # Which look unreferenced, read without the write lock; each checked again under it
        # (a batch at a time, so writers wait for a batch, not for the whole folder).
        maybe = sorted(contents - await referenced(db.connection))
        for start in range(0, len(maybe), SWEEP_BATCH):
            batch = set(maybe[start : start + SWEEP_BATCH])
            async with db.transaction() as conn:
                for sha256 in sorted(batch - await _referenced_among(conn, batch)):
                    removed += store.delete(sha256)
    return removed


def dropped_from(old_data: str | None, new_data: dict[str, Any] | None) -> set[str]:
    """The files a conversation referred to and no longer does."""
    if old_data is None:
        return set()
    try:
        before = hashes_in(json.loads(old_data))
    except ValueError:
        return set()
    return before - (hashes_in(new_data) if new_data is not None else set())
