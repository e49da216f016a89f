"""The working-day calendar end to end for a plan in 2027, a year ``chinesecalendar`` does not
know: the seed plan moved to the Spring Festival, on the Telegram emulator and a ManualClock
stepped through every due time. With the plan's own holidays and make-up Sunday every reminder
day is a working day: the ones before the deadline move to the working day before the holiday,
the overdue ones to the days after it, and the make-up Sunday is a working day;
without them the plan loads with a warning (also in the upload preview) and only weekends
are non-working days. The same plan in Bavaria ("DE-BY", Europe/Berlin) runs across Easter and
the clock change: reminders stay at 09:00 local time on working days, and /reminders agrees.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.sandbox.demo.telegram import seed_plan_text
from tests.e2e.conftest import PlanEditor, World, WorldFactory, zh
from tests.e2e.test_plan_documents import send_document
from tests.e2e.test_reminders import diary_keeper, only

# 交流谈心, due Sunday 2013-12-15 in the seed, falls on Tuesday 2027-02-09 in the Spring
# Festival; 撰写剖析材料 (2013-12-20) on Sunday 2027-02-14, a make-up working day.
SHIFT = date(2027, 2, 9) - date(2013, 12, 15)
OWN_DAYS = 'calendar = "cn"\nholidays = ["2027-02-05..2027-02-11"]\nworkdays = ["2027-02-14"]'
UNKNOWN_2027 = (
    "{where}: the calendar '{calendar}' knows the years {first}–{last} only; in {years} only "
    "Saturdays and Sundays count as non-working days. List that year's public holidays and "
    "make-up working days in 'holidays' and 'workdays'"
)


def in_2027(text: str, _user_ids: dict[str, int] | None = None) -> str:
    """The seed plan with every date moved by ``SHIFT`` (phases, deadlines, the meeting)."""
    return re.sub(
        r"\d{4}-\d{2}-\d{2}",
        lambda found: (date.fromisoformat(found[0]) + SHIFT).isoformat(),
        text,
    )


def in_2027_with_own_days(text: str, user_ids: dict[str, int]) -> str:
    return in_2027(text).replace('calendar = "cn"', OWN_DAYS)


def left(days: int) -> str:
    return zh("{days} day left", days=days)


def late(days: int) -> str:
    return zh("overdue by {days} day", days=days)


async def meng_s_diary(make_world: WorldFactory, edit_plan: PlanEditor) -> list[tuple[str, str]]:
    """What 孟平 is sent of the 2027 plan from its start to Monday 02-15, by local time."""
    world = await make_world(edit_plan=edit_plan)
    await world.bind("孟平")
    diary, record = diary_keeper(world)
    await world.travel("2027-02-15T10:00+08:00", record)
    return diary["孟平"]


async def test_the_plan_s_spring_festival_moves_the_due_day_reminder_and_its_sunday_works(
    make_world: WorldFactory,
) -> None:
    diary = await meng_s_diary(make_world, in_2027_with_own_days)
    # Due on a holiday: every reminder of the festival's days comes on Thursday 02-04, the
    # last working day before it, once, as the due-day reminder that says why; overdue
    # reminders wait for the working days after it, make-up Sunday 02-14 included.
    assert only(diary, "交流谈心") == [
        ("01-28 09:00", "push 交流谈心"),
        ("02-04 09:00", f"交流谈心 {left(5)} (moved)"),
        ("02-12 09:00", f"交流谈心 {late(3)}"),
        ("02-14 09:00", f"交流谈心 {late(5)}"),
        ("02-15 09:00", f"交流谈心 {late(6)}"),
    ]
    # Due on the make-up Sunday: a working day, so the reminder is on the day itself; "3 days
    # before" falls in the festival and comes before it, "1 day before" (Saturday) on Friday.
    assert only(diary, "撰写剖析材料") == [
        ("01-28 09:00", "push 撰写剖析材料"),
        ("02-04 09:00", f"撰写剖析材料 {left(10)}"),
        ("02-12 09:00", f"撰写剖析材料 {left(2)}"),
        ("02-14 09:00", f"撰写剖析材料 {zh('due today')}"),
        ("02-15 09:00", f"撰写剖析材料 {late(1)}"),
    ]


async def test_without_its_own_days_a_2027_plan_takes_weekends_as_non_working_days(
    make_world: WorldFactory,
) -> None:
    diary = await meng_s_diary(make_world, in_2027)
    # A Tuesday is a working day (the package does not know this Spring Festival) ...
    assert (
        "02-09 09:00",
        f"交流谈心 {zh('due today')}",
    ) in diary
    assert not any("(moved)" in said for _when, said in only(diary, "交流谈心"))
    # ... and a Sunday is not: the due-day reminder comes on Friday 02-12, and nothing on
    # the Saturday ("1 day before" is the Friday's).
    assert only(diary, "撰写剖析材料") == [
        ("01-28 09:00", "push 撰写剖析材料"),
        ("02-11 09:00", f"撰写剖析材料 {left(3)}"),
        ("02-12 09:00", f"撰写剖析材料 {left(2)} (moved)"),
        ("02-15 09:00", f"撰写剖析材料 {late(1)}"),
    ]


async def test_the_upload_preview_warns_about_a_year_the_calendar_does_not_know(
    world: World,
) -> None:
    fang = world.people["方磊"]
    warning = zh(
        UNKNOWN_2027, where="[reminders]", calendar="cn", first=2004, last=2026, years=2027
    )
    answers = await send_document(
        fang, world, "2027.toml", in_2027(seed_plan_text()).encode(), "application/toml"
    )
    preview = "\n".join(entry.text for entry in answers)
    assert "• " + warning in preview.splitlines()
    assert answers[-1].buttons[0][0] == (zh("Load this plan"), "planload:ok")
    # With the year's own days there is nothing to warn about.
    own = in_2027_with_own_days(seed_plan_text(), world.user_ids)
    answers = await send_document(fang, world, "2027.toml", own.encode(), "application/toml")
    assert warning not in "\n".join(entry.text for entry in answers)
    assert answers[-1].buttons[0][0] == (zh("Load this plan"), "planload:ok")


# The seed plan in Bavaria in spring 2027: 交流谈心 (2013-12-15 in the seed) falls on Easter
# Monday 2027-03-29, the day after the clocks go forward; Good Friday 03-26 is a holiday too.
# 撰写剖析材料 (2013-12-20) falls on Saturday 04-03.
EASTER_SHIFT = date(2027, 3, 29) - date(2013, 12, 15)
BERLIN = ZoneInfo("Europe/Berlin")


def in_bavaria(text: str, _user_ids: dict[str, int] | None = None) -> str:
    moved = re.sub(
        r"\d{4}-\d{2}-\d{2}",
        lambda found: (date.fromisoformat(found[0]) + EASTER_SHIFT).isoformat(),
        text,
    )
    return moved.replace('timezone = "Asia/Shanghai"', 'timezone = "Europe/Berlin"').replace(
        'calendar = "cn"', 'calendar = "DE-BY"'
    )


async def test_a_plan_in_bavaria_across_easter_and_the_clock_change(
    make_world: WorldFactory,
) -> None:
    world = await make_world(edit_plan=in_bavaria)
    await world.bind("孟平")
    meng = world.people["孟平"]
    local_diary, record_local = diary_keeper(world, BERLIN)
    utc_diary, record_utc = diary_keeper(world, ZoneInfo("UTC"))

    async def record(now: datetime) -> None:
        await record_local(now)
        await record_utc(now)

    await world.travel("2027-03-22T10:00+01:00", record)
    # /reminders shows the days the reminders are sent: Thursday before Easter, then the
    # Tuesday after it, at 09:00 on the wall clock whether it is winter or summer time.
    coming = (await meng.say("/reminders")).text.splitlines()
    talks = [line for line in coming if "— 交流谈心：" in line]
    assert talks[0].startswith("• 2027年3月25日 周四 09:00 — 交流谈心：")
    assert talks[0].endswith(
        zh(
            "deadline reminder (the deadline, {day}, is not a working day)",
            day="2027年3月29日 周一",
        )
    )
    assert talks[1].startswith("• 2027年3月30日 周二 09:00 — 交流谈心：")
    sent_on = [line.split(" — ")[0] for line in coming[1:]]
    assert not any(day in when for when in sent_on for day in ("3月26日", "3月28日", "3月29日"))

    await world.travel("2027-04-06T10:00+02:00", record)
    # Due on Easter Monday: "3 days before" (Good Friday), "1 day before" (Sunday) and the
    # due day all come on Thursday 03-25, once; overdue reminders start on Tuesday 03-30.
    assert only(local_diary["孟平"], "交流谈心")[1:] == [
        ("03-25 09:00", f"交流谈心 {left(4)} (moved)"),
        ("03-30 09:00", f"交流谈心 {late(1)}"),
        ("03-31 09:00", f"交流谈心 {late(2)}"),
        ("04-01 09:00", f"交流谈心 {late(3)}"),
        ("04-02 09:00", f"交流谈心 {late(4)}"),
        ("04-05 09:00", f"交流谈心 {late(7)}"),
        ("04-06 09:00", f"交流谈心 {late(8)}"),
    ]
    # 09:00 in Berlin is 08:00 UTC before the change and 07:00 after it.
    utc_times = [when for when, _said in only(utc_diary["孟平"], "交流谈心")[1:3]]
    assert utc_times == ["03-25 08:00", "03-30 07:00"]
    # Due on a Saturday: the due-day reminder comes on Friday 04-02 (replacing "1 day
    # before"); nothing on the weekend; overdue from Monday 04-05.
    assert only(local_diary["孟平"], "撰写剖析材料")[-4:] == [
        ("03-31 09:00", f"撰写剖析材料 {left(3)}"),
        ("04-02 09:00", f"撰写剖析材料 {left(1)} (moved)"),
        ("04-05 09:00", f"撰写剖析材料 {late(2)}"),
        ("04-06 09:00", f"撰写剖析材料 {late(3)}"),
    ]
