"""Bad input through the real Telegram adapter on the emulator: random text up to
Telegram's length, control characters, unknown commands, files of any name, type and size,
from members, strangers and in the group. Nothing fails, nothing is refused by Telegram
(a reply longer than 4,096 characters is split by the adapter) and answers are localised.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.telegram.adapter import MAX_TEXT
from bot.sandbox.telegram.people import SimulatedPerson
from tests.e2e.conftest import World, en, outgoing, zh
from tests.fuzz.test_dispatch_fuzz import FRAGMENTS

SPEAKERS = ("方磊", "唐军", "市政府分管领导", "stranger")


async def test_a_reply_longer_than_telegrams_limit_is_split_and_nothing_is_lost(
    world: World,
) -> None:
    fang = world.people["方磊"]
    wanted = "任" * 3990  # within what one message may hold; the answer quoting it is not
    plan = await world.app.plans.get(world.instance_id)
    expected = zh(
        "There is no task “{task}” in the plan. Task ids: {ids}",
        task=wanted,
        ids=", ".join(task.id for task in plan.tasks),
    )
    assert len(expected) > MAX_TEXT
    since = len(world.emulator.transcript(world.user_ids["方磊"]))
    world.emulator.send_text(world.user_ids["方磊"], f"/remind {wanted}")
    await fang.expect(lambda entry: entry.text.endswith(plan.tasks[-1].id), since=since)
    parts = [e.text for e in outgoing(world.emulator.transcript(world.user_ids["方磊"])[since:])]
    assert len(parts) == 2 and all(len(part) <= MAX_TEXT for part in parts)
    assert "".join(parts) == expected


def help_head(speaker: str) -> str:
    return (en if speaker == "stranger" else zh)("Commands you can use here:")


printable_or_not = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=200
) | st.builds(
    lambda piece, n: (piece * n)[:MAX_TEXT], st.text(min_size=1, max_size=9), st.integers(200, 900)
)


@st.composite
def actions(draw: st.DrawFn) -> tuple[str, str, bool, tuple[str, bytes, str] | None]:
    speaker = draw(st.sampled_from(SPEAKERS))
    # Mostly private: a group gets 20 messages a minute, and the bot keeps to that.
    in_group = draw(st.sampled_from([False, False, False, True]))
    text = draw(printable_or_not | st.from_regex(r"/[a-z_]{1,30}( \S{1,20}){0,3}", fullmatch=True))
    file = None
    if draw(st.booleans()):
        name = draw(st.text(min_size=1, max_size=30).filter(lambda n: "/" not in n)) + draw(
            st.sampled_from([".toml", ".txt", ".docx", ".exe", ".zip", ""])
        )
        content = draw(st.binary(max_size=4096))
        mime = draw(st.sampled_from(["application/octet-stream", "text/plain", "image/png"]))
        file = (name, content, mime)
    return speaker, text, in_group, file


@settings(
    max_examples=25,
    derandomize=True,  # the same examples in every run: CI is not a lottery
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(action=actions())
async def test_random_updates_through_telegram_fail_nothing(
    world: World, action: tuple[str, str, bool, tuple[str, bytes, str] | None]
) -> None:
    speaker, text, in_group, file = action
    if "stranger" not in world.user_ids:  # the first example: a stranger joins the group
        stranger = world.emulator.add_user("Stranger", language_code="en")
        world.user_ids["stranger"] = stranger
        world.people["stranger"] = SimulatedPerson(world.emulator, stranger, "Stranger")
        mark = len(world.emulator.transcript(world.group))
        world.emulator.join_group(stranger, world.group)
        await world.people["方磊"].expect(chat_id=world.group, since=mark)  # the welcome
    user = world.user_ids[speaker]
    chat = world.group if in_group else user
    since = len(world.emulator.transcript(chat))
    if file is None:
        world.emulator.send_text(user, text, chat_id=world.group if in_group else None)
    else:
        name, content, mime = file
        world.emulator.send_document(
            user,
            name,
            content,
            mime_type=mime,
            caption=text[:1024],
            chat_id=world.group if in_group else None,
        )
    # One user's updates are handled in order: once their /help in private is answered, so
    # is the action; then wait for what it caused to be sent.
    person = world.people[speaker]
    mark = len(world.emulator.transcript(user))
    world.emulator.send_text(user, "/help")
    help_answer = await person.expect(
        lambda entry: entry.text.startswith(help_head(speaker)), chat_id=user, since=mark
    )
    await world.app.drain(90)

    failed = await world.rows("SELECT chat_id, state, last_error FROM outbox WHERE state != 'sent'")
    assert [tuple(row) for row in failed] == []
    locale_other = FRAGMENTS["zh_CN" if speaker == "stranger" else "en"]
    entries = world.emulator.transcript(chat)[since:]
    with_texts = [e for e in outgoing(entries) if e is not help_answer]
    crashed = zh(
        "Sorry, something went wrong on my side. Nothing you sent was lost; please try again."
    )
    for entry in with_texts:
        assert len(entry.text) <= MAX_TEXT
        assert entry.text != crashed
        assert not [p for p in locale_other if p in entry.text], world.emulator.render_transcript(
            chat
        )
