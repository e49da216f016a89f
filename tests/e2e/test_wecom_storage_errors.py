"""Issue 22, item 3, on WeCom: a callback that arrives while the database cannot be written
(``PRAGMA query_only`` on the bot's connection: every write fails with SQLITE_READONLY, as on
a file remounted read-only; no filesystem is mounted) is still answered 200 and handled, the
member gets an answer, and the journal and the sender go on once the database is writable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.wecom.people import card_text
from storage import outbox
from tests.e2e.wecom_world import WeComWorld, WeComWorldFactory, wecom_worlds


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WeComWorld]:
    factory: WeComWorldFactory
    async for factory in wecom_worlds(tmp_path):
        yield await factory()


async def test_callbacks_are_answered_while_the_database_is_read_only(world: WeComWorld) -> None:
    member = world.people["唐军"]
    await world.app.db.connection.execute("PRAGMA query_only = 1")
    answer = await member.say("/help")  # raises unless the callback got HTTP 200
    assert any("/mytasks" in card_text(m) for m in answer)
    await world.app.db.connection.execute("PRAGMA query_only = 0")

    answer = await member.say("/help")
    assert any("/mytasks" in card_text(m) for m in answer)
    await world.runtime.join()
    states = {r.state for r in await outbox.messages(world.app.db, platform="wecom")}
    assert states == {"sent"}, states
    # The callback of the outage was handled in memory; the one after it is in the journal,
    # handled.
    rows = await world.rows("SELECT handled_at IS NOT NULL FROM wecom_callbacks")
    assert rows and all(row[0] for row in rows)


async def test_the_robot_answers_a_mention_while_the_database_is_read_only(
    tmp_path: Path,
) -> None:
    """The robot's long connection journals each message in the same table: a message that
    arrives while the database refuses writes is answered, not dropped with a traceback."""
    async for factory in wecom_worlds(tmp_path):
        world = await factory(bind_group=False, robot="long")
        assert await world.group_say("方磊", "/setup")
        await world.app.db.connection.execute("PRAGMA query_only = 1")
        answer = await world.group_say("唐军", "/help")
        assert answer, "the robot said nothing"
        await world.app.db.connection.execute("PRAGMA query_only = 0")
        assert await world.group_say("唐军", "/help")
