"""Anonymity by schema (issue 6): after a survey or a call for opinions, no query over the
database can tie a ballot or an anonymous opinion to a person, and nothing deleted lingers
in the database files."""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from storage import conversations, instances, opinions, surveys
from storage.db import Database
from storage.sealing import Sealer

SEALER = Sealer.from_secrets("123456:TOKEN")
NOW = datetime(2013, 12, 31, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
PEOPLE_COLUMNS = {"member_id", "user_id", "voter", "sender", "platform", "chat_id"}
TIME_COLUMNS = {"created_at", "cast_at", "sent_at", "submitted_at", "at", "time"}


async def roster(db: Database, count: int) -> tuple[int, list[int]]:
    people = [(f"m{n}", f"成员{n}", ["member"], None, {}) for n in range(count)]
    async with db.transaction() as conn:
        instance_id = await instances.create_instance(
            conn, title="t", plan_toml="", members=people, loaded_by=None, now=NOW
        )
    return instance_id, [m.id for m in await instances.members_of(db, instance_id)]


async def columns(db: Database, table: str) -> list[str]:
    return [row["name"] for row in await db.fetch_all(f"PRAGMA table_info({table})")]


async def test_ballots_and_opinions_have_no_column_that_names_a_person_or_a_time(
    db: Database,
) -> None:
    assert await columns(db, "ballots") == ["ballot_key", "survey_id", "answers"]
    assert await columns(db, "opinions") == [
        "opinion_key",
        "window_id",
        "addressee_id",
        "text",
        "sender_name",
    ]
    for table in ("ballots", "opinions"):
        assert not set(await columns(db, table)) & (PEOPLE_COLUMNS | TIME_COLUMNS)
        with pytest.raises(Exception, match="rowid"):  # WITHOUT ROWID: no hidden insertion order
            await db.fetch_all(f"SELECT rowid FROM {table}")
    links = await db.fetch_all("PRAGMA foreign_key_list(ballots)")
    assert [(r["table"], r["from"]) for r in links] == [("surveys", "survey_id")]
    links = await db.fetch_all("PRAGMA foreign_key_list(opinions)")
    assert sorted((r["table"], r["from"]) for r in links) == [
        ("members", "addressee_id"),
        ("opinion_windows", "window_id"),
    ]
    assert await columns(db, "survey_voters") == ["survey_id", "member_id"]


async def test_each_cast_stores_the_round_again_under_fresh_keys(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance_id, members = await roster(db, 5)
    descending = (bytes([255 - n]) * 16 for n in itertools.count())
    monkeypatch.setattr(surveys, "new_ballot_key", lambda: next(descending))
    async with db.transaction() as conn:
        survey = await surveys.open_round(conn, instance_id, "evaluation", NOW, None)
        for n, member_id in enumerate(members):
            assert await surveys.cast(conn, survey.id, member_id, [f"answer-{n}"])
    stored = await surveys.ballots(db, survey.id)
    assert sorted(stored) == [[f"answer-{n}"] for n in range(5)]
    keys = await db.fetch_all("SELECT ballot_key FROM ballots")
    assert {bytes(row[0])[0] for row in keys} == {255 - n for n in range(10, 15)}  # the last 5
    assert await surveys.voter_ids(db, survey.id) == set(members)


async def test_one_ballot_per_voter_and_the_draft_is_gone_once_cast(db: Database) -> None:
    instance_id, (member, *_others) = await roster(db, 2)
    async with db.transaction() as conn:
        survey = await surveys.open_round(conn, instance_id, "evaluation", NOW, None)
        await surveys.save_draft(conn, SEALER, survey.id, member, [0, None])
        await surveys.save_draft(conn, SEALER, survey.id, member, [0, 2])
    assert await surveys.load_draft(db, SEALER, survey.id, member) == [0, 2]
    assert await surveys.load_draft(db, Sealer.ephemeral(), survey.id, member) is None
    async with db.transaction() as conn:
        assert await surveys.cast(conn, survey.id, member, ["好", "一般"])
        assert not await surveys.cast(conn, survey.id, member, ["差", "差"])
    assert await surveys.ballots(db, survey.id) == [["好", "一般"]]
    assert await surveys.load_draft(db, SEALER, survey.id, member) is None


async def test_an_anonymous_opinion_has_no_sender_and_its_draft_leaves_no_trace(
    db: Database, tmp_path: Path
) -> None:
    instance_id, (addressee, *_others) = await roster(db, 2)
    marker = "DRAFT-OF-USER-777-WRITING-TO-MEMBER"
    async with db.transaction() as conn:
        window = await opinions.open_window(conn, instance_id, NOW, NOW)
        await opinions.add_writer(conn, window.id, "telegram", "777")
        await conversations.save(conn, "telegram", "777", "opinion:confirming", {"m": marker}, NOW)
    async with db.transaction() as conn:
        await opinions.add_opinion(conn, window.id, addressee, "意见原文", None)
        await conversations.clear(conn, "telegram", "777")
    await db.forget()
    [stored] = await opinions.opinions_of(db, window.id)
    assert (stored.addressee_id, stored.text, stored.sender_name) == (addressee, "意见原文", None)
    assert _files_without(tmp_path, marker.encode()) >= 1


def _files_without(folder: Path, needle: bytes) -> int:
    """How many database files there are (main, -wal, -shm); fails if one holds ``needle``."""
    files = [p for p in folder.iterdir() if p.name.startswith("huiwu.sqlite3")]
    for path in files:
        assert needle not in path.read_bytes(), path.name
    return len(files)
