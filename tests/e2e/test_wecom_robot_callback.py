"""The robot's callback mode end to end: WeCom's robot POSTs AES-encrypted JSON (empty
ReceiveId) to the robot's own path on the bot's HTTP server; answers go through each
message's response_url (once, within an hour); what finds no usable response_url waits in
the outbox until the chat talks to the robot again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.run import scheduler
from tests.e2e.wecom_world import ROBOT_GROUP, WeComWorld, WeComWorldFactory, wecom_worlds


@pytest.fixture
async def make_wecom_world(tmp_path: Path) -> AsyncIterator[WeComWorldFactory]:
    async for factory in wecom_worlds(tmp_path):
        yield factory


async def _bound(make: WeComWorldFactory) -> WeComWorld:
    world = await make(bind_group=False, robot="callback")
    assert await world.group_say("方磊", "/setup")
    return world


async def test_group_commands_are_answered_through_the_response_url(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world)
    assert world.robot is not None
    for command in ("/status", "/plan", "/agenda"):
        answer = await world.group_say("方磊", command)
        assert [m.via for m in answer] == ["response_url"], command
    assert world.robot.stats.pushes == 0  # callback mode has no active push


async def test_a_repeated_callback_is_handled_once_and_a_forged_one_not_at_all(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world)
    robot = world.robot
    assert robot is not None and world.runtime.robot_receiver is not None
    before = len(robot.messages(ROBOT_GROUP))
    body = robot.text_body("FangLei", "/status", ROBOT_GROUP)
    assert await robot.post_callback(body) == 200
    assert await robot.post_callback(body) == 200  # WeCom's retry: same msgid
    assert (
        await robot.post_callback(robot.text_body("FangLei", "/plan", ROBOT_GROUP), forged=True)
        == 403
    )
    await world.settle()
    assert len(robot.messages(ROBOT_GROUP)) == before + 1
    assert world.runtime.robot_receiver.stats.duplicates == 1


async def test_an_announcement_waits_for_the_next_mention(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world)
    robot = world.robot
    assert robot is not None
    before = len(robot.messages(ROBOT_GROUP))
    # The phase starts: its announcement finds no response_url (the last was spent) and waits.
    await world.clock.set(datetime.fromisoformat("2013-12-03T09:00+08:00"))
    await scheduler.tick(world.app)
    await world.settle()
    held = await world.rows(
        "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND state = 'held'",
        ("robot:" + ROBOT_GROUP,),
    )
    assert held[0][0] >= 1
    assert len(robot.messages(ROBOT_GROUP)) == before
    # Somebody mentions the robot: the waiting announcement goes out through that mention's
    # response_url, and the answer waits for the next one.
    await world.group_say("唐军", "/status")
    shown = robot.messages(ROBOT_GROUP)[before:]
    assert len(shown) == 1 and shown[0].via == "response_url"


async def test_a_response_url_older_than_an_hour_is_not_used(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await make_wecom_world(bind_group=False, robot="callback")
    robot = world.robot
    assert robot is not None and world.runtime.robot_messenger is not None
    urls = world.runtime.robot_messenger.response_urls
    urls.offer("robot:" + ROBOT_GROUP, "http://127.0.0.1:9/never-used")
    await world.clock.set(datetime.fromisoformat("2013-12-02T11:00:01+08:00"))
    assert urls.take("robot:" + ROBOT_GROUP) is None


async def test_the_robot_url_check_answers_the_decrypted_echo(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await make_wecom_world(bind_group=False, robot="callback")
    assert world.robot is not None
    assert await world.robot.verify_url("8867438719375832") == (200, "8867438719375832")
    status, _body = await world.robot.verify_url("8867438719375832", forged=True)
    assert status == 403
    # The app's own callback path is still the app's.
    assert world.runtime.wecom_server is not None
    assert world.runtime.wecom_server.path != "/wecom/robot"
