"""A work-plan document (.txt / .docx) sent to the bot in private goes through the importer
and gets the same preview and "load" button as a .toml; what the importer cannot read is
shown with its line and text. On the Telegram emulator, over real HTTP.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from bot.core.i18n import _, use_locale
from bot.core.policy import PlanLoaders
from bot.plan import load_plan_text
from bot.plan.importer import import_plan_text
from bot.sandbox.demo.telegram import seed_plan_text
from bot.sandbox.telegram.people import SimulatedPerson, contains
from bot.sandbox.telegram.transcript import TranscriptEntry
from tests.e2e.conftest import World, WorldFactory, en, outgoing, zh
from tests.plan.test_importer import phase_tasks

REPO = Path(__file__).resolve().parents[2]
# shared/ sits beside the repository; HUIWU_SHARED names it where it is elsewhere (a worktree).
SEED = Path(os.environ.get("HUIWU_SHARED", REPO / "../shared")) / "seed/000_d828633de8e0f4c1.txt"
DOCUMENTS = REPO / "tests/plan/documents"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def docx_bytes(text: str) -> bytes:
    """The document as Word would save it: one paragraph a line."""
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


async def send_document(
    person: SimulatedPerson, world: World, name: str, content: bytes, mime: str
) -> list[TranscriptEntry]:
    """Send a file in private and return every bot message it caused (a long preview is split)."""
    since = len(world.emulator.transcript(person.user_id))
    await person.send_file(name, content, mime_type=mime)
    await world.app.drain()
    return outgoing(world.emulator.transcript(person.user_id)[since:])


async def test_the_seed_document_sent_by_the_organizer_is_previewed_and_loaded(
    world: World,
) -> None:
    if not SEED.exists():
        pytest.skip("seed document ../shared/seed/000_d828633de8e0f4c1.txt not present")
    fang = world.people["方磊"]
    answers = await send_document(
        fang, world, "民主生活会方案.txt", SEED.read_bytes(), "text/plain"
    )
    preview = "\n".join(entry.text for entry in answers)
    for phase in ("会前准备阶段", "会议进行阶段", "会后整改阶段"):
        assert phase in preview
    assert answers[-1].buttons == [
        [(zh("Load this plan"), "planload:ok"), (zh("Cancel"), "planload:no")]
    ]
    instances_before = await world.rows("SELECT id FROM plan_instances")

    loaded = await fang.press("planload:ok", expect=contains("领导班子专题民主生活会"))
    number = int(re.search(r"\d+", loaded.text.split("”", 1)[1])[0])  # type: ignore[index]
    assert number not in {row[0] for row in instances_before}
    [stored] = await world.rows("SELECT plan_toml FROM plan_instances WHERE id = ?", (number,))
    assert phase_tasks(load_plan_text(stored[0])) == phase_tasks(load_plan_text(seed_plan_text()))
    # The uploader is the new plan's organizer, bound by his account.
    organizer = await world.rows(
        "SELECT m.roles FROM members m JOIN identities i ON i.member_id = m.id "
        "WHERE m.instance_id = ? AND i.user_id = ?",
        (number, str(world.user_ids["方磊"])),
    )
    assert [row[0] for row in organizer] == ["member,organizer"]
    assert await world.rows("SELECT * FROM conversations") == []


async def test_a_docx_with_unreadable_parts_lists_them_by_line_and_can_be_cancelled(
    make_world: WorldFactory,
) -> None:
    # Strangers may send plans only where HUIWU_PLAN_LOADERS=anyone (the default: organizers).
    world = await make_world(plan_loaders=PlanLoaders.ANYONE)
    stranger_id = world.emulator.add_user("Chen", language_code="en")
    chen = SimulatedPerson(world.emulator, stranger_id, "Chen")
    source = (DOCUMENTS / "problems.txt").read_text(encoding="utf-8")
    before = await world.row_counts()
    answers = await send_document(chen, world, "plan.docx", docx_bytes(source), DOCX)
    preview = "\n".join(entry.text for entry in answers)
    with use_locale("en"):
        heading = _("What the importer could not read or found inconsistent — please check:")
    assert heading in preview
    with use_locale("en"):
        [issue] = [i for i in import_plan_text(source).warnings if "另行通知" in i.message]
    # The line of the document, the problem in the reader's language, and the line's text.
    assert issue.line == 4 and issue.text.startswith("一是组织学习")
    shown = en("line {line}: {problem} — “{text}”", line=4, problem=issue.message, text=issue.text)
    assert "• " + shown in preview.splitlines()
    assert answers[-1].buttons[0][0][1] == "planload:ok"

    done = await chen.press("planload:no")
    assert done.text == en("Cancelled. Nothing was stored.")
    after = await world.row_counts()
    assert after.pop("outbox") > before.pop("outbox")
    assert after == before


async def test_a_members_document_outside_a_submission_is_not_taken_for_a_plan(
    world: World,
) -> None:
    await world.bind("唐军")
    tang = world.people["唐军"]
    source = (DOCUMENTS / "spaced-names.txt").read_bytes()
    [answer] = await send_document(tang, world, "方案.txt", source, "text/plain")
    assert answer.text == zh(
        "To hand something in, send /submit first and choose the task. /help lists what I can do."
    )
    assert await world.rows("SELECT * FROM conversations") == []


async def test_an_unreadable_document_is_refused_and_nothing_is_stored(world: World) -> None:
    fang = world.people["方磊"]
    before = await world.row_counts()
    [answer] = await send_document(fang, world, "方案.docx", b"\x00\x01 not a zip", DOCX)
    assert answer.text == zh(
        "I cannot read that document: send a .docx (Word) file or a text file in UTF-8 or GB18030."
    )
    assert answer.buttons == []
    after = await world.row_counts()
    assert after.pop("outbox") - before.pop("outbox") == 1
    assert after == before


async def test_a_document_with_nothing_of_a_plan_in_it_is_refused(world: World) -> None:
    fang = world.people["方磊"]
    before = await world.row_counts()
    text = "会议纪要\n大家讨论了工作。\n".encode()
    [answer] = await send_document(fang, world, "纪要.txt", text, "text/plain")
    assert answer.text.startswith(zh("The plan cannot be loaded:"))
    assert "纪要.txt" in answer.text  # the importer's reason names the document
    after = await world.row_counts()
    assert after.pop("outbox") - before.pop("outbox") == 1
    assert after == before


async def test_another_office_s_docx_with_task_tables_is_loaded_with_its_people_and_units(
    world: World,
) -> None:
    fang = world.people["方磊"]
    document = DOCUMENTS / "genre/06-company-2021.docx"
    answers = await send_document(fang, world, document.name, document.read_bytes(), DOCX)
    preview = "\n".join(entry.text for entry in answers)
    # A task only a unit answers for is named with its line, asking for the unit's contact.
    with use_locale("zh_CN"):
        unit = _(
            "“{title}”: {unit} is a unit, not a person; the task is given to the organizer until you name the person who answers for {unit}"
        ).format(title="报送会议情况报告", unit="党委办公室")
    assert unit in preview
    loaded = await fang.press("planload:ok", expect=contains("民主生活会"))
    number = int(re.search(r"\d+", loaded.text.split("”", 1)[1])[0])  # type: ignore[index]
    [stored] = await world.rows("SELECT plan_toml FROM plan_instances WHERE id = ?", (number,))
    plan = load_plan_text(stored[0])
    # One roster entry per person, the secretary as chair and lead; no office became a person.
    names = [member.name for member in plan.members]
    assert names.count("高建新") == 1 and "党委办公室" not in names
    chair = next(member for member in plan.members if member.name == "高建新")
    assert {"chair", "lead", "member"} <= set(chair.roles)
    # Rows of the tables are tasks, with their owners and departments.
    report = next(
        task for phase in plan.phases for task in phase.tasks if task.title == "报送会议情况报告"
    )
    assert report.department == "党委办公室"
    assert [task.title for task in plan.phases[0].tasks] == [
        "开展专题学习",
        "广泛征求意见",
        "开展谈心谈话",
        "撰写对照检查材料",
    ]
