"""``huiwu demo --platform wecom``: the seed plan from first push to last summary on the
built-in WeCom emulator.

Nothing leaves the machine: the bot's callback server and the WeCom API emulator listen on
127.0.0.1; members send really signed and encrypted callbacks, and wechatpy talks real HTTP
to the emulator. The plan's group chat is created as ``huiwu wecom create-chat`` does; members
are known by their ``wecom_userid`` (no invites). WeCom's send limits (30 a minute per
member) are kept on a virtual clock shared with the emulator, so they cost no wall time.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
import time
from datetime import datetime
from pathlib import Path

from bot.clock import ManualClock
from bot.demo import (
    EVALUATION_BALLOTS,
    SATISFACTION_ROUND_1,
    SATISFACTION_ROUND_2,
    STAFF_OPINION,
    STUDY_NOTES,
    TALK_PAIRS,
    TEAM_OPINION,
    VOTERS,
    StoryClock,
    evaluation_choices,
    seed_plan_text,
)
from bot.emulators.wecom_api import WeComEmulator
from bot.emulators.wecom_callbacks import WeComCallbackClient
from bot.emulators.wecom_people import VirtualTime, WeComPerson, buttons_of, card_text
from bot.loading import store_plan
from bot.plan import load_plan_text
from bot.runtime import Runtime, WeComOptions
from bot.wecom_chat import create_or_bind_chat

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
STAFF_USERID, STAFF_NAME = "XianFaGaiJu", "县发改局干部"  # corp staff, not on the roster
CITY_LEADER_ENTRY = 'id = "city-leader"\nname = "市政府分管领导"\nroles = ["superior"]\n'


def with_city_leader_on_wecom(text: str) -> str:
    """The seed plan with a wecom_userid for the city leader (the seed has none), so that the
    review of the team plan can run on WeCom too."""
    if CITY_LEADER_ENTRY not in text:
        raise ValueError("the plan has no city-leader entry")
    userid = USERIDS["市政府分管领导"]
    return text.replace(CITY_LEADER_ENTRY, CITY_LEADER_ENTRY + f'wecom_userid = "{userid}"\n')


class WeComDemo(StoryClock):
    def __init__(
        self,
        runtime: Runtime,
        clock: ManualClock,
        chatid: str,
        emulator: WeComEmulator,
        callbacks: WeComCallbackClient,
    ) -> None:
        super().__init__(runtime, clock)
        self.chatid = chatid
        self.emulator = emulator
        self.callbacks = callbacks
        self.people: dict[str, WeComPerson] = {}

    async def settle(self) -> None:
        await self.runtime.join()

    async def at(self, moment: str, caption: str) -> None:
        await super().at(moment, caption)
        await self.settle()

    async def vote(self, name: str, *choices: str) -> None:
        """Answer the newest ballot card by card (its buttons) and cast it."""
        person = self.people[name]
        for choice in choices:
            await person.press("vote:", label=choice)
        await person.press("cast:")

    async def hand_in(
        self,
        name: str,
        task_title: str,
        *,
        text: str | None = None,
        file: tuple[str, bytes] | None = None,
    ) -> None:
        person = self.people[name]
        answer = await person.say("提交")
        if any(label == task_title for m in answer for label, _key in buttons_of(m)):
            await person.press("submit:", label=task_title)
        if text:
            await person.say(text)
        if file:
            await person.send_file(*file)
        await person.press("draft:send")


async def run_wecom_demo(*, quiet: bool = False) -> int:
    started = time.perf_counter()
    virtual = VirtualTime()
    with tempfile.TemporaryDirectory(prefix="huiwu-wecom-demo-") as folder:
        emulator = WeComEmulator(
            corp_id=CORP_ID, corp_secret=CORP_SECRET, agent_id=AGENT_ID, clock=virtual
        )
        async with emulator:
            for name, userid in USERIDS.items():
                emulator.add_user(userid, name)
            clock = ManualClock(datetime.fromisoformat("2013-12-02T10:00+08:00"))
            runtime = Runtime(
                str(Path(folder) / "demo.sqlite3"),
                clock,
                wecom=WeComOptions(
                    corp_id=CORP_ID,
                    agent_id=AGENT_ID,
                    secret=CORP_SECRET,
                    token=CALLBACK_TOKEN,
                    aes_key=AES_KEY,
                    api_base_url=emulator.base_url,
                    listen_port=0,
                    rate_clock=virtual,
                    rate_sleep=virtual.sleep,
                ),
            )
            await runtime.start()
            assert runtime.wecom_server is not None
            callbacks = WeComCallbackClient(
                runtime.wecom_server.url, CALLBACK_TOKEN, AES_KEY, CORP_ID, AGENT_ID
            )
            try:
                demo = await _set_up(runtime, clock, callbacks, emulator)
                await _story(demo)
            finally:
                await callbacks.close()
                await runtime.stop()
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
    return 0


async def _set_up(
    runtime: Runtime, clock: ManualClock, callbacks: WeComCallbackClient, emulator: WeComEmulator
) -> WeComDemo:
    app = runtime.app
    text = with_city_leader_on_wecom(seed_plan_text())
    async with app.db.transaction() as conn:
        instance_id = await store_plan(
            conn, load_plan_text(text), text, loaded_by="demo", now=clock.now()
        )
    assert runtime.wecom_client is not None
    bound = await create_or_bind_chat(app.db, runtime.wecom_client, clock, instance_id=instance_id)
    demo = WeComDemo(runtime, clock, bound.chatid, emulator, callbacks)
    demo.people = {
        name: WeComPerson(emulator, callbacks, userid, name, demo.settle)
        for name, userid in USERIDS.items()
    }
    demo.timeline.append(
        "2013-12-02 10:00  方磊 loads the plan (huiwu plan load) and creates the group chat "
        "(huiwu wecom create-chat)"
    )
    return demo


async def _story(demo: WeComDemo) -> None:
    people = demo.people
    await demo.at("2013-12-03T09:00+08:00", "preparation phase starts: tasks pushed as cards")
    await people["方磊"].click("status")
    await people["孟平"].say("我的任务")
    await people["孟平"].say("/reminders")
    await _opinions(demo)
    await demo.at("2013-12-05T16:00+08:00", "方磊 hands in the study record")
    await demo.hand_in(
        "方磊", "组织学习", text=STUDY_NOTES, file=("学习记录.docx", b"PK\x03\x04 study minutes")
    )
    await demo.at("2013-12-09T17:00+08:00", "方磊 hands in the opinions collected")
    await demo.hand_in(
        "方磊",
        "征求意见",
        text="共收集意见建议23条，已原汁原味反馈班子及本人。",
        file=("意见汇总.xlsx", b"PK\x03\x04 opinions"),
    )
    await demo.at(
        "2013-12-11T09:00+08:00", "the call for opinions closes: each gets theirs verbatim"
    )
    await demo.at(
        "2013-12-14T11:00+08:00", "heart-to-heart talks, each confirmed by the other side"
    )
    await _talks(demo)
    for name in ("唐军", "孟平"):
        await demo.hand_in(name, "交流谈心", text=f"{name}：已与各班子成员逐一谈心，共5次。")
    await demo.at("2013-12-16T15:00+08:00", "the plan goes to the superiors")
    await demo.hand_in(
        "方磊", "向上级报送民主生活会方案", file=("民主生活会方案.pdf", b"%PDF-1.4 plan")
    )
    await people["方磊"].say("暂停提醒 党组书记")
    demo.timeline.append("2013-12-16 15:00  党组书记 is away: 方磊 pauses his reminders")
    await demo.at("2013-12-18T10:00+08:00", "党组书记 is back: 方磊 resumes his reminders")
    await people["方磊"].say("/resume 党组书记")
    await demo.at("2013-12-19T20:00+08:00", "statements handed in")
    for name in ("方磊", "唐军", "党组书记"):
        await demo.hand_in(
            name, "撰写剖析材料", file=(f"{name}-对照检查材料.docx", b"PK\x03\x04 statement")
        )
    await demo.at("2013-12-20T18:00+08:00", "preparation phase ends: summary in the group")
    await demo.at("2013-12-21T10:00+08:00", "孟平 hands in his statement a day late")
    await demo.hand_in(
        "孟平", "撰写剖析材料", file=("孟平-对照检查材料.docx", b"PK\x03\x04 statement")
    )
    await demo.at(
        "2013-12-31T09:00+08:00",
        "the meeting: the chair follows the agenda in the app, the on-site evaluation by cards",
    )
    await _meeting(demo)
    await demo.at("2013-12-31T18:00+08:00", "meeting phase ends")
    await demo.at("2014-01-01T09:00+08:00", "rectification phase starts: tasks pushed")
    await demo.at("2014-01-10T10:00+08:00", "the meeting report goes up")
    await demo.hand_in(
        "方磊", "报送民主生活会情况报告", file=("民主生活会情况报告.docx", b"PK\x03\x04 report")
    )
    await demo.at("2014-02-20T10:00+08:00", "personal rectification measures; the lead returns one")
    for name in ("唐军", "孟平", "方磊", "党组书记"):
        await demo.hand_in(
            name,
            "制定个人整改措施",
            text=f"{name}个人整改措施：一、加强理论学习；二、改进调查研究；三、厉行勤俭节约。",
        )
    lead = people["党组书记"]
    await lead.press("review:ret:", within="唐军")
    await lead.say("整改措施不够具体，请补充完成时限和责任科室。")
    for name in ("孟平", "方磊"):
        await lead.press("review:ok:", within=name)
    await demo.hand_in(
        "唐军",
        "制定个人整改措施",
        text="唐军个人整改措施（修改稿）：每项措施已明确完成时限和责任科室。",
    )
    await lead.press("review:ok:", within="唐军")
    await demo.at("2014-02-25T10:00+08:00", "the team plan goes to the city leader")
    await demo.hand_in(
        "党组书记", "制定班子整改方案", file=("班子整改方案.docx", b"PK\x03\x04 team plan")
    )
    await people["市政府分管领导"].press("review:ok:")
    await demo.at("2014-04-28T10:00+08:00", "concentrated rectification reported")
    for name in ("方磊", "唐军", "孟平", "党组书记"):
        await demo.hand_in(name, "组织集中整改", text=f"{name}：整改事项已全部完成，台账已更新。")
    await demo.at("2014-06-20T10:00+08:00", "satisfaction survey, round 1")
    await people["方磊"].say("/survey open satisfaction 2014-06-25")
    for name, choice in zip(VOTERS, SATISFACTION_ROUND_1, strict=True):
        await demo.vote(name, choice)
    await demo.hand_in("方磊", "整改落实情况满意度测评")
    await demo.at("2014-06-25T23:59+08:00", "round 1 closes at 60% < 80%: round 2 is planned")
    await demo.at("2014-06-30T18:00+08:00", "rectification phase ends: summary")
    await demo.at("2014-07-01T09:00+08:00", "round 2 starts: the revised team plan is pushed")
    await demo.at("2014-07-07T09:00+08:00", "the reconvened meeting; the team plan is revised")
    await people["党组书记"].say("/agenda")
    await demo.hand_in(
        "党组书记",
        "制定班子整改方案（第2轮修改）",
        file=("班子整改方案（修改稿）.docx", b"PK\x03\x04 revised team plan"),
    )
    await people["市政府分管领导"].press("review:ok:")
    await demo.at("2014-07-15T09:00+08:00", "satisfaction survey, round 2")
    for name, choice in zip(VOTERS, SATISFACTION_ROUND_2, strict=True):
        await demo.vote(name, choice)
    await demo.at("2014-07-21T17:00+08:00", "round 2 closes at 80%: the plan is complete")


async def _opinions(demo: WeComDemo) -> None:
    """The call for opinions: no links on WeCom, so the organizer passes on a code; a corp
    staff member (not on the roster) sends it to the app and writes anonymously to one
    leader; a member writes to the whole team with his name."""
    people = demo.people
    await demo.at("2013-12-04T11:00+08:00", "方磊 opens the call for opinions until 12-10")
    answers = await people["方磊"].say("/opinions 2013-12-10")
    code = next(
        found[1]
        for message in answers
        if (found := re.search(r"/start (op-[A-Za-z0-9_-]+)", card_text(message)))
    )
    demo.emulator.add_user(STAFF_USERID, STAFF_NAME)
    staff = people[STAFF_NAME] = WeComPerson(
        demo.emulator, demo.callbacks, STAFF_USERID, STAFF_NAME, demo.settle
    )
    await staff.say(f"/start {code}")
    await staff.press("op:new")
    await staff.press("op:to:", label="唐军")
    await staff.say(STAFF_OPINION)
    await staff.press("op:send:anon")
    meng = people["孟平"]
    await meng.say("/opinion")
    await meng.press("op:to:", within="领导班子专题民主生活会")
    await meng.say(TEAM_OPINION)
    await meng.press("op:send:named")


async def _talks(demo: WeComDemo) -> None:
    people = demo.people
    for recorder, partner in TALK_PAIRS:
        await people[recorder].say("/talk")
        await people[recorder].press("", label=partner)
        await people[partner].press("talk:ok:", within=recorder)
    await people["方磊"].say("/talks")


async def _meeting(demo: WeComDemo) -> None:
    """WeCom does not pass group messages to apps, so the meeting is run from the app: the
    chair follows the agenda there, the organizer opens the on-site evaluation, members
    cast it with card buttons, and its results go to the group when it is closed."""
    people = demo.people
    await people["党组书记"].say("/agenda")
    await people["方磊"].say("/survey open evaluation")
    for name, answers in EVALUATION_BALLOTS.items():
        await demo.vote(name, *evaluation_choices(answers))
    await people["方磊"].say("/survey close evaluation")


def _print_transcripts(emulator: WeComEmulator, demo: WeComDemo) -> None:
    print("== Timeline (simulated clock)")
    for line in demo.timeline:
        print("   " + line)
    chat = emulator.chats[demo.chatid]
    print(f"\n== Group chat: {chat.name} ({demo.chatid})")
    for message in emulator.chat_messages(demo.chatid):
        print(_indented("bot", card_text(message)))
    for person in demo.people.values():
        person.sync_log()
        print(f"\n== App chat with {person.name} ({person.userid})")
        for direction, text in person.log:
            print(_indented("bot" if direction == "in" else person.name, text))


def _indented(who: str, text: str) -> str:
    lines = text.splitlines() or [""]
    return "\n".join([f"  {who}: {lines[0]}", *(f"       {line}" for line in lines[1:])])
