"""The WeCom counterpart of ``conftest.World``: the real bot (Runtime) with WeCom only, the
WeCom API emulator (wechatpy over real HTTP), and members who talk to the bot through really
signed and AES-encrypted callbacks.

``make_wecom_world`` loads the shipped seed plan (its roster carries ``wecom_userid``s; the
city leader gets one here too, so the review of the team plan can run on WeCom), creates the
plan's group chat with appchat/create (as ``huiwu wecom create-chat`` does) and starts at
2013-12-02 10:00. Send limits run on a ``VirtualTime`` shared by the bot's limiters and the
emulator's counting windows, so minutes of WeCom throttling pass in no real time.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from bot.adapters.wecom.group_chat import create_or_bind_chat
from bot.core.app import Huiwu
from bot.core.clock import ManualClock
from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.run import scheduler
from bot.run.runtime import RobotOptions, Runtime, WeComOptions
from bot.sandbox.demo.telegram import seed_plan_text
from bot.sandbox.demo.wecom import USERIDS, options_on_emulator, with_city_leader_on_wecom
from bot.sandbox.wecom.api import WeComEmulator
from bot.sandbox.wecom.callbacks import WeComCallbackClient
from bot.sandbox.wecom.people import VirtualTime, WeComPerson, card_text
from bot.sandbox.wecom.robot import RobotEmulator, RobotMessage
from tests.e2e.conftest import PlanDatabaseViews

CORP_ID = "ww5f3e2d1c0b0a0987"
CORP_SECRET = "huiwu-e2e-corp-secret-" + "x" * 21
AGENT_ID = 1000002
CALLBACK_TOKEN = "HuiwuE2eToken"
AES_KEY = base64.b64encode(hashlib.sha256(b"huiwu e2e").digest()).decode()[:43]
START = "2013-12-02T10:00+08:00"
ROBOT_ID = "aibHuiwuE2e01"
ROBOT_SECRET = "robot-e2e-secret-" + "r" * 20
ROBOT_TOKEN = "HuiwuRobotToken"
ROBOT_AES_KEY = base64.b64encode(hashlib.sha256(b"huiwu robot e2e").digest()).decode()[:43]
ROBOT_GROUP = "wrkHuiwuGroup01"  # the group people made themselves, with the robot in it


@dataclass
class WeComWorld(PlanDatabaseViews):
    emulator: WeComEmulator
    runtime: Runtime
    clock: ManualClock
    time: VirtualTime
    callbacks: WeComCallbackClient
    instance_id: int
    chatid: str
    db_path: str
    options: WeComOptions
    people: dict[str, WeComPerson] = field(default_factory=dict)
    robot: RobotEmulator | None = None

    def robot_texts(self, chatid: str = ROBOT_GROUP) -> list[str]:
        assert self.robot is not None
        return [m.text for m in self.robot.messages(chatid)]

    async def group_say(
        self, name: str, text: str, chatid: str = ROBOT_GROUP
    ) -> list[RobotMessage]:
        """``name`` @-mentions the robot in the group with ``text``; what the robot answered."""
        assert self.robot is not None
        before = len(self.robot.messages(chatid))
        await self.robot.mention(chatid, USERIDS[name], text)
        await self.settle_robot()
        return self.robot.messages(chatid)[before:]

    async def group_press(
        self, name: str, label: str, chatid: str = ROBOT_GROUP
    ) -> list[RobotMessage]:
        """``name`` presses the newest card button labelled ``label`` in the group."""
        assert self.robot is not None
        message, key = next(
            (m, k)
            for m in reversed(self.robot.messages(chatid))
            for shown, k in m.buttons
            if shown == label
        )
        before = len(self.robot.messages(chatid))
        await self.robot.press(chatid, USERIDS[name], str(message.content["task_id"]), key)
        await self.settle_robot()
        return self.robot.messages(chatid)[before:]

    async def settle_robot(self) -> None:
        """Wait until what the robot delivered has arrived and been handled and answered."""
        connection = self.runtime.robot_connection
        if connection is not None and self.robot is not None and self.robot.connected:
            for _ in range(500):  # frames in flight on the loopback socket
                if connection.stats.frames_in >= self.robot.stats.frames_delivered:
                    break
                await asyncio.sleep(0.002)
        await self.settle()

    @property
    def app(self) -> Huiwu:
        return self.runtime.app

    async def settle(self) -> None:
        """Wait until callbacks are handled and what they caused is sent."""
        await self.runtime.join()

    async def at(self, iso: str) -> None:
        await self.clock.set(datetime.fromisoformat(iso))
        await scheduler.tick(self.app)
        await self.settle()

    def group_texts(self) -> list[str]:
        return [card_text(m) for m in self.emulator.chat_messages(self.chatid)]

    async def restart(self, while_down: Callable[[], Awaitable[None]] | None = None) -> None:
        await self.settle()
        await self.runtime.stop()
        if while_down is not None:
            await while_down()
        self.runtime = Runtime(self.db_path, self.clock, wecom=self.options)
        await self.runtime.start()
        assert self.runtime.wecom_server is not None
        self.callbacks.url = self.runtime.wecom_server.url
        if self.robot is not None and self.robot.callback_url is not None:
            self.robot.callback_url = robot_callback_url(self.runtime, self.options)
        elif self.robot is not None:
            await asyncio.wait_for(self.robot.subscribed.wait(), 10)
        await self.settle()  # what the last run left is handled at start-up


WeComWorldFactory = Callable[..., Awaitable[WeComWorld]]


def robot_callback_url(runtime: Runtime, options: WeComOptions) -> str:
    assert runtime.wecom_server is not None and options.robot is not None
    server = runtime.wecom_server
    return f"http://{server.host}:{server.port}{options.robot.path}"


async def wecom_worlds(tmp_path: Path) -> AsyncIterator[WeComWorldFactory]:
    """Body of the ``make_wecom_world`` fixture: builds worlds and tears them down."""
    opened: list[tuple[WeComEmulator, WeComWorld | None]] = []
    robots: list[RobotEmulator] = []

    async def factory(
        *, bind_group: bool = True, robot: str | None = None, redeliver: int = 0
    ) -> WeComWorld:
        """``robot``: None (the app only), "long" (the robot's long connection) or
        "callback" (the robot's callback URL)."""
        vt = VirtualTime()
        emulator = WeComEmulator(
            corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID, clock=vt
        )
        await emulator.start()
        opened.append((emulator, None))
        for name, userid in USERIDS.items():
            emulator.add_user(userid, name)
        robot_emulator = None
        robot_options = None
        if robot is not None:
            robot_emulator = RobotEmulator(
                bot_id=ROBOT_ID,
                secret=ROBOT_SECRET,
                token=ROBOT_TOKEN,
                aes_key=ROBOT_AES_KEY,
                clock=lambda: clock.now().timestamp(),
                redeliver=redeliver,
            )
            await robot_emulator.start()
            robots.append(robot_emulator)
            robot_options = (
                RobotOptions(
                    bot_id=ROBOT_ID,
                    secret=ROBOT_SECRET,
                    gateway_url=robot_emulator.ws_url,
                    heartbeat=0.2,
                    first_backoff=0.05,
                    max_backoff=0.5,
                )
                if robot == "long"
                else RobotOptions(token=ROBOT_TOKEN, aes_key=ROBOT_AES_KEY)
            )
        clock = ManualClock(datetime.fromisoformat(START))
        options = options_on_emulator(
            emulator,
            CORP_SECRET,
            CALLBACK_TOKEN,
            AES_KEY,
            vt,
            retry_after=0.05,
            robot=robot_options,
        )
        db_path = str(tmp_path / f"huiwu-wecom-{len(opened)}.sqlite3")
        runtime = Runtime(db_path, clock, wecom=options)
        await runtime.start()
        text = with_city_leader_on_wecom(seed_plan_text())
        async with runtime.app.db.transaction() as conn:
            instance_id = await store_plan(
                conn, load_plan_text(text), text, loaded_by="e2e", now=clock.now()
            )
        chatid = ""
        if bind_group:
            assert runtime.wecom_client is not None
            bound = await create_or_bind_chat(
                runtime.app.db, runtime.wecom_client, clock, instance_id=instance_id
            )
            chatid = bound.chatid
        assert runtime.wecom_server is not None
        callbacks = WeComCallbackClient(
            runtime.wecom_server.url, CALLBACK_TOKEN, AES_KEY, CORP_ID, AGENT_ID
        )
        world = WeComWorld(
            emulator, runtime, clock, vt, callbacks, instance_id, chatid, db_path, options
        )
        world.people = {
            name: WeComPerson(emulator, callbacks, userid, name, world.settle)
            for name, userid in USERIDS.items()
        }
        world.robot = robot_emulator
        if robot_emulator is not None:
            if robot == "callback":
                robot_emulator.callback_url = robot_callback_url(runtime, options)
            else:
                await asyncio.wait_for(robot_emulator.subscribed.wait(), 10)
        opened[-1] = (emulator, world)
        return world

    yield factory
    for emulator, world in reversed(opened):
        try:
            if world is not None:
                await world.callbacks.close()
                await world.runtime.stop()
        finally:
            await emulator.stop()
    for robot_emulator in robots:
        await robot_emulator.stop()
