"""Messages that state who received what are computed from who was reached (issue 16): each
with a member who has not opened the bot. (The survey's "ballot sent to N of M voters" is
covered in test_meeting_flow.py, with three voters who never opened the bot.)"""

from __future__ import annotations

import re

from bot.sandbox.telegram.people import SimulatedPerson, contains
from tests.e2e.conftest import BOT_USERNAME, PLAN_TITLE, World, outgoing, zh

PREPARATION = "会前准备阶段"
REASON = zh("they have not opened the bot, or have blocked it")  # on Telegram


def group_texts(world: World, since: int) -> list[str]:
    return [e.text for e in outgoing(world.emulator.transcript(world.group)[since:])]


async def test_the_phase_start_names_who_has_not_received_their_tasks(world: World) -> None:
    await world.bind("唐军")  # 孟平 and 党组书记 never open the bot
    await world.at("2013-12-03T09:00+08:00")
    [started] = [t for t in group_texts(world, 0) if PREPARATION in t and "2013-12-03" in t]
    assert zh("Each person responsible has been sent their tasks in private chat:") not in started
    assert zh("The tasks and the people responsible:") in started
    assert started.endswith(
        zh(
            "Not reached yet ({reason}); their tasks reach them as soon as they can be: {names}",
            reason=REASON,
            names="孟平、党组书记",
        )
    )
    # What it promises is what happens: 孟平 gets his tasks when he opens the bot.
    await world.bind("孟平")
    await world.app.drain()
    assert any("交流谈心" in e.text for e in world.people["孟平"].inbox())


async def test_the_phase_start_says_everyone_has_their_tasks_only_when_true(world: World) -> None:
    await world.bind("唐军", "孟平", "党组书记")
    await world.at("2013-12-03T09:00+08:00")
    [started] = [t for t in group_texts(world, 0) if PREPARATION in t and "2013-12-03" in t]
    assert zh("Each person responsible has been sent their tasks in private chat:") in started
    assert zh("Not reached yet ({reason}): {names}", reason=REASON, names="") not in started


async def test_the_opinions_close_names_who_was_not_reached(world: World) -> None:
    fang = world.people["方磊"]
    answer = await fang.say("/opinions 2013-12-10", expect=contains(f"https://t.me/{BOT_USERNAME}"))
    code = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=(op-[A-Za-z0-9_-]+)", answer.text)
    assert code is not None
    staff = SimulatedPerson(world.emulator, world.emulator.add_user("干部"), "干部")
    await staff.say(f"/start {code[1]}", expect=contains(PLAN_TITLE))
    await staff.press("op:new")
    await staff.press("唐军")  # 唐军 has never opened the bot
    await staff.say("希望多下基层。")
    await staff.press("op:send:anon")
    mark = len(world.emulator.transcript(world.group))
    await world.at("2013-12-11T09:00+08:00")
    closing = zh(
        "The call for opinions has closed with {count} opinion(s); the members have been sent those addressed to them, word for word, in private chat.",
        count=1,
    )
    told = [t for t in group_texts(world, mark) if t.startswith(closing)]
    assert told == [
        closing + "\n" + zh("Not reached yet ({reason}): {names}", reason=REASON, names="唐军")
    ]


async def test_a_call_with_no_opinions_says_so(world: World) -> None:
    await world.people["方磊"].say("/opinions 2013-12-10", expect=contains("https://t.me/"))
    mark = len(world.emulator.transcript(world.group))
    await world.at("2013-12-11T09:00+08:00")
    closed = zh("The call for opinions has closed; no opinions were handed in.")
    assert closed in group_texts(world, mark)
