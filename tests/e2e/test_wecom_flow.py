"""The bot end to end on WeCom: really signed and AES-encrypted callbacks into the aiohttp
callback server, wechatpy over real HTTP to the WeCom API emulator, a real SQLite file, the
shipped seed plan and a ManualClock moved by ``world.at``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.adapters.wecom.group_chat import create_or_bind_chat
from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.sandbox.demo.telegram import seed_plan_text
from bot.sandbox.demo.wecom import with_city_leader_on_wecom
from bot.sandbox.wecom.api import ReceivedMessage
from bot.sandbox.wecom.people import buttons_of, card_text
from tests.e2e.conftest import PLAN_TITLE, zh
from tests.e2e.wecom_world import (
    USERIDS,
    WeComWorld,
    WeComWorldFactory,
    wecom_worlds,
)


@pytest.fixture
async def make_wecom_world(tmp_path: Path) -> AsyncIterator[WeComWorldFactory]:
    async for factory in wecom_worlds(tmp_path):
        yield factory


@pytest.fixture
async def world(make_wecom_world: WeComWorldFactory) -> WeComWorld:
    return await make_wecom_world()


def cards(messages: list[ReceivedMessage]) -> list[ReceivedMessage]:
    return [m for m in messages if m.msgtype == "template_card"]


def pushes(world: WeComWorld, name: str, title: str) -> list[ReceivedMessage]:
    head = zh("New task: {title}", title=title)
    return [m for m in cards(world.people[name].inbox()) if card_text(m).startswith(head)]


async def test_the_group_is_created_from_the_roster_and_bound(world: WeComWorld) -> None:
    chat = world.emulator.chats[world.chatid]
    assert chat.name == PLAN_TITLE
    assert chat.owner == USERIDS["方磊"]  # the organizer
    assert sorted(chat.userlist) == sorted(USERIDS.values())
    bindings = await world.rows("SELECT platform, chat_id, instance_id FROM chat_bindings")
    assert [tuple(r) for r in bindings] == [("wecom", world.chatid, world.instance_id)]
    [status] = await world.rows("SELECT status FROM plan_instances")
    assert status[0] == "active"
    menu = world.emulator.menu()
    assert menu is not None
    keys = [b.get("key") for b in menu["button"]] + [
        s["key"] for b in menu["button"] for s in b.get("sub_button", [])
    ]
    assert {"mytasks", "submit", "status"} <= set(keys)


async def test_pushes_submission_with_text_and_file_review_and_group_summary(
    world: WeComWorld,
) -> None:
    await world.at("2013-12-03T09:00+08:00")
    # Every assignee is pushed their tasks as a card with Submit and My tasks, without any invite.
    assert [card_text(p).splitlines()[0] for p in cards(world.people["唐军"].inbox())] == [
        zh("New task: {title}", title="交流谈心"),
        zh("New task: {title}", title="撰写剖析材料"),
    ]
    assert len(pushes(world, "方磊", "组织学习")) == 1
    [push] = pushes(world, "唐军", "交流谈心")
    assignment = await world.assignment_id("唐军", "talks")
    assert buttons_of(push) == [(zh("Submit"), f"submit:{assignment}"), (zh("My tasks"), "mytasks")]
    # A short push fits on its card's sub-title, a longer one in its quote area: one message.
    assert zh("Plan: {plan}", plan=PLAN_TITLE) in card_text(push)
    [long_push] = pushes(world, "唐军", "撰写剖析材料")
    assert zh("Plan: {plan}", plan=PLAN_TITLE) in card_text(long_push)
    assert "政办科负责起草" in card_text(long_push)
    assert all(m.msgtype == "template_card" for m in world.people["唐军"].inbox())
    # The group hears that the phase started.
    assert any("会前准备阶段" in text for text in world.group_texts())

    tang = world.people["唐军"]
    assignment = await world.assignment_id("唐军", "statements")
    await tang.press(f"submit:{assignment}")
    notes = "唐军对照检查材料：一、四风方面存在的问题。"
    [received] = await tang.say(notes)
    assert "目前已收到1段文字。" in card_text(received)
    content = b"PK\x03\x04 statement \x00\xff" * 20
    [received] = await tang.send_file("唐军-对照检查材料.docx", content)
    assert "目前已收到1段文字、1个文件。" in card_text(received)
    [done] = await tang.press("draft:send")
    assert "撰写剖析材料" in card_text(done)

    [submission] = await world.rows(
        "SELECT * FROM submissions WHERE assignment_id = ?", (assignment,)
    )
    assert (submission["version"], submission["text"], submission["late"]) == (1, notes, 0)
    [stored] = await world.rows(
        "SELECT * FROM submission_files WHERE submission_id = ?", (submission["id"],)
    )
    assert (stored["platform"], stored["file_name"], stored["size"]) == (
        "wecom",
        "唐军-对照检查材料.docx",
        len(content),
    )
    assert stored["content"] is None and world.app.files.read(stored["sha256"]) == content

    # A picture is a file too.
    fang = world.people["方磊"]
    study = await world.assignment_id("方磊", "study")
    await fang.press(f"submit:{study}")
    await fang.send_image(b"\xff\xd8\xff\xe0 a photo of the minutes")
    await fang.press("draft:send")
    [photo] = await world.rows(
        "SELECT f.* FROM submission_files f JOIN submissions s ON s.id = f.submission_id "
        "WHERE s.assignment_id = ?",
        (study,),
    )
    assert world.app.files.read(photo["sha256"]) == b"\xff\xd8\xff\xe0 a photo of the minutes"

    # The phase ends: its summary goes to the group chat through appchat/send.
    await world.at("2013-12-20T18:00+08:00")
    *_earlier, summary, chart = world.emulator.chat_messages(world.chatid)
    assert "会前准备阶段" in card_text(summary) and "唐军" in card_text(summary)
    # The progress chart follows as a picture (media/upload type image).
    assert chart.msgtype == "image"
    assert world.emulator.media[chart.content["media_id"]].data.startswith(b"\x89PNG")


async def test_review_return_and_approve_on_cards(world: WeComWorld) -> None:
    await world.at("2014-01-01T09:00+08:00")
    tang, lead = world.people["唐军"], world.people["党组书记"]
    assignment = await world.assignment_id("唐军", "personal-measures")
    await tang.press(f"submit:{assignment}")
    await tang.say("唐军个人整改措施：一、加强理论学习。")
    await tang.press("draft:send")

    [request] = [m for m in cards(lead.inbox()) if "唐军" in card_text(m)]
    assert [key.split(":")[:2] for _label, key in buttons_of(request)] == [
        ["review", "ok"],
        ["review", "ret"],
    ]
    await lead.press("review:ret:", within="唐军")
    await lead.say("请补充完成时限。")
    returned = [m for m in tang.inbox() if "请补充完成时限。" in card_text(m)]
    assert returned, tang.texts()
    assert buttons_of(returned[-1]) == [(zh("Submit again"), f"submit:{assignment}")]

    await tang.press(f"submit:{assignment}")
    await tang.say("唐军个人整改措施（修改稿）：已明确完成时限。")
    await tang.press("draft:send")
    await lead.press("review:ok:", within="唐军")
    reviews = await world.rows(
        "SELECT r.verdict FROM reviews r JOIN submissions s ON s.id = r.submission_id "
        "WHERE s.assignment_id = ? ORDER BY r.id",
        (assignment,),
    )
    assert [r[0] for r in reviews] == ["returned", "approved"]
    [status] = await world.rows("SELECT status FROM assignments WHERE id = ?", (assignment,))
    assert status[0] == "approved"


async def test_commands_as_text_keywords_and_menu_clicks(world: WeComWorld) -> None:
    await world.at("2013-12-03T09:00+08:00")
    fang = world.people["方磊"]
    by_slash = await fang.say("/mytasks")
    by_keyword = await fang.say("我的任务")
    by_menu = await fang.click("mytasks")
    assert by_slash and by_keyword and by_menu
    assert card_text(by_slash[-1]) == card_text(by_keyword[-1]) == card_text(by_menu[-1])
    assert "组织学习" in "\n".join(card_text(m) for m in by_slash)
    status = "\n".join(card_text(m) for m in await fang.say("进度"))
    assert "撰写剖析材料" in status
    # /invites: no invite is needed on WeCom.
    [answer] = await fang.say("/invites")
    assert card_text(answer) == zh(
        "On this platform members are recognised by their account; no invite is needed."
    )


async def test_a_member_not_on_the_roster_is_told_to_ask_for_being_added(
    world: WeComWorld,
) -> None:
    world.emulator.add_user("ZhangSan", "张三")
    before = await world.row_counts()
    await world.callbacks.send_text("ZhangSan", "你好")
    await world.callbacks.send_click("ZhangSan", "submit")
    await world.settle()
    replies = [card_text(m) for m in world.emulator.inbox("ZhangSan")]
    assert replies == [
        zh(
            "Hello! I am Huiwu, the meeting work-plan assistant. You are not on any plan's roster yet: ask the organizer to add your account ({account}) to the plan.",
            account="ZhangSan",
        ),
        zh(
            "You are not on this plan's roster, so I cannot do that for you. Ask the organizer to add your account ({account}) to the plan.",
            account="ZhangSan",
        ),
    ]
    after = await world.row_counts()
    changed = {t for t in after if after[t] != before[t]}
    assert changed <= {"outbox", "wecom_callbacks"}


async def test_opening_the_app_greets_a_member_once_and_releases_held_messages(
    world: WeComWorld,
) -> None:
    meng = world.people["孟平"]
    # WeCom did not know 孟平 when his task was pushed: the push is held, not lost.
    del world.emulator.users[USERIDS["孟平"]]
    await world.at("2013-12-03T09:00+08:00")
    held = await world.rows(
        "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND state = 'held'", (USERIDS["孟平"],)
    )
    assert held[0][0] >= 1
    world.emulator.add_user(USERIDS["孟平"], "孟平")
    await world.callbacks.send_enter_agent(USERIDS["孟平"])
    await world.settle()
    texts = meng.texts()
    assert any(zh("New task: {title}", title="交流谈心") in t for t in texts)
    assert sum("孟平" in t and PLAN_TITLE in t for t in texts) == 1  # the greeting
    # Opening the app again soon after does not greet again.
    count = len(texts)
    await world.callbacks.send_enter_agent(USERIDS["孟平"])
    await world.settle()
    assert len(meng.texts()) == count


async def test_a_running_bot_starts_a_plan_whose_chat_another_process_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.run.scheduler.IDLE_RECHECK_SECONDS", 0.05)
    async for factory in wecom_worlds(tmp_path):
        world = await factory()  # one plan runs; its next step is days away
        await asyncio.wait_for(scheduled(world), 10)
        text = with_city_leader_on_wecom(seed_plan_text())
        async with world.app.db.transaction() as conn:
            second = await store_plan(
                conn, load_plan_text(text), text, loaded_by="e2e", now=world.clock.now()
            )
        await world.clock.set(datetime.fromisoformat("2013-12-03T10:00+08:00"))
        # As `huiwu wecom create-chat` does from its own process: nothing tells the bot.
        assert world.runtime.wecom_client is not None
        await create_or_bind_chat(
            world.app.db, world.runtime.wecom_client, world.clock, instance_id=second
        )
        await asyncio.wait_for(started(world, second), 10)


async def scheduled(world: WeComWorld) -> None:
    """Returns once the scheduler waits for the running plan's next step."""
    while world.runtime.scheduler.next_due is None:  # noqa: ASYNC110 - another task sets it
        await asyncio.sleep(0.02)


async def started(world: WeComWorld, instance_id: int) -> None:
    """Returns once the plan instance has assignments (the scheduler started its phase)."""
    query = "SELECT COUNT(*) FROM assignments WHERE instance_id = ?"
    while (await world.rows(query, (instance_id,)))[0][0] == 0:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
