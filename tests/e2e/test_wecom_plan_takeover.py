"""Nobody takes over a plan on WeCom either (issue 22, item 1): members are known there by the
account the roster names, so a plan naming accounts is the whole attack. A plain member's plan
is refused; the organizer's new plan binds the people of his running plan at once and only
offers itself to anyone else, who accepts with 切换方案. Over really signed and encrypted
callbacks to the WeCom emulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.demo.telegram import seed_plan_text
from bot.sandbox.wecom.people import WeComPerson, card_text
from tests.e2e.conftest import zh
from tests.e2e.wecom_world import WeComWorld, WeComWorldFactory, wecom_worlds

NEW_TITLE = "2014年度专题民主生活会"
STAFF = ("XianFaGaiJu", "县发改局干部")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WeComWorld]:
    factory: WeComWorldFactory
    async for factory in wecom_worlds(tmp_path):
        yield await factory()


def plan_naming(organizer_userid: str, extra_userid: str) -> bytes:
    """The seed plan retitled, organised by ``organizer_userid``, with one more member."""
    text = seed_plan_text().replace('title = "领导班子专题民主生活会"', f'title = "{NEW_TITLE}"', 1)
    text = text.replace('wecom_userid = "FangLei"', f'wecom_userid = "{organizer_userid}"', 1)
    head, sep, tail = text.partition("\n[[phases]]")
    extra = f'\n[[roster]]\nid = "staff"\nname = "{STAFF[1]}"\nroles = ["member"]\nwecom_userid = "{extra_userid}"\n'
    return (head + extra + sep + tail).encode()


def attackers_plan() -> bytes:
    """唐军's plan: himself as its organizer, 方磊 (the real organizer) as a plain member."""
    text = seed_plan_text().replace('title = "领导班子专题民主生活会"', f'title = "{NEW_TITLE}"', 1)
    text = text.replace('wecom_userid = "FangLei"', 'wecom_userid = "@@"', 1)
    text = text.replace('wecom_userid = "TangJun"', 'wecom_userid = "FangLei"', 1)
    return text.replace('wecom_userid = "@@"', 'wecom_userid = "TangJun"', 1).encode()


def everything(person: WeComPerson) -> str:
    return "\n".join(person.texts())


async def test_a_plain_member_cannot_load_a_plan_naming_the_organizer(world: WeComWorld) -> None:
    tang = world.people["唐军"]
    answers = await tang.send_file("方案.toml", attackers_plan())
    assert [card_text(m) for m in answers] == [
        zh(
            "You cannot load a plan here: plans are loaded by the organizer of a plan already running, or by the operator (huiwu plan load)."
        )
    ]
    assert len(await world.rows("SELECT id FROM plan_instances")) == 1
    fang = world.people["方磊"]
    await fang.say("进度")
    assert NEW_TITLE not in everything(fang)


async def test_the_organizers_new_plan_binds_his_people_and_offers_itself_to_others(
    world: WeComWorld,
) -> None:
    world.emulator.add_user(*STAFF)
    staff = WeComPerson(world.emulator, world.callbacks, STAFF[0], STAFF[1], world.settle)
    fang = world.people["方磊"]
    await fang.send_file("新方案.toml", plan_naming("FangLei", STAFF[0]))
    loaded = await fang.press("planload:ok")
    assert any(STAFF[1] in card_text(m) for m in loaded)  # waiting for the staff member only
    [number] = [row[0] for row in await world.rows("SELECT max(id) FROM plan_instances")]
    bound = await world.rows(
        "SELECT i.user_id FROM identities i JOIN members m ON m.id = i.member_id "
        "WHERE m.instance_id = ? ORDER BY i.user_id",
        (number,),
    )
    assert STAFF[0] not in {row[0] for row in bound}
    assert {"FangLei", "TangJun", "MengPing", "DangZuShuJi"} <= {row[0] for row in bound}
    # 唐军 stays on the plan he was using; the new one is a switch away.
    tang = world.people["唐军"]
    answers = await tang.say("进度")
    assert card_text(answers[0]).startswith(zh("Plan: {title}", title="领导班子专题民主生活会"))
    # The staff member hears nothing of the plan until he asks, then accepts it.
    await world.at("2013-12-03T09:10+08:00")
    assert NEW_TITLE not in everything(staff)
    listed = await staff.say("切换方案")
    assert zh("Offered to you, not accepted:") in card_text(listed[-1])
    accepted = await staff.press(f"plans:yes:{number}")
    assert any(NEW_TITLE in card_text(m) for m in accepted)
    assert await world.rows(
        "SELECT * FROM identities i JOIN members m ON m.id = i.member_id "
        "WHERE m.instance_id = ? AND i.user_id = ?",
        (number, STAFF[0]),
    )
