"""A pressed button does not stay pressable (Telegram): when a press completes a one-time
choice, the bot edits the pressed message through the outbox (editMessageText: its text, what
was chosen under it, no keyboard). A press on a stale view of it changes nothing and is
answered; an update Telegram refuses never holds up the chat's later messages.
"""

from __future__ import annotations

import json

from bot.core.messaging import OutgoingMessage
from bot.sandbox.telegram.people import SimulatedPerson, contains
from bot.sandbox.telegram.transcript import TranscriptEntry
from storage import outbox
from tests.e2e.conftest import World, zh

EVALUATION = "民主生活会现场民主测评"


def has_button(prefix: str) -> object:
    return lambda entry: any(
        (data or "").startswith(prefix) for row in entry.buttons for _label, data in row
    )


async def edit_of(person: SimulatedPerson, message: TranscriptEntry) -> TranscriptEntry:
    """The bot's (first) edit of ``message``, waiting for it to arrive."""
    return await person.emulator.wait_for_bot_message(
        person.user_id,
        lambda entry: entry.edited and entry.message_id == message.message_id,
        timeout=5.0,
        since=0,
    )


def edits(person: SimulatedPerson, message: TranscriptEntry) -> list[TranscriptEntry]:
    return [e for e in person.inbox() if e.edited and e.message_id == message.message_id]


async def test_a_cast_ballot_loses_its_button_says_only_that_it_was_cast_and_a_stale_cast_is_refused(
    world: World,
) -> None:
    await world.bind("唐军")
    fang, tang = world.people["方磊"], world.people["唐军"]
    await fang.say("/survey open evaluation 2013-12-10", expect=contains(EVALUATION))
    await tang.expect(contains(EVALUATION), since=0)
    step = None
    for choice in ("好", "较好", "一般"):
        step = await tang.press(choice, expect=has_button(("vote:", "cast:")))
    assert step is not None and has_button("cast:")(step)

    done = await tang.press("cast:", within=lambda e: e.message_id == step.message_id)
    assert done.text == zh("Your ballot in “{title}” has been cast. Thank you.", title=EVALUATION)
    updated = await edit_of(tang, step)
    assert updated.buttons == []
    assert updated.text == step.text + "\n\n" + zh("✓ Your ballot was cast.")
    for choice in ("较好", "一般"):  # nothing on the card says what was chosen
        assert choice not in updated.text

    # Nothing new about the voter is stored: the update's row holds the outcome and a copy of
    # the prompt the outbox holds already, no choice.
    rows = await outbox.messages(world.app.db, platform="telegram")
    mine = [r for r in rows if r.chat_id == str(world.user_ids["唐军"])]
    updates = [OutgoingMessage.from_json(r.payload) for r in mine]
    [update] = [m for m in updates if m.updates]
    assert update.text == zh("✓ Your ballot was cast.")
    assert json.loads(update.updates or "")["text"] == step.text
    assert step.text in [m.text for m in updates if not m.updates]

    # A press on a view that still shows the button: refused, nothing stored, no new edit.
    again = await tang.press("cast:", stale=True)
    assert again.text == zh(
        "You have voted in “{title}” already: one ballot each.", title=EVALUATION
    )
    await world.app.drain()
    assert (await world.rows("SELECT COUNT(*) FROM ballots"))[0][0] == 1
    assert len(edits(tang, step)) == 1


async def test_hand_in_and_review_cards_show_the_outcome_and_stale_presses_change_nothing(
    world: World,
) -> None:
    await world.bind("唐军", "党组书记")
    tang, lead = world.people["唐军"], world.people["党组书记"]
    await world.at("2014-01-01T09:00+08:00")
    assignment = await world.assignment_id("唐军", "personal-measures")
    await tang.press(f"submit:{assignment}")
    draft = await tang.say("唐军个人整改措施：加强学习。", expect=has_button("draft:send"))
    await tang.press("draft:send", within=lambda e: e.message_id == draft.message_id)
    handed_in = await edit_of(tang, draft)
    assert handed_in.buttons == []
    assert handed_in.text == draft.text + "\n\n" + zh("✓ Handed in.")

    stale = await tang.press("draft:send", stale=True)
    assert stale.text == zh("There is no submission in progress. Send /submit to start one.")
    submissions = "SELECT COUNT(*) FROM submissions WHERE assignment_id = ?"
    assert (await world.rows(submissions, (assignment,)))[0][0] == 1

    request = await lead.expect(contains("唐军", "制定个人整改措施"), since=0)
    assert has_button("review:ok:")(request)
    await lead.press("review:ok:", within=lambda e: e.message_id == request.message_id)
    approved = await edit_of(lead, request)
    assert approved.buttons == []
    assert approved.text.endswith("\n\n" + zh("✓ Approved."))
    again = await lead.press("review:ok:", stale=True)
    assert again.text == zh("This version has been reviewed already or replaced by a newer one.")
    await world.app.drain()
    reviews = await world.rows("SELECT verdict FROM reviews")
    assert [r[0] for r in reviews] == ["approved"]
    assert len(edits(lead, request)) == 1


async def test_a_return_updates_the_request_once_the_comment_is_sent(world: World) -> None:
    await world.bind("唐军", "党组书记")
    tang, lead = world.people["唐军"], world.people["党组书记"]
    await world.at("2014-01-01T09:00+08:00")
    await world.hand_in("唐军", "制定个人整改措施", text="唐军个人整改措施：加强学习。")
    request = await lead.expect(contains("唐军", "制定个人整改措施"), since=0)
    await lead.press("review:ret:", within=lambda e: e.message_id == request.message_id)
    await world.app.drain()
    assert edits(lead, request) == []  # not decided until the comment has gone
    await lead.say("请补充完成时限。", expect=contains("唐军"))
    returned = await edit_of(lead, request)
    assert returned.buttons == []
    assert returned.text.endswith("\n\n" + zh("↩ Returned with your comment."))
    await tang.expect(contains("请补充完成时限。"), since=0)


async def test_the_reviews_list_keeps_the_buttons_of_the_other_submissions(world: World) -> None:
    await world.bind("唐军", "孟平", "党组书记")
    lead = world.people["党组书记"]
    await world.at("2014-01-01T09:00+08:00")
    await world.hand_in("唐军", "制定个人整改措施", text="唐军：加强学习。")
    await world.hand_in("孟平", "制定个人整改措施", text="孟平：改进作风。")
    listing = await lead.say("/reviews", expect=contains("唐军", "孟平"))
    assert len(listing.buttons) == 2
    await lead.press("review:ok:", within=lambda e: e.message_id == listing.message_id)
    await world.app.drain()
    assert edits(lead, listing) == []
    assert len([r for r in lead.inbox() if r.message_id == listing.message_id]) == 1


async def test_a_refused_update_counts_as_done_and_later_messages_still_go(world: World) -> None:
    await world.bind("唐军")
    tang = world.people["唐军"]
    welcome = tang.inbox()[-1]
    chat = world.user_ids["唐军"]

    def update(message_id: int, text: str) -> str:
        reference = {"chat": chat, "message": message_id, "text": text, "media": False}
        return OutgoingMessage("✓", updates=json.dumps(reference)).to_json()

    payloads = [
        update(welcome.message_id + 10_000, "gone"),  # "message to edit not found"
        update(welcome.message_id, welcome.text),
        update(welcome.message_id, welcome.text),  # "message is not modified"
        OutgoingMessage("after the updates").to_json(),
    ]
    await outbox.enqueue_now(
        world.app.db,
        platform="telegram",
        chat_id=str(chat),
        payloads=payloads,
        now=world.clock.now(),
    )
    world.app.wake_senders()
    after = await tang.expect(contains("after the updates"), since=0)
    assert after.text == "after the updates"
    await world.app.drain()
    assert len(edits(tang, welcome)) == 1
    rows = await outbox.messages(world.app.db, platform="telegram")
    states = [r.state for r in rows if r.payload in payloads]
    assert states == ["sent"] * 4


async def test_each_step_of_adding_a_ledger_item_shows_the_choice_made(world: World) -> None:
    fang = world.people["方磊"]
    await world.bind("唐军")
    tang_id = await world.member_id("唐军")
    await fang.say("/additem")
    source = await fang.say(
        "建立领导干部基层联系点制度", expect=contains(zh("Where does the problem come from?"))
    )
    how = await fang.press("add:source:meeting", expect=contains(zh("How is it to be dealt with?")))
    who = await fang.press("add:category:deadline", expect=contains(zh("Who is responsible?")))
    department = await fang.press(f"add:member:{tang_id}", expect=has_button("add:skip"))
    due = await fang.press("add:skip", expect=has_button("add:skip"))
    preview = await fang.press("add:skip", expect=has_button("add:save"))
    await fang.press("add:save", expect=contains(zh("Saved as item #{id}.", id=1)))
    await world.app.drain()
    outcomes = [
        (source, "✓ " + zh("found at the meeting")),
        (how, "✓ " + zh("fix by a deadline")),
        (who, "✓ 唐军"),
        (department, "✓ " + zh("Skip")),
        (due, "✓ " + zh("No deadline")),
        (preview, zh("✓ Saved.")),
    ]
    for step, outcome in outcomes:
        updated = await edit_of(fang, step)
        assert updated.text == step.text + "\n\n" + outcome
        assert updated.buttons == []
    [item] = await world.rows("SELECT source, category, member_id FROM rectification_items")
    assert tuple(item) == ("meeting", "deadline", tang_id)
