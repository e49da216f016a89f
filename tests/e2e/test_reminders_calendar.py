"""The working-day calendar end to end for a plan in 2027, a year ``chinesecalendar`` does not
know: the seed plan moved to the Spring Festival, on the Telegram emulator and a ManualClock
stepped through every due time. With the plan's own holidays and make-up Sunday the due-day
reminder moves to the working day before the holiday and stays on the make-up Sunday;
without them the plan loads with a warning (also in the upload preview) and only weekends
are non-working days.
"""

from __future__ import annotations

import re
from datetime import date

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
    return zh("{days} day(s) left", days=days)


def late(days: int) -> str:
    return zh("overdue by {days} day(s)", days=days)


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
    # Due on a holiday: the due-day reminder comes on Thursday 02-04, the last working day
    # before the festival, and says why; overdue reminders run daily as before.
    assert only(diary, "交流谈心") == [
        ("01-28 09:00", "push 交流谈心"),
        ("02-04 09:00", f"交流谈心 {left(5)} (moved)"),
        ("02-06 09:00", f"交流谈心 {left(3)}"),
        ("02-08 09:00", f"交流谈心 {left(1)}"),
        *((f"02-{9 + n:02} 09:00", f"交流谈心 {late(n)}") for n in range(1, 7)),
    ]
    # Due on the make-up Sunday: a working day, so the reminder is on the day itself.
    assert only(diary, "撰写剖析材料") == [
        ("01-28 09:00", "push 撰写剖析材料"),
        ("02-11 09:00", f"撰写剖析材料 {left(3)}"),
        ("02-13 09:00", f"撰写剖析材料 {left(1)}"),
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
    # ... and a Sunday is not: the due-day reminder comes on Friday 02-12.
    assert only(diary, "撰写剖析材料") == [
        ("01-28 09:00", "push 撰写剖析材料"),
        ("02-11 09:00", f"撰写剖析材料 {left(3)}"),
        ("02-12 09:00", f"撰写剖析材料 {left(2)} (moved)"),
        ("02-13 09:00", f"撰写剖析材料 {left(1)}"),
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
