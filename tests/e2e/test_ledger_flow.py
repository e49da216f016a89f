"""The rectification ledger, the charts and /export end to end on the Telegram emulator."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime

from docx import Document
from openpyxl import load_workbook

from bot.meeting.surveys import close_survey
from bot.sandbox.telegram.people import contains
from bot.sandbox.telegram.transcript import TranscriptEntry
from storage import surveys as survey_store
from tests.e2e.conftest import World, zh

PNG = b"\x89PNG\r\n\x1a\n"


def has_photo(entry: TranscriptEntry) -> bool:
    return entry.photo is not None


async def test_items_are_added_updated_with_evidence_and_shown_in_the_group(world: World) -> None:
    fang, tang = world.people["方磊"], world.people["唐军"]
    await world.bind("唐军")
    tang_id = await world.member_id("唐军")

    # Guided: description → source → how → who → department → deadline → save.
    asked = await fang.say("/additem")
    assert "/additem" in asked.text
    await fang.say(
        "建立领导干部基层联系点制度", expect=contains(zh("Where does the problem come from?"))
    )
    await fang.press("add:source:meeting", expect=contains(zh("How is it to be dealt with?")))
    who = await fang.press("add:category:deadline", expect=contains(zh("Who is responsible?")))
    assert "唐军" in who.button_labels and "市政府分管领导" not in who.button_labels
    await fang.press(f"add:member:{tang_id}")
    await fang.say(
        "政办科", expect=contains(zh("By when? Type a date such as 2014-03-31 or 3月31日."))
    )
    unreadable = await fang.say("下个月吧")
    assert unreadable.text.startswith(
        zh("I cannot read the deadline “{text}”.", text="下个月吧")[:8]
    )
    preview = await fang.say("3月31日", expect=contains("2014年3月31日"))
    assert "政办科" in preview.text and zh("fix by a deadline") in preview.text
    saved = await fang.press("add:save", expect=contains(zh("Saved as item #{id}.", id=1)))
    assert "🔴" in saved.text

    push = await tang.expect(contains("建立领导干部基层联系点制度"), since=0)
    assert push.text.startswith(zh("A rectification item is assigned to you:\n{item}", item="")[:6])
    [item] = await world.rows("SELECT * FROM rectification_items")
    assert (item["source"], item["category"], item["member_id"], item["department"]) == (
        "meeting",
        "deadline",
        tang_id,
        "政办科",
    )
    assert item["due_at"].startswith("2014-03-31T15:59")  # 23:59 in Shanghai

    # One line; a bad line changes nothing.
    refused = await fang.say("/additem 乱写 | 随便 | 无名氏")
    assert "随便" in refused.text and "无名氏" in refused.text
    await fang.say(
        "/additem 精简会议文件，压缩会议数量 | 马上 | 孟平 | 办公室 | 2013-12-10",
        expect=contains(zh("Saved as item #{id}.", id=2)),
    )
    assert len(await world.rows("SELECT * FROM rectification_items")) == 2

    # 唐军 works on his item from the push: in progress, evidence (a text and a file), done.
    await tang.press("item:progress:1", expect=contains(zh("in progress")))
    await tang.press("item:evidence:1")
    stored = await tang.say("已在3个县区建立联系点")
    assert (
        zh(
            "Stored as evidence of item #{id} ({count} so far). Send more, or press Finish.",
            id=1,
            count=1,
        )
        in stored.text
    )
    await tang.send_file("联系点名单.xlsx", b"PK\x03\x04 list")
    await tang.press(
        "item:finish", expect=contains(zh("Thank you: the evidence of item #{id} is stored.", id=1))
    )
    evidence = await world.rows(
        "SELECT text, file_name, content, sha256 FROM rectification_evidence ORDER BY id"
    )
    assert [(e["text"], e["file_name"]) for e in evidence] == [
        ("已在3个县区建立联系点", None),
        (None, "联系点名单.xlsx"),
    ]
    # Kept in the files folder beside the database, not in it.
    assert evidence[1]["content"] is None
    assert world.app.files.read(evidence[1]["sha256"]) == b"PK\x03\x04 list"
    mine = await tang.say("/myitems")
    assert "建立领导干部基层联系点制度" in mine.text and "精简会议文件" not in mine.text
    mark = len(world.emulator.transcript(world.user_ids["方磊"]))
    await tang.press("item:done:1", expect=contains(zh("done")))
    await fang.expect(contains("唐军", "建立领导干部基层联系点制度"), since=mark)
    history = await world.rows(
        "SELECT status FROM rectification_history WHERE item_id = 1 ORDER BY id"
    )
    assert [h["status"] for h in history] == ["todo", "in_progress", "done"]

    # The group: completion rate, marks, and the chart as a photo.
    await world.at("2013-12-11T10:00+08:00")  # item 2 is overdue now
    shown = await fang.say("/ledger", group=world.group, expect=has_photo)
    assert "共2项：已完成1项（50%）" in shown.text
    assert "其中逾期1项" in shown.text
    assert "🟢 第1项" in shown.text and "🔴 第2项" in shown.text
    assert shown.photo is not None and shown.photo.content.startswith(PNG)


async def test_export_sends_the_report_and_tables_and_phase_summaries_carry_a_chart(
    world: World,
) -> None:
    fang = world.people["方磊"]
    await fang.say(
        "/additem 完善公务接待管理办法 | 说明 | 方磊 | | ",
        expect=contains("第1项", "完善公务接待管理办法"),
    )
    since = len(world.emulator.transcript(world.user_ids["方磊"]))
    await fang.say(
        "/export",
        expect=contains(zh("Here are the documents of the plan ({count} files).", count=4)),
    )
    await world.app.drain()
    documents = {
        e.document.filename: e.document.content
        for e in world.emulator.transcript(world.user_ids["方磊"])[since:]
        if e.document is not None
    }
    assert sorted(documents) == [
        "领导班子专题民主生活会-任务进度表.xlsx",
        "领导班子专题民主生活会-全部材料.zip",
        "领导班子专题民主生活会-情况报告.docx",
        "领导班子专题民主生活会-整改台账.xlsx",
    ]
    with zipfile.ZipFile(io.BytesIO(documents["领导班子专题民主生活会-全部材料.zip"])) as bundle:
        assert "领导班子专题民主生活会/领导班子专题民主生活会-情况报告.docx" in bundle.namelist()
    report = Document(io.BytesIO(documents["领导班子专题民主生活会-情况报告.docx"]))
    assert report.paragraphs[0].text == "关于召开领导班子专题民主生活会的\n情况报告"
    assert "完善公务接待管理办法" in [c.text for row in report.tables[0].rows for c in row.cells]
    sheet = load_workbook(io.BytesIO(documents["领导班子专题民主生活会-整改台账.xlsx"])).active
    assert sheet.cell(4, 2).value == "完善公务接待管理办法"  # below the title, date and header
    assert sheet.cell(4, 4).value == "向群众说明情况，逐步解决"

    # Only the organizer may export; a member is told so.
    await world.bind("唐军")
    refused = await world.people["唐军"].say("/export")
    assert "/export" in refused.text

    # The end of the preparation phase: the summary comes with the progress chart.
    await world.at("2013-12-20T18:00+08:00")
    summaries = [
        e
        for e in world.emulator.bot_messages(world.group)
        if e.photo is not None and e.photo.content.startswith(PNG)
    ]
    assert len(summaries) == 1
    texts = [e.text for e in world.emulator.bot_messages(world.group)]
    assert any(zh("Summary of the phase “{phase}”", phase="会前准备阶段") in t for t in texts)

    # A survey round closes with its results as a chart (fewer than min_ballots: no chart).
    plan = await world.app.plans.get(world.instance_id)
    survey = plan.survey("evaluation")
    ballots = (["好", "好", "较好"], ["较好", "好", "一般"], ["好", "差", "好"])
    for cast in (ballots[:2], ballots):
        async with world.app.db.transaction() as conn:
            survey_round = await survey_store.open_round(
                conn, world.instance_id, survey.id, world.clock.now(), None
            )
            for member_id, answers in enumerate(cast, start=1):
                await survey_store.cast(conn, survey_round.id, member_id, list(answers))
        since = len(world.emulator.bot_messages(world.group))
        closed = await close_survey(world.app, survey_round)
        assert closed is not None
        await world.app.drain()
        [announced] = world.emulator.bot_messages(world.group)[since:]
        assert announced.text.startswith(f"“{survey.title}”")
        assert (announced.photo is not None) is (len(cast) >= survey.min_ballots)
    assert announced.photo is not None and announced.photo.content.startswith(PNG)
    since = len(world.emulator.bot_messages(world.group))
    await world.at("2014-06-30T18:00+08:00")
    pictures = [e for e in world.emulator.bot_messages(world.group)[since:] if has_photo(e)]
    assert len(pictures) == 2  # the phase's progress, the ledger's completion
    assert pictures[1].text == "共1项：已完成0项（0%），正在整改0项，未开始1项；其中逾期0项。"


async def test_approved_personal_measures_are_imported_into_the_ledger(world: World) -> None:
    tang, lead, fang = world.people["唐军"], world.people["党组书记"], world.people["方磊"]
    await world.at("2013-12-31T18:00+08:00")
    await world.bind("唐军", "党组书记")
    await world.at("2014-01-01T09:00+08:00")
    assignment = await world.assignment_id("唐军", "personal-measures")
    await tang.press(f"submit:{assignment}")
    await tang.say("唐军个人整改措施：一、每月深入基层调研两次；二、精简会议文件。")
    await tang.press("draft:send", expect=contains("制定个人整改措施"))
    nothing = await fang.say("/importitems")  # not approved yet
    assert nothing.text.startswith(
        zh(
            "No new measures to import: they come from approved personal and team rectification measures."
        )[:6]
    )
    await lead.expect(contains("唐军", "第1版"), since=0)
    await lead.press("review:ok:", within=contains("第1版"))

    imported = await fang.say("/importitems", expect=contains("每月深入基层调研两次"))
    assert (
        zh("Imported {count} item from the approved rectification measures:", count=2)
        in imported.text
    )
    assert "精简会议文件" in imported.text and "2014年4月30日" in imported.text
    push = await tang.expect(contains("第1项 每月深入基层调研两次"), since=0)
    assert push.button_labels == [zh("In progress"), zh("Done"), zh("Add evidence")]
    again = await fang.say("/importitems")
    assert "每月深入基层调研两次" not in again.text
    rows = await world.rows("SELECT source, member_id FROM rectification_items ORDER BY id")
    assert [tuple(r) for r in rows] == [("self-review", await world.member_id("唐军"))] * 2


async def test_open_items_are_reminded_by_the_reminder_engine_until_done(world: World) -> None:
    fang, tang = world.people["方磊"], world.people["唐军"]
    await world.bind("唐军")
    await fang.say(
        "/additem 建立领导干部基层联系点制度 | 限期 | 唐军 | 政办科 | 2013-12-10",
        expect=contains(zh("Saved as item #{id}.", id=1)),
    )
    chat = world.user_ids["唐军"]
    await tang.expect(contains("建立领导干部基层联系点制度"), since=0)  # the push
    seen = len(world.emulator.bot_messages(chat))
    about: list[tuple[datetime, TranscriptEntry]] = []

    async def record(now: datetime) -> None:
        nonlocal seen
        arrived = world.emulator.bot_messages(chat)[seen:]
        seen += len(arrived)
        about.extend((now, e) for e in arrived if "建立领导干部基层联系点制度" in e.text)

    await world.travel("2013-12-12T12:00+08:00", record)
    deadline = datetime.fromisoformat("2013-12-10T23:59+08:00")
    reminder = zh("Reminder: {reminder}", reminder="整改事项第1项")
    overdue_reminder = zh("Overdue: {reminder}", reminder="整改事项第1项")
    before = [e for when, e in about if when < deadline]
    assert before and all(reminder in e.text for e in before)
    overdue = [e for when, e in about if when > deadline]
    assert overdue and all(overdue_reminder in e.text for e in overdue)
    assert any(zh("overdue by {days} day", days=1) in e.text for e in overdue)
    about_entries = [e for _when, e in about]
    data = {d for e in about_entries for row in e.buttons for _label, d in row}
    assert data & {"item:done:1", "item:show:1"}

    await tang.press("item:done:1", expect=contains(zh("done")))
    about.clear()
    await world.travel("2013-12-16T12:00+08:00", record)
    assert about == []


async def test_a_zip_too_large_for_a_chat_is_left_to_the_command_line(
    world: World, monkeypatch
) -> None:
    """The documents still come; the .zip is named with its size and the command that
    writes it (the limit lowered so the seed plan's few kilobytes exceed it)."""
    import handlers.export

    monkeypatch.setattr(handlers.export, "CHAT_FILE_LIMIT", 1024)
    fang = world.people["方磊"]
    since = len(world.emulator.transcript(world.user_ids["方磊"]))
    await fang.say(
        "/export",
        expect=contains(zh("Here are the documents of the plan ({count} files).", count=3)),
    )
    await world.app.drain()
    later = world.emulator.transcript(world.user_ids["方磊"])[since:]
    names = sorted(e.document.filename for e in later if e.document is not None)
    assert not any(name.endswith(".zip") for name in names) and len(names) == 3
    assert any("huiwu export 1 --out DIR" in (e.text or "") for e in later)
