"""The meeting's features on WeCom, through the same platform-neutral handlers: a call for
opinions answered by corp staff who are not on the roster (no link on WeCom: a message with
the code), and the anonymous evaluation cast with template-card buttons."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.wecom.people import WeComPerson, buttons_of, card_text
from tests.e2e.conftest import zh
from tests.e2e.wecom_world import WeComWorld, WeComWorldFactory, wecom_worlds

EVALUATION = "民主生活会现场民主测评"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WeComWorld]:
    async for factory in wecom_worlds(tmp_path):
        yield await _world(factory)


def database_bytes(db_path: str) -> bytes:
    files = (Path(f"{db_path}{suffix}") for suffix in ("", "-wal"))
    return b"".join(path.read_bytes() for path in files if path.exists())


async def _world(factory: WeComWorldFactory) -> WeComWorld:
    return await factory()


async def test_staff_not_on_the_roster_send_an_opinion_on_wecom(world: WeComWorld) -> None:
    fang, tang = world.people["方磊"], world.people["唐军"]
    answers = await fang.say("/opinions 2013-12-10")
    invitation = next(card_text(m) for m in answers if "/start op-" in card_text(m))
    code = re.search(r"/start (op-[A-Za-z0-9_-]+)", invitation)
    assert code is not None
    world.emulator.add_user("XianFaGaiJu", "县发改局干部")
    staff = WeComPerson(
        world.emulator, world.callbacks, "XianFaGaiJu", "县发改局干部", world.settle
    )
    welcome = await staff.say(f"/start {code[1]}")
    assert [key for m in welcome for _label, key in buttons_of(m)] == ["op:new"]
    await staff.press("op:new")
    await staff.press("op:to:", label="唐军")
    opinion = "建议唐军同志减少会议，多到县区调研。"
    await staff.say(opinion)
    done = await staff.press("op:send:anon")
    assert zh(
        "Thank you. Your opinion was stored; it is passed on when the call closes ({when}).",
        when="",
    )[:6] in card_text(done[-1]).replace("\n", "")  # the card's heading, then its text
    [row] = await world.rows("SELECT sender_name, addressee_id FROM opinions")
    assert tuple(row) == (None, await world.member_id("唐军"))
    await world.restart()  # the journal closes: its erased fields leave the log too
    assert database_bytes(world.db_path).count(opinion.encode()) == 1  # the opinion alone
    await fang.say("/opinions close")
    assert any(opinion in text and zh("To you") in text for text in tang.texts())
    assert not any(opinion in text for text in world.people["孟平"].texts())


async def test_the_anonymous_evaluation_is_cast_with_card_buttons(world: WeComWorld) -> None:
    fang = world.people["方磊"]
    opened = "\n".join(card_text(m) for m in await fang.say("/survey open evaluation"))
    # Who was not reached, and why as true on WeCom: no account in the roster (not "the bot").
    assert (
        zh(
            "Not reached yet ({reason}): {names}",
            reason=zh(
                "the roster gives no WeCom account of theirs, or the app may not write to them"
            ),
            names="支部书记代表、市纪委参会领导、市委组织部参会领导",
        )
        in opened
    )
    ballots = {
        "方磊": ("好", "好", "较好"),
        "唐军": ("好", "一般", "好"),
        "孟平": ("差", "好", "好"),
    }
    for name, choices in ballots.items():
        person = world.people[name]
        first = next(
            m for m in reversed(person.inbox()) if EVALUATION in card_text(m) and buttons_of(m)
        )
        assert [label for label, _key in buttons_of(first)] == ["好", "较好", "一般", "差"]
        for choice in choices:
            await person.press("vote:", label=choice)
        cast = await person.press("cast:")
        assert card_text(cast[-1]) == zh(
            "Your ballot in “{title}” has been cast. Thank you.", title=EVALUATION
        )
        for message in person.inbox():  # nothing sent back repeats a choice
            assert "；".join(choices) not in card_text(message)
    # The callback journal keeps no press with its sender once handled, in the files either
    # (a restart closes the journal, which empties the write-ahead log at once).
    await world.restart()
    journal = await world.rows("SELECT dedupe_key, fields, handled_at FROM wecom_callbacks")
    assert journal and all(
        key.startswith("h:") and fields == "{}" and handled for key, fields, handled in journal
    )
    files = database_bytes(world.db_path)
    assert b"|vote:" not in files and b'"EventKey"' not in files
    closed = await fang.say("/survey close evaluation")
    text = card_text(closed[-1])
    assert (
        "1. 会前准备情况：好2票（66.7%） · 较好0票（0%） · 一般0票（0%） · 差1票（33.3%）" in text
    )
    assert any(EVALUATION in t and "66.7%" in t for t in world.group_texts())
    assert len(await world.rows("SELECT * FROM ballots")) == 3
    assert await world.rows("SELECT * FROM ballot_drafts") == []


async def test_the_chair_runs_the_agenda_from_the_app_and_the_group_follows(
    world: WeComWorld,
) -> None:
    """WeCom does not pass group messages to apps: /meeting and /next work in private, and
    what they announce goes to the group."""
    chair, tang = world.people["党组书记"], world.people["唐军"]
    refused = await tang.say("下一项")
    assert card_text(refused[-1]) == zh(
        "Only the meeting's chair or the plan's organizer can use /{name}.", name="next"
    )
    assert await world.rows("SELECT * FROM meeting_runs") == []

    answers = await chair.say("开会")
    opening = zh("The meeting “{title}” is open.", title="领导班子专题民主生活会")
    first_item = zh("Agenda item {number} of {total}: {title}", number=1, total=9, title="")
    assert opening in card_text(answers[-1])  # the chair sees what the group is told
    [announced] = [t for t in world.group_texts() if opening in t]
    assert first_item in announced

    await chair.say("/next")
    second_item = zh("Agenda item {number} of {total}: {title}", number=2, total=9, title="")
    assert any(t.startswith(second_item) for t in world.group_texts())
    [run] = await world.rows("SELECT item FROM meeting_runs")
    assert run[0] == 2
