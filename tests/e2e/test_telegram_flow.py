"""The bot end to end on the Telegram emulator: python-telegram-bot over real HTTP, a real
SQLite file, the shipped seed plan, and a ManualClock moved by ``world.at``.

Texts are matched on names, task titles, dates and numbers, or on the shipped zh_CN
catalog (``zh``); English sentences only for a user whose Telegram language is English.
"""

from __future__ import annotations

import json
import re

from bot.sandbox.telegram.limits import FaultPlan
from bot.sandbox.telegram.people import SimulatedPerson, contains
from bot.sandbox.telegram.transcript import TranscriptEntry
from tests.e2e.conftest import PLAN_TITLE, World, WorldFactory, en, outgoing, zh

PREPARATION_PUSHES = {
    "方磊": ["组织学习", "征求意见", "向上级报送民主生活会方案", "撰写剖析材料"],
    "唐军": ["交流谈心", "撰写剖析材料"],
    "孟平": ["交流谈心", "撰写剖析材料"],
    "党组书记": ["撰写剖析材料"],
    "市政府分管领导": [],
}


def pushes(world: World, name: str, title: str) -> list[TranscriptEntry]:
    """The assignment pushes of ``title`` in ``name``'s private chat."""
    head = zh("New task: {title}", title=title)
    return [
        entry
        for entry in world.emulator.bot_messages(world.user_ids[name])
        if entry.text.splitlines()[0] == head
    ]


def task_blocks(text: str) -> dict[str, dict[str, list[str]]]:
    """A /status or summary text as {task title: {line label: [names]}}."""
    blocks: dict[str, dict[str, list[str]]] = {}
    for chunk in text.split("\n\n"):
        lines = chunk.splitlines()
        if not lines or "——" not in lines[0]:
            continue
        title = lines[0].split("——", 1)[0]
        entries: dict[str, list[str]] = {}
        for line in lines[1:]:
            match = re.match(r"^\s+(.+?)[:：]\s*(.+)$", line)
            assert match, f"unexpected line in {title!r}: {line!r}"
            entries[match[1]] = match[2].split("、")
        blocks[title] = entries
    return blocks


REASON = zh("they have not opened the bot, or have blocked it")


def label(msgid: str) -> str:
    """The label of a status line ("submitted: 方磊" → "已提交")."""
    return re.split(r"[:：]", zh(msgid, names="|"))[0] if "{names}" in msgid else zh(msgid)


async def group_answer(world: World, command: str) -> TranscriptEntry:
    return await world.people["方磊"].say(command, group=world.group)


# --- 1. bind, push, submit text + file, review, resubmit, approve ----------------------


async def test_member_binds_by_invite_submits_is_returned_resubmits_and_is_approved(
    world: World,
) -> None:
    tang, lead = world.people["唐军"], world.people["党组书记"]
    codes = await world.invite_codes()
    assert {"唐军", "孟平", "党组书记", "市政府分管领导"} <= codes.keys()
    assert "方磊" not in codes  # bound already: no link for him

    # Preparation and meeting run while only 方磊 is bound; the rectification phase has the
    # reviewed task (制定个人整改措施, reviewed by 党组书记).
    await world.at("2013-12-31T18:00+08:00")
    welcome = await tang.say(f"/start {codes['唐军']}")
    assert "唐军" in welcome.text and PLAN_TITLE in welcome.text
    identity = await world.rows(
        "SELECT user_id, reachable FROM identities WHERE member_id = ? AND platform = 'telegram'",
        (await world.member_id("唐军"),),
    )
    assert [tuple(row) for row in identity] == [(str(world.user_ids["唐军"]), 1)]
    # The code is single-use: 孟平 cannot bind himself with 唐军's link.
    refused = await world.people["孟平"].say(f"/start {codes['唐军']}")
    assert refused.text.startswith(
        zh(
            "This invite link is not valid or has been used already. Ask the organizer for a new one."
        )
    )
    assert (
        await world.rows(
            "SELECT * FROM identities i JOIN members m ON m.id = i.member_id "
            "WHERE m.member_key = 'mengping' AND i.platform = 'telegram'"
        )
        == []
    )
    await lead.say(f"/start {codes['党组书记']}", expect=contains("党组书记", PLAN_TITLE))

    await world.at("2014-01-01T09:00+08:00")
    assignment = await world.assignment_id("唐军", "personal-measures")
    [push] = pushes(world, "唐军", "制定个人整改措施")
    assert "2014年2月28日 星期五" in push.text  # the deadline with its weekday
    assert zh("{days} day(s) left", days=58) in push.text  # 1 Jan → 28 Feb
    assert "党组书记" in push.text  # who reviews it
    assert push.buttons == [[(zh("Submit"), f"submit:{assignment}"), (zh("My tasks"), "mytasks")]]

    # Version 1: a text and a file, handed in from the push's own Submit button.
    notes = "唐军个人整改措施：一、加强理论学习；二、改进调查研究。"
    content = b"PK\x03\x04 personal measures \x00\xff" * 10
    await tang.press(f"submit:{assignment}")
    assert "目前已收到1段文字。" in (await tang.say(notes)).text
    received = await tang.send_file("个人整改措施.docx", content)
    assert "目前已收到1段文字、1个文件。" in received.text
    done = await tang.press("draft:send", expect=contains("制定个人整改措施"))
    assert "党组书记" in done.text
    [v1] = await world.rows("SELECT * FROM submissions WHERE assignment_id = ?", (assignment,))
    assert (v1["version"], v1["text"], v1["late"]) == (1, notes, 0)
    [stored] = await world.rows(
        "SELECT * FROM submission_files WHERE submission_id = ?", (v1["id"],)
    )
    assert stored["file_name"] == "个人整改措施.docx"
    # Our copy is in the files folder beside the database, named by its SHA-256.
    assert stored["content"] is None
    assert world.app.files.read(stored["sha256"]) == content
    assert stored["size"] == len(content)

    # The lead returns it with a comment; 唐军 reads the comment.
    request = await lead.expect(contains("唐军", "制定个人整改措施", "第1版"), since=0)
    assert notes in request.text and "个人整改措施.docx" in request.text
    await lead.press("review:ret:", within=contains("唐军", "第1版"))
    comment = "整改措施不够具体，请补充完成时限和责任科室。"
    await lead.say(comment, expect=contains("唐军"))
    returned = await tang.expect(contains(comment), since=0)
    assert "党组书记" in returned.text and "制定个人整改措施" in returned.text
    assert returned.buttons == [[(zh("Submit again"), f"submit:{assignment}")]]
    [review] = await world.rows("SELECT * FROM reviews WHERE submission_id = ?", (v1["id"],))
    assert (review["verdict"], review["comment"]) == ("returned", comment)
    [status] = await world.rows("SELECT status FROM assignments WHERE id = ?", (assignment,))
    assert status[0] == "returned"

    # Version 2; version 1 is kept as it was.
    revised = "唐军个人整改措施（修改稿）：每项措施已明确完成时限和责任科室。"
    await tang.press(f"submit:{assignment}", within=contains(comment))
    await tang.say(revised)
    done = await tang.press("draft:send", expect=contains("制定个人整改措施"))
    assert zh(" (version {version})", version=2) in done.text
    versions = await world.rows(
        "SELECT id, version, text FROM submissions WHERE assignment_id = ? ORDER BY version",
        (assignment,),
    )
    assert [(row["version"], row["text"]) for row in versions] == [(1, notes), (2, revised)]
    assert (
        len(await world.rows("SELECT * FROM submission_files WHERE submission_id = ?", (v1["id"],)))
        == 1
    )

    await lead.expect(contains("唐军", "第2版"), since=0)
    await lead.press("review:ok:", within=contains("第2版"))
    approved = await tang.expect(
        contains(
            zh("{reviewer} approved your “{title}”.", reviewer="党组书记", title="制定个人整改措施")
        ),
        since=0,
    )
    assert approved.buttons == []
    [status] = await world.rows("SELECT status FROM assignments WHERE id = ?", (assignment,))
    assert status[0] == "approved"
    verdicts = await world.rows(
        "SELECT s.version, r.verdict FROM reviews r JOIN submissions s ON s.id = r.submission_id "
        "WHERE s.assignment_id = ? ORDER BY r.id",
        (assignment,),
    )
    assert [tuple(row) for row in verdicts] == [(1, "returned"), (2, "approved")]


# --- 2. /status, unreachable members, held pushes ---------------------------------------


def _with_telegram_id(name: str) -> object:
    """A plan edit: give ``name`` a telegram_id, so they are on the roster but never opened the bot."""

    def edit(text: str, user_ids: dict[str, int]) -> str:
        line = f'name = "{name}"\n'
        assert line in text
        return text.replace(line, f"{line}telegram_id = {user_ids[name]}\n", 1)

    return edit


async def test_status_shows_progress_and_unreachable_member_gets_held_pushes_once(
    make_world: WorldFactory,
) -> None:
    world = await make_world(edit_plan=_with_telegram_id("孟平"))
    meng = world.people["孟平"]
    await world.bind("唐军", "党组书记")
    await world.at("2013-12-03T09:00+08:00")
    assert world.emulator.bot_messages(world.user_ids["孟平"]) == []
    held = await world.rows(
        "SELECT COUNT(*) FROM outbox WHERE chat_id = ? AND state = 'held'",
        (str(world.user_ids["孟平"]),),
    )
    assert held[0][0] == 2  # 交流谈心 and 撰写剖析材料 wait for him

    await world.hand_in_from_push("党组书记", "撰写剖析材料", "党组书记对照检查材料（初稿）。")
    blocks = task_blocks((await group_answer(world, "/status")).text)
    submitted, pending = zh("submitted"), zh("pending")
    unreachable = re.split(
        r"[:：]", zh("unreachable ({reason}): {names}", reason=REASON, names="|")
    )[0]
    assert blocks["组织学习"] == {pending: ["方磊"]}
    assert blocks["交流谈心"] == {pending: ["唐军", "孟平"], unreachable: ["孟平"]}
    assert blocks["撰写剖析材料"] == {
        submitted: ["党组书记"],
        pending: ["方磊", "唐军", "孟平"],
        unreachable: ["孟平"],
    }

    # 孟平 opens the bot: what was held for him follows, once.
    await meng.say(
        "/start",
        expect=contains(zh("{count} message(s) were waiting for you; they follow now.", count=2)),
    )
    await world.app.drain()
    await meng.say("/start", expect=contains("孟平"))
    await world.app.drain()
    assert len(pushes(world, "孟平", "交流谈心")) == 1
    assert len(pushes(world, "孟平", "撰写剖析材料")) == 1
    assert (await world.rows("SELECT COUNT(*) FROM outbox WHERE state != 'sent'"))[0][0] == 0
    blocks = task_blocks((await group_answer(world, "/status")).text)
    assert blocks["交流谈心"] == {pending: ["唐军", "孟平"]}


async def test_member_bound_by_invite_after_phase_start_gets_the_pushes(world: World) -> None:
    codes = await world.invite_codes()
    await world.at("2013-12-03T09:00+08:00")
    blocks = task_blocks((await group_answer(world, "/status")).text)
    unreachable = re.split(
        r"[:：]", zh("unreachable ({reason}): {names}", reason=REASON, names="|")
    )[0]
    assert "孟平" in blocks["交流谈心"][unreachable]
    await world.people["孟平"].say(f"/start {codes['孟平']}", expect=contains("孟平"))
    await world.app.drain()
    assert len(pushes(world, "孟平", "交流谈心")) == 1
    assert len(pushes(world, "孟平", "撰写剖析材料")) == 1


# --- 3. refusals ----------------------------------------------------------------------


async def test_strangers_and_members_are_refused_and_nothing_changes(world: World) -> None:
    stranger_id = world.emulator.add_user("Stranger", language_code="en")
    stranger = SimulatedPerson(world.emulator, stranger_id, "Stranger")
    roster_refusal = en(
        "You are not on this plan's roster, so I cannot do that for you. Ask the organizer for an invite link."
    )
    before = await world.row_counts()
    binding_before = [tuple(r) for r in await world.rows("SELECT * FROM chat_bindings")]
    for command in ("/mytasks", "/submit", "/advance", "/invites"):
        answer = await stranger.say(command)
        assert answer.text == roster_refusal, command
        assert answer.buttons == []
    answer = await stranger.say("/setup")
    assert answer.text == en("/{name} works in the plan's group chat, not here.", name="setup")
    # In the group he cannot take the group over either.
    world.emulator.join_group(stranger_id, world.group)
    await world.app.drain()
    answer = await stranger.say("/setup", group=world.group, expect=contains(roster_refusal))
    after = await world.row_counts()
    outbox_growth = after.pop("outbox") - before.pop("outbox")
    assert after == before
    assert [tuple(r) for r in await world.rows("SELECT * FROM chat_bindings")] == binding_before
    # The only new outbox rows are the answers in the stranger's chat and the group.
    new_rows = await world.rows(
        "SELECT chat_id FROM outbox ORDER BY id DESC LIMIT ?", (outbox_growth,)
    )
    assert {row[0] for row in new_rows} <= {str(stranger_id), str(world.group)}
    assert outbox_growth == 7  # 5 private answers, the group's welcome and its refusal

    # A member may not use the organizer's commands, nor a group command in private.
    tang = world.people["唐军"]
    await world.bind("唐军")
    before = await world.row_counts()
    answer = await tang.say("/advance")
    assert answer.text == zh("Only the plan's organizer can use /{name}.", name="advance")
    answer = await tang.say("/summary")
    assert answer.text == zh("/{name} works in the plan's group chat, not here.", name="summary")
    answer = await tang.say("/submit", group=world.group)
    assert answer.text == zh(
        "/{name} works in private chat with me, not in the group.", name="submit"
    )
    after = await world.row_counts()
    assert after.pop("outbox") - before.pop("outbox") == 3
    assert after == before
    assert after["phase_runs"] == 0  # /advance started nothing


# --- 4. late submission ---------------------------------------------------------------


async def test_late_submission_is_flagged_and_named_in_the_summary(world: World) -> None:
    await world.bind("唐军")
    await world.at("2013-12-03T09:00+08:00")
    await world.at("2013-12-16T10:00+08:00")  # 交流谈心 was due 2013-12-15 23:59
    done = await world.hand_in_from_push("唐军", "交流谈心", "已与各班子成员逐一谈心，共5次。")
    assert zh(" It is after the deadline, so it is marked late.").strip() in done.text
    assignment = await world.assignment_id("唐军", "talks")
    rows = await world.rows("SELECT late FROM submissions WHERE assignment_id = ?", (assignment,))
    assert [row[0] for row in rows] == [1]

    since = len(world.emulator.transcript(world.group))
    await world.at("2013-12-20T18:00+08:00")
    [summary] = outgoing(world.emulator.transcript(world.group)[since:])
    assert summary.text.startswith(zh("Summary of the phase “{phase}”", phase="会前准备阶段"))
    block = task_blocks(summary.text)["交流谈心"]
    # Late is said where the name stands, not on a second line naming him again (issue 16).
    assert block[zh("submitted")] == [zh("{name} (late)", name="唐军")]
    assert block[zh("overdue")] == ["孟平"]
    assert label("late: {names}") not in block
    assert zh("{name} (late)", name="") not in summary.text.split("撰写剖析材料")[1]


# --- 5. files in the group --------------------------------------------------------------


async def test_files_sent_in_the_group_are_not_stored(world: World) -> None:
    tang = world.people["唐军"]
    await world.bind("唐军")
    await world.at("2013-12-03T09:00+08:00")
    # A draft is open in private: the group's file must not slip into it.
    await tang.press("submit:", within=contains(zh("New task: {title}", title="撰写剖析材料")))
    answer = await tang.send_file("唐军-对照检查材料.docx", b"PK\x03\x04 draft", group=world.group)
    assert answer.text == zh(
        "{name}, files sent in the group are not stored. Please send your submission to me in private chat (/submit).",
        name="唐军",
    )
    assert (await world.rows("SELECT COUNT(*) FROM submissions"))[0][0] == 0
    assert (await world.rows("SELECT COUNT(*) FROM submission_files"))[0][0] == 0
    [draft] = await world.rows(
        "SELECT data FROM conversations WHERE user_id = ?", (str(world.user_ids["唐军"]),)
    )
    assert json.loads(draft[0])["files"] == []


# --- 6. faults ------------------------------------------------------------------------


async def test_every_push_arrives_exactly_once_under_injected_faults(
    make_world: WorldFactory,
) -> None:
    world = await make_world(
        faults=FaultPlan(seed=1, p_server_error=0.2, p_drop_connection=0.1, p_too_many=0.1)
    )
    await world.bind("唐军", "孟平", "党组书记", "市政府分管领导")
    await world.at("2013-12-03T09:00+08:00")
    for name, titles in PREPARATION_PUSHES.items():
        heads = [
            entry.text.splitlines()[0]
            for entry in world.emulator.bot_messages(world.user_ids[name])
            if entry.text.startswith(zh("New task: {title}", title=""))
        ]
        assert sorted(heads) == sorted(zh("New task: {title}", title=t) for t in titles), name
    started = [
        entry
        for entry in outgoing(world.emulator.transcript(world.group))
        if "会前准备阶段" in entry.text.splitlines()[0]
    ]
    assert len(started) == 1
    states = await world.rows("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    assert {row[0]: row[1] for row in states} == {"sent": 1 + 1 + 4 + 9 + 1}
    stats = world.emulator.stats
    assert stats.messages_sent == 16  # delivered once each: no duplicate from a retry
    assert stats.injected_faults > 0
    assert stats.faults_by_kind["server_error"] > 0


# --- 7. restart -----------------------------------------------------------------------


async def test_draft_survives_a_restart(world: World) -> None:
    tang = world.people["唐军"]
    await world.bind("唐军")
    await world.at("2013-12-03T09:00+08:00")
    notes = "已与各班子成员逐一谈心，共5次（重启前录入）。"
    await tang.press("submit:", within=contains(zh("New task: {title}", title="交流谈心")))
    await tang.say(notes)

    await world.restart()
    done = await tang.press("draft:send", expect=contains("交流谈心"))
    assert done.text.startswith(
        zh(
            "Handed in: “{title}”{version}.{late}{review}",
            title="交流谈心",
            version="",
            late="",
            review="",
        )
    )
    assignment = await world.assignment_id("唐军", "talks")
    rows = await world.rows(
        "SELECT version, text FROM submissions WHERE assignment_id = ?", (assignment,)
    )
    assert [tuple(row) for row in rows] == [(1, notes)]
    assert await world.rows("SELECT * FROM conversations") == []


# --- 8. phase summaries ---------------------------------------------------------------


async def test_each_phase_end_posts_its_summary_to_the_group(world: World) -> None:
    await world.at("2013-12-03T09:00+08:00")
    await world.hand_in_from_push("方磊", "组织学习", "12月5日组织集中学习，交流发言6人次。")

    heads = {
        zh("Summary of the phase “{phase}”", phase=phase)
        for phase in ("会前准备阶段", "会议进行阶段", "会后整改阶段")
    }

    def summaries_since(mark: int) -> list[TranscriptEntry]:
        return [
            entry
            for entry in outgoing(world.emulator.transcript(world.group)[mark:])
            if entry.text.splitlines()[0] in heads
        ]

    mark = len(world.emulator.transcript(world.group))
    await world.at("2013-12-20T18:00+08:00")
    [summary] = summaries_since(mark)
    lines = summary.text.splitlines()
    assert lines[0] == zh("Summary of the phase “{phase}”", phase="会前准备阶段")
    assert lines[1] == zh("{done} of {total} task(s) complete.", done=1, total=5)
    blocks = task_blocks(summary.text)
    assert list(blocks) == [
        "组织学习",
        "征求意见",
        "交流谈心",
        "向上级报送民主生活会方案",
        "撰写剖析材料",
    ]
    assert blocks["组织学习"][zh("submitted")] == ["方磊"]
    assert blocks["征求意见"][zh("overdue")] == ["方磊"]
    assert "会议进行阶段" in lines[-1]  # what comes next

    mark = len(world.emulator.transcript(world.group))
    await world.at("2013-12-31T18:00+08:00")
    [summary] = summaries_since(mark)
    assert summary.text.splitlines()[:2] == [
        zh("Summary of the phase “{phase}”", phase="会议进行阶段"),
        zh("This phase has no tasks to hand in."),
    ]

    mark = len(world.emulator.transcript(world.group))
    await world.at("2014-06-30T18:00+08:00")
    [summary] = summaries_since(mark)
    lines = summary.text.splitlines()
    assert lines[:2] == [
        zh("Summary of the phase “{phase}”", phase="会后整改阶段"),
        zh("{done} of {total} task(s) complete.", done=0, total=5),
    ]
    assert lines[-1] == zh("This was the last phase of the plan.")
    ended = await world.rows("SELECT phase_id FROM phase_runs WHERE ended_at IS NOT NULL")
    assert {row[0] for row in ended} == {"preparation", "meeting", "rectification"}
