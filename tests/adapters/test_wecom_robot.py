"""The robot's protocol pieces on their own: JSON messages as events, the response_url store,
the reconnection backoff, the rendering of messages for robot chats, the settings, and a
pressed card's update over a real long connection to the emulator's gateway."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest

from bot.adapters.wecom.events import MalformedCallback
from bot.adapters.wecom.robot.connection import UPDATE_CARD, RobotConnection, RobotRefused
from bot.adapters.wecom.robot.frames import event_from_body, parse_body, without_mention
from bot.adapters.wecom.robot.messenger import RobotMessenger, robot_limits, robot_render
from bot.adapters.wecom.robot.receiver import ResponseUrls, card_update_ref
from bot.core.config import ConfigError, load_settings
from bot.core.messaging import Button, ChatType, OutgoingMessage
from bot.sandbox.wecom.robot import RobotEmulator

APP = {
    "WECOM_CORP_ID": "ww1",
    "WECOM_AGENT_ID": "1000002",
    "WECOM_SECRET": "s",
    "WECOM_TOKEN": "t",
    "WECOM_AES_KEY": "k" * 43,
}


def _group_text(text: str) -> dict[str, Any]:
    return {
        "msgid": "m1",
        "aibotid": "aib1",
        "chatid": "wrkG1",
        "chattype": "group",
        "from": {"userid": "FangLei"},
        "response_url": "http://127.0.0.1/r",
        "msgtype": "text",
        "text": {"content": text},
    }


def test_a_group_mention_is_a_group_command_of_the_robot_chat() -> None:
    event = event_from_body(_group_text("@会务助手 /pause 唐军"))
    assert event is not None
    assert (event.chat_id, event.chat_type, event.user_id) == (
        "robot:wrkG1",
        ChatType.GROUP,
        "FangLei",
    )
    assert (event.command, event.args) == ("pause", ("唐军",))
    keyword = event_from_body(_group_text("@会务助手 进度"))
    assert keyword is not None and keyword.text == "进度" and keyword.command is None
    assert without_mention("@会务助手  @张三 /status") == "/status"


def test_malformed_robot_messages_are_refused() -> None:
    with pytest.raises(MalformedCallback):
        parse_body(b"[1, 2]")
    with pytest.raises(MalformedCallback):
        parse_body(b"{not json")
    no_chat = _group_text("/status")
    del no_chat["chatid"]
    with pytest.raises(MalformedCallback):
        event_from_body(no_chat)
    nobody = _group_text("/status")
    nobody["from"] = {}
    with pytest.raises(MalformedCallback):
        event_from_body(nobody)


def test_a_card_press_carries_its_update_reference_and_other_events_are_ignored() -> None:
    press = {
        "msgid": "m2",
        "chattype": "single",
        "from": {"userid": "FangLei"},
        "msgtype": "event",
        "event": {
            "eventtype": "template_card_event",
            "template_card_event": {"event_key": "talk:rec:3", "task_id": "hw_1"},
        },
    }
    event = event_from_body(press, card_update_ref("req-9", press))
    assert event is not None and event.button == "talk:rec:3"
    assert event.pressed == "robot-update:req-9|hw_1" and event.chat_id == "robot:FangLei"
    enter = {**press, "event": {"eventtype": "enter_chat"}}
    assert event_from_body(enter) is None


def test_a_response_url_is_used_once_and_within_the_hour() -> None:
    now = [datetime(2026, 1, 1, 9)]
    urls = ResponseUrls(lambda: now[0])
    urls.offer("robot:g", "u1")
    urls.offer("robot:g", "u2")
    assert urls.take("robot:g") == "u1"
    now[0] += timedelta(minutes=61)
    assert urls.take("robot:g") is None  # u2 is older than an hour
    assert urls.take("robot:other") is None


def test_backoff_doubles_with_jitter_up_to_its_ceiling() -> None:
    draws = iter([0.0, 1.0, 0.0, 1.0])

    async def sink(body: dict[str, Any], req_id: str) -> None:
        return None

    connection = RobotConnection(
        bot_id="b",
        secret="robot-secret-9",
        on_frame=sink,
        first_backoff=0.5,
        max_backoff=4.0,
        jitter=lambda: next(draws),
    )
    assert connection.backoff(1) == 0.25  # half of 0.5 with the lowest draw
    assert connection.backoff(2) == 1.0  # all of 1.0 with the highest
    assert connection.backoff(10) == 2.0  # the ceiling, 4.0, halved
    assert connection.backoff(11) == 4.0
    assert "robot-secret-9" not in repr(connection)


def test_robot_rendering_cards_and_markdown() -> None:
    message = OutgoingMessage("Choose\nwho", ((Button("A", "a"), Button("B", "b")),))
    steps = robot_render(message, cards=True)
    assert [s["msgtype"] for s in steps] == ["template_card"]
    card = steps[0]["template_card"]
    assert [b["key"] for b in card["button_list"]] == ["a", "b"]
    assert card["main_title"]["title"] == "Choose" and card["sub_title_text"] == "who"
    plain = robot_render(message, cards=False)  # callback mode: no cards
    assert [s["msgtype"] for s in plain] == ["markdown"]
    long_text = robot_render(OutgoingMessage("字" * 8000), cards=True)
    assert len(long_text) == 2  # 24,000 bytes in parts under 20,480
    assert robot_limits("robot:g", True) and robot_limits("wrkAppChat", True) is None


def test_robot_settings() -> None:
    long = load_settings({**APP, "WECOM_BOT_ID": "b", "WECOM_BOT_SECRET": "s"}, env_file=None)
    assert long.wecom_robot_enabled and long.wecom_bot_gateway_url.startswith("wss://")
    callback = load_settings(
        {**APP, "WECOM_BOT_TOKEN": "t", "WECOM_BOT_AES_KEY": "a" * 43}, env_file=None
    )
    assert callback.wecom_robot_enabled and callback.wecom_bot_path == "/wecom/robot"
    assert not load_settings(APP, env_file=None).wecom_robot_enabled
    bad = [
        {**APP, "WECOM_BOT_ID": "b"},  # half a pair
        {
            **APP,
            "WECOM_BOT_ID": "b",
            "WECOM_BOT_SECRET": "s",
            "WECOM_BOT_TOKEN": "t",
            "WECOM_BOT_AES_KEY": "a" * 43,
        },  # both modes
        {"WECOM_BOT_ID": "b", "WECOM_BOT_SECRET": "s"},  # no app
        {**APP, "WECOM_BOT_TOKEN": "t", "WECOM_BOT_AES_KEY": "short"},
        {**APP, "WECOM_BOT_ID": "b", "WECOM_BOT_SECRET": "s", "WECOM_BOT_GATEWAY_URL": "http://x"},
        {
            **APP,
            "WECOM_BOT_TOKEN": "t",
            "WECOM_BOT_AES_KEY": "a" * 43,
            "WECOM_BOT_PATH": "/wecom/callback",
        },
    ]
    for environ in bad:
        with pytest.raises(ConfigError):
            load_settings(environ, env_file=None)


async def test_a_pressed_card_is_updated_once_within_five_seconds() -> None:
    now = [1_700_000_000.0]
    gateway = RobotEmulator(bot_id="b", secret="s", clock=lambda: now[0])
    await gateway.start()
    presses: list[tuple[dict[str, Any], str]] = []

    async def sink(body: dict[str, Any], req_id: str) -> None:
        presses.append((body, req_id))

    connection = RobotConnection(bot_id="b", secret="s", on_frame=sink, url=gateway.ws_url)
    urls = ResponseUrls(lambda: datetime.now())
    messenger = RobotMessenger(response_urls=urls, connection=connection)
    try:
        await connection.start()
        await connection.wait_connected(5)
        card = robot_render(OutgoingMessage("Vote", ((Button("Yes", "y"),),)), cards=True)[0]
        await connection.send("aibot_send_msg", {"chatid": "wrkG1", **card})
        task_id = card["template_card"]["task_id"]
        await gateway.press("wrkG1", "FangLei", task_id, "y")
        async with asyncio.timeout(5):
            while not presses:  # noqa: ASYNC110 (the frame crosses a real socket)
                await asyncio.sleep(0.01)
        body, req_id = presses[0]
        reference = card_update_ref(req_id, body)
        assert reference is not None
        await messenger.send("robot:wrkG1", OutgoingMessage("✓ Voted", updates=reference))
        assert gateway.stats.updates == 1
        assert gateway.messages("wrkG1")[0].buttons == [("✓ Voted", f"done:{task_id}")]
        # Once only: a second update with the same press is refused (and counts as done).
        await messenger.send("robot:wrkG1", OutgoingMessage("again", updates=reference))
        assert gateway.stats.refused_updates == 1
        # Late: a press older than five seconds cannot be updated.
        await gateway.press("wrkG1", "FangLei", task_id, "y")
        async with asyncio.timeout(5):
            while len(presses) < 2:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        now[0] += 6
        with pytest.raises(RobotRefused):
            await connection.send(
                UPDATE_CARD,
                {"response_type": "update_template_card", "template_card": {"task_id": task_id}},
                req_id=presses[1][1],
            )
    finally:
        await messenger.close()
        await connection.stop()
        await gateway.stop()


def test_huiwu_run_builds_the_robot_from_the_settings() -> None:
    from bot.run.cli import _robot_options

    long = _robot_options(
        load_settings({**APP, "WECOM_BOT_ID": "b", "WECOM_BOT_SECRET": "s"}, env_file=None)
    )
    assert long is not None and long.long_connection and long.bot_id == "b"
    callback = _robot_options(
        load_settings(
            {**APP, "WECOM_BOT_TOKEN": "t", "WECOM_BOT_AES_KEY": "a" * 43, "WECOM_BOT_PATH": "/r"},
            env_file=None,
        )
    )
    assert callback is not None and not callback.long_connection and callback.path == "/r"
    assert _robot_options(load_settings(APP, env_file=None)) is None
