"""``huiwu demo``: the seed plan from first push to last summary, on the built-in Telegram
emulator, with simulated members and a clock that jumps from step to step.

Nothing leaves the machine: the emulator listens on 127.0.0.1 and python-telegram-bot
talks real HTTP to it. The story: the organizer loads the plan and binds the group, the
members open the bot by invite (one late, and shown as unreachable until then), tasks are
pushed, handed in as text and files, one late, one returned by the reviewer and handed in
again; every phase ends with its summary in the group. The meeting itself: a call for
opinions (a department's staff member writes anonymously through its link), heart-to-heart
talks confirmed by both sides, the chair running the agenda in the group with the on-site
anonymous evaluation, and the satisfaction survey failing its 80% in round 1, so the
meeting is reconvened, the team plan revised, and round 2 passes and completes the plan.
The clock runs through every due time, so the plan's reminders go out as they would: days
before each deadline, on the due day (a Sunday deadline is announced on the Friday: the plan
uses the Chinese working-day calendar), daily when overdue, escalated to the organizer after
two days; a member looks at /reminders, and the organizer pauses one on leave and resumes.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

from bot import scheduler
from bot.clock import ManualClock
from bot.emulators.telegram_api import TelegramEmulator
from bot.emulators.telegram_people import SimulatedPerson, contains
from bot.emulators.telegram_transcript import TranscriptEntry
from bot.emulators.virtual_time import VirtualTime
from bot.i18n import _, use_locale
from bot.loading import store_plan
from bot.plan import load_plan_text
from bot.runtime import Runtime, TelegramOptions
from storage import instances
from storage.timefmt import to_db

TOKEN = "123456:HUIWU-DEMO"
SHANGHAI = ZoneInfo("Asia/Shanghai")
STUDY_NOTES = "12月5日组织党组中心组集中学习十八届三中全会精神，全体班子成员参加，交流发言6人次。"


def seed_plan_text() -> str:
    return (
        resources.files("bot")
        .joinpath("plans", "democratic-life-meeting.toml")
        .read_text(encoding="utf-8")
    )


class StoryClock:
    """What both demos share: the simulated clock run through every due time, and the
    timeline of the story with the reminders the engine sent on the way."""

    def __init__(self, runtime: Runtime, clock: ManualClock) -> None:
        self.runtime = runtime
        self.clock = clock
        self.timeline: list[str] = []

    async def at(self, moment: str, caption: str) -> None:
        """Run the clock to ``moment`` through every phase step and reminder on the way."""
        await scheduler.run_until(
            self.runtime.app, self.clock, datetime.fromisoformat(moment), self._note_reminders
        )
        self.timeline.append(f"{moment[:16].replace('T', ' ')}  {caption}")

    async def _note_reminders(self, now: datetime) -> None:
        """A timeline line for the reminders the engine sent at this step, if any."""
        rows = await self.runtime.app.db.fetch_all(
            "SELECT m.name, r.kind FROM reminder_log r JOIN members m ON m.id = r.member_id "
            "WHERE r.sent_at = ? ORDER BY r.planned_for, r.reminder_key",
            (to_db(now),),
        )
        if rows:
            said = ", ".join(f"{name} ({kind})" for name, kind in rows)
            local = now.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
            self.timeline.append(f"{local}  reminders: {said}")


class Demo(StoryClock):
    def __init__(
        self, emulator: TelegramEmulator, runtime: Runtime, clock: ManualClock, group: int
    ) -> None:
        super().__init__(runtime, clock)
        self.emulator = emulator
        self.group = group
        self.people: dict[str, SimulatedPerson] = {}

    async def vote(self, name: str, *choices: str) -> None:
        """Answer the newest ballot item by item and cast it."""
        await self.runtime.app.drain()
        person = self.people[name]
        for choice in choices:
            step = await person.press(choice, expect=_ballot_step)
        await person.press("cast:", within=contains(step.text))

    def group_command(self, name: str, command: str) -> None:
        """Send a command in the group without waiting: a group takes 19 messages a minute,
        so the bot's answers follow at that pace (``drain`` waits for them)."""
        self.emulator.send_text(self.people[name].user_id, command, chat_id=self.group)

    async def hand_in(
        self,
        name: str,
        task_title: str,
        *,
        text: str | None = None,
        file: tuple[str, bytes] | None = None,
    ) -> str:
        done = await hand_in(self.people[name], task_title, text=text, file=file)
        await self.runtime.app.drain()
        return done


async def hand_in(
    person: SimulatedPerson,
    task_title: str,
    *,
    text: str | None = None,
    file: tuple[str, bytes] | None = None,
) -> str:
    """A person hands in a task the way a member does: /submit, choose, send, confirm."""
    answer = await person.say("/submit")
    if any(label == task_title for row in answer.buttons for label, _data in row):
        await person.press(task_title)
    if text:
        await person.say(text)
    if file:
        await person.send_file(file[0], file[1])
    done = await person.press("draft:send", expect=contains(task_title))
    return done.text


async def run_demo(*, quiet: bool = False) -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="huiwu-demo-") as folder:
        # Telegram's flood limits are kept (and checked by the emulator) on virtual time.
        limits_time = VirtualTime()
        async with TelegramEmulator(clock=limits_time) as emulator:
            emulator.add_bot(TOKEN, username="huiwu_demo_bot")
            names = ["方磊", "唐军", "孟平", "党组书记", "市政府分管领导"]
            user_ids = {name: emulator.add_user(name) for name in names}
            group = emulator.add_group("民主生活会工作群", list(user_ids.values()))
            clock = ManualClock(datetime.fromisoformat("2013-12-02T10:00+08:00"))
            runtime = Runtime(
                str(Path(folder) / "demo.sqlite3"),
                clock,
                telegram=TelegramOptions(
                    TOKEN,
                    base_url=emulator.base_url,
                    base_file_url=emulator.base_file_url,
                    rate_clock=limits_time,
                    rate_sleep=limits_time.sleep,
                ),
            )
            await runtime.start()
            try:
                demo = Demo(emulator, runtime, clock, group)
                demo.people = {
                    name: SimulatedPerson(emulator, uid, name) for name, uid in user_ids.items()
                }
                await _story(demo)
            finally:
                await runtime.stop()
            elapsed = time.perf_counter() - started
            if not quiet:
                _print_transcripts(emulator, demo, group)
            stats = emulator.stats
            print(
                f"\n== {len(demo.timeline)} steps, simulated 2013-12-02 → 2014-07-21, wall time {elapsed:.1f} s"
            )
            print(
                f"== messages sent by the bot: {stats.messages_sent}; 429 answers: {stats.too_many_requests}"
            )
    return 0


async def _story(demo: Demo) -> None:
    app = demo.runtime.app
    people = demo.people
    text = seed_plan_text()
    plan = load_plan_text(text)
    async with app.db.transaction() as conn:
        instance_id = await store_plan(conn, plan, text, loaded_by="demo", now=demo.clock.now())
        organizer = await instances.member_by_key(app.db, instance_id, "fanglei")
        assert organizer is not None
        code = await instances.create_invite(conn, organizer.id, demo.clock.now())
    demo.timeline.append(
        "2013-12-02 10:00  方磊 loads the plan (huiwu plan load) and opens the bot"
    )
    await people["方磊"].say(f"/start {code}")
    await people["方磊"].say("/setup", group=demo.group)
    links = (await people["方磊"].say("/invites")).text
    codes = dict(re.findall(r"• (\S+): https://t\.me/\S+\?start=(\S+)", links))
    for name in ("唐军", "党组书记", "市政府分管领导"):
        await people[name].say(f"/start {codes[name]}")

    await demo.at("2013-12-03T09:00+08:00", "preparation phase starts: tasks pushed")
    await people["方磊"].say("/status", group=demo.group)
    await demo.at("2013-12-04T10:00+08:00", "孟平 opens the bot; his held task messages follow")
    await people["孟平"].say(f"/start {codes['孟平']}")
    await app.drain()
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
    await demo.at("2013-12-31T09:00+08:00", "the meeting: the chair runs the agenda in the group")
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
    await lead.press("review:ret:", within=contains("唐军"))
    await lead.say("整改措施不够具体，请补充完成时限和责任科室。", expect=contains("唐军"))
    for name in ("孟平", "方磊"):
        await lead.press("review:ok:", within=contains(name))
    await demo.hand_in(
        "唐军",
        "制定个人整改措施",
        text="唐军个人整改措施（修改稿）：每项措施已明确完成时限和责任科室。",
    )
    await lead.press("review:ok:", within=contains("唐军"))
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
    await app.drain()


GROUP_BACKLOG_SECONDS = 120.0  # the meeting's answers in the group, at 19 a minute
VOTERS = ("方磊", "唐军", "孟平", "党组书记", "市政府分管领导")
SATISFACTION_ROUND_1 = ("满意", "不满意", "基本满意", "不满意", "满意")  # 60%: fails
SATISFACTION_ROUND_2 = ("满意", "满意", "基本满意", "满意", "不满意")  # 80%: passes
EVALUATION_BALLOTS = {
    "方磊": "好好好",
    "唐军": "好较好好",
    "孟平": "较好较好一般",
    "党组书记": "好好较好",
}
TALK_PAIRS = (("唐军", "孟平"), ("党组书记", "方磊"), ("党组书记", "唐军"))
STAFF_OPINION = "建议唐军同志多到县区走一走，听听基层对项目审批的意见。"
TEAM_OPINION = "班子会议文风会风有改进，但发文数量仍然偏多。"


async def _opinions(demo: Demo) -> None:
    """The call for opinions: the organizer's link, a staff member (not on the roster)
    writing anonymously to one leader, a member writing to the whole team with his name."""
    people = demo.people
    await demo.at("2013-12-04T11:00+08:00", "方磊 opens the call for opinions until 12-10")
    answer = await people["方磊"].say("/opinions 2013-12-10", expect=contains("start=op-"))
    match = re.search(r"start=(op-[A-Za-z0-9_-]+)", answer.text)
    assert match is not None
    staff_id = demo.emulator.add_user("县发改局干部")
    staff = people["县发改局干部"] = SimulatedPerson(demo.emulator, staff_id, "县发改局干部")
    await staff.say(f"/start {match[1]}")
    await staff.press("op:new")
    await staff.press("唐军")
    await staff.say(STAFF_OPINION)
    await staff.press("op:send:anon")
    meng = people["孟平"]
    await meng.say("/opinion")
    await meng.press("op:to:", within=contains("领导班子专题民主生活会"))
    await meng.say(TEAM_OPINION)
    await meng.press("op:send:named")
    await demo.runtime.app.drain()


async def _talks(demo: Demo) -> None:
    people = demo.people
    for recorder, partner in TALK_PAIRS:
        await people[recorder].say("/talk")
        await people[recorder].press(partner)
        request = await people[partner].expect(_talk_request(recorder), since=0)
        await people[partner].press("talk:ok:", within=contains(request.text))
    await demo.runtime.app.drain()
    await people["方磊"].say("/talks")


def _ballot_step(entry: TranscriptEntry) -> bool:
    """The bot's next ballot prompt: an item's choices or the Cast button."""
    return any(
        (data or "").startswith(("vote:", "cast:")) for row in entry.buttons for _l, data in row
    )


def _talk_request(recorder: str) -> Callable[[TranscriptEntry], bool]:
    def matches(entry: TranscriptEntry) -> bool:
        data = [d or "" for row in entry.buttons for _label, d in row]
        return recorder in entry.text and any(d.startswith("talk:ok:") for d in data)

    return matches


async def _meeting(demo: Demo) -> None:
    """/meeting, /next through the agenda (speaker by speaker on mutual criticism), the
    on-site evaluation on item 6 with results when the chair moves on."""
    demo.group_command("党组书记", "/meeting")
    for _step in range(4 + 3):  # items 2-5, then the three speakers after the chair
        demo.group_command("党组书记", "/next")
    mark = len(demo.emulator.transcript(demo.group))
    demo.group_command("党组书记", "/next")  # item 6: the evaluation opens
    await demo.emulator.wait_for_bot_message(
        demo.group, contains("民主生活会现场民主测评"), timeout=GROUP_BACKLOG_SECONDS, since=mark
    )
    await demo.runtime.app.drain()
    for name, answers in EVALUATION_BALLOTS.items():
        await demo.vote(name, *evaluation_choices(answers))
    demo.group_command("党组书记", "/next")  # item 7: the evaluation closes, results
    mark = len(demo.emulator.transcript(demo.group))
    for _step in range(3):
        demo.group_command("党组书记", "/next")
    with use_locale("zh_CN"):
        closed = _("The agenda is complete: the meeting is closed.")
    await demo.emulator.wait_for_bot_message(
        demo.group, contains(closed), timeout=GROUP_BACKLOG_SECONDS, since=mark
    )
    await demo.runtime.app.drain(GROUP_BACKLOG_SECONDS)


def evaluation_choices(answers: str) -> list[str]:
    return re.findall("较好|好|一般|差", answers)


def _print_transcripts(emulator: TelegramEmulator, demo: Demo, group: int) -> None:
    print("== Timeline (simulated clock)")
    for line in demo.timeline:
        print("   " + line)
    print("\n== Group chat: 民主生活会工作群")
    print(emulator.render_transcript(group, with_time=False))
    for name, person in demo.people.items():
        print(f"\n== Private chat with {name}")
        print(emulator.render_transcript(person.user_id, with_time=False))
