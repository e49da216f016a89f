"""A pressed card does not stay pressable (WeCom): when a press completes a one-time choice,
the bot calls message/update_template_card with the press's ResponseCode (through the
outbox), and the card's buttons become one that cannot be pressed, reading the outcome.
Presses are really signed and encrypted callbacks; the emulator takes a code once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.sandbox.wecom.api import ReceivedMessage
from bot.sandbox.wecom.people import WeComPerson, buttons_of, card_text
from storage import outbox
from tests.e2e.conftest import zh
from tests.e2e.wecom_world import WeComWorld, wecom_worlds

EVALUATION = "民主生活会现场民主测评"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[WeComWorld]:
    async for factory in wecom_worlds(tmp_path):
        yield await factory()


def card_with(person: WeComPerson, key_prefix: str) -> ReceivedMessage:
    """The newest card that offers a button whose key starts with ``key_prefix``."""
    return next(
        m
        for m in reversed(person.inbox())
        if any(key.startswith(key_prefix) for _label, key in buttons_of(m))
    )


def now_of(person: WeComPerson, task_id: str) -> ReceivedMessage:
    """The card ``task_id`` as the member sees it now."""
    [card] = [m for m in person.inbox() if m.content.get("task_id") == task_id]
    return card


async def test_a_cast_ballot_card_says_only_that_it_was_cast_and_a_stale_press_is_refused(
    world: WeComWorld,
) -> None:
    fang, tang = world.people["方磊"], world.people["唐军"]
    await fang.say("/survey open evaluation")
    for choice in ("好", "一般", "好"):
        await tang.press("vote:", label=choice)
    cast_card = card_with(tang, "cast:")
    task_id = str(cast_card.content["task_id"])
    [(_label, cast_key)] = buttons_of(cast_card)
    answers = await tang.press("cast:")
    assert card_text(answers[-1]) == zh(
        "Your ballot in “{title}” has been cast. Thank you.", title=EVALUATION
    )
    updated = now_of(tang, task_id)
    assert updated.updated and buttons_of(updated) == []
    assert updated.content["replace_name"] == zh("✓ Your ballot was cast.")
    assert card_text(updated) == card_text(cast_card) + "\n" + zh("✓ Your ballot was cast.")
    assert "一般" not in card_text(updated)  # nothing on the card says what was chosen

    # WeCom reports a press the member made before the card changed (another device).
    refused = await tang.press_card(task_id, cast_key)
    assert [card_text(m) for m in refused] == [
        zh("You have voted in “{title}” already: one ballot each.", title=EVALUATION)
    ]
    assert (await world.rows("SELECT COUNT(*) FROM ballots"))[0][0] == 1
    assert world.emulator.stats.cards_updated == 1
    assert world.emulator.stats.response_codes_refused == 0


async def test_a_reused_response_code_is_refused_and_the_bot_goes_on(world: WeComWorld) -> None:
    await world.at("2014-01-01T09:00+08:00")
    tang = world.people["唐军"]
    assignment = await world.assignment_id("唐军", "personal-measures")
    await tang.press(f"submit:{assignment}")
    await tang.say("初稿。")
    first = card_with(tang, "draft:cancel")
    code = world.emulator.press_code(tang.userid, str(first.content["task_id"]))
    cancelled = await tang.press_card(
        str(first.content["task_id"]), "draft:cancel", response_code=code
    )
    assert [card_text(m) for m in cancelled] == [zh("Cancelled. Nothing was stored.")]
    assert now_of(tang, str(first.content["task_id"])).content["replace_name"] == zh("✗ Cancelled.")

    await tang.press(f"submit:{assignment}")
    await tang.say("唐军个人整改措施：加强学习。")
    second = card_with(tang, "draft:send")
    # The press arrives with the code the bot has used already: WeCom refuses the update.
    done = await tang.press_card(str(second.content["task_id"]), "draft:send", response_code=code)
    assert "制定个人整改措施" in card_text(done[-1])
    assert world.emulator.stats.response_codes_refused == 1
    still = now_of(tang, str(second.content["task_id"]))
    assert not still.updated  # the card could not be changed; nothing else is held up
    submissions = "SELECT COUNT(*) FROM submissions WHERE assignment_id = ?"
    assert (await world.rows(submissions, (assignment,)))[0][0] == 1
    rows = await outbox.messages(world.app.db, platform="wecom")
    update_rows = [r for r in rows if '"updates"' in r.payload]
    assert [r.state for r in update_rows] == ["sent", "sent"]
    later = await tang.say("/mytasks")
    assert any("制定个人整改措施" in card_text(m) for m in later)
