"""``huiwu demo --platform wecom``: the seed plan from first push to last summary on the
built-in WeCom emulator.

Nothing leaves the machine: the bot's callback server and the WeCom API emulator listen on
127.0.0.1; members send really signed and encrypted callbacks, and wechatpy talks real HTTP
to the emulator. The plan's group chat is created as ``huiwu wecom create-chat`` does; members
are known by their ``wecom_userid`` (no invites). WeCom's send limits (30 a minute per
member) are kept on a virtual clock shared with the emulator, so they cost no wall time.
The story is ``bot.sandbox.demo.story``, the same as on Telegram; this module is its WeCom side:
buttons are template-card buttons. The plan's group also has the WeCom intelligent robot in it
(its long connection to the robot emulator's gateway): the organizer binds the group with /setup
@-mentioning the robot, members ask /status and /summary there, and the chair runs the meeting
item by item with /meeting and /next in the group, as on Telegram; group answers come from the
robot, private pushes from the app.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.adapters.wecom.group_chat import create_or_bind_chat
from bot.core.clock import ManualClock
from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.run.runtime import RobotOptions, Runtime, WeComOptions
from bot.sandbox.demo.story import (
    EVALUATION_BALLOTS,
    DemoPerson,
    DemoPlatform,
    evaluation_choices,
    seed_plan_text,
    tell,
)
from bot.sandbox.wecom.api import WeComEmulator
from bot.sandbox.wecom.callbacks import WeComCallbackClient
from bot.sandbox.wecom.people import VirtualTime, WeComPerson, buttons_of, card_text
from bot.sandbox.wecom.robot import ROBOT_NAME, RobotEmulator

CORP_ID = "ww0d3e6f5a4b3c2d1e"
CORP_SECRET = "huiwu-demo-corp-secret-" + "d" * 20
AGENT_ID = 1000002
CALLBACK_TOKEN = "HuiwuDemoToken"
AES_KEY = base64.b64encode(hashlib.sha256(b"huiwu demo").digest()).decode()[:43]
USERIDS = {
    "方磊": "FangLei",
    "唐军": "TangJun",
    "孟平": "MengPing",
    "党组书记": "DangZuShuJi",
    "市政府分管领导": "ShiLingDao",
}
ROBOT_ID = "aibHuiwuDemo01"
ROBOT_SECRET = "huiwu-demo-robot-secret"
ROBOT_GROUP = "wrkDemoGroup"  # the group the office made, with the robot added
STAFF_USERIDS = {"县发改局干部": "XianFaGaiJu"}  # corp staff, not on the roster
CITY_LEADER_ENTRY = 'id = "city-leader"\nname = "市政府分管领导"\nroles = ["superior"]\n'


def with_city_leader_on_wecom(text: str) -> str:
    """The seed plan with a wecom_userid for the city leader (the seed has none), so that the
    review of the team plan can run on WeCom too."""
    if CITY_LEADER_ENTRY not in text:
        raise ValueError("the plan has no city-leader entry")
    userid = USERIDS["市政府分管领导"]
    return text.replace(CITY_LEADER_ENTRY, CITY_LEADER_ENTRY + f'wecom_userid = "{userid}"\n')


class WeComDemoPerson:
    """The story's ``DemoPerson`` on WeCom: a ``WeComPerson`` in the app chat, each action
    settled (handled and answered) before the next."""

    def __init__(self, member: WeComPerson) -> None:
        self.member = member

    async def say(self, text: str, *, expect: str | None = None) -> str:
        answers = [card_text(m) for m in await self.member.say(text)]
        return next((t for t in answers if expect is None or expect in t), "")

    async def press(self, button: str, *, within: str | None = None) -> None:
        try:
            await self.member.press(button, within=within)  # by key
        except LookupError:
            await self.member.press("", within=within, label=button)

    async def send_file(self, name: str, content: bytes) -> None:
        await self.member.send_file(name, content)

    async def wait_for_button(self, button: str, *, within: str) -> None:
        pass  # each action is settled: what the bot sent has arrived


class WeComDemo(DemoPlatform):
    meeting_caption = (
        "the meeting: the chair follows the agenda in the group (@robot), the evaluation by cards"
    )

    def __init__(
        self,
        runtime: Runtime,
        clock: ManualClock,
        chatid: str,
        emulator: WeComEmulator,
        callbacks: WeComCallbackClient,
        robot: RobotEmulator,
    ) -> None:
        super().__init__(runtime, clock)
        self.chatid = chatid
        self.emulator = emulator
        self.callbacks = callbacks
        self.robot = robot
        self.members: dict[str, WeComPerson] = {}
        self.group_log: list[tuple[str, str]] = []  # (who, text) in the robot's group
        self._group_seen = 0

    async def in_group(self, name: str, text: str) -> None:
        """``name`` @-mentions the robot in the group; the robot's answers are logged."""
        self._sync_group()
        self.group_log.append((name, f"@{ROBOT_NAME} {text}"))
        shown = len(self.robot.messages(ROBOT_GROUP))
        await self.robot.mention(ROBOT_GROUP, USERIDS[name], text)
        await self.robot.wait_for_messages(ROBOT_GROUP, shown + 1)
        await self.settle()
        self._sync_group()

    def _sync_group(self) -> None:
        messages = self.robot.messages(ROBOT_GROUP)
        for message in messages[self._group_seen :]:
            shown = f"[{message.msgtype} {message.filename}]" if message.filename else message.text
            self.group_log.append(("robot", shown))
        self._group_seen = len(messages)

    def add_member(self, name: str, userid: str) -> WeComDemoPerson:
        member = self.members[name] = WeComPerson(
            self.emulator, self.callbacks, userid, name, self.settle
        )
        person = WeComDemoPerson(member)
        self.people[name] = person
        return person

    async def settle(self) -> None:
        await self.runtime.join()

    async def first_days(self) -> None:
        await self.in_group("方磊", "/setup")
        await self.in_group("方磊", "/status")
        await self.in_group("唐军", "小结")
        await self.members["孟平"].say("我的任务")

    async def add_staff(self, name: str) -> DemoPerson:
        self.emulator.add_user(STAFF_USERIDS[name], name)
        return self.add_member(name, STAFF_USERIDS[name])

    async def vote(self, name: str, *choices: str) -> None:
        """Answer the newest ballot card by card (its buttons) and cast it."""
        member = self.members[name]
        for choice in choices:
            await member.press("vote:", label=choice)
        await member.press("cast:")

    async def hand_in(
        self,
        name: str,
        task_title: str,
        *,
        text: str | None = None,
        file: tuple[str, bytes] | None = None,
    ) -> None:
        member = self.members[name]
        answer = await member.say("提交")
        if any(label == task_title for m in answer for label, _key in buttons_of(m)):
            await member.press("submit:", label=task_title)
        if text:
            await member.say(text)
        if file:
            await member.send_file(*file)
        await member.press("draft:send")

    async def meeting(self) -> None:
        """The chair runs the meeting in the group through the robot: /meeting and /next
        announce each item there; the on-site evaluation opens on item 6, members cast it
        with card buttons in the app, and its results go to the group when the chair moves
        on."""
        await self.in_group("党组书记", "/meeting")
        for _step in range(4 + 3 + 1):  # items 2-5, the three speakers after the chair, item 6
            await self.in_group("党组书记", "/next")
        for name, answers in EVALUATION_BALLOTS.items():
            await self.vote(name, *evaluation_choices(answers))
        for _step in range(1 + 3):  # item 7 closes the evaluation; items 8, 9; the end
            await self.in_group("党组书记", "/next")
        await self.in_group("方磊", "/results")


def options_on_emulator(
    emulator: WeComEmulator,
    corp_secret: str,
    token: str,
    aes_key: str,
    virtual: VirtualTime,
    **extra: Any,
) -> WeComOptions:
    """WeCom settings for a Runtime on ``emulator``: its corp and API, a callback server on a free
    port, and send limits on the virtual time the emulator counts them in."""
    return WeComOptions(
        corp_id=emulator.corp_id,
        agent_id=emulator.agent_id,
        secret=corp_secret,
        token=token,
        aes_key=aes_key,
        api_base_url=emulator.base_url,
        listen_port=0,
        rate_clock=virtual,
        rate_sleep=virtual.sleep,
        **extra,
    )


async def run_wecom_demo(*, quiet: bool = False) -> int:
    started = time.perf_counter()
    virtual = VirtualTime()
    robot = RobotEmulator(bot_id=ROBOT_ID, secret=ROBOT_SECRET)
    await robot.start()
    with tempfile.TemporaryDirectory(prefix="huiwu-wecom-demo-") as folder:
        emulator = WeComEmulator(
            corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID, clock=virtual
        )
        async with emulator:
            for name, userid in USERIDS.items():
                emulator.add_user(userid, name)
            clock = ManualClock(datetime.fromisoformat("2013-12-02T10:00+08:00"))
            robot.clock = lambda: clock.now().timestamp()
            robot_options = RobotOptions(
                bot_id=ROBOT_ID, secret=ROBOT_SECRET, gateway_url=robot.ws_url
            )
            runtime = Runtime(
                str(Path(folder) / "demo.sqlite3"),
                clock,
                wecom=options_on_emulator(
                    emulator, CORP_SECRET, CALLBACK_TOKEN, AES_KEY, virtual, robot=robot_options
                ),
            )
            await runtime.start()
            await asyncio.wait_for(robot.subscribed.wait(), 10)
            assert runtime.wecom_server is not None
            callbacks = WeComCallbackClient(
                runtime.wecom_server.url, CALLBACK_TOKEN, AES_KEY, CORP_ID, AGENT_ID
            )
            try:
                demo = await _set_up(runtime, clock, callbacks, emulator, robot)
                await tell(demo)
            finally:
                await callbacks.close()
                await runtime.stop()
                await robot.stop()
            elapsed = time.perf_counter() - started
            if not quiet:
                _print_transcripts(emulator, demo)
            stats = emulator.stats
            print(
                f"\n== {len(demo.timeline)} steps, simulated 2013-12-02 → 2014-07-21, wall time {elapsed:.1f} s"
            )
            print(
                f"== WeCom messages delivered: {stats.delivered}; dropped over WeCom's limits: "
                f"{stats.dropped_over_limit}; send-limit waits: {virtual.slept:.0f} virtual s"
            )
            print(
                f"== Robot: {robot.stats.responses} answers through response_url, "
                f"{robot.stats.pushes} active pushes; subscriptions: {robot.stats.subscriptions}"
            )
    return 0


async def _set_up(
    runtime: Runtime,
    clock: ManualClock,
    callbacks: WeComCallbackClient,
    emulator: WeComEmulator,
    robot: RobotEmulator,
) -> WeComDemo:
    app = runtime.app
    text = with_city_leader_on_wecom(seed_plan_text())
    async with app.db.transaction() as conn:
        instance_id = await store_plan(
            conn, load_plan_text(text), text, loaded_by="demo", now=clock.now()
        )
    assert runtime.wecom_client is not None
    bound = await create_or_bind_chat(app.db, runtime.wecom_client, clock, instance_id=instance_id)
    demo = WeComDemo(runtime, clock, bound.chatid, emulator, callbacks, robot)
    for name, userid in USERIDS.items():
        demo.add_member(name, userid)
    demo.timeline.append(
        "2013-12-02 10:00  方磊 loads the plan (huiwu plan load) and creates the group chat "
        "(huiwu wecom create-chat)"
    )
    return demo


def _print_transcripts(emulator: WeComEmulator, demo: WeComDemo) -> None:
    print("== Timeline (simulated clock)")
    for line in demo.timeline:
        print("   " + line)
    chat = emulator.chats[demo.chatid]
    print(f"\n== Group chat: {chat.name} ({demo.chatid})")
    for message in emulator.chat_messages(demo.chatid):
        print(_indented("bot", card_text(message)))
    demo._sync_group()
    print(f"\n== The office's own group with the robot ({ROBOT_GROUP}): @-mentions answered")
    for who, text in demo.group_log:
        print(_indented(who, text))
    for person in demo.members.values():
        person.sync_log()
        print(f"\n== App chat with {person.name} ({person.userid})")
        for direction, text in person.log:
            print(_indented("bot" if direction == "in" else person.name, text))


def _indented(who: str, text: str) -> str:
    lines = text.splitlines() or [""]
    return "\n".join([f"  {who}: {lines[0]}", *(f"       {line}" for line in lines[1:])])
