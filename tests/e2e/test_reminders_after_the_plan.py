"""Reminders once the plan's phases are over, end to end on the Telegram emulator: an open
rectification item due months after the last phase is reminded and escalated on schedule
until it is done, also after the plan is finished; a done item is not; plain tasks are
reminded while the plan runs (past its last phase), not once it is finished."""

from __future__ import annotations

import re
from datetime import date

from bot.sandbox.telegram.people import contains
from tests.e2e.conftest import World, zh
from tests.e2e.test_meeting_flow import VOTERS, vote
from tests.e2e.test_reminders import diary_keeper, what

TANG_ITEM = "建立领导干部基层联系点制度"
MENG_ITEM = "解决县区项目审批周期长的问题"
RECTIFY = "组织集中整改"  # a task of the last phase, due 2014-04-30
RECTIFY_DUE = date(2014, 4, 30)


def said(text: str) -> list[str]:
    """Task reminders and escalations as ``what`` reads them, and each rectification item's
    reminder as 'item N: what it says about the deadline'."""
    found = what(text)
    for paragraph in text.split("\n\n"):
        item = re.search(r"整改事项第(\d+)项“.+?”.*（(.+?)）", paragraph)
        if item and not paragraph.startswith("督办："):
            found.append(f"item {item[1]}: {item[2]}")
    return found


def items_only(diary: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(when, text) for when, text in diary if text.startswith("item ")]


def late(days: int) -> str:
    return zh("overdue by {days} day", days=days)


# Item 1 is due on Tuesday 2014-09-30, three months after the last phase ends (06-30 18:00).
# The plan's calendar is "cn": "3 days before" is Saturday 09-27 and comes on Friday 09-26;
# National Day (10-01..10-07) holds the overdue reminders and the escalation until 10-08.
ITEM_SCHEDULE = [
    ("09-26 09:00", f"item 1: {zh('{days} day left', days=4)}"),
    ("09-29 09:00", f"item 1: {zh('{days} day left', days=1)}"),
    ("09-30 09:00", f"item 1: {zh('due today')}"),
    ("10-08 09:00", f"item 1: {late(8)}"),
]
ITEM_ESCALATION = ("10-08 09:00", f"escalation 整改事项第1项 {TANG_ITEM}：唐军")
# Working days from the first reminder on: Sunday 09-28 is a make-up working day.
WORKING_DAYS = [date(2014, 9, day) for day in (26, 28, 29, 30)] + [date(2014, 10, 8)]


async def add_items(world: World) -> None:
    """Item 1 for 唐军 and item 2 for 孟平, both due 2014-09-30; 孟平 finishes his at once."""
    fang, meng = world.people["方磊"], world.people["孟平"]
    for number, (description, owner) in enumerate(((TANG_ITEM, "唐军"), (MENG_ITEM, "孟平")), 1):
        await fang.say(
            f"/additem {description} | 限期 | {owner} | 办公室 | 2014-09-30",
            expect=contains(zh("Saved as item #{id}.", id=number)),
        )
    await meng.expect(contains(MENG_ITEM), since=0)
    await meng.press("item:done:2", expect=contains(zh("done")))


async def test_an_open_item_due_after_the_last_phase_is_reminded_and_escalated_on_schedule(
    world: World,
) -> None:
    await world.bind("唐军", "孟平", "党组书记")
    await world.at("2014-06-25T10:00+08:00")  # the rectification phase, the plan's last
    await add_items(world)
    await world.at("2014-09-25T10:00+08:00")
    diary, record = diary_keeper(world, read=said)
    await world.travel("2014-10-08T12:00+08:00", record)

    assert items_only(diary["唐军"]) == ITEM_SCHEDULE
    assert items_only(diary["孟平"]) == []  # done: never reminded
    escalations = [entry for entry in diary["方磊"] if entry[1].startswith("escalation")]
    assert escalations == [ITEM_ESCALATION]  # once, to the organizer
    assert not [text for _when, text in diary["党组书记"] if "整改事项" in text]
    # The plan still runs (no survey has passed), so a plain task still owed is reminded too,
    # months after the last phase ended.
    assert [(when, text) for when, text in diary["孟平"] if RECTIFY in text] == [
        (f"{day:%m-%d} 09:00", f"{RECTIFY} {late((day - RECTIFY_DUE).days)}")
        for day in WORKING_DAYS
    ]
    # 唐军's item and task reminders of one morning came as one digest.
    digests = [e for e in world.people["唐军"].inbox() if TANG_ITEM in e.text and RECTIFY in e.text]
    assert len(digests) == len(ITEM_SCHEDULE)
    first_lines = [e.text.splitlines()[0] for e in digests]
    assert all(re.fullmatch(zh("{count} reminders:", count=r"\d+"), line) for line in first_lines)


async def test_after_the_plan_is_finished_items_are_still_reminded_and_tasks_are_not(
    world: World,
) -> None:
    await world.bind(*VOTERS[1:])
    fang = world.people["方磊"]
    await world.at("2014-06-20T10:00+08:00")
    await add_items(world)
    await fang.say("/survey open satisfaction", expect=contains("满意度测评", "1"))
    await world.app.drain()
    for name in VOTERS:
        await vote(world.people[name], "满意")
    await fang.say("/survey close satisfaction", expect=contains("100%"))
    [status] = await world.rows("SELECT status FROM plan_instances")
    assert status[0] == "finished"

    await world.at("2014-09-25T10:00+08:00")
    coming = await world.people["唐军"].say("/reminders")
    assert TANG_ITEM in coming.text and RECTIFY not in coming.text
    # /reminders shows the day the reminder is sent: the Friday, not Saturday 09-27.
    assert "2014年9月26日" in coming.text.splitlines()[1]
    diary, record = diary_keeper(world, read=said)
    await world.travel("2014-10-08T12:00+08:00", record)

    assert items_only(diary["唐军"]) == ITEM_SCHEDULE
    assert items_only(diary["孟平"]) == []
    assert [entry for entry in diary["方磊"] if entry[1].startswith("escalation")] == [
        ITEM_ESCALATION
    ]
    # Finished: the tasks still owed are no longer reminded of, to anybody.
    tasks = [(name, text) for name, lines in diary.items() for _w, text in lines]
    assert [entry for entry in tasks if not entry[1].startswith(("item ", "escalation"))] == []
    # Done now: the reminders stop.
    await world.people["唐军"].press("item:done:1", expect=contains(zh("done")))
    diary, record = diary_keeper(world, read=said)
    await world.travel("2014-10-15T12:00+08:00", record)
    assert all(lines == [] for lines in diary.values())
