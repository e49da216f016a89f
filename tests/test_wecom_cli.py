"""``huiwu wecom create-chat``, ``huiwu run`` with WeCom (alone and next to Telegram) and
``huiwu demo --platform wecom``, run for real in subprocesses against loopback emulators."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.adapters.wecom.client import WeComClient
from bot.sandbox.demo.wecom import USERIDS
from bot.sandbox.telegram.api import TelegramEmulator
from bot.sandbox.telegram.people import SimulatedPerson, contains
from bot.sandbox.wecom.api import WeComEmulator
from bot.sandbox.wecom.callbacks import WeComCallbackClient
from tests.e2e.wecom_world import AES_KEY, AGENT_ID, CALLBACK_TOKEN, CORP_ID, CORP_SECRET

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SHIPPED = "bot/plans/democratic-life-meeting.toml"
ROSTER_USERIDS = ["FangLei", "TangJun", "MengPing", "DangZuShuJi"]  # the seed's wecom_userids


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def eventually(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    """Whether ``condition`` becomes true within ``seconds`` (another process acts)."""
    for _attempt in range(int(seconds / 0.05)):
        if condition():
            return True
        await asyncio.sleep(0.05)
    return condition()


def environment(db: Path, **extra: str) -> dict[str, str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HUIWU_", "WECOM_", "TELEGRAM_"))
    }
    environ.update(HUIWU_LOCALE="en", HUIWU_DB=str(db), PYTHONIOENCODING="utf-8")
    environ.update(extra)
    return environ


def wecom_settings(emulator: WeComEmulator) -> dict[str, str]:
    return {
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_AGENT_ID": str(AGENT_ID),
        "WECOM_SECRET": CORP_SECRET,
        "WECOM_TOKEN": CALLBACK_TOKEN,
        "WECOM_AES_KEY": AES_KEY,
        "WECOM_API_BASE_URL": emulator.base_url,
    }


async def huiwu(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.run.cli",
        *args,
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


@pytest.fixture
async def emulator() -> WeComEmulator:
    emulator = WeComEmulator(corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID)
    for userid in ROSTER_USERIDS:
        emulator.add_user(userid, userid)
    await emulator.start()
    yield emulator  # type: ignore[misc]
    await emulator.stop()


async def test_create_chat_creates_the_group_from_the_roster_and_binds_it(
    tmp_path: Path, emulator: WeComEmulator
) -> None:
    db = tmp_path / "huiwu.sqlite3"
    env = environment(db, **wecom_settings(emulator))
    code, loaded, err = await huiwu("plan", "load", SHIPPED, env=env)
    assert code == 0, err
    assert "huiwu wecom create-chat --plan 1" in loaded and "4 members" in loaded
    code, out, err = await huiwu("wecom", "create-chat", env=env)
    assert code == 0, err
    [chat] = emulator.chats.values()
    assert chat.chatid in out and "4 members" in out
    assert sorted(chat.userlist) == sorted(ROSTER_USERIDS)
    assert chat.owner == "FangLei"
    with sqlite3.connect(db) as conn:
        bindings = conn.execute("SELECT platform, chat_id FROM chat_bindings").fetchall()
        status = conn.execute("SELECT status FROM plan_instances").fetchone()[0]
    assert bindings == [("wecom", chat.chatid)]
    assert status == "active"
    assert CORP_SECRET not in out + err


async def test_create_chat_binds_a_chat_the_app_made_and_refuses_an_unknown_one(
    tmp_path: Path, emulator: WeComEmulator
) -> None:
    db = tmp_path / "huiwu.sqlite3"
    env = environment(db, **wecom_settings(emulator))
    assert (await huiwu("plan", "load", SHIPPED, env=env))[0] == 0
    code, _out, err = await huiwu("wecom", "create-chat", "--chatid", "nosuchchat", env=env)
    assert code == 2
    assert "86003" in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM chat_bindings").fetchone()[0] == 0
    async with WeComClient(
        corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID, api_base_url=emulator.base_url
    ) as client:
        chatid = await client.create_chat("旧群", "FangLei", ["FangLei", "TangJun"], "oldchat1")
    code, out, err = await huiwu("wecom", "create-chat", "--chatid", chatid, "--plan", "1", env=env)
    assert code == 0, err
    assert chatid in out
    with sqlite3.connect(db) as conn:
        bindings = conn.execute("SELECT platform, chat_id, instance_id FROM chat_bindings")
        assert bindings.fetchall() == [("wecom", chatid, 1)]


async def test_run_starts_wecom_and_telegram_together_for_one_plan(
    tmp_path: Path, emulator: WeComEmulator
) -> None:
    db = tmp_path / "huiwu.sqlite3"
    port = free_port()
    async with TelegramEmulator() as telegram:
        token = "123456:HUIWU-RUN"
        telegram.add_bot(token, username="huiwu_run_bot")
        tang_tg = telegram.add_user("唐军")
        env = environment(
            db,
            **wecom_settings(emulator),
            TELEGRAM_BOT_TOKEN=token,
            TELEGRAM_API_BASE_URL=telegram.base_url,
            HUIWU_HTTP_PORT=str(port),
        )
        code, loaded, err = await huiwu("plan", "load", SHIPPED, env=env)
        assert code == 0, err
        invite = re.search(r"唐军: (\S+)", loaded)
        assert invite is not None, loaded
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.run.cli",
            "run",
            cwd=REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        callbacks = WeComCallbackClient(
            f"http://127.0.0.1:{port}/wecom/callback", CALLBACK_TOKEN, AES_KEY, CORP_ID, AGENT_ID
        )
        try:
            for _attempt in range(200):
                try:
                    if await callbacks.verify_url("ready") == "ready":
                        break
                except OSError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("the WeCom callback server did not come up")
            assert await eventually(lambda: emulator.menu() is not None), "no app menu set"
            # A WeCom member from the roster is known without an invite.
            assert (await callbacks.send_text(USERIDS["唐军"], "我的任务")).status == 200
            assert await eventually(lambda: bool(emulator.inbox("TangJun"))), "no answer"
            # The same member of the same plan on Telegram, bound with his invite code.
            person = SimulatedPerson(telegram, tang_tg, "唐军")
            await person.say(
                f"/start {invite[1]}", expect=contains("唐军", "领导班子专题民主生活会")
            )
        finally:
            await callbacks.close()
            process.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, err.decode()
        assert "telegram" in err.decode() and "wecom" in err.decode()
        assert CORP_SECRET not in err.decode() and AES_KEY not in err.decode()


async def test_demo_on_wecom_runs_the_seed_plan_to_the_end(tmp_path: Path) -> None:
    code, out, err = await huiwu("demo", "--platform", "wecom", env=environment(tmp_path / "x"))
    assert code == 0, err
    assert "== Group chat: 领导班子专题民主生活会" in out
    assert "dropped over WeCom's limits: 0" in out
    assert re.search(r"== \d+ steps, simulated 2013-12-02 → 2014-07-21", out)
    # The final summary reached the group; the returned measures were handed in again.
    assert "“会后整改阶段”小结" in out
    assert "修改稿" in out
    group = out.split("== Group chat:")[1].split("== App chat with")[0]
    # Reminders on the way: the Sunday deadline announced on the working day before it.
    assert "当天不是工作日，因此提前在前一个工作日提醒您" in out
    assert "孟平: /reminders" in out and "中将发给您的提醒" in out
    # The staff member off the roster wrote anonymously; 唐军 got it verbatim at the close.
    assert "== App chat with 县发改局干部" in out
    assert out.count("建议唐军同志多到县区走一走") >= 2 and "共收到2条意见" in group
    # Heart-to-heart talks confirmed by the other side.
    assert "已确认：您与党组书记的谈心计入完成。" in out
    # The on-site evaluation: ballots as cards with buttons, results in the group.
    assert "[好] [较好] [一般] [差]" in out
    assert "1. 会前准备情况：好3票（75%） · 较好1票（25%）" in group
    # The satisfaction survey fails round 1 (60%) and passes round 2 (80%): plan complete.
    assert "第1轮：60% — 未达到" in group and "第2轮：80% — 达到" in group
    assert "“领导班子专题民主生活会”全部完成" in group
