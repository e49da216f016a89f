"""Feedback while slow work runs (issue 16): the chat action at once, and a short note when
the work outlasts ``progress_after`` (a second in production; set here, no test waits)."""

from __future__ import annotations

from bot.sandbox.telegram.people import contains
from tests.e2e.conftest import World, outgoing, zh

DONE = "Here are the documents of the plan ({count} files)."


async def test_export_shows_uploading_and_says_it_is_working_when_slow(world: World) -> None:
    fang, chat = world.people["方磊"], world.user_ids["方磊"]
    world.app.progress_after = 0.0  # the documents take "longer" than this
    since = len(world.emulator.transcript(chat))
    await fang.say("/export", expect=contains(zh(DONE, count=4)))
    assert "upload_document" in world.emulator.chat_actions(chat)
    texts = [e.text for e in outgoing(world.emulator.transcript(chat)[since:])]
    note = zh("Preparing the documents…")
    assert note == "正在生成材料…"
    assert note in texts and texts.index(note) < texts.index(zh(DONE, count=4))


async def test_quick_work_sends_no_note(world: World) -> None:
    fang, chat = world.people["方磊"], world.user_ids["方磊"]
    world.app.progress_after = 3600.0
    since = len(world.emulator.transcript(chat))
    await fang.say("/export", expect=contains(zh(DONE, count=4)))
    await world.app.drain()
    texts = [e.text for e in outgoing(world.emulator.transcript(chat)[since:])]
    assert zh("Preparing the documents…") not in texts
    assert "upload_document" in world.emulator.chat_actions(chat)


async def test_the_group_sees_a_picture_being_made_for_a_summary(world: World) -> None:
    await world.at("2013-12-03T09:00+08:00")
    assert world.emulator.chat_actions(world.group) == []
    await world.at("2013-12-20T18:00+08:00")  # the preparation phase ends: chart
    assert "upload_photo" in world.emulator.chat_actions(world.group)
