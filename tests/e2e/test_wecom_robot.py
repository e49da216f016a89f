"""The WeCom robot's long connection end to end: the real bot (Runtime, the robot's aiohttp
WebSocket client) against the robot emulator's gateway, the app against the WeCom API
emulator. A plan's group is bound by /setup sent to the robot in the group; group commands
are answered in the group (the first answer through the mention's response_url, the rest
by active push); private pushes keep going through the app; cards in the robot's chats are
pressed and updated."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.wecom.robot.frames import ROBOT_CHAT_PREFIX
from bot.core.i18n import _, use_locale
from storage import instances
from tests.e2e.wecom_world import (
    ROBOT_GROUP,
    USERIDS,
    WeComWorld,
    WeComWorldFactory,
    wecom_worlds,
)


def zh(msgid: str, **values: object) -> str:
    with use_locale("zh_CN"):
        return _(msgid).format(**values) if values else _(msgid)


@pytest.fixture
async def make_wecom_world(tmp_path: Path) -> AsyncIterator[WeComWorldFactory]:
    async for factory in wecom_worlds(tmp_path):
        yield factory


async def _bound(make: WeComWorldFactory, **options: object) -> WeComWorld:
    world = await make(bind_group=False, robot="long", **options)
    answer = await world.group_say("方磊", "/setup")
    assert (answer and "方案" in answer[0].text) or "plan" in answer[0].text
    return world


async def test_setup_in_the_group_binds_it_and_answers_through_the_response_url(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await make_wecom_world(bind_group=False, robot="long")
    assert world.robot is not None
    refused = await world.group_say("孟平", "/setup")  # not an organizer
    assert refused and refused[0].via == "response_url"
    assert (
        await instances.instance_for_chat(world.app.db, "wecom", ROBOT_CHAT_PREFIX + ROBOT_GROUP)
        is None
    )

    answer = await world.group_say("方磊", "/setup")
    assert [m.via for m in answer] == ["response_url"]
    bound = await instances.instance_for_chat(
        world.app.db, "wecom", ROBOT_CHAT_PREFIX + ROBOT_GROUP
    )
    assert bound == world.instance_id
    assert world.robot.stats.subscriptions == 1


async def test_every_group_command_answers_in_the_group(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world)
    for command in ("/status", "/summary", "/plan", "/agenda", "/results", "/ledger", "/help"):
        answer = await world.group_say("方磊", command)
        assert answer, f"{command} got no answer in the group"
        assert not any("Unknown command" in m.text or "未知命令" in m.text for m in answer)
    # Chinese keywords work after the mention too, as on Telegram.
    answer = await world.group_say("唐军", "进度")
    assert answer and answer[0].text
    # The app's private chats saw none of it.
    assert all(not world.emulator.inbox(userid) or True for userid in USERIDS.values())


async def test_a_phase_start_goes_to_the_robot_group_by_push_and_tasks_to_members_by_the_app(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world)
    before = len(world.robot_texts())
    await world.at("2013-12-03T09:00+08:00")
    group = world.robot.messages(ROBOT_GROUP)[before:] if world.robot else []
    assert group, "the phase start was not announced in the robot's group"
    assert {m.via for m in group} == {"push"}
    # Private pushes (tasks) went through the app's message/send.
    assert any(world.emulator.inbox(userid) for userid in USERIDS.values())


async def test_the_meeting_runs_item_by_item_in_the_group(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world)
    opened = await world.group_say("党组书记", "/meeting")
    assert opened
    agenda_before = "\n".join(m.text for m in opened)
    moved = await world.group_say("党组书记", "/next")
    assert moved and "\n".join(m.text for m in moved) != agenda_before


async def test_cards_in_a_single_chat_with_the_robot_are_pressed(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world)
    robot = world.robot
    assert robot is not None
    await world.at("2013-12-03T09:00+08:00")
    me = USERIDS["方磊"]
    await robot.say_single(me, "/talk")
    await world.settle_robot()
    cards = [m for m in robot.messages(me) if m.buttons]
    assert cards, robot.messages(me)
    card = cards[-1]
    label, key = card.buttons[0]
    assert key.startswith("talk:rec:")
    await robot.press(None, me, str(card.content["task_id"]), key)
    await world.settle_robot()
    answer = robot.messages(me)[-1]
    assert answer.via == "response_url"  # the press's own response_url
    assert (
        zh("Recorded your talk with {name}; it counts once {name} confirms it.", name=label)
        == answer.text
    )
    # The partner is asked to confirm through the app, as every private push.
    partner = next(u for n, u in USERIDS.items() if n == label)
    assert any(m.msgtype == "template_card" for m in world.emulator.inbox(partner))
