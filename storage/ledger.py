"""The rectification ledger's rows: items, their evidence and the history of their status."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import aiosqlite

from storage.assignments import LegacyFile, as_copy
from storage.db import Database
from storage.records import EvidenceRecord, FileCopy, LedgerItemRecord
from storage.timefmt import from_db, maybe_from_db, to_db

SOURCES = ("opinion", "meeting", "self-review")
CATEGORIES = ("immediate", "deadline", "explain", "escalate")
STATUSES = ("todo", "in_progress", "done")


@dataclass(frozen=True)
class NewItem:
    description: str
    source: str
    category: str
    member_id: int | None
    department: str | None = None
    due_at: datetime | None = None
    source_ref: str | None = None


def _item(row: aiosqlite.Row) -> LedgerItemRecord:
    return LedgerItemRecord(
        row["id"],
        row["instance_id"],
        row["description"],
        row["source"],
        row["category"],
        row["member_id"],
        row["department"],
        maybe_from_db(row["due_at"]),
        row["status"],
        from_db(row["created_at"]),
        from_db(row["updated_at"]),
        row["source_ref"],
    )


async def add_item(
    conn: aiosqlite.Connection, instance_id: int, item: NewItem, by: int | None, now: datetime
) -> int | None:
    """Store a new item (status "todo"); None if one with the same ``source_ref`` exists."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO rectification_items (instance_id, description, source, category, "
        "member_id, department, due_at, source_ref, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            instance_id,
            item.description,
            item.source,
            item.category,
            item.member_id,
            item.department,
            to_db(item.due_at) if item.due_at else None,
            item.source_ref,
            to_db(now),
            to_db(now),
        ),
    )
    if cursor.rowcount != 1:
        return None
    item_id = int(cursor.lastrowid or 0)
    await _record_status(conn, item_id, "todo", by, now)
    return item_id


async def _record_status(
    conn: aiosqlite.Connection, item_id: int, status: str, by: int | None, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO rectification_history (item_id, status, member_id, changed_at) VALUES (?, ?, ?, ?)",
        (item_id, status, by, to_db(now)),
    )


async def set_status(
    conn: aiosqlite.Connection, item_id: int, status: str, by: int | None, now: datetime
) -> bool:
    """Change an item's status; False if it had that status already."""
    cursor = await conn.execute(
        "UPDATE rectification_items SET status = ?, updated_at = ? WHERE id = ? AND status != ?",
        (status, to_db(now), item_id, status),
    )
    if cursor.rowcount != 1:
        return False
    await _record_status(conn, item_id, status, by, now)
    return True


async def add_evidence(
    conn: aiosqlite.Connection,
    item_id: int,
    member_id: int | None,
    now: datetime,
    *,
    text: str | None = None,
    file: FileCopy | LegacyFile | None = None,
) -> None:
    """A text, or a file (kept in the files folder, or as bytes)."""
    copy = as_copy(file) if file is not None else FileCopy("", "", None, None, None)
    await conn.execute(
        "INSERT INTO rectification_evidence (item_id, member_id, text, platform, file_ref, "
        "file_name, mime_type, size, content, sha256, added_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            item_id,
            member_id,
            text,
            copy.platform or None,
            copy.file_ref or None,
            copy.file_name,
            copy.mime_type,
            copy.size,
            copy.content,
            copy.sha256,
            to_db(now),
        ),
    )
    await conn.execute(
        "UPDATE rectification_items SET updated_at = ? WHERE id = ?", (to_db(now), item_id)
    )


async def get_item(db: Database, item_id: int) -> LedgerItemRecord | None:
    row = await db.fetch_one("SELECT * FROM rectification_items WHERE id = ?", (item_id,))
    return _item(row) if row else None


async def items_of_instance(db: Database, instance_id: int) -> list[LedgerItemRecord]:
    rows = await db.fetch_all(
        "SELECT * FROM rectification_items WHERE instance_id = ? ORDER BY id", (instance_id,)
    )
    return [_item(row) for row in rows]


async def items_of_members(db: Database, member_ids: Iterable[int]) -> list[LedgerItemRecord]:
    ids = list(member_ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    rows = await db.fetch_all(
        f"SELECT * FROM rectification_items WHERE member_id IN ({marks}) ORDER BY id", ids
    )
    return [_item(row) for row in rows]


async def open_items(db: Database) -> list[LedgerItemRecord]:
    """Items not done, of every plan instance still running."""
    rows = await db.fetch_all(
        "SELECT r.* FROM rectification_items r JOIN plan_instances p ON p.id = r.instance_id "
        "WHERE r.status != 'done' AND p.status = 'active' ORDER BY r.due_at, r.id"
    )
    return [_item(row) for row in rows]


async def evidence_of(db: Database, item_id: int) -> list[EvidenceRecord]:
    rows = await db.fetch_all(
        "SELECT * FROM rectification_evidence WHERE item_id = ? ORDER BY id", (item_id,)
    )
    return [
        EvidenceRecord(
            r["id"],
            r["item_id"],
            r["member_id"],
            r["text"],
            r["file_name"],
            r["mime_type"],
            r["content"],
            from_db(r["added_at"]),
        )
        for r in rows
    ]


@dataclass(frozen=True)
class EvidenceNote:
    """One piece of evidence as the board lists it, without the file's content."""

    id: int
    text: str | None
    file_name: str | None
    has_file: bool


async def evidence_notes(db: Database, instance_id: int) -> dict[int, list[EvidenceNote]]:
    """item id -> its evidence, oldest first, without the files' content."""
    rows = await db.fetch_all(
        "SELECT e.item_id, e.id, e.text, e.file_name, "
        "(e.sha256 IS NOT NULL OR e.content IS NOT NULL OR e.file_ref IS NOT NULL) "
        "FROM rectification_evidence e "
        "JOIN rectification_items r ON r.id = e.item_id WHERE r.instance_id = ? ORDER BY e.id",
        (instance_id,),
    )
    found: dict[int, list[EvidenceNote]] = {}
    for row in rows:
        found.setdefault(int(row[0]), []).append(
            EvidenceNote(int(row[1]), row[2], row[3], bool(row[4]))
        )
    return found


@dataclass(frozen=True)
class EvidenceFile:
    """An evidence file and whose item it proves (for the board's download check)."""

    instance_id: int
    owner_id: int | None  # the item's member; None for a department's item
    platform: str | None
    file_ref: str | None
    file_name: str | None
    mime_type: str | None
    sha256: str | None
    content: bytes | None


async def get_evidence_file(db: Database, evidence_id: int) -> EvidenceFile | None:
    """The evidence row's file, or None when there is no such row or it holds no file."""
    row = await db.fetch_one(
        "SELECT r.instance_id, r.member_id, e.platform, e.file_ref, e.file_name, e.mime_type, "
        "e.sha256, e.content FROM rectification_evidence e "
        "JOIN rectification_items r ON r.id = e.item_id WHERE e.id = ? "
        "AND (e.sha256 IS NOT NULL OR e.content IS NOT NULL OR e.file_ref IS NOT NULL)",
        (evidence_id,),
    )
    if row is None:
        return None
    return EvidenceFile(*(row[i] for i in range(8)))


async def evidence_counts(db: Database, instance_id: int) -> dict[int, int]:
    rows = await db.fetch_all(
        "SELECT e.item_id, COUNT(*) AS n FROM rectification_evidence e "
        "JOIN rectification_items r ON r.id = e.item_id WHERE r.instance_id = ? GROUP BY e.item_id",
        (instance_id,),
    )
    return {row["item_id"]: int(row["n"]) for row in rows}


async def history(db: Database, instance_id: int) -> list[tuple[int, str, datetime]]:
    """(item id, status, when) for every status change of the instance's items, in order."""
    rows = await db.fetch_all(
        "SELECT h.item_id, h.status, h.changed_at FROM rectification_history h "
        "JOIN rectification_items r ON r.id = h.item_id WHERE r.instance_id = ? "
        "ORDER BY h.changed_at, h.id",
        (instance_id,),
    )
    return [(row["item_id"], row["status"], from_db(row["changed_at"])) for row in rows]


async def evidence_file_index(db: Database, instance_id: int) -> list[aiosqlite.Row]:
    """Every evidence file of the instance's items, without its content (in the files folder
    by ``sha256``, or read with ``evidence_content``): id, item_id, member_id, file_name,
    mime_type, added_at, sha256."""
    return await db.fetch_all(
        "SELECT e.id, e.item_id, r.member_id, e.file_name, e.mime_type, e.added_at, e.sha256 "
        "FROM rectification_evidence e JOIN rectification_items r ON r.id = e.item_id "
        "WHERE r.instance_id = ? AND (e.sha256 IS NOT NULL OR e.content IS NOT NULL) "
        "ORDER BY e.item_id, e.id",
        (instance_id,),
    )


async def evidence_content(db: Database, evidence_id: int) -> bytes | None:
    row = await db.fetch_one(
        "SELECT content FROM rectification_evidence WHERE id = ?", (evidence_id,)
    )
    return row["content"] if row else None
