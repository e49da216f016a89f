"""Reminders end to end on the Telegram emulator: the seed plan's schedule on a ManualClock
stepped through every due time, the calendar rule, pauses, a returned submission, /reminders,
quiet hours in another timezone.

Each person's private chat is read as a diary of (local time, what): pushes, reminders with
what they say about the deadline, escalations with what they list.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from tests.e2e.conftest import NAMES, World, WorldFactory, zh

SHANGHAI = ZoneInfo("Asia/Shanghai")
Diary = dict[str, list[tuple[str, str]]]


def what(text: str) -> list[str]:
    """Pushes, reminders and escalations in a few words each (a digest holds several)."""
    first = text.splitlines()[0]
    push = re.fullmatch(zh("New task: {title}", title="(.+)"), first)
    if push:
        return [f"push {push[1]}"]
    if first.startswith("督办："):
        items = [
            re.sub(r"（截止.*）：", "：", line.removeprefix("• "))
            for line in text.splitlines()[1:-1]
        ]
        return ["escalation " + "; ".join(items)]
    found = []
    for paragraph in text.split("\n\n"):
        reminder = re.match(r"^(提醒|逾期提醒)：“(.+?)”.*（(.+?)）", paragraph)
        if reminder:
            moved = " (moved)" if "不是工作日" in paragraph else ""
            found.append(f"{reminder[2]} {reminder[3]}{moved}")
    return found


def diary_keeper(
    world: World, zone: ZoneInfo = SHANGHAI, read: Callable[[str], list[str]] = what
) -> tuple[Diary, Callable[[datetime], Awaitable[None]]]:
    """A diary per person, and the step callback that fills it with what ``read`` finds in
    what arrived."""
    diary: Diary = {name: [] for name in NAMES}
    seen = {name: len(world.emulator.bot_messages(world.user_ids[name])) for name in NAMES}

    async def record(now: datetime) -> None:
        when = now.astimezone(zone).strftime("%m-%d %H:%M")
        for name in NAMES:
            messages = world.emulator.bot_messages(world.user_ids[name])
            for entry in messages[seen[name] :]:
                diary[name].extend((when, said) for said in read(entry.text))
            seen[name] = len(messages)

    return diary, record


async def test_the_seed_plan_reminds_each_member_exactly_on_schedule(world: World) -> None:
    await world.bind("唐军", "孟平", "党组书记")
    diary, record = diary_keeper(world)
    await world.travel("2013-12-05T16:00+08:00", record)
    await world.hand_in("方磊", "组织学习", text="学习记录")
    await world.travel("2013-12-12T10:00+08:00", record)
    await world.hand_in("唐军", "交流谈心", text="谈心记录")
    await world.travel("2013-12-13T10:00+08:00", record)
    await world.hand_in("方磊", "征求意见", text="意见汇总")
    await world.travel("2013-12-16T15:00+08:00", record)
    await world.hand_in("方磊", "向上级报送民主生活会方案", file=("方案.pdf", b"%PDF-1.4"))
    await world.travel("2013-12-19T20:00+08:00", record)
    for name in ("方磊", "唐军", "党组书记"):
        await world.hand_in(name, "撰写剖析材料", text=f"{name}对照检查材料")
    await world.travel("2013-12-21T10:00+08:00", record)
    await world.hand_in("孟平", "撰写剖析材料", text="孟平对照检查材料")
    await world.travel("2013-12-21T12:00+08:00", record)

    left3, left2, left1 = (zh("{days} day left", days=d) for d in (3, 2, 1))
    today = zh("due today")

    def late(days: int) -> str:
        return zh("overdue by {days} day", days=days)

    assert diary["方磊"] == [
        ("12-03 09:00", "push 组织学习"),
        ("12-03 09:00", "push 征求意见"),
        ("12-03 09:00", "push 向上级报送民主生活会方案"),
        ("12-03 09:00", "push 撰写剖析材料"),
        ("12-05 09:00", f"组织学习 {left1}"),
        ("12-06 09:00", f"征求意见 {zh('{days} day left', days=4)}"),
        ("12-09 09:00", f"征求意见 {left1}"),
        ("12-10 09:00", f"征求意见 {today}"),
        ("12-11 09:00", f"征求意见 {late(1)}"),
        ("12-12 09:00", f"征求意见 {late(2)}"),
        ("12-13 09:00", f"征求意见 {late(3)}"),
        ("12-13 09:00", f"向上级报送民主生活会方案 {left3}"),
        ("12-16 09:00", f"向上级报送民主生活会方案 {today}"),
        ("12-17 09:00", f"撰写剖析材料 {left3}"),
        ("12-17 09:00", "escalation 交流谈心：孟平"),
        ("12-19 09:00", f"撰写剖析材料 {left1}"),
    ]
    assert diary["唐军"] == [
        ("12-03 09:00", "push 交流谈心"),
        ("12-03 09:00", "push 撰写剖析材料"),
        ("12-12 09:00", f"交流谈心 {left3}"),
        ("12-17 09:00", f"撰写剖析材料 {left3}"),
        ("12-19 09:00", f"撰写剖析材料 {left1}"),
    ]
    # 交流谈心 is due on Sunday 12-15: its due-day reminder comes on Friday and says why.
    # The plan's calendar is "cn": no reminder at all on a weekend (Saturdays 12-07, 12-14,
    # 12-21, Sunday 12-15): "3 days before" Tuesday 12-10 comes on Friday 12-06.
    assert diary["孟平"] == [
        ("12-03 09:00", "push 交流谈心"),
        ("12-03 09:00", "push 撰写剖析材料"),
        ("12-12 09:00", f"交流谈心 {left3}"),
        ("12-13 09:00", f"交流谈心 {left2} (moved)"),
        ("12-16 09:00", f"交流谈心 {late(1)}"),
        ("12-17 09:00", f"交流谈心 {late(2)}"),
        ("12-17 09:00", f"撰写剖析材料 {left3}"),
        ("12-18 09:00", f"交流谈心 {late(3)}"),
        ("12-19 09:00", f"交流谈心 {late(4)}"),
        ("12-19 09:00", f"撰写剖析材料 {left1}"),
        ("12-20 09:00", f"交流谈心 {late(5)}"),
        ("12-20 09:00", f"撰写剖析材料 {today}"),
    ]
    # 方磊 is the organizer: his own lateness goes to the plan's lead, not to himself.
    assert diary["党组书记"] == [
        ("12-03 09:00", "push 撰写剖析材料"),
        ("12-12 09:00", "escalation 征求意见：方磊"),
        ("12-17 09:00", f"撰写剖析材料 {left3}"),
        ("12-19 09:00", f"撰写剖析材料 {left1}"),
    ]
    assert diary["市政府分管领导"] == []
    # The lead cannot use /remind, so his escalation does not offer it; the organizer's does.
    [lead_escalation] = escalations(world, "党组书记")
    assert lead_escalation.splitlines()[-1] == zh("/status shows the whole plan.")
    [organizer_escalation] = escalations(world, "方磊")
    assert organizer_escalation.splitlines()[-1] == zh(
        "/status shows the whole plan; /remind nudges them now."
    )
    # Every reminder is in the log once; a second pass at the same instant adds nothing.
    rows = await world.rows("SELECT COUNT(*) FROM reminder_log")
    before = rows[0][0]
    await world.at("2013-12-21T12:00+08:00")
    assert (await world.rows("SELECT COUNT(*) FROM reminder_log"))[0][0] == before


def escalations(world: World, name: str) -> list[str]:
    return [e.text for e in world.people[name].inbox() if e.text.startswith("督办：")]


def only(diary: list[tuple[str, str]], title: str) -> list[tuple[str, str]]:
    return [(when, said) for when, said in diary if title in said]


async def test_pause_and_resume_for_a_member_and_for_a_task(world: World) -> None:
    await world.bind("唐军", "孟平")
    fang, meng = world.people["方磊"], world.people["孟平"]
    diary, record = diary_keeper(world)
    await world.travel("2013-12-11T10:00+08:00", record)

    refused = await meng.say("/pause 唐军")
    assert refused.text == zh("Only the plan's organizer can use /{name}.", name="pause")
    unknown = await fang.say("/pause 张三")
    assert "张三" in unknown.text and "fanglei" not in unknown.text
    answer = await fang.say("/pause 孟平")
    assert answer.text == zh(
        "Reminders for “{what}” are paused. /resume {what} resumes them.", what="孟平"
    )
    again = await fang.say("暂停提醒 孟平")  # the keyword with an argument, as WeCom users type it
    assert again.text == zh("Reminders for “{what}” were paused already.", what="孟平")
    paused_view = await meng.say("/reminders")
    assert "孟平" in paused_view.text and paused_view.text == zh(
        "{name}, your reminders in “{plan}” are paused; the organizer resumes them.",
        name="孟平",
        plan="领导班子专题民主生活会",
    )
    listing = await fang.say("/pause")
    assert zh("Paused now: {what}.", what="孟平") in listing.text

    await world.travel("2013-12-14T10:00+08:00", record)
    assert only(diary["孟平"], "交流谈心") == [("12-03 09:00", "push 交流谈心")]
    assert [w for w, _s in only(diary["唐军"], "交流谈心")] == [
        "12-03 09:00",
        "12-12 09:00",
        "12-13 09:00",
    ]

    resumed = await fang.say("恢复提醒 孟平")
    assert resumed.text == zh(
        "Reminders for “{what}” are resumed; those that fell due meanwhile are not sent.",
        what="孟平",
    )
    coming = await meng.say("/reminders")
    lines = coming.text.splitlines()
    assert lines[0] == zh("Reminders coming for you in “{plan}”:", plan="领导班子专题民主生活会")
    # What fell due during the pause (12-13 09:00) is not sent; the next is 12-16 (a Monday;
    # nothing is sent on the weekend).
    assert lines[1].startswith("• 2013年12月16日 周一 09:00 — 交流谈心：")
    assert zh("overdue by {days} day", days=1) in lines[1]
    assert any(
        "撰写剖析材料" in line and zh("{days} day before the deadline", days=3) in line
        for line in lines
    )

    paused_task = await fang.say("/pause talks")
    assert paused_task.text == zh(
        "Reminders for “{what}” are paused. /resume {what} resumes them.", what="交流谈心"
    )
    await world.travel("2013-12-17T10:00+08:00", record)
    assert only(diary["孟平"], "交流谈心") == [("12-03 09:00", "push 交流谈心")]
    assert only(diary["唐军"], "交流谈心")[-1][0] == "12-13 09:00"
    # The other task is not held, and no escalation names a held task.
    assert only(diary["孟平"], "撰写剖析材料")[-1] == (
        "12-17 09:00",
        f"撰写剖析材料 {zh('{days} day left', days=3)}",
    )
    assert not [said for _w, said in diary["方磊"] if said.startswith("escalation")] or all(
        "交流谈心" not in said for _w, said in diary["方磊"] if said.startswith("escalation")
    )
    await fang.say("/resume talks")
    await world.travel("2013-12-18T10:00+08:00", record)
    assert only(diary["孟平"], "交流谈心")[-1] == (
        "12-18 09:00",
        f"交流谈心 {zh('overdue by {days} day', days=3)}",
    )
    assert only(diary["唐军"], "交流谈心")[-1][0] == "12-18 09:00"


async def test_a_returned_submission_re_arms_its_reminders(world: World) -> None:
    await world.bind("唐军", "党组书记")
    await world.at("2014-01-01T09:00+08:00")
    await world.at("2014-02-20T10:00+08:00")
    diary, record = diary_keeper(world)
    await world.hand_in("唐军", "制定个人整改措施", text="整改措施初稿")
    await world.travel("2014-02-26T10:00+08:00", record)
    title = "制定个人整改措施"
    assert only(diary["唐军"], title) == []  # handed in: nothing on 02-25
    lead = world.people["党组书记"]
    await lead.press("review:ret:", within=lambda e: "唐军" in e.text)
    await lead.say("请补充完成时限。")
    await world.travel("2014-02-28T12:00+08:00", record)
    # Returned on 02-26: nothing more that day (the comment said it), then back on schedule.
    assert only(diary["唐军"], title) == [
        ("02-27 09:00", f"{title} {zh('{days} day left', days=1)}"),
        ("02-28 09:00", f"{title} {zh('due today')}"),
    ]
    await world.hand_in("唐军", title, text="整改措施修改稿")
    await world.travel("2014-03-02T12:00+08:00", record)
    assert only(diary["唐军"], title)[-1][0] == "02-28 09:00"  # submitted again: quiet


async def test_what_falls_due_at_night_waits_for_the_end_of_the_quiet_hours(world: World) -> None:
    await world.bind("孟平")
    await world.at("2013-12-03T09:00+08:00")
    meng = world.people["孟平"]
    count = len(meng.inbox())
    # Down from 12-03 09:00 to 12-12 23:00: the 12-12 09:00 reminder is due but it is night.
    await world.at("2013-12-12T23:00+08:00")
    assert len(meng.inbox()) == count
    assert world.runtime.scheduler is not None
    await world.at("2013-12-13T07:59+08:00")
    assert len(meng.inbox()) == count
    await world.at("2013-12-13T08:00+08:00")
    new = [said for e in meng.inbox()[count:] for said in what(e.text)]
    # Only the latest missed one (of 12-12), and it counts the days from now.
    assert new == [f"交流谈心 {zh('{days} day left', days=2)}"]
    await world.at("2013-12-13T09:00+08:00")
    assert [said for e in meng.inbox()[count + 1 :] for said in what(e.text)] == [
        f"交流谈心 {zh('{days} day left', days=2)} (moved)"
    ]


def berlin_plan(text: str, _user_ids: dict[str, int]) -> str:
    text = text.replace('timezone = "Asia/Shanghai"', 'timezone = "Europe/Berlin"')
    return text.replace('time = "09:00"', 'time = "07:00"').replace(
        'calendar = "cn"', 'calendar = "none"'
    )


async def test_a_plan_in_berlin_reminds_at_the_end_of_its_own_quiet_hours(
    make_world: WorldFactory,
) -> None:
    world = await make_world(edit_plan=berlin_plan)
    await world.bind("孟平")
    berlin = ZoneInfo("Europe/Berlin")
    diary, record = diary_keeper(world, berlin)
    utc_diary, utc_record = diary_keeper(world, ZoneInfo("UTC"))

    async def both(now: datetime) -> None:
        await record(now)
        await utc_record(now)

    await world.travel("2013-12-16T12:00+01:00", both)
    left = zh("{days} day left", days=3)
    # 07:00 falls in the quiet hours (22:00–08:00 Berlin): each reminder waits until 08:00.
    assert only(diary["孟平"], "交流谈心") == [
        ("12-03 09:00", "push 交流谈心"),
        ("12-12 08:00", f"交流谈心 {left}"),
        ("12-14 08:00", f"交流谈心 {zh('{days} day left', days=1)}"),
        ("12-15 08:00", f"交流谈心 {zh('due today')}"),  # no working-day calendar: on the Sunday
        ("12-16 08:00", f"交流谈心 {zh('overdue by {days} day', days=1)}"),
    ]
    assert only(utc_diary["孟平"], "交流谈心")[1] == ("12-12 07:00", f"交流谈心 {left}")
