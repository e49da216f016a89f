"""The story both demos tell (``huiwu demo`` on Telegram, ``--platform wecom`` on WeCom),
written once against a small platform-neutral interface: a ``DemoPerson`` says a text or
command, presses a button by label or key, sends a file and waits for a message with a
button; a ``DemoPlatform`` runs the clock, hands a task in, casts a ballot and holds the
meeting the way its platform allows (a group command on Telegram; WeCom does not pass group
messages to apps, so there the meeting is run from the app).
"""

from __future__ import annotations

import re
from datetime import datetime
from importlib import resources
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.core.clock import ManualClock
from bot.run import scheduler
from bot.run.runtime import Runtime
from storage.timefmt import to_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
STUDY_NOTES = "12月5日组织党组中心组集中学习十八届三中全会精神，全体班子成员参加，交流发言6人次。"
STAFF = "县发改局干部"  # corp staff, not on the roster, who sends an opinion
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


def seed_plan_text() -> str:
    return (
        resources.files("bot")
        .joinpath("plans", "democratic-life-meeting.toml")
        .read_text(encoding="utf-8")
    )


def evaluation_choices(answers: str) -> list[str]:
    return re.findall("较好|好|一般|差", answers)


class DemoPerson(Protocol):
    """One simulated user, on whichever platform."""

    async def say(self, text: str, *, expect: str | None = None) -> str:
        """Send a text or command in the private chat; the bot's answer (the first one
        containing ``expect``, if given)."""
        ...

    async def press(self, button: str, *, within: str | None = None) -> None:
        """Press the newest button labelled ``button`` or keyed ``button`` (by prefix if it
        ends in ":"), on a message containing ``within`` if given."""
        ...

    async def send_file(self, name: str, content: bytes) -> None: ...

    async def wait_for_button(self, button: str, *, within: str) -> None:
        """Wait until a message containing ``within`` with a ``button`` key has arrived."""
        ...


class DemoPlatform:
    """What the story needs of a platform. The clock and the timeline are shared: the
    clock runs through every due time, and the reminders sent on the way are noted."""

    meeting_caption = "the meeting"

    def __init__(self, runtime: Runtime, clock: ManualClock) -> None:
        self.runtime = runtime
        self.clock = clock
        self.people: dict[str, DemoPerson] = {}
        self.timeline: list[str] = []

    async def at(self, moment: str, caption: str) -> None:
        """Run the clock to ``moment`` through every phase step and reminder on the way."""
        await scheduler.run_until(
            self.runtime.app, self.clock, datetime.fromisoformat(moment), self._note_reminders
        )
        self.timeline.append(f"{moment[:16].replace('T', ' ')}  {caption}")
        await self.settle()

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

    async def settle(self) -> None:
        """Wait until what the bot has to send is sent."""
        await self.runtime.app.drain()

    async def hand_in(
        self,
        name: str,
        task_title: str,
        *,
        text: str | None = None,
        file: tuple[str, bytes] | None = None,
    ) -> None:
        raise NotImplementedError

    async def vote(self, name: str, *choices: str) -> None:
        """Answer the newest ballot item by item and cast it."""
        raise NotImplementedError

    async def first_days(self) -> None:
        """The organizer looks at the status; a member arrives (Telegram: by invite)."""
        raise NotImplementedError

    async def add_staff(self, name: str) -> DemoPerson:
        """A user of the platform who is not on the roster."""
        raise NotImplementedError

    async def meeting(self) -> None:
        """The agenda with the on-site anonymous evaluation."""
        raise NotImplementedError


async def tell(demo: DemoPlatform) -> None:
    """The seed plan from the first push to the last survey round."""
    people = demo.people
    await demo.at("2013-12-03T09:00+08:00", "preparation phase starts: tasks pushed")
    await demo.first_days()
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
    await demo.at("2013-12-31T09:00+08:00", demo.meeting_caption)
    await demo.meeting()
    await demo.at("2013-12-31T18:00+08:00", "meeting phase ends")
    await demo.at("2014-01-01T09:00+08:00", "rectification phase starts: tasks pushed")
    await demo.at("2014-01-10T10:00+08:00", "the meeting report goes up")
    await demo.hand_in(
        "方磊", "报送民主生活会情况报告", file=("民主生活会情况报告.docx", b"PK\x03\x04 report")
    )
    await _rectification_measures(demo)
    await demo.at("2014-02-25T10:00+08:00", "the team plan goes to the city leader")
    await demo.hand_in(
        "党组书记", "制定班子整改方案", file=("班子整改方案.docx", b"PK\x03\x04 team plan")
    )
    await people["市政府分管领导"].press("review:ok:")
    await demo.at("2014-04-28T10:00+08:00", "concentrated rectification reported")
    for name in ("方磊", "唐军", "孟平", "党组书记"):
        await demo.hand_in(name, "组织集中整改", text=f"{name}：整改事项已全部完成，台账已更新。")
    await _survey_rounds(demo)


async def _opinions(demo: DemoPlatform) -> None:
    """The call for opinions: the organizer's link (a code on WeCom), a staff member (not on
    the roster) writing anonymously to one leader, a member writing to the whole team with
    his name."""
    people = demo.people
    await demo.at("2013-12-04T11:00+08:00", "方磊 opens the call for opinions until 12-10")
    answer = await people["方磊"].say("/opinions 2013-12-10", expect="op-")
    match = re.search(r"start[= ](op-[A-Za-z0-9_-]+)", answer)
    assert match is not None
    staff = people[STAFF] = await demo.add_staff(STAFF)
    await staff.say(f"/start {match[1]}")
    await staff.press("op:new")
    await staff.press("唐军")
    await staff.say("建议唐军同志多到县区走一走，听听基层对项目审批的意见。")
    await staff.press("op:send:anon")
    meng = people["孟平"]
    await meng.say("/opinion")
    await meng.press("op:to:", within="领导班子专题民主生活会")
    await meng.say("班子会议文风会风有改进，但发文数量仍然偏多。")
    await meng.press("op:send:named")
    await demo.settle()


async def _talks(demo: DemoPlatform) -> None:
    people = demo.people
    for recorder, partner in TALK_PAIRS:
        await people[recorder].say("/talk")
        await people[recorder].press(partner)
        await people[partner].wait_for_button("talk:ok:", within=recorder)
        await people[partner].press("talk:ok:", within=recorder)
    await demo.settle()
    await people["方磊"].say("/talks")


async def _rectification_measures(demo: DemoPlatform) -> None:
    await demo.at("2014-02-20T10:00+08:00", "personal rectification measures; the lead returns one")
    for name in ("唐军", "孟平", "方磊", "党组书记"):
        await demo.hand_in(
            name,
            "制定个人整改措施",
            text=f"{name}个人整改措施：一、加强理论学习；二、改进调查研究；三、厉行勤俭节约。",
        )
    lead = demo.people["党组书记"]
    await lead.press("review:ret:", within="唐军")
    await lead.say("整改措施不够具体，请补充完成时限和责任科室。", expect="唐军")
    for name in ("孟平", "方磊"):
        await lead.press("review:ok:", within=name)
    await demo.hand_in(
        "唐军",
        "制定个人整改措施",
        text="唐军个人整改措施（修改稿）：每项措施已明确完成时限和责任科室。",
    )
    await lead.press("review:ok:", within="唐军")


async def _survey_rounds(demo: DemoPlatform) -> None:
    """Round 1 fails its 80%: the meeting is reconvened, the team plan revised, round 2 passes."""
    people = demo.people
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
    await demo.settle()
