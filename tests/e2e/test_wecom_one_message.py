"""WeCom's one-message rule (issue 16): an outgoing message becomes one WeCom message wherever
WeCom allows: a new task and a reminder digest are each one template card holding the whole
text, in reading order; only what does not fit follows as text, after the card."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.wecom.messenger import CARD_QUOTE_CHARS, render
from bot.core.messaging import Button, OutgoingMessage
from bot.sandbox.wecom.people import card_text
from tests.e2e.conftest import zh
from tests.e2e.wecom_world import USERIDS, WeComWorld, wecom_worlds


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WeComWorld]:
    async for factory in wecom_worlds(tmp_path):
        yield await factory()


async def test_each_new_task_and_each_reminder_digest_is_one_card(world: WeComWorld) -> None:
    await world.at("2013-12-03T09:00+08:00")
    inbox = world.emulator.inbox(USERIDS["方磊"])
    new_task = zh("New task: {title}", title="")
    pushes = [m for m in inbox if card_text(m).startswith(new_task)]
    assert len(pushes) == 4  # 组织学习, 征求意见, 向上级报送民主生活会方案, 撰写剖析材料
    assert [m.msgtype for m in inbox] == ["template_card"] * len(inbox)
    for push in pushes:
        text = card_text(push)
        assert zh("Plan: {plan}", plan="领导班子专题民主生活会") in text  # the body is on it
        assert "23:59" in text  # down to the deadline

    mark = len(world.emulator.inbox(USERIDS["唐军"]))
    await world.at("2013-12-12T09:00+08:00")  # 唐军's talks: several reminders at once
    digest = world.emulator.inbox(USERIDS["唐军"])[mark:]
    assert [m.msgtype for m in digest] == ["template_card"]
    text = card_text(digest[0])
    assert "交流谈心" in text and text.count("/talk") >= 3  # every reminder of the digest


def test_what_does_not_fit_follows_the_card_in_reading_order() -> None:
    lines = [f"第{i}条：整改措施已明确完成时限和责任科室，并按期报送。" for i in range(60)]
    message = OutgoingMessage(
        "\n".join(lines), buttons=((Button("提交", data="mytasks"),),), title="整改措施"
    )
    first, *rest = render(message)
    assert first.buttons and first.title == "整改措施"
    assert len(first.text) <= CARD_QUOTE_CHARS
    assert all(not step.buttons for step in rest)
    # Nothing lost, nothing repeated, in order.
    assert first.text + "\n" + "".join(step.text for step in rest) == message.text


def test_a_long_first_line_is_not_shown_twice() -> None:
    # The card's heading is the first sentence, not a shortened copy of the text below it.
    text = "正在提交“组织学习”。请发送文字和（或）文件；发送完毕后点击“提交”，或点击“取消”。"
    [card] = render(OutgoingMessage(text, buttons=((Button("提交", data="mytasks"),),)))
    assert card.title == "正在提交“组织学习”。"
    assert "…" not in card.title
    assert card.title + card.text == text
