"""The talks task (交流谈心) completes itself when the plan's last required pair is confirmed,
end to end on the Telegram emulator: the assignees' assignments are handed in (late after the
deadline), they are told once, /status, /mytasks and the phase summary show it done, and no
reminder about it goes out afterwards, also across a second confirmation and a restart.

The seed plan's talks task is assigned to 唐军 and 孟平; its six required pairs are every pair
of 方磊, 唐军, 孟平 and 党组书记.
"""

from __future__ import annotations

from bot.sandbox.telegram.transcript import TranscriptEntry
from tests.e2e.conftest import World, outgoing, zh
from tests.e2e.test_telegram_flow import task_blocks

EVERYONE = ("唐军", "孟平", "党组书记", "市政府分管领导")
ASSIGNEES = ("唐军", "孟平")
TANG_PAIRS = (("唐军", "孟平"), ("方磊", "唐军"), ("党组书记", "唐军"))
OTHER_PAIRS = (("孟平", "方磊"), ("党组书记", "孟平"))
LAST_PAIR = ("党组书记", "方磊")
TALKS_DONE = "All {total} required heart-to-heart talks are confirmed by both sides, so “{title}” is done: no more reminders about it."


async def hold_talk(world: World, recorder: str, partner: str) -> int:
    """``recorder`` records the talk with /talk, ``partner`` confirms it from the request."""
    await world.people[recorder].say("/talk")
    await world.people[recorder].press(partner)
    [(talk_id,)] = await world.rows("SELECT id FROM talks WHERE status = 'recorded'")
    await world.people[partner].expect(lambda e: has_button(e, f"talk:ok:{talk_id}"), since=0)
    await world.people[partner].press(f"talk:ok:{talk_id}")
    await world.app.drain()
    return int(talk_id)


def has_button(entry: TranscriptEntry, data: str) -> bool:
    """A button whose data is ``data`` (or starts with it, for ``data`` ending in ":")."""
    return any(
        d == data or (data.endswith(":") and (d or "").startswith(data))
        for row in entry.buttons
        for _label, d in row
    )


async def talks_statuses(world: World) -> dict[str, str]:
    rows = await world.rows(
        "SELECT m.name, a.status FROM assignments a JOIN members m ON m.id = a.member_id"
        " WHERE a.task_id = 'talks'"
    )
    return {row[0]: row[1] for row in rows}


async def talks_submissions(world: World) -> list[tuple[str, int, int, str | None]]:
    rows = await world.rows(
        "SELECT m.name, s.version, s.late, s.text FROM submissions s"
        " JOIN assignments a ON a.id = s.assignment_id JOIN members m ON m.id = a.member_id"
        " WHERE a.task_id = 'talks' ORDER BY m.name"
    )
    return [tuple(row) for row in rows]


def done_messages(world: World, name: str) -> list[TranscriptEntry]:
    text = zh(TALKS_DONE, total=6, title="交流谈心")
    return [e for e in world.people[name].inbox() if e.text == text]


async def talks_reminder_keys(world: World) -> set[str]:
    """Reminder keys about the talks task: its assignments' and the pairs'."""
    ids = [await world.assignment_id(name, "talks") for name in ASSIGNEES]
    rows = await world.rows("SELECT reminder_key FROM reminder_log")
    return {
        key
        for (key,) in rows
        if key.startswith("talk") or any(key.startswith(f"task:{i}:") for i in ids)
    }


async def test_the_last_confirmed_pair_hands_in_the_talks_task_and_its_reminders_stop(
    world: World,
) -> None:
    await world.bind(*EVERYONE)
    await world.at("2013-12-03T09:00+08:00")  # the preparation phase: 交流谈心 is assigned
    await world.at("2013-12-12T10:00+08:00")  # 3 days before it is due (12-15)
    tang = world.people["唐军"]
    tang_talks = await world.assignment_id("唐军", "talks")
    # Until now the task was reminded like any other (the control for "no more" below).
    assert any(has_button(e, f"submit:{tang_talks}") for e in tang.inbox())

    # All of 唐军's own pairs confirmed: the task is the plan's talks, so it is not done yet.
    for recorder, partner in TANG_PAIRS + OTHER_PAIRS:
        await hold_talk(world, recorder, partner)
    assert await talks_statuses(world) == {"唐军": "pending", "孟平": "pending"}
    assert await talks_submissions(world) == []
    assert done_messages(world, "唐军") == []

    marks = {name: len(world.people[name].inbox()) for name in ASSIGNEES}
    last = await hold_talk(world, *LAST_PAIR)
    assert await talks_statuses(world) == {"唐军": "submitted", "孟平": "submitted"}
    # Handed in as a hand-in marks it: one version each, on time, nothing written for them.
    assert await talks_submissions(world) == [("唐军", 1, 0, None), ("孟平", 1, 0, None)]
    for name in ASSIGNEES:
        new = world.people[name].inbox()[marks[name] :]
        [told] = [e for e in new if e.text == zh(TALKS_DONE, total=6, title="交流谈心")]
        assert told.buttons == []
    for name in ("方磊", "党组书记"):  # in the pairs, not assigned the task
        assert done_messages(world, name) == []

    # /mytasks shows it handed in, without a Submit button; /status shows the task complete.
    mine = await tang.say("/mytasks")
    handed_in = zh(
        "• {title} — {state}; due {due} ({left})",
        title="交流谈心",
        state=zh("submitted"),
        due="|",
        left="|",
    ).split("|")[0]
    assert any(row.startswith(handed_in) for row in mine.text.splitlines())
    assert not has_button(mine, f"submit:{tang_talks}")
    status = await world.people["方磊"].say("/status")
    [heading] = [row for row in status.text.splitlines() if row.startswith("交流谈心")]
    complete = zh("{title} — due {due} (complete)", title="交流谈心", due="|").split("|")[1]
    assert heading.endswith(complete)
    assert task_blocks(status.text)["交流谈心"] == {zh("submitted"): ["唐军", "孟平"]}

    # Confirming the last talk again (the request no longer has the button: on a device that
    # still shows it), and a restart, change nothing more.
    again = await world.people["方磊"].press(f"talk:ok:{last}", stale=True)
    assert again.text == zh("You have answered this already.")
    await world.restart()
    keys_before = await talks_reminder_keys(world)
    inbox_marks = {name: len(world.people[name].inbox()) for name in ASSIGNEES}
    await world.travel("2013-12-17T12:00+08:00")  # every due time on the way, past the deadline
    await world.app.drain()
    assert await talks_reminder_keys(world) == keys_before
    for name in ASSIGNEES:
        new = world.people[name].inbox()[inbox_marks[name] :]
        own = await world.assignment_id(name, "talks")
        assert not any(has_button(e, f"submit:{own}") for e in new), name
        assert not any(has_button(e, "talk:rec:") or has_button(e, "talk:ok:") for e in new)
        # Reminders still run: the statement (due 12-20) is reminded on 12-17.
        statement = await world.assignment_id(name, "statements")
        assert any(has_button(e, f"submit:{statement}") for e in new), name
        assert len(done_messages(world, name)) == 1
    assert await talks_statuses(world) == {"唐军": "submitted", "孟平": "submitted"}
    assert len(await talks_submissions(world)) == 2

    # The phase summary counts the task complete.
    since = len(world.emulator.transcript(world.group))
    await world.at("2013-12-20T18:00+08:00")
    [summary] = outgoing(world.emulator.transcript(world.group)[since:])
    assert task_blocks(summary.text)["交流谈心"] == {zh("submitted"): ["唐军", "孟平"]}


async def test_talks_confirmed_after_the_deadline_are_handed_in_late(world: World) -> None:
    await world.bind(*EVERYONE)
    await world.at("2013-12-03T09:00+08:00")
    for recorder, partner in TANG_PAIRS + OTHER_PAIRS:
        await hold_talk(world, recorder, partner)
    await world.at("2013-12-16T10:00+08:00")  # due 12-15 23:59: overdue reminders went out
    meng_talks = await world.assignment_id("孟平", "talks")
    overdue = zh(
        "Overdue: “{title}” was due {due} ({left}). Please hand it in as soon as you can.",
        title="交流谈心",
        due="|",
        left="|",
    ).split("|")[0]
    assert any(overdue in e.text for e in world.people["孟平"].inbox())

    await hold_talk(world, *LAST_PAIR)
    assert await talks_statuses(world) == {"唐军": "submitted", "孟平": "submitted"}
    assert await talks_submissions(world) == [("唐军", 1, 1, None), ("孟平", 1, 1, None)]
    assert len(done_messages(world, "孟平")) == 1
    status = await world.people["方磊"].say("/status")
    block = task_blocks(status.text)["交流谈心"]
    late = [zh("{name} (late)", name=name) for name in ("唐军", "孟平")]
    assert late in block.values()
    assert zh("overdue") not in block

    mark = len(world.people["孟平"].inbox())
    await world.travel("2013-12-19T12:00+08:00")  # daily overdue reminders would continue
    await world.app.drain()
    new = world.people["孟平"].inbox()[mark:]
    assert not any(has_button(e, f"submit:{meng_talks}") for e in new)
    assert not any(overdue in e.text for e in new)


async def test_talks_confirmed_before_their_phase_starts_are_done_when_it_starts(
    world: World,
) -> None:
    await world.bind(*EVERYONE)
    for recorder, partner in TANG_PAIRS + OTHER_PAIRS + (LAST_PAIR,):
        await hold_talk(world, recorder, partner)
    assert await talks_statuses(world) == {}  # nothing assigned before the phase
    await world.at("2013-12-03T09:00+08:00")
    assert await talks_statuses(world) == {"唐军": "submitted", "孟平": "submitted"}
    statement = await world.rows(
        "SELECT DISTINCT status FROM assignments WHERE task_id = 'statements'"
    )
    assert [row[0] for row in statement] == ["pending"]  # only the talks task is done
    for name in ASSIGNEES:
        inbox = world.people[name].inbox()
        [told] = [
            i for i, e in enumerate(inbox) if e.text == zh(TALKS_DONE, total=6, title="交流谈心")
        ]
        pushed = next(
            i
            for i, e in enumerate(inbox)
            if e.text.startswith(zh("New task: {title}", title="交流谈心"))
        )
        assert pushed < told, name  # given, then done
    keys_before = await talks_reminder_keys(world)
    await world.travel("2013-12-16T12:00+08:00")
    assert await talks_reminder_keys(world) == keys_before
