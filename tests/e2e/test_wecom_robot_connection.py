"""The robot's long connection under faults, end to end against the emulator's gateway:
heartbeats, a forced disconnect (nothing said meanwhile is lost, nothing redelivered is
handled twice), a restart of the bot, a refused subscription, and WeCom's "taken over"."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.adapters.wecom.journal import StoredJournal
from bot.run import scheduler
from storage.wecom_callbacks import journal_secret
from tests.e2e.wecom_world import ROBOT_GROUP, WeComWorld, WeComWorldFactory, wecom_worlds


@pytest.fixture
async def make_wecom_world(tmp_path: Path) -> AsyncIterator[WeComWorldFactory]:
    async for factory in wecom_worlds(tmp_path):
        yield factory


async def _bound(make: WeComWorldFactory, **options: object) -> WeComWorld:
    world = await make(bind_group=False, robot="long", **options)
    assert await world.group_say("方磊", "/setup")
    return world


async def _until(condition: object, seconds: float = 10.0) -> None:
    """Wait (bounded) for something the bot does on its own, such as reconnecting."""
    async with asyncio.timeout(seconds):
        while not condition():  # type: ignore[operator]  # noqa: ASYNC110 (polls another component)
            await asyncio.sleep(0.01)


async def test_heartbeats_are_sent_and_answered(make_wecom_world: WeComWorldFactory) -> None:
    world = await make_wecom_world(bind_group=False, robot="long")
    assert world.robot is not None and world.runtime.robot_connection is not None
    await _until(lambda: world.robot.stats.heartbeats >= 2)  # type: ignore[union-attr]
    await _until(lambda: world.runtime.robot_connection.stats.heartbeats >= 2)  # type: ignore[union-attr]


async def test_unanswered_heartbeats_reopen_the_connection(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await make_wecom_world(bind_group=False, robot="long")
    robot, connection = world.robot, world.runtime.robot_connection
    assert robot is not None and connection is not None
    robot.answer_pings = False  # the link is dead but no socket error says so
    await _until(lambda: connection.stats.disconnects >= 1)
    robot.answer_pings = True
    await _until(lambda: robot.stats.subscriptions >= 2 and connection.connected.is_set())


async def test_nothing_is_lost_or_doubled_across_a_forced_disconnect(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world, redeliver=2)
    robot, connection = world.robot, world.runtime.robot_connection
    assert robot is not None and connection is not None
    before = len(robot.messages(ROBOT_GROUP))
    await robot.mention(ROBOT_GROUP, "FangLei", "/status")
    await world.settle_robot()
    await robot.force_disconnect()
    # Said while the bot is away: kept by the gateway, delivered at the next subscription,
    # together with the last two frames again (which the bot must recognise).
    await robot.mention(ROBOT_GROUP, "TangJun", "/plan")
    await robot.mention(ROBOT_GROUP, "MengPing", "/agenda")
    await _until(lambda: robot.stats.subscriptions == 2)
    await world.settle_robot()
    assert robot.stats.redelivered == 2
    assert connection.stats.disconnects == 1
    answers = robot.messages(ROBOT_GROUP)[before:]
    assert len(answers) == 3, [m.text for m in answers]  # one answer per command, none twice
    rows = await world.rows(
        "SELECT COUNT(*) FROM wecom_callbacks WHERE channel = 'robot' AND handled_at IS NULL"
    )
    assert rows[0][0] == 0


async def test_a_restart_loses_nothing(make_wecom_world: WeComWorldFactory) -> None:
    world = await _bound(make_wecom_world)
    robot = world.robot
    assert robot is not None
    before = len(robot.messages(ROBOT_GROUP))
    # A message journaled by the last run but not handled before it stopped ...
    secret = journal_secret(world.options.token, world.options.aes_key)
    journal = StoredJournal(world.app.db, world.clock, secret, channel="robot")
    body = robot.text_body("FangLei", "/status", ROBOT_GROUP)
    assert await journal.record("robot:" + body["msgid"], {"body": json.dumps(body), "req_id": ""})
    # ... and one said while the bot is down.
    await world.restart(lambda: robot.mention(ROBOT_GROUP, "TangJun", "/plan"))
    await world.settle_robot()
    texts = [m.text for m in robot.messages(ROBOT_GROUP)[before:]]
    assert len(texts) == 2, texts


async def test_a_refused_subscription_is_retried_with_backoff(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await make_wecom_world(bind_group=False, robot="long")
    robot, connection = world.robot, world.runtime.robot_connection
    assert robot is not None and connection is not None
    robot._secret = "rotated"  # the secret was reset in the admin console
    await robot.force_disconnect()
    await _until(lambda: robot.stats.refused_subscriptions >= 2)
    assert not connection.connected.is_set()
    robot._secret = connection._secret  # the operator puts the right one back
    await _until(lambda: robot.connected)


async def test_taken_over_stops_reconnecting_and_keeps_what_waits(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world)
    robot, connection = world.robot, world.runtime.robot_connection
    assert robot is not None and connection is not None
    await robot.take_over()
    await _until(lambda: connection.taken_over and not connection.connected.is_set())
    await asyncio.sleep(0.3)  # several backoff periods of this world (0.05 s first)
    assert robot.stats.subscriptions == 1  # it did not take the robot back
    # An announcement for the robot's group waits in the outbox, not lost and not sent.
    await world.clock.set(datetime.fromisoformat("2013-12-03T09:00+08:00"))
    await scheduler.tick(world.app)
    await asyncio.sleep(0.2)
    rows = await world.rows(
        "SELECT state FROM outbox WHERE chat_id = ? AND id > (SELECT MAX(id) FROM outbox"
        " WHERE state = 'sent' AND chat_id = ?)",
        ("robot:" + ROBOT_GROUP, "robot:" + ROBOT_GROUP),
    )
    assert rows and "sent" not in {row[0] for row in rows}
