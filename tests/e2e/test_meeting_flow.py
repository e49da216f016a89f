"""The meeting itself end to end on the Telegram emulator (issue 6): opinions, talks, the
agenda runner with the on-site evaluation, the satisfaction survey's rounds and reviews.

Texts are matched on names, titles and numbers, or on the shipped zh_CN catalog (``zh``).
"""

from __future__ import annotations

import re

from bot.meeting.talks import pending_talk_pairs
from bot.sandbox.telegram.people import SimulatedPerson, contains
from bot.sandbox.telegram.transcript import TranscriptEntry
from tests.e2e.conftest import BOT_USERNAME, PLAN_TITLE, World, outgoing, zh

EVERYONE = ("唐军", "孟平", "党组书记", "市政府分管领导")
VOTERS = ("方磊", "唐军", "孟平", "党组书记", "市政府分管领导")


def group_since(world: World, mark: int) -> list[TranscriptEntry]:
    return outgoing(world.emulator.transcript(world.group)[mark:])


def ballot_step(entry: TranscriptEntry) -> bool:
    """The bot's next ballot prompt: an item's choices or the Cast button."""
    return any(
        (data or "").startswith(("vote:", "cast:")) for row in entry.buttons for _l, data in row
    )


async def vote(person: SimulatedPerson, *choices: str) -> TranscriptEntry:
    """Answer the newest ballot item by item, then cast it."""
    for choice in choices:
        step = await person.press(choice, expect=ballot_step)
    return await person.press("cast:", within=contains(step.text))


# --- 1. opinions ------------------------------------------------------------------------


async def test_opinions_reach_the_right_member_only_verbatim_and_anonymous_ones_keep_no_sender(
    world: World,
) -> None:
    await world.bind(*EVERYONE)
    fang, tang, meng = world.people["方磊"], world.people["唐军"], world.people["孟平"]
    for bad in ("/opinions 2013-13-45", "/opinions 2013-11-30"):  # not a date; in the past
        refused = await fang.say(bad)
        assert refused.text == zh(
            "Send /opinions with a future closing date, like /opinions 2013-12-10."
        )
    refused = await fang.say("/survey open evaluation 2013-02-30")
    assert refused.text == zh("The closing date must be a future date like 2014-06-25.")
    assert await world.rows("SELECT * FROM opinion_windows") == []
    assert await world.rows("SELECT * FROM surveys") == []
    answer = await fang.say("/opinions 2013-12-10", expect=contains(f"https://t.me/{BOT_USERNAME}"))
    code = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=(op-[A-Za-z0-9_-]+)", answer.text)
    assert code is not None
    assert "2013年12月10日" in answer.text

    # A department's staff member, not on the roster, opens the link and writes anonymously.
    staff_id = world.emulator.add_user("县发改局干部")
    staff = SimulatedPerson(world.emulator, staff_id, "县发改局干部")
    welcome = await staff.say(f"/start {code[1]}", expect=contains(PLAN_TITLE))
    assert welcome.buttons == [[(zh("Write an opinion"), "op:new")]]
    to_tang = "唐军同志下基层调研次数偏少，希望多听听县区意见。\n（第二段：原样保留）"
    await staff.press("op:new")
    await staff.press("唐军")
    await staff.say(to_tang)
    sent = await staff.press("op:send:anon")
    thanks = zh(
        "Thank you. Your opinion was stored; it is passed on when the call closes ({when}).",
        when="2013年12月10日 星期二 23:59",
    )
    assert sent.text == thanks  # the same words as for a signed opinion

    # A member writes to the whole team with his name; another opinion goes to 孟平.
    to_team = "班子会议文风会风有改进，但文件仍然偏多。"
    await meng.say("/opinion")
    await meng.press("op:to:", within=contains(PLAN_TITLE))
    await meng.say(to_team)
    assert (await meng.press("op:send:named")).text == thanks
    to_meng = "孟平同志批评与自我批评要更深入。"
    await tang.say("/opinion")
    await tang.press("孟平")
    await tang.say(to_meng)
    await tang.press("op:send:anon")

    stored = await world.rows("SELECT addressee_id, text, sender_name FROM opinions")
    by_text = {row["text"]: (row["addressee_id"], row["sender_name"]) for row in stored}
    assert by_text == {
        to_tang: (await world.member_id("唐军"), None),
        to_team: (None, "孟平"),
        to_meng: (await world.member_id("孟平"), None),
    }
    # Nothing sent to a writer repeats what they wrote, nor to whom; no draft is left.
    for writer in (staff_id, world.user_ids["唐军"]):
        for entry in world.emulator.bot_messages(writer):
            assert to_tang not in entry.text and to_meng not in entry.text
    assert await world.rows("SELECT * FROM conversations") == []

    mark = len(world.emulator.transcript(world.group))
    await world.at("2013-12-11T09:00+08:00")  # the window closed at 12-10 23:59
    tang_gets = "\n".join(e.text for e in tang.inbox() if zh("To you") in e.text)
    meng_gets = "\n".join(e.text for e in meng.inbox() if zh("To you") in e.text)
    assert to_tang in tang_gets and to_team in tang_gets and to_meng not in tang_gets
    assert to_meng in meng_gets and to_team in meng_gets and to_tang not in meng_gets
    lead_gets = "\n".join(e.text for e in world.people["党组书记"].inbox())
    assert to_team in lead_gets and to_tang not in lead_gets and to_meng not in lead_gets
    fang_gets = "\n".join(e.text for e in fang.inbox() if PLAN_TITLE in e.text)
    assert all(text in fang_gets for text in (to_tang, to_team, to_meng))
    assert f"{to_team}\n—— 孟平" in fang_gets  # verbatim, signed
    assert f"{to_tang}\n—— {zh('anonymous')}" in fang_gets
    closing = zh(
        "The call for opinions has closed with {count} opinion(s); each member has been sent those addressed to them, word for word.",
        count=3,
    )
    assert [e.text for e in group_since(world, mark)].count(closing) == 1
    # After the close the link no longer lets anyone write.
    late = await staff.say("/opinion")
    assert late.text == zh(
        "There is no open call for opinions for you. Open the link the organizer sent you."
    )


# --- 2. heart-to-heart talks ---------------------------------------------------------------


async def test_a_talk_counts_only_when_both_sides_confirm(world: World) -> None:
    await world.bind(*EVERYONE)
    tang, meng, fang = world.people["唐军"], world.people["孟平"], world.people["方磊"]
    pending = await pending_talk_pairs(world.app, world.instance_id)
    assert len(pending) == 6  # 4 members: every pair, the chair's included

    choose = await tang.say("/talk")
    assert {label for row in choose.buttons for label, _data in row} == {"方磊", "孟平", "党组书记"}
    await tang.press("孟平")
    request = await meng.expect(contains("唐军"), since=0)
    matrix = (await fang.say("/talks", group=world.group)).text
    assert (
        zh(
            "Heart-to-heart talks: {done} of {total} required pairs confirmed by both sides.",
            done=0,
            total=6,
        )
        in matrix
    )
    assert "…" in matrix
    assert len(await pending_talk_pairs(world.app, world.instance_id)) == 6

    await meng.press("talk:ok:", within=lambda e: e.message_id == request.message_id)
    await tang.expect(contains("孟平"), since=0)
    pending = await pending_talk_pairs(world.app, world.instance_id)
    assert len(pending) == 5
    assert {(p.a.name, p.b.name) for p in pending}.isdisjoint({("唐军", "孟平")})
    matrix = (await fang.say("/talks", group=world.group)).text
    assert (
        "1 of 6" in matrix
        or "1/6" in matrix
        or zh(
            "Heart-to-heart talks: {done} of {total} required pairs confirmed by both sides.",
            done=1,
            total=6,
        )
        in matrix
    )

    # A declined talk does not count; the recorder may record it again.
    await fang.say("/talk")
    await fang.press("唐军")
    asked = await tang.expect(contains("方磊"), since=0)
    await tang.press("talk:no:", within=lambda e: e.message_id == asked.message_id)
    assert len(await pending_talk_pairs(world.app, world.instance_id)) == 5
    statuses = await world.rows("SELECT status FROM talks ORDER BY id")
    assert [row[0] for row in statuses] == ["confirmed", "declined"]
    # Only the other side can confirm: the recorder's own press is refused.
    await fang.say("/talk")
    await fang.press("唐军")
    [talk] = await world.rows("SELECT id FROM talks WHERE status = 'recorded'")
    assert not any(
        data == f"talk:ok:{talk[0]}" for e in fang.inbox() for row in e.buttons for _l, data in row
    )
    # /remind nudges the pairs that are still missing, and whoever must confirm.
    reminded = await fang.say("/remind", expect=contains("孟平", "党组书记", "唐军"))
    assert reminded.text.startswith(zh("Reminded: {names}.", names="")[:3])
    await world.app.drain()
    assert any(
        "党组书记" in e.text
        and e.text.startswith(
            zh(
                "Reminder: your heart-to-heart talk with {name} is not recorded yet. Once you have held it, send /talk.",
                name="",
            )[:5]
        )
        for e in world.people["孟平"].inbox()
    )


# --- 3. the meeting: agenda, speaking order, on-site evaluation -------------------------------


async def test_agenda_runs_the_meeting_and_the_evaluation_is_anonymous(world: World) -> None:
    # The meeting phase's own messages are left out: a group takes 19 messages a minute.
    await world.bind(*EVERYONE)
    chair = world.people["党组书记"]
    tang = world.people["唐军"]
    refused = await tang.say("/meeting", group=world.group)
    assert refused.text == zh(
        "Only the meeting's chair or the plan's organizer can use /{name}.", name="meeting"
    )
    opened = await chair.say("/meeting", group=world.group, expect=contains("▶"))
    assert "▶ 1. 上一年度民主生活会整改落实情况说明" in opened.text
    await world.app.drain()
    for number in range(2, 6):
        item = zh("Agenda item {number} of {total}: {title}", number=number, total=9, title="")
        await chair.say("/next", group=world.group, expect=contains(item))
    agenda = (await tang.say("/agenda", expect=contains("▶"))).text
    assert "✓ 4." in agenda and "▶ 5." in agenda
    assert "【党组书记】 → 方磊 → 唐军 → 孟平" in agenda  # the chair comments first
    for number, speaker in enumerate(("方磊", "唐军", "孟平"), start=2):
        answer = await chair.say("/next", group=world.group, expect=contains(speaker))
        assert answer.text.startswith(
            zh("Next speaker: {name} ({number} of {total}).", name=speaker, number=number, total=4)
        )
    mark = len(world.emulator.transcript(world.group))
    await chair.say("/next", group=world.group, expect=contains("现场民主测评"))
    await world.app.drain()
    [survey_row] = await world.rows("SELECT id FROM surveys WHERE survey_key = 'evaluation'")
    survey_id = survey_row[0]
    for name in VOTERS:
        ballot = await world.people[name].expect(contains("民主生活会现场民主测评"), since=0)
        assert ballot.buttons == [
            [(c, f"vote:{survey_id}:0:{i}") for i, c in enumerate(["好", "较好", "一般", "差"])]
        ]
    # Only the bound voters have a ballot; the group is told so, naming the others (issue 16).
    opened = zh(
        "“{title}” (round {round}) is open: {sent} of the {count} voters have been sent an anonymous ballot in private chat.",
        title="民主生活会现场民主测评",
        round=1,
        sent=len(VOTERS),
        count=8,
    )
    [told] = [e.text for e in group_since(world, mark) if e.text.startswith(opened)]
    assert told == opened + "\n" + zh(
        "Not reached yet ({reason}): {names}",
        reason=zh("they have not opened the bot, or have blocked it"),
        names="支部书记代表、市纪委参会领导、市委组织部参会领导",
    )

    choices = {"方磊": "好好好", "唐军": "好较好一般", "孟平": "较好较好较好", "党组书记": "好好差"}
    scales = {
        "好好好": ("好", "好", "好"),
        "好较好一般": ("好", "较好", "一般"),
        "较好较好较好": ("较好",) * 3,
        "好好差": ("好", "好", "差"),
    }
    for name, key in choices.items():
        done = await vote(world.people[name], *scales[key])
        assert done.text == zh(
            "Your ballot in “{title}” has been cast. Thank you.", title="民主生活会现场民主测评"
        )
    # One ballot each: a second cast (on a device that still shows the button) is refused
    # and stores nothing.
    again = await world.people["方磊"].press("cast:", stale=True)
    assert again.text == zh(
        "You have voted in “{title}” already: one ballot each.", title="民主生活会现场民主测评"
    )
    assert (await world.rows("SELECT COUNT(*) FROM ballots"))[0][0] == 4
    # Before the close nobody sees results.
    hidden = await tang.say("/results")
    assert "好" not in hidden.text.replace("民主生活会", "")
    assert hidden.text == zh(
        "“{title}”, round {round}, is open; the results are shown when it closes.",
        title="民主生活会现场民主测评",
        round=1,
    )
    # The organizer sees who has not voted (not what anybody voted) and reminds them.
    not_voted = "支部书记代表、市政府分管领导、市纪委参会领导、市委组织部参会领导"
    overview = await world.people["方磊"].say("/survey")
    assert zh("voted: {count}; not yet: {names}", count=4, names=not_voted) in overview.text
    reminded = await world.people["方磊"].say("/survey remind evaluation")
    assert reminded.text == zh("Reminded: {names}.", names=not_voted)
    await world.people["市政府分管领导"].expect(
        contains(
            zh("Reminder: you have not voted yet in “{title}”.", title="民主生活会现场民主测评")
        ),
        since=0,
    )

    # Anonymity: the ballots carry no voter and no time; who voted is kept apart.
    ballot_columns = [r["name"] for r in await world.rows("PRAGMA table_info(ballots)")]
    assert ballot_columns == ["ballot_key", "survey_id", "answers"]
    assert [r["table"] for r in await world.rows("PRAGMA foreign_key_list(ballots)")] == ["surveys"]
    assert await world.rows("SELECT * FROM ballot_drafts") == []
    voters = await world.rows(
        "SELECT member_id FROM survey_voters WHERE survey_id = ?", (survey_id,)
    )
    assert len(voters) == 4

    mark = len(world.emulator.transcript(world.group))
    await chair.say("/next", group=world.group, expect=contains("市政府领导讲话"))
    await world.app.drain()
    [result] = [e for e in group_since(world, mark) if "民主生活会现场民主测评" in e.text]
    assert result.text.startswith(
        zh(
            "“{title}”, round {round}, has closed with {count} ballot(s).",
            title="民主生活会现场民主测评",
            round=1,
            count=4,
        )
    )
    assert (
        "1. 会前准备情况：好3票（75%） · 较好1票（25%） · 一般0票（0%） · 差0票（0%）"
        in result.text
    )
    assert (
        "3. 上次民主生活会整改措施落实情况：好1票（25%） · 较好1票（25%） · 一般1票（25%） · 差1票（25%）"
        in result.text
    )
    late = await world.people["市政府分管领导"].press("好")
    assert late.text == zh(
        "“{title}” has closed; ballots are no longer taken.", title="民主生活会现场民主测评"
    )
    for _step in range(3):
        last = await chair.say("/next", group=world.group)
    assert last.text == zh("The agenda is complete: the meeting is closed.")


async def test_results_stay_hidden_below_three_ballots(world: World) -> None:
    await world.bind(*EVERYONE)
    fang = world.people["方磊"]
    await fang.say("/survey open evaluation")
    await world.app.drain()
    await vote(world.people["唐军"], "好", "好", "好")
    await vote(world.people["孟平"], "差", "差", "差")
    closed = await fang.say("/survey close evaluation")
    assert closed.text == zh(
        "“{title}”, round {round}, has closed with {count} ballot(s); results are shown only with at least {minimum}, so they stay hidden.",
        title="民主生活会现场民主测评",
        round=1,
        count=2,
        minimum=3,
    )
    shown = await fang.say("/results")
    assert "差" not in shown.text and "好" not in shown.text
    # Nor does the meeting phase's summary picture them.
    await world.at("2013-12-31T18:00+08:00")
    photos = [e for e in world.emulator.bot_messages(world.group) if e.photo is not None]
    assert not any("民主生活会现场民主测评" in e.text for e in photos)


# --- 4. the satisfaction survey: 80% rule, rounds, the plan finishes --------------------------


async def test_a_failed_satisfaction_survey_opens_round_two_and_a_passing_one_closes_the_plan(
    world: World,
) -> None:
    await world.bind(*EVERYONE)
    fang = world.people["方磊"]
    await world.at("2014-06-20T10:00+08:00")
    opened = (
        zh(
            "Opened “{title}”, round {round}: {sent} of the {count} voters have been sent a ballot.",
            title="民主生活会整改落实情况满意度测评",
            round=1,
            sent=5,
            count=8,
        )
        + "\n"
        + zh(
            "Not reached yet ({reason}): {names}",
            reason=zh("they have not opened the bot, or have blocked it"),
            names="支部书记代表、市纪委参会领导、市委组织部参会领导",
        )
    )
    await fang.say("/survey open satisfaction", expect=lambda entry: entry.text == opened)
    [closes] = await world.rows("SELECT closes_at FROM surveys WHERE survey_key = 'satisfaction'")
    assert closes[0].startswith("2014-06-30T15:59")  # the survey task's deadline, 23:59 local
    await world.app.drain()
    for name, choice in zip(VOTERS, ["满意", "基本满意", "不满意", "不满意", "满意"], strict=True):
        await vote(world.people[name], choice)
    mark = len(world.emulator.transcript(world.group))
    await world.at("2014-06-30T23:59+08:00")  # closes on the clock: 3 of 5 = 60% < 80%
    [closed] = [e for e in group_since(world, mark) if "满意度测评" in e.text and "%" in e.text]
    assert "60%" in closed.text
    assert zh("At least {threshold} is required: not reached.", threshold="80%") in closed.text
    assert "2014年7月7日" in closed.text  # the reconvened meeting
    [round_one] = await world.rows(
        "SELECT result, next_round_at FROM surveys WHERE survey_key = 'satisfaction'"
    )
    assert '"passed": false' in round_one["result"]
    plan_toml = (await world.rows("SELECT plan_toml FROM plan_instances"))[0][0]
    assert 'id = "round-2"' in plan_toml and 'id = "team-plan-round-2"' in plan_toml

    # Round 2: the phase starts, the revised team plan is pushed, the survey reopens.
    await world.at("2014-07-01T09:00+08:00")
    push = await world.people["唐军"].expect(contains("制定班子整改方案", "2"), since=0)
    assert push.text.startswith(zh("New task: {title}", title="")[:3])
    await world.at("2014-07-15T09:00+08:00")
    rounds = await world.rows(
        "SELECT round, status FROM surveys WHERE survey_key = 'satisfaction' ORDER BY round"
    )
    assert [tuple(r) for r in rounds] == [(1, "closed"), (2, "open")]
    for name in VOTERS:
        await world.people[name].expect(contains("满意度测评", "2"), since=0)
        await vote(world.people[name], "满意" if name != "孟平" else "不满意")
    mark = len(world.emulator.transcript(world.group))
    await world.at("2014-07-21T17:00+08:00")  # 4 of 5 = 80%: reached
    texts = [e.text for e in group_since(world, mark)]
    [closed] = [t for t in texts if "满意度测评" in t and "80%" in t]
    assert zh("At least {threshold} is required: reached.", threshold="80%") in closed
    assert "60%" in closed  # every round is kept and shown
    assert zh("The threshold is reached: the plan “{plan}” is complete.", plan=PLAN_TITLE) in closed
    status = await world.rows("SELECT status FROM plan_instances")
    assert status[0][0] == "finished"
    # A finished plan still answers its members: the results stay readable.
    answer = await fang.say("/results satisfaction", expect=contains("满意度测评"))
    assert "80%" in answer.text and "60%" in answer.text


# --- 5. review of the rectification measures -----------------------------------------------


async def test_the_lead_reviews_personal_measures_and_the_superior_the_team_plan(
    world: World,
) -> None:
    await world.bind(*EVERYONE)
    await world.at("2014-01-02T10:00+08:00")
    await world.hand_in_from_push("唐军", "制定个人整改措施", "唐军个人整改措施：加强学习。")
    await world.hand_in_from_push("孟平", "制定班子整改方案", "班子整改方案（初稿）。")
    lead, leader = world.people["党组书记"], world.people["市政府分管领导"]
    # The lead's notice of 唐军's submission may still be on its way (the lead's chat is
    # rate-limited after the phase's pushes): wait for the answer to /reviews itself.
    waiting = await lead.say("/reviews", expect=contains(zh("Waiting for your review:")))
    assert "唐军" in waiting.text and "加强学习" in waiting.text
    assert "班子整改方案" not in waiting.text  # the team plan is not the lead's to review
    await lead.press("review:ok:", within=lambda e: e.message_id == waiting.message_id)
    assert (await lead.say("/reviews")).text == zh("Nothing is waiting for your review.")
    team = await leader.say("/reviews")
    assert "孟平" in team.text and "制定班子整改方案" in team.text
    await leader.press("review:ret:", within=lambda e: e.message_id == team.message_id)
    await leader.say("请补充分解立项和完成时限。", expect=contains("孟平"))
    statuses = await world.rows(
        "SELECT DISTINCT status FROM assignments WHERE task_id = 'team-plan'"
    )
    assert [row[0] for row in statuses] == ["returned"]


# --- 6. talk pairs in the scheduled reminders ------------------------------------------------


async def test_scheduled_reminders_include_the_talk_pairs_until_both_sides_confirm(
    world: World,
) -> None:
    await world.bind(*EVERYONE)
    tang, meng = world.people["唐军"], world.people["孟平"]
    await world.at("2013-12-03T09:00+08:00")
    await world.at("2013-12-12T10:00+08:00")  # 3 days before the talks are due (12-15)
    about_tang = zh(
        "Reminder: your heart-to-heart talk with {name} is not recorded yet. Once you have held it, send /talk.",
        name="唐军",
    )
    first = [e for e in meng.inbox() if about_tang in e.text]
    assert len(first) == 1
    assert [label for row in first[0].buttons for label, _d in row].count(
        zh("Record a talk with {name}", name="唐军")
    ) == 1
    # 唐军 records the talk from his reminder; 孟平 confirms; no more reminders about it.
    await tang.press(f"talk:rec:{await world.member_id('孟平')}")
    asked = await meng.expect(
        lambda e: (
            "唐军" in e.text
            and any((d or "").startswith("talk:ok:") for r in e.buttons for _l, d in r)
        ),
        since=0,
    )
    await meng.press("talk:ok:", within=lambda e: e.message_id == asked.message_id)
    await world.at("2013-12-14T10:00+08:00")  # 1 day before
    assert len([e for e in meng.inbox() if about_tang in e.text]) == 1
    about_fang = zh(
        "Reminder: your heart-to-heart talk with {name} is not recorded yet. Once you have held it, send /talk.",
        name="方磊",
    )
    assert len([e for e in meng.inbox() if about_fang in e.text]) == 2
