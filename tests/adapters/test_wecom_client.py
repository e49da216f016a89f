"""Tests of the WeCom sending client: real wechatpy over real HTTP to the loopback emulator."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.wecom.client import (
    DEFAULT_API_BASE_URL,
    WeComClient,
    WeComSendError,
    button_interaction_card,
)
from bot.adapters.wecom.messenger import WeComMessenger
from bot.core.messaging import Button, OutgoingMessage, RetryAfter, TransientSendError
from bot.delivery.limits import Limit, RateLimiter
from bot.sandbox.wecom.api import WeComEmulator

CORP_ID = "ww0123456789abcdef"
SECRET = "s3cr3t-" + "q" * 36
AGENT_ID = 1000002


class FakeClock:
    """A clock and sleep pair: sleeping advances the clock instantly."""

    def __init__(self, start: float = 50_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emu(clock: FakeClock) -> AsyncIterator[WeComEmulator]:
    emulator = WeComEmulator(corp_id=CORP_ID, corp_secret=SECRET, agent_id=AGENT_ID, clock=clock)
    for userid in ("alice", "bob", "carol"):
        emulator.add_user(userid, userid.title())
    async with emulator:
        yield emulator


@pytest.fixture
async def make_client(
    emu: WeComEmulator, clock: FakeClock
) -> AsyncIterator[Callable[..., WeComClient]]:
    """Build clients against the emulator with the fake clock; closes them afterwards."""
    clients: list[WeComClient] = []

    def make(**overrides: Any) -> WeComClient:
        options: dict[str, Any] = {
            "corp_id": CORP_ID,
            "corp_secret": SECRET,
            "agent_id": AGENT_ID,
            "api_base_url": emu.base_url,
            "timeout": 5.0,
            "clock": clock,
            "sleep": clock.sleep,
        }
        options.update(overrides)
        client = WeComClient(**options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.close()


@pytest.fixture
async def client(make_client: Callable[..., WeComClient]) -> WeComClient:
    return make_client()


def test_default_api_base_is_the_real_host() -> None:
    assert DEFAULT_API_BASE_URL == "https://qyapi.weixin.qq.com/cgi-bin/"


async def test_text_markdown_textcard_and_card_are_delivered(
    client: WeComClient, emu: WeComEmulator
) -> None:
    answer = await client.send_text(["alice", "bob"], "明天 9:00 开会")
    await client.send_markdown(["alice"], "**议程** 已更新")
    await client.send_textcard(["alice"], "会议通知", "<div>周五</div>", "https://example.invalid")
    card = button_interaction_card(
        task_id="att-20250101-alice", title="参会确认", buttons=[("参加", "yes"), ("请假", "no")]
    )
    card_answer = await client.send_template_card(["alice"], card)
    assert answer["errcode"] == 0 and answer["invaliduser"] == ""
    assert card_answer["response_code"]
    inbox = emu.inbox("alice")
    assert [m.msgtype for m in inbox] == ["text", "markdown", "textcard", "template_card"]
    assert inbox[0].content == {"content": "明天 9:00 开会"}
    assert inbox[1].content == {"content": "**议程** 已更新"}
    assert inbox[2].content["title"] == "会议通知" and inbox[2].content["btntxt"] == "详情"
    assert [b["key"] for b in inbox[3].content["button_list"]] == ["yes", "no"]
    assert [m.msgtype for m in emu.inbox("bob")] == ["text"]
    assert emu.stats.tokens_issued == 1


async def test_invalid_recipients_are_reported(client: WeComClient, emu: WeComEmulator) -> None:
    answer = await client.send_text(["alice", "ghost"], "hi")
    assert answer["invaliduser"] == "ghost" and len(emu.inbox("alice")) == 1
    with pytest.raises(WeComSendError) as caught:
        await client.send_text(["ghost"], "hi")
    assert caught.value.errcode == 81013


async def test_file_is_uploaded_sent_and_downloads_byte_equal(
    client: WeComClient, emu: WeComEmulator
) -> None:
    content = bytes(range(256)) * 40 + "会议纪要".encode()
    media_id = await client.send_file(["bob"], "会议纪要.docx", content)
    delivered = emu.inbox("bob")
    assert [m.msgtype for m in delivered] == ["file"]
    assert delivered[0].content == {"media_id": media_id}
    filename, data = await client.download_media(media_id)
    assert data == content and filename == "会议纪要.docx"
    with pytest.raises(WeComSendError) as caught:
        await client.download_media("no-such-media")
    assert caught.value.errcode == 40007


async def test_group_chat_create_send_and_file(client: WeComClient, emu: WeComEmulator) -> None:
    chatid = await client.create_chat("会务组", "alice", ["alice", "bob", "carol"])
    await client.chat_send_text(chatid, "大家好")
    await client.chat_send_markdown(chatid, "# 议程")
    media_id = await client.chat_send_file(chatid, "agenda.txt", b"1. opening\n2. review\n")
    messages = emu.chat_messages(chatid)
    assert [(m.msgtype, m.content) for m in messages] == [
        ("text", {"content": "大家好"}),
        ("markdown", {"content": "# 议程"}),
        ("file", {"media_id": media_id}),
    ]
    info = await client.get_chat(chatid)
    assert info["owner"] == "alice" and info["userlist"] == ["alice", "bob", "carol"]
    fixed = await client.create_chat("固定", "bob", ["alice", "bob"], chatid="fixed1")
    assert fixed == "fixed1"
    with pytest.raises(WeComSendError) as caught:
        await client.chat_send_text("nochat", "hi")
    assert caught.value.errcode == 86003


async def test_menu_is_created(client: WeComClient, emu: WeComEmulator) -> None:
    menu = {"button": [{"type": "click", "name": "议程", "key": "agenda"}]}
    await client.create_menu(menu)
    assert emu.menu() == menu


async def test_expired_token_is_refreshed_and_message_delivered_once(
    client: WeComClient, emu: WeComEmulator
) -> None:
    await client.send_text(["alice"], "first")
    emu.expire_tokens()
    await client.send_text(["alice"], "second")
    assert [m.content["content"] for m in emu.inbox("alice")] == ["first", "second"]
    assert emu.stats.tokens_issued == 2
    assert emu.stats.per_path["message/send"] == 3  # first, rejected second (42001), retry
    assert emu.stats.per_path["gettoken"] == 2


async def test_invalid_token_retried_at_most_twice(client: WeComClient, emu: WeComEmulator) -> None:
    emu.fail_next(40014, 2, path="message/send")
    await client.send_text(["alice"], "after two rejections")
    assert len(emu.inbox("alice")) == 1
    emu.fail_next(40014, 3, path="message/send")
    with pytest.raises(WeComSendError) as caught:
        await client.send_text(["alice"], "never")
    assert caught.value.errcode == 40014
    assert len(emu.inbox("alice")) == 1
    assert emu.stats.per_path["message/send"] == 6  # 3 + 3 attempts


async def test_frequency_limit_backs_off_and_delivers_once(
    client: WeComClient, emu: WeComEmulator, clock: FakeClock
) -> None:
    emu.fail_next(45009, 2, path="message/send")
    await client.send_text(["alice"], "eventually")
    assert clock.sleeps == [1.0, 2.0]
    assert [m.content["content"] for m in emu.inbox("alice")] == ["eventually"]
    assert emu.stats.errors_injected == 2


async def test_backoff_is_capped_and_bounded(
    make_client: Callable[..., WeComClient], emu: WeComEmulator, clock: FakeClock
) -> None:
    wecom = make_client(max_backoff_retries=4, backoff_base=2.0, backoff_cap=5.0)
    try:
        emu.fail_next(45033, 10, path="message/send")
        with pytest.raises(WeComSendError) as caught:
            await wecom.send_text(["alice"], "never")
        assert caught.value.errcode == 45033 and "45033" in str(caught.value)
        assert clock.sleeps == [2.0, 4.0, 5.0, 5.0]
        assert emu.inbox("alice") == []
    finally:
        await wecom.close()


async def test_http_5xx_is_not_resent_for_messages_but_retried_for_reads(
    client: WeComClient, emu: WeComEmulator, clock: FakeClock
) -> None:
    emu.fail_next(-500, path="message/send")
    with pytest.raises(WeComSendError) as caught:
        await client.send_text(["alice"], "maybe")
    assert caught.value.http_status == 500 and caught.value.errcode is None
    assert emu.stats.per_path["message/send"] == 1  # never resent: WeCom may have delivered
    media_id = await client.send_file(["alice"], "a.txt", b"hello world")
    emu.fail_next(-502, path="media/get")
    _, data = await client.download_media(media_id)
    assert data == b"hello world" and clock.sleeps == [1.0]


async def test_wrong_secret_raises_without_leaking_it(
    make_client: Callable[..., WeComClient], emu: WeComEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    wrong = "wrong-secret-" + "z" * 30
    wecom = make_client(corp_secret=wrong)
    caplog.set_level(logging.DEBUG)
    try:
        with pytest.raises(WeComSendError) as caught:
            await wecom.send_text(["alice"], "hi")
        assert caught.value.errcode == 40001
        assert wrong not in repr(wecom) and wrong not in str(caught.value)
    finally:
        await wecom.close()
    assert emu.inbox("alice") == []


async def test_no_secret_or_token_in_debug_logs(
    client: WeComClient, emu: WeComEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await client.send_text(["alice"], "hi")
    token = emu._current_token
    assert token and "gettoken" in caplog.text  # urllib3 logged the requests...
    assert SECRET not in caplog.text and token not in caplog.text  # ...redacted


async def test_concurrent_sends_share_one_worker_and_one_token(
    client: WeComClient, emu: WeComEmulator
) -> None:
    await asyncio.gather(
        *(client.send_text([u], f"m{i}") for i in range(8) for u in ("alice", "bob"))
    )
    assert emu.stats.tokens_issued == 1 and emu.stats.per_path["gettoken"] == 1
    assert len(emu.inbox("alice")) == 8 and len(emu.inbox("bob")) == 8


async def test_limiter_queues_40_messages_and_nothing_is_dropped(
    client: WeComClient, emu: WeComEmulator, clock: FakeClock
) -> None:
    start = clock.now
    for i in range(40):
        await client.send_text(["alice"], f"m{i}")
    assert len(emu.inbox("alice")) == 40 and emu.stats.dropped_over_limit == 0
    assert [m.content["content"] for m in emu.inbox("alice")] == [f"m{i}" for i in range(40)]
    assert client.member_limiter is not None and client.member_limiter.waits >= 1
    assert sum(clock.sleeps) >= 60 and clock.now - start >= 60
    # no 60-second window at the emulator holds more than 30 messages
    times = [m.time for m in emu.inbox("alice")]
    assert max(sum(1 for t in times if s <= t < s + 60) for s in times) <= 30


async def test_limiter_queues_concurrent_sends_too(
    client: WeComClient, emu: WeComEmulator, clock: FakeClock
) -> None:
    await asyncio.gather(*(client.send_text(["bob"], f"m{i}") for i in range(40)))
    assert len(emu.inbox("bob")) == 40 and emu.stats.dropped_over_limit == 0
    assert clock.sleeps


async def test_without_limiter_the_emulator_drops_over_30(
    make_client: Callable[..., WeComClient], emu: WeComEmulator, clock: FakeClock
) -> None:
    wecom = make_client(rate_limit=False)
    try:
        for i in range(40):
            await wecom.send_text(["alice"], f"m{i}")
    finally:
        await wecom.close()
    assert len(emu.inbox("alice")) == 30 and emu.stats.dropped_over_limit == 10
    assert clock.sleeps == []


async def test_group_limiter_keeps_under_200_a_minute(
    client: WeComClient, emu: WeComEmulator, clock: FakeClock
) -> None:
    chatid = await client.create_chat("big", "alice", ["alice", "bob"])
    for i in range(210):
        await client.chat_send_text(chatid, f"g{i}")
    assert len(emu.chat_messages(chatid)) == 210 and emu.stats.dropped_over_limit == 0
    assert sum(clock.sleeps) >= 60


async def test_the_guard_counts_sends_per_member_in_each_window(clock: FakeClock) -> None:
    """The client's guard is the delivery layer's limiter with WeCom's windows."""
    limiter = RateLimiter(clock=clock, sleep=clock.sleep)
    limits = [("minute", "k", Limit(2, 10.0)), ("hour", "k", Limit(3, 100.0))]
    for _ in range(2):
        (await limiter.reserve(limits)).complete()
    assert clock.sleeps == []
    third = await limiter.reserve(limits)  # minute-style window full: wait 10 s
    third.complete()
    assert clock.sleeps == [10.0] and third.waited == 10.0
    await limiter.reserve(limits)  # the 100 s window holds 3: wait for the first to leave
    assert clock.sleeps[-1] == pytest.approx(90.0)
    await limiter.reserve([("minute", "other", Limit(2, 10.0))])  # keys are independent
    assert len(clock.sleeps) == 2
    with pytest.raises(ValueError):
        Limit(0, 1.0)


def test_button_interaction_card_shape() -> None:
    card = button_interaction_card(
        task_id="t-1@x", title="确认", desc="周五", buttons=[("是", "y")], sub_title_text="说明"
    )
    assert card == {
        "card_type": "button_interaction",
        "main_title": {"title": "确认", "desc": "周五"},
        "task_id": "t-1@x",
        "button_list": [{"text": "是", "style": 1, "key": "y"}],
        "sub_title_text": "说明",
    }
    with pytest.raises(ValueError):
        button_interaction_card(task_id="bad id", title="x", buttons=[("a", "b")])
    with pytest.raises(ValueError):
        button_interaction_card(task_id="ok", title="x", buttons=[])


async def test_every_request_has_a_timeout() -> None:
    release = asyncio.Event()

    async def stalled(request: web.Request) -> web.Response:
        await release.wait()
        return web.json_response({"errcode": 0})

    app = web.Application()
    app.router.add_get("/cgi-bin/gettoken", stalled)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    wecom = WeComClient(
        corp_id=CORP_ID,
        corp_secret=SECRET,
        agent_id=AGENT_ID,
        api_base_url=f"http://127.0.0.1:{port}/cgi-bin",  # the missing "/" is added
        timeout=0.2,
        max_http_retries=0,
    )
    started = time.monotonic()
    try:
        with pytest.raises(WeComSendError) as caught:
            await wecom.send_text(["alice"], "hi")
        elapsed = time.monotonic() - started
    finally:
        release.set()
        await wecom.close()
        await runner.cleanup()
    assert 0.15 < elapsed < 1.0
    assert caught.value.errcode is None and "Timeout" in caught.value.errmsg


async def test_closed_client_refuses_calls(client: WeComClient) -> None:
    await client.close()
    with pytest.raises(RuntimeError):
        await client.send_text(["alice"], "hi")


async def test_emulator_rejects_raw_over_limit_without_client(emu: WeComEmulator) -> None:
    async with aiohttp.ClientSession() as http:
        async with http.get(
            emu.base_url + "gettoken", params={"corpid": CORP_ID, "corpsecret": SECRET}
        ) as response:
            token = (await response.json())["access_token"]
        for i in range(31):
            body: dict[str, Any] = {"touser": "carol", "msgtype": "text", "agentid": AGENT_ID}
            body["text"] = {"content": f"m{i}"}
            async with http.post(
                emu.base_url + "message/send", params={"access_token": token}, json=body
            ) as response:
                assert (await response.json())["errcode"] == 0
    assert len(emu.inbox("carol")) == 30 and emu.stats.dropped_over_limit == 1


async def test_a_pressed_card_update_retries_passing_errors_and_takes_a_refused_code_as_done(
    make_client: Callable[..., WeComClient], emu: WeComEmulator
) -> None:
    messenger = WeComMessenger(make_client(max_backoff_retries=0))
    await messenger.send("alice", OutgoingMessage("Agree?", ((Button("Yes", "yes"),),)))
    [card] = emu.inbox("alice")
    code = emu.press_code("alice", str(card.content["task_id"]))
    update = OutgoingMessage("✓ Agreed", updates=code)

    emu.fail_next(45009, path="message/update_template_card")
    with pytest.raises(RetryAfter):
        await messenger.send("alice", update)
    emu.fail_next(-502, path="message/update_template_card")
    with pytest.raises(TransientSendError):
        await messenger.send("alice", update)
    assert not emu.inbox("alice")[0].updated
    await messenger.send("alice", update)
    [updated] = emu.inbox("alice")
    assert updated.content["replace_name"] == "✓ Agreed" and "button_list" not in updated.content
    await messenger.send("alice", update)  # the code is used: refused, and that is done
    assert emu.stats.response_codes_refused == 1
    assert emu.stats.cards_updated == 1
