"""The robot emulator keeps WeCom's rules on its own (so the bot's tests can trust it): a
response_url works once and for an hour, takes cards only in single chats; the gateway
refuses a wrong secret and frames before a subscription, validates pushes, and keeps what is
said while nobody is connected."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.sandbox.wecom.robot import RobotEmulator


@pytest.fixture
async def robot() -> AsyncIterator[tuple[RobotEmulator, list[float]]]:
    now = [1_700_000_000.0]
    emulator = RobotEmulator(bot_id="b", secret="s", clock=lambda: now[0])
    await emulator.start()
    yield emulator, now
    await emulator.stop()


async def _post(url: str, body: dict[str, Any]) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.post(url, json=body) as response:
        return dict(await response.json())


MARKDOWN = {"msgtype": "markdown", "markdown": {"content": "hello"}}
CARD = {
    "msgtype": "template_card",
    "template_card": {
        "card_type": "button_interaction",
        "main_title": {"title": "t"},
        "task_id": "hw_1",
        "button_list": [{"text": "A", "key": "a"}],
    },
}


async def test_a_response_url_works_once_and_for_an_hour(
    robot: tuple[RobotEmulator, list[float]],
) -> None:
    emulator, now = robot
    first = emulator.text_body("u1", "/status", "wrkG")["response_url"]
    assert (await _post(first, MARKDOWN))["errcode"] == 0
    assert (await _post(first, MARKDOWN))["errcode"] == 40058  # used
    late = emulator.text_body("u1", "/status", "wrkG")["response_url"]
    now[0] += 3601
    assert (await _post(late, MARKDOWN))["errcode"] == 40058  # expired
    group = emulator.text_body("u1", "/status", "wrkG")["response_url"]
    assert (await _post(group, CARD))["errcode"] == 40008  # no cards in a group this way
    single = emulator.text_body("u1", "/status")["response_url"]
    assert (await _post(single, CARD))["errcode"] == 0
    assert [m.via for m in emulator.messages("wrkG")] == ["response_url"]
    assert emulator.stats.refused_responses == 2


async def test_the_gateway_checks_subscription_and_pushes(
    robot: tuple[RobotEmulator, list[float]],
) -> None:
    emulator, _now = robot
    await emulator.mention("wrkG", "u1", "/status")  # nobody connected: kept
    async with aiohttp.ClientSession() as http, http.ws_connect(emulator.ws_url) as ws:

        async def ask(cmd: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
            await ws.send_str(json.dumps({"cmd": cmd, "headers": {"req_id": cmd}, "body": body}))
            while True:
                frame = json.loads((await ws.receive()).data)
                if frame.get("headers", {}).get("req_id") == cmd:
                    return dict(frame)

        assert (await ask("ping"))["errcode"] == 40001  # not subscribed
        assert (await ask("aibot_subscribe", {"bot_id": "b", "secret": "x"}))["errcode"] == 40001
        assert (await ask("aibot_subscribe", {"bot_id": "b", "secret": "s"}))["errcode"] == 0
        kept = json.loads((await ws.receive()).data)
        assert kept["cmd"] == "aibot_msg_callback"
        assert kept["body"]["text"]["content"].endswith("/status")
        assert (await ask("aibot_send_msg", {"chatid": "wrkG", **MARKDOWN}))["errcode"] == 0
        assert (await ask("aibot_send_msg", {"chatid": "wrkG", **CARD}))["errcode"] == 0
        again = await ask("aibot_send_msg", {"chatid": "wrkG", **CARD})
        assert again["errcode"] == 40008  # task_id used before
        too_long = {"msgtype": "markdown", "markdown": {"content": "字" * 7000}}
        assert (await ask("aibot_send_msg", {"chatid": "wrkG", **too_long}))["errcode"] == 40008
    assert [m.msgtype for m in emulator.messages("wrkG")] == ["markdown", "template_card"]
