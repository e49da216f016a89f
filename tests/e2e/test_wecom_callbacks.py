"""The WeCom callback endpoint under attack and under WeCom's retries: what is refused changes
nothing, what is repeated is handled once. Callbacks are really signed and encrypted."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.sandbox.wecom.callbacks import WeComCallbackClient, build_message_xml
from bot.sandbox.wecom.people import card_text
from storage.wecom_callbacks import digest, journal_secret
from tests.e2e.wecom_world import (
    AES_KEY,
    AGENT_ID,
    CALLBACK_TOKEN,
    CORP_ID,
    CORP_SECRET,
    USERIDS,
    WeComWorld,
    WeComWorldFactory,
    wecom_worlds,
)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WeComWorld]:
    factory: WeComWorldFactory
    async for factory in wecom_worlds(tmp_path):
        yield await factory()


async def _snapshot(world: WeComWorld) -> tuple[dict[str, int], int, list[object]]:
    await world.settle()
    return (
        await world.row_counts(),
        world.emulator.stats.delivered,
        await world.rows("SELECT * FROM conversations"),
    )


async def test_url_verification_answers_the_echo_only_when_signed(world: WeComWorld) -> None:
    echo = "echo-" + secrets.token_hex(8)
    assert await world.callbacks.verify_url(echo) == echo
    refused = await world.callbacks.verify_url(echo, forged=True)
    assert echo not in refused
    assert world.runtime.wecom_server is not None
    assert world.runtime.wecom_server.stats.rejected == {403: 1}


async def test_a_forged_signature_gets_403_and_stores_nothing(world: WeComWorld) -> None:
    await world.at("2013-12-03T09:00+08:00")
    tang = world.people["唐军"]
    assignment = await world.assignment_id("唐军", "statements")
    await tang.press(f"submit:{assignment}")
    before = await _snapshot(world)
    forged = await world.callbacks.send_text(USERIDS["唐军"], "伪造的材料", forged=True)
    assert forged.status == 403
    forged_press = await world.callbacks.send_template_card_event(
        USERIDS["唐军"], "hw_x", "draft:send", forged=True
    )
    assert forged_press.status == 403
    assert await _snapshot(world) == before
    [draft] = await world.rows("SELECT data FROM conversations")
    assert "伪造" not in draft[0]


async def test_wrong_corp_id_malformed_xml_and_oversized_bodies_are_refused(
    world: WeComWorld,
) -> None:
    before = await _snapshot(world)
    assert world.runtime.wecom_server is not None
    url = world.runtime.wecom_server.url
    # Encrypted for another corp with our token and key: the corp id inside does not match.
    other = WeComCallbackClient(url, CALLBACK_TOKEN, AES_KEY, "wwOTHERCORP0000000", AGENT_ID)
    try:
        assert (await other.send_text(USERIDS["方磊"], "/status")).status == 403
    finally:
        await other.close()
    # Correctly signed and encrypted, but the plaintext is not a WeCom message.
    assert (await world.callbacks.send_xml("this is not xml <")).status == 400
    no_sender = build_message_xml([("ToUserName", CORP_ID), ("MsgType", "text")])
    assert (await world.callbacks.send_xml(no_sender)).status == 400
    params = {"msg_signature": "0" * 40, "timestamp": "1386036000", "nonce": "n"}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, params=params, data=b"<xml><Encrypt>") as response:
            assert response.status == 400
        async with http.post(url, params=params, data=b"<xml>" + b"A" * 200_000) as response:
            assert response.status == 413
        async with http.post(url, data=b"<xml/>") as response:  # no signature at all
            assert response.status == 400
        async with http.get(url, params=params) as response:  # no echostr
            assert response.status == 400
    assert await _snapshot(world) == before
    assert world.runtime.wecom_server.stats.accepted == 0


async def test_the_same_msgid_twice_is_handled_once(world: WeComWorld) -> None:
    await world.at("2013-12-03T09:00+08:00")
    tang = world.people["唐军"]
    assignment = await world.assignment_id("唐军", "statements")
    await tang.press(f"submit:{assignment}")
    msg_id = world.callbacks.next_msg_id()
    first = await world.callbacks.send_text(USERIDS["唐军"], "第一部分", msg_id=msg_id)
    retry = await world.callbacks.send_text(USERIDS["唐军"], "第一部分", msg_id=msg_id)
    assert (first.status, retry.status) == (200, 200)  # WeCom must not retry again
    await world.settle()
    [draft] = await world.rows("SELECT data FROM conversations")
    assert draft[0].count("第一部分") == 1
    received = [t for t in tang.texts() if "目前已收到" in t]
    assert received == [received_note(1, 0)]
    assert world.runtime.wecom_server is not None
    assert world.runtime.wecom_server.stats.duplicates == 1


def received_note(texts: int, files: int) -> str:
    from bot.core.i18n import use_locale
    from handlers.tasks import received_text

    with use_locale("zh_CN"):
        return received_text(texts, files)


async def test_a_repeated_event_is_handled_once_but_a_later_one_again(world: WeComWorld) -> None:
    await world.at("2013-12-03T09:00+08:00")
    fixed = float(int(time.time()))
    assert world.runtime.wecom_server is not None
    clicker = WeComCallbackClient(
        world.runtime.wecom_server.url,
        CALLBACK_TOKEN,
        AES_KEY,
        CORP_ID,
        AGENT_ID,
        clock=lambda: fixed,
    )
    fang = world.people["方磊"]
    try:
        before = len(fang.inbox())
        for _attempt in range(3):  # WeCom's retries carry the same CreateTime
            assert (await clicker.send_click(USERIDS["方磊"], "mytasks")).status == 200
        await world.settle()
        once = len(fang.inbox()) - before
        assert once >= 1
        fixed += 7  # a click a few seconds later is a new event
        assert (await clicker.send_click(USERIDS["方磊"], "mytasks")).status == 200
        await world.settle()
        assert len(fang.inbox()) - before == 2 * once
    finally:
        await clicker.close()


async def test_a_retry_after_a_restart_is_still_recognised(world: WeComWorld) -> None:
    await world.at("2013-12-03T09:00+08:00")
    tang = world.people["唐军"]
    await tang.press(f"submit:{await world.assignment_id('唐军', 'statements')}")
    msg_id = world.callbacks.next_msg_id()
    assert (await world.callbacks.send_text(USERIDS["唐军"], "材料一", msg_id=msg_id)).status == 200
    await world.restart()
    retry = await world.callbacks.send_text(USERIDS["唐军"], "材料一", msg_id=msg_id)
    assert retry.status == 200
    await world.settle()
    [draft] = await world.rows("SELECT data FROM conversations")
    assert draft[0].count("材料一") == 1
    assert world.runtime.wecom_server is not None
    assert world.runtime.wecom_server.stats.duplicates == 1


async def test_a_callback_answered_but_not_handled_is_handled_at_the_next_start(
    world: WeComWorld,
) -> None:
    await world.at("2013-12-03T09:00+08:00")
    server = world.runtime.wecom_server
    assert server is not None
    # As if the process died between answering WeCom and handling: handling cannot start.
    for _slot in range(8):  # the server's concurrency
        await server.handling.gate.acquire()
    msg_id = world.callbacks.next_msg_id()
    answered = await world.callbacks.send_text(USERIDS["唐军"], "我的任务", msg_id=msg_id)
    assert answered.status == 200
    stored_key = digest(journal_secret(world.options.token, world.options.aes_key), f"msg:{msg_id}")
    rows = await world.rows(
        "SELECT handled_at FROM wecom_callbacks WHERE dedupe_key = ?", (stored_key,)
    )
    assert [r[0] for r in rows] == [None]
    before = len(world.people["唐军"].inbox())
    await server.stop(grace=0)
    await world.restart()
    answer = world.people["唐军"].inbox()[before:]
    assert any("撰写剖析材料" in card_text(m) for m in answer), [card_text(m) for m in answer]
    [handled] = await world.rows(
        "SELECT handled_at, fields FROM wecom_callbacks WHERE dedupe_key = ?", (stored_key,)
    )
    assert handled[0] is not None and handled[1] == "{}"  # who sent what: erased
    # WeCom's retry of it, after the restart, changes nothing.
    retry = await world.callbacks.send_text(USERIDS["唐军"], "我的任务", msg_id=msg_id)
    assert retry.status == 200
    await world.settle()
    assert world.people["唐军"].inbox()[before:] == answer


async def test_no_secret_reaches_the_log(
    world: WeComWorld, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await world.callbacks.verify_url("hello")
    await world.callbacks.verify_url("hello", forged=True)
    await world.callbacks.send_text(USERIDS["唐军"], "伪造", forged=True)
    world.emulator.expire_tokens()  # a token refresh is logged too
    await world.at("2013-12-03T09:00+08:00")
    await world.people["唐军"].say("我的任务")
    assert world.emulator.stats.tokens_issued >= 2
    log = caplog.text
    assert "WeCom callback refused (403)" in log  # the log was captured at all
    for secret in (CORP_SECRET, AES_KEY, CALLBACK_TOKEN, *world.emulator._tokens):
        assert secret not in log


async def test_a_replayed_old_callback_is_refused(world: WeComWorld) -> None:
    assert world.runtime.wecom_server is not None
    day_old = WeComCallbackClient(
        world.runtime.wecom_server.url,
        CALLBACK_TOKEN,
        AES_KEY,
        CORP_ID,
        AGENT_ID,
        clock=lambda: time.time() - 2 * 86400,
    )
    try:
        before = await _snapshot(world)
        assert (await day_old.send_text(USERIDS["方磊"], "/status")).status == 403
        assert await _snapshot(world) == before
    finally:
        await day_old.close()
