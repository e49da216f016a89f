"""Nobody takes over a plan (issue 22, item 1): a plan sent in chat that names other people by
their accounts binds none of them until each accepts it, and nothing from it reaches them;
who may load plans in chat at all is a setting; a person on two plans chooses which one
their private commands act on. On the Telegram emulator, over real HTTP.
"""

from __future__ import annotations

import re

from bot.core.policy import PlanLoaders
from bot.sandbox.demo.telegram import seed_plan_text
from bot.sandbox.telegram.people import SimulatedPerson, contains
from tests.e2e.conftest import PLAN_TITLE, World, WorldFactory, en, outgoing, zh

PHISHING_TITLE = "紧急通知：请点击 http://example.invalid/pay 领取补贴"
PHISHING_TASK = "请将工资卡号发给财务处王老师"


def attackers_plan(attacker: int, victims: dict[str, int]) -> str:
    """The seed plan retitled, with the attacker as its organizer and the victims named by
    their Telegram ids (方磊, the real organizer, as a plain member)."""
    text = seed_plan_text().replace(f'title = "{PLAN_TITLE}"', f'title = "{PHISHING_TITLE}"', 1)
    text = text.replace('title = "组织学习"', f'title = "{PHISHING_TASK}"', 1)
    text = text.replace('roles = ["organizer", "member"]', 'roles = ["member"]', 1)
    for key, user_id in (("fanglei", victims["方磊"]), ("tangjun", victims["唐军"])):
        text = text.replace(f'id = "{key}"\n', f'id = "{key}"\ntelegram_id = {user_id}\n', 1)
    head, sep, tail = text.partition("\n[[roster]]")
    own = f'\n[[roster]]\nid = "attacker"\nname = "陈某"\nroles = ["organizer"]\ntelegram_id = {attacker}\n'
    return head + own + sep + tail


async def send_plan(world: World, person: SimulatedPerson, text: str) -> list[str]:
    since = len(world.emulator.transcript(person.user_id))
    await person.send_file("plan.toml", text.encode(), mime_type="application/toml")
    await world.app.drain()
    return [e.text for e in outgoing(world.emulator.transcript(person.user_id)[since:])]


def everything_sent_to(world: World, name: str) -> str:
    return "\n".join(e.text for e in outgoing(world.emulator.transcript(world.user_ids[name])))


async def victims_commands(world: World) -> None:
    """What the victims do next: open the bot, ask for the status, the plan, their tasks."""
    for name in ("方磊", "唐军"):
        person = world.people[name]
        await person.say("/start")
        await person.say("/status")
        await person.say("/plan")
        await person.say("/mytasks")
    await world.people["方磊"].say("/invites")
    await world.app.drain()


async def test_a_stranger_cannot_load_a_plan_that_takes_over_the_organizer(world: World) -> None:
    stranger = world.emulator.add_user("Chen", language_code="en")
    chen = SimulatedPerson(world.emulator, stranger, "Chen")
    plan = attackers_plan(stranger, world.user_ids)
    before = await world.rows("SELECT id FROM plan_instances")
    answers = await send_plan(world, chen, plan)
    # Strangers may not load plans in chat (the default setting): refused, nothing stored.
    assert answers == [
        en(
            "You cannot load a plan here: plans are loaded by the organizer of a plan already running, or by the operator (huiwu plan load)."
        )
    ], answers
    assert await world.rows("SELECT id FROM plan_instances") == before
    assert await world.rows("SELECT * FROM conversations") == []
    await victims_commands(world)
    for name in ("方磊", "唐军"):
        sent = everything_sent_to(world, name)
        assert PHISHING_TITLE not in sent and PHISHING_TASK not in sent, name
    status = await world.people["方磊"].say("/status")
    assert PLAN_TITLE in status.text


async def test_a_plain_member_cannot_load_a_plan_in_chat(world: World) -> None:
    tang = world.people["唐军"]
    await tang.say("/start")
    plan = attackers_plan(world.user_ids["唐军"], world.user_ids)
    answers = await send_plan(world, tang, plan)
    assert answers == [
        zh(
            "You cannot load a plan here: plans are loaded by the organizer of a plan already running, or by the operator (huiwu plan load)."
        )
    ]
    assert len(await world.rows("SELECT id FROM plan_instances")) == 1


async def test_a_plan_loaded_by_anyone_is_a_draft_that_binds_nobody_until_they_accept(
    make_world: WorldFactory,
) -> None:
    world = await make_world(plan_loaders=PlanLoaders.ANYONE)
    await world.bind("唐军")
    stranger = world.emulator.add_user("Chen", language_code="en")
    chen = SimulatedPerson(world.emulator, stranger, "Chen")
    answers = await send_plan(world, chen, attackers_plan(stranger, world.user_ids))
    assert answers[-1] and "planload:ok" in str(world.emulator.transcript(stranger)[-1].buttons)
    loaded = await chen.press("planload:ok", expect=contains(PHISHING_TITLE))
    # Named by Telegram id or WeCom account alike: every one of them is only offered.
    assert "Waiting for: 方磊, 唐军, 孟平, 党组书记." in loaded.text
    [number] = [
        row[0]
        for row in await world.rows(
            "SELECT id FROM plan_instances WHERE title = ?", (PHISHING_TITLE,)
        )
    ]
    # Nobody named by account is bound: the victims keep their one plan.
    bound = await world.rows(
        "SELECT i.user_id FROM identities i JOIN members m ON m.id = i.member_id WHERE m.instance_id = ?",
        (number,),
    )
    assert [row[0] for row in bound] == [str(stranger)]
    # The clock runs the attacker's plan: its tasks reach nobody but the attacker.
    await world.at("2013-12-03T09:10+08:00")
    await victims_commands(world)
    for name in ("方磊", "唐军"):
        sent = everything_sent_to(world, name)
        assert PHISHING_TITLE not in sent and PHISHING_TASK not in sent, name
    fang = world.people["方磊"]
    status = await fang.say("/status")
    assert PLAN_TITLE in status.text
    opinions = await fang.say("/opinions")
    assert PHISHING_TITLE not in opinions.text
    # The draft cannot be bound to a group.
    group = world.emulator.add_group(
        "工资群", [stranger, world.user_ids["方磊"], world.user_ids["唐军"]]
    )
    refused = await chen.say("/setup", group=group)
    assert PHISHING_TITLE not in refused.text and "方磊" in refused.text
    assert await world.rows("SELECT * FROM chat_bindings WHERE instance_id = ?", (number,)) == []

    # A victim who asks sees the offer and declines it: still nothing binds.
    tang = world.people["唐军"]
    listed = await tang.say("/plans")
    assert zh("Offered to you, not accepted:") in listed.text
    await tang.press(f"plans:no:{number}")
    assert (
        await world.rows(
            "SELECT * FROM plan_offers WHERE platform = 'telegram' AND user_id = ?",
            (str(world.user_ids["唐军"]),),
        )
        == []
    )
    assert (
        len(
            await world.rows(
                "SELECT m.id FROM members m JOIN identities i ON i.member_id = m.id WHERE i.user_id = ?",
                (str(world.user_ids["唐军"]),),
            )
        )
        == 1
    )


async def test_an_accepted_second_plan_is_chosen_per_private_command(
    make_world: WorldFactory,
) -> None:
    world = await make_world(plan_loaders=PlanLoaders.ANYONE)
    await world.bind("唐军")
    stranger = world.emulator.add_user("Chen", language_code="en")
    chen = SimulatedPerson(world.emulator, stranger, "Chen")
    await send_plan(world, chen, attackers_plan(stranger, world.user_ids))
    await chen.press("planload:ok", expect=contains(PHISHING_TITLE))
    [number] = [row[0] for row in await world.rows("SELECT max(id) FROM plan_instances")]
    tang = world.people["唐军"]
    await tang.say("/start")
    await tang.say("/plans")
    accepted = await tang.press(f"plans:yes:{number}")
    assert PHISHING_TITLE in accepted.text
    # Now on two plans: each answer names the plan it is about; /plans switches.
    status = await tang.say("/status")
    assert status.text.startswith(zh("Plan: {title}", title=PHISHING_TITLE))
    listed = await tang.say("/plans")
    [original] = [row[0] for row in await world.rows("SELECT min(id) FROM plan_instances")]
    switched = await tang.press(f"plans:use:{original}")
    assert PLAN_TITLE in switched.text
    status = await tang.say("/status")
    assert status.text.startswith(zh("Plan: {title}", title=PLAN_TITLE))
    assert PHISHING_TITLE not in status.text
    # Remembered across a restart, and switchable with the keyword too.
    await world.restart()
    status = await tang.say("进度")
    assert status.text.startswith(zh("Plan: {title}", title=PLAN_TITLE))
    assert listed.buttons
    assert re.search(r"plans:use:\d+", str(listed.buttons))
