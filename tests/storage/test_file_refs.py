"""Deleting kept files nothing refers to (``storage.file_refs``) never takes one that is about
to be referred to: a file stored by an event still in flight is pinned, another process
relying on the folder postpones the deletion, and every place a reference can be counts."""

from __future__ import annotations

import json
from pathlib import Path

from storage import file_refs
from storage.db import Database
from storage.files import FileSink, FileStore


async def put(store: FileStore, content: bytes) -> str:
    async def fetch(sink: FileSink) -> None:
        sink.write(content)

    return (await store.store(fetch, limit=10_000)).sha256


async def test_a_file_stored_by_an_event_in_flight_is_not_deleted_until_it_ends(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "huiwu.sqlite3")
    store = FileStore.beside(db.path)
    try:
        with store.holding() as held:  # an event stores the bytes, not yet committed
            sha256 = await put(store, b"the same bytes")
            # Another event's cancelled draft had the same bytes: it lets go of them now.
            assert await file_refs.release(db, store, {sha256}) == set()
            assert await file_refs.sweep(db, store) == 0
            assert store.path_of(sha256).exists()
        assert held.stored == {sha256}
        assert await file_refs.release(db, store, {sha256}) == {sha256}
        assert not store.path_of(sha256).exists()
    finally:
        await db.close()


async def test_deleting_waits_while_another_process_relies_on_the_folder(
    tmp_path: Path,
) -> None:
    db = await Database.open(tmp_path / "huiwu.sqlite3")
    store = FileStore.beside(db.path)
    try:
        sha256 = await put(store, b"copied by a backup right now")
        with FileStore.beside(db.path).locked(exclusive=False):  # e.g. huiwu backup
            assert await file_refs.release(db, store, {sha256}) == set()
            assert await file_refs.sweep(db, store) == 0
        assert store.path_of(sha256).exists()
        assert await file_refs.sweep(db, store) == 1
    finally:
        await db.close()


async def test_each_place_a_reference_can_be_keeps_the_file(tmp_path: Path) -> None:
    db = await Database.open(tmp_path / "huiwu.sqlite3")
    store = FileStore.beside(db.path)
    try:
        in_draft = await put(store, b"in a draft")
        in_evidence = await put(store, b"evidence")
        loose = await put(store, b"nobody's")
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO conversations (platform, user_id, state, data, updated_at) "
                "VALUES ('wecom', 'u1', 'collecting', ?, '2014-01-05T02:00:00+00:00')",
                (json.dumps({"files": [{"file_name": "a.pdf", "sha256": in_draft}]}),),
            )
            await conn.execute(
                "INSERT INTO plan_instances (title, plan_toml, created_at) "
                "VALUES ('t', '', '2014-01-05T02:00:00+00:00')"
            )
            await conn.execute(
                "INSERT INTO rectification_items (instance_id, description, source, category, "
                "created_at, updated_at) VALUES (1, 'x', 'opinion', 'immediate', "
                "'2014-01-05T02:00:00+00:00', '2014-01-05T02:00:00+00:00')"
            )
            await conn.execute(
                "INSERT INTO rectification_evidence (item_id, file_ref, file_name, sha256, "
                "added_at) VALUES (1, 'ref', 'e.jpg', ?, '2014-01-05T02:00:00+00:00')",
                (in_evidence,),
            )
        candidates = {in_draft, in_evidence, loose}
        assert await file_refs.release(db, store, candidates) == {loose}
        assert set(store.contents()) == {in_draft, in_evidence}
        assert await file_refs.sweep(db, store) == 0
    finally:
        await db.close()
