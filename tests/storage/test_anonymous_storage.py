"""Ballots and opinions on a real SQLite file: each write rewrites the round (window) with
fresh keys, counts stay whole, and migration 0006 rewrites what an older Huiwu stored in
casting order (issue 15; the end-to-end test on the bytes is tests/e2e/test_anonymity_bytes.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from storage import opinions, surveys
from storage.db import Database, bundled_migrations


def file_bytes(path: Path) -> bytes:
    return b"".join(
        Path(f"{path}{suffix}").read_bytes()
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )


async def test_migration_0006_rewrites_old_ballots_and_opinions_with_fresh_keys(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.sqlite3"
    before = [m for m in bundled_migrations() if m.version < 6]
    db = await Database.open(path, migrations=before)
    old_keys = [bytes([n]) * 16 for n in range(1, 7)]
    async with db.transaction() as conn:
        await conn.execute(
            "INSERT INTO plan_instances (id, title, plan_toml, created_at) VALUES (1, 't', '', 'x')"
        )
        await conn.execute(
            "INSERT INTO surveys (id, instance_id, survey_key, opened_at) VALUES (1, 1, 'e', 'x')"
        )
        await conn.execute(
            "INSERT INTO opinion_windows (id, instance_id, code, opened_at, closes_at) "
            "VALUES (1, 1, 'op-1', 'x', 'y')"
        )
        for number, key in enumerate(old_keys):
            await conn.execute(
                "INSERT INTO ballots (ballot_key, survey_id, answers) VALUES (?, 1, ?)",
                (key, json.dumps(["好", "差"][number % 2], ensure_ascii=False)),
            )
        await conn.execute(
            "INSERT INTO opinions (opinion_key, window_id, text) VALUES (?, 1, '意见')",
            (b"\x77" * 16,),
        )
        await conn.execute(
            "INSERT INTO wecom_callbacks (dedupe_key, fields, received_at, handled_at) "
            "VALUES ('event:lina|1|click|vote:1:0:1', '{\"FromUserName\": \"lina\"}', 'x', 'y')"
        )
    await db.close()
    db = await Database.open(path)
    rows = await db.fetch_all("SELECT ballot_key, answers FROM ballots")
    assert Counter(json.loads(row[1]) for row in rows) == {"好": 3, "差": 3}
    assert not {bytes(row[0]) for row in rows} & set(old_keys)
    assert await db.fetch_all("SELECT * FROM wecom_callbacks") == []
    [(text,)] = await db.fetch_all("SELECT text FROM opinions")
    assert text == "意见"
    await db.close()
    stored = file_bytes(path)
    assert not [key for key in [*old_keys, b"\x77" * 16] if key in stored]
    assert b"lina" not in stored


async def test_each_cast_rewrites_the_round_with_fresh_keys_and_keeps_every_ballot(
    db: Database,
) -> None:
    await db.connection.execute("PRAGMA foreign_keys = OFF")
    keys_before: set[bytes] = set()
    for voter in range(1, 9):
        async with db.transaction() as conn:
            assert await surveys.cast(conn, 1, voter, [str(voter), "好"])
        keys = {bytes(row[0]) for row in await db.fetch_all("SELECT ballot_key FROM ballots")}
        assert len(keys) == voter and not keys & keys_before
        keys_before = keys
    async with db.transaction() as conn:
        assert not await surveys.cast(conn, 1, 3, ["3", "差"])  # one ballot each
    assert sorted(await surveys.ballots(db, 1)) == sorted([[str(v), "好"] for v in range(1, 9)])


async def test_each_opinion_rewrites_its_window_and_leaves_the_others_alone(db: Database) -> None:
    await db.connection.execute("PRAGMA foreign_keys = OFF")
    async with db.transaction() as conn:
        await opinions.add_opinion(conn, 2, None, "另一窗口", None)
    [(other_key,)] = await db.fetch_all("SELECT opinion_key FROM opinions")
    for number in range(5):
        async with db.transaction() as conn:
            await opinions.add_opinion(conn, 1, None, f"意见{number}", None if number else "孟平")
    stored = await opinions.opinions_of(db, 1)
    assert sorted(o.text for o in stored) == [f"意见{n}" for n in range(5)]
    assert [o.sender_name for o in stored if o.text == "意见0"] == ["孟平"]
    assert await db.fetch_all("SELECT 1 FROM opinions WHERE opinion_key = ?", (other_key,))
