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
from bot.run.runtime import BoardOptions, Runtime, WeComOptions
from bot.sandbox.demo.telegram import seed_plan_text
from bot.sandbox.demo.wecom import USERIDS, options_on_emulator, with_city_leader_on_wecom
from bot.sandbox.wecom.api import WeComEmulator
from bot.sandbox.wecom.callbacks import WeComCallbackClient
from bot.sandbox.wecom.people import VirtualTime, WeComPerson, card_text
from tests.e2e.conftest import PlanDatabaseViews, free_port

CORP_ID = "ww5f3e2d1c0b0a0987"
CORP_SECRET = "huiwu-e2e-corp-secret-" + "x" * 21
AGENT_ID = 1000002
CALLBACK_TOKEN = "HuiwuE2eToken"
AES_KEY = base64.b64encode(hashlib.sha256(b"huiwu e2e").digest()).decode()[:43]
START = "2013-12-02T10:00+08:00"


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

    async def restart(self) -> None:
        await self.settle()
        await self.runtime.stop()
        self.runtime = Runtime(self.db_path, self.clock, wecom=self.options)
        await self.runtime.start()
        assert self.runtime.wecom_server is not None
        self.callbacks.url = self.runtime.wecom_server.url
        await self.settle()  # what the last run left is handled at start-up


WeComWorldFactory = Callable[..., Awaitable[WeComWorld]]


async def wecom_worlds(tmp_path: Path) -> AsyncIterator[WeComWorldFactory]:
    """Body of the ``make_wecom_world`` fixture: builds worlds and tears them down."""
    opened: list[tuple[WeComEmulator, WeComWorld | None]] = []

    async def factory(*, bind_group: bool = True, board: bool = False) -> WeComWorld:
        vt = VirtualTime()
        emulator = WeComEmulator(
            corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID, clock=vt
        )
        await emulator.start()
        opened.append((emulator, None))
        for name, userid in USERIDS.items():
            emulator.add_user(userid, name)
        clock = ManualClock(datetime.fromisoformat(START))
        options = options_on_emulator(
            emulator, CORP_SECRET, CALLBACK_TOKEN, AES_KEY, vt, retry_after=0.05
        )
        db_path = str(tmp_path / f"huiwu-wecom-{len(opened)}.sqlite3")
        board_options = None
        if board:
            port = free_port()
            board_options = BoardOptions(
                f"http://127.0.0.1:{port}/board",
                listen_port=port,
                wecom_authorize_url=emulator.oauth_authorize_url,
            )
        runtime = Runtime(db_path, clock, wecom=options, board=board_options)
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
