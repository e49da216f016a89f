"""WeCom's faults and limits, end to end: an expiring token, 45009, and the per-member and
per-group send limits (counted by the emulator, which silently drops what is over them)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.wecom.messenger import sends_for
from bot.core.messaging import Button, OutgoingMessage
from bot.delivery import addressing as delivery
from bot.sandbox.wecom.people import card_text
from storage import instances, outbox
from tests.e2e.conftest import zh
from tests.e2e.wecom_world import (
    USERIDS,
    WeComWorld,
    WeComWorldFactory,
    wecom_worlds,
)

PREPARATION_PUSHES = {"方磊": 4, "唐军": 2, "孟平": 2, "党组书记": 1}


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WeComWorld]:
    factory: WeComWorldFactory
    async for factory in wecom_worlds(tmp_path):
        yield await factory()


def push_count(world: WeComWorld, name: str) -> int:
    head = zh("New task: {title}", title="")
    return sum(
        1
        for m in world.people[name].inbox()
        if m.msgtype == "template_card" and card_text(m).startswith(head)
    )


async def assert_all_sent(world: WeComWorld) -> None:
    states = {r.state for r in await outbox.messages(world.app.db, platform="wecom")}
    assert states == {"sent"}, states
    assert world.emulator.stats.dropped_over_limit == 0


async def test_a_token_expiring_mid_run_is_refreshed_and_nothing_is_lost(
    world: WeComWorld,
) -> None:
    stats = world.emulator.stats
    issued, fetched = stats.tokens_issued, stats.per_path["gettoken"]
    # WeCom answers 42001 while the phase's pushes are going out: the token is fetched again.
    world.emulator.fail_next(42001, 1, path="message/send")
    await world.at("2013-12-03T09:00+08:00")
    assert {name: push_count(world, name) for name in PREPARATION_PUSHES} == PREPARATION_PUSHES
    assert stats.per_path["gettoken"] == fetched + 1
    # And the token really expires before a member's command is answered: a new one is issued.
    world.emulator.expire_tokens()
    answer = await world.people["唐军"].say("/mytasks")
    assert any("撰写剖析材料" in card_text(m) for m in answer)
    assert stats.tokens_issued == issued + 1
    assert stats.per_path["gettoken"] == fetched + 2
    await assert_all_sent(world)


async def test_45009_backs_off_and_nothing_is_lost(world: WeComWorld) -> None:
    world.emulator.fail_next(45009, 3, path="message/send")
    world.emulator.fail_next(45033, 1, path="appchat/send")
    await world.at("2013-12-03T09:00+08:00")
    assert world.emulator.stats.errors_injected == 4
    assert {name: push_count(world, name) for name in PREPARATION_PUSHES} == PREPARATION_PUSHES
    assert len(world.group_texts()) == 1  # the phase-start notice, after its back-off
    sender = world.app.platforms["wecom"].sender
    assert sender.stats.retried >= 4
    await assert_all_sent(world)


async def _queue(world: WeComWorld, name: str, count: int) -> None:
    member = await instances.member_by_key(
        world.app.db, world.instance_id, {"方磊": "fanglei", "唐军": "tangjun"}[name]
    )
    assert member is not None
    async with world.app.db.transaction() as conn:
        for index in range(count):
            await delivery.to_member(
                conn, world.app, member, lambda i=index: OutgoingMessage(f"通知 {i + 1}")
            )


def max_in_window(times: list[float], window: float) -> int:
    """The most sends within any ``window`` seconds (as the receiver counts them)."""
    best, start = 0, 0
    for end in range(len(times)):
        while times[end] - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


@pytest.mark.slow
async def test_no_member_receives_more_than_the_limits_and_nothing_is_dropped(
    world: WeComWorld,
) -> None:
    await _queue(world, "方磊", 1050)
    await _queue(world, "唐军", 40)
    world.app.wake_senders()
    await world.runtime.join(120)
    for name, count in (("方磊", 1050), ("唐军", 40)):
        received = world.emulator.inbox(USERIDS[name])
        assert [m.content["content"] for m in received] == [f"通知 {i + 1}" for i in range(count)]
        times = [m.time for m in received]
        assert max_in_window(times, 60.0) <= 30
        assert max_in_window(times, 3600.0) <= 1000
    assert world.emulator.stats.per_user_dropped == {}
    # 1,050 to one member cannot go out in less than an hour (virtual time, no real waiting).
    fang = [m.time for m in world.emulator.inbox(USERIDS["方磊"])]
    assert fang[-1] - fang[0] >= 3600.0
    # The outbox sender did the queueing; the client's own limiter (a guard) never had to wait.
    client = world.runtime.wecom_client
    assert client is not None and client.member_limiter is not None
    assert client.member_limiter.waits == 0
    await assert_all_sent(world)


async def test_the_group_chat_stays_under_200_a_minute(world: WeComWorld) -> None:
    async with world.app.db.transaction() as conn:
        for index in range(450):
            await delivery.to_groups(
                conn, world.app, world.instance_id, lambda i=index: OutgoingMessage(f"群通知 {i}")
            )
    world.app.wake_senders()
    await world.runtime.join(60)
    sent = world.emulator.chat_messages(world.chatid)
    assert len(sent) == 450
    assert [m.content["content"] for m in sent] == [f"群通知 {i}" for i in range(450)]
    assert max_in_window([m.time for m in sent], 60.0) <= 200
    assert world.emulator.stats.per_chat_dropped == {}
    assert sent[-1].time - sent[0].time >= 120.0
    client = world.runtime.wecom_client
    assert client is not None and client.group_limiter is not None
    assert client.group_limiter.waits == 0


async def test_a_message_that_becomes_several_wecom_messages_counts_as_several(
    world: WeComWorld,
) -> None:
    member = await instances.member_by_key(world.app.db, world.instance_id, "tangjun")
    assert member is not None
    long_text = "\n".join(f"第{i}条：整改措施已明确完成时限和责任科室。" for i in range(40))
    message = OutgoingMessage(
        long_text, buttons=((Button("提交", data="mytasks"),),), title="整改措施"
    )
    assert sends_for(message) == 2  # the card, then what does not fit on it
    async with world.app.db.transaction() as conn:
        for _index in range(40):
            await delivery.to_member(conn, world.app, member, lambda: message)
    world.app.wake_senders()
    await world.runtime.join(60)
    received = world.emulator.inbox(USERIDS["唐军"])
    assert [m.msgtype for m in received] == ["template_card", "text"] * 40
    assert max_in_window([m.time for m in received], 60.0) <= 30
    assert world.emulator.stats.per_user_dropped == {}
    client = world.runtime.wecom_client
    assert client is not None and client.member_limiter is not None
    assert client.member_limiter.waits == 0  # the sender counted both messages of each
    await assert_all_sent(world)
