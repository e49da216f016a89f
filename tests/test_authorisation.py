"""Every command × every role × group and private chat is allowed or refused exactly as the
README's command table says.

The expectations are read from the README's generated table (which ``test_readme`` keeps
equal to ``handlers.commands.markdown_table()``), one row per command in ``COMMANDS``: a
command another branch adds is checked without touching this file. Each case runs the real
dispatcher on a fresh copy of one SQLite file whose plan has one person per role.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from bot.core.app import Huiwu
from bot.core.clock import ManualClock
from bot.core.i18n import _, use_locale
from bot.core.messaging import ChatType, Event, OutgoingMessage
from bot.plan import Role, load_plan_text
from bot.plan.loading import store_plan
from bot.sandbox.demo.telegram import seed_plan_text
from handlers.commands import COMMANDS, ROLE_COLUMNS, STRANGER, CommandSpec
from handlers.context import HandlerContext
from handlers.router import dispatch
from storage import instances
from storage.db import Database
from tests.dbdump import dump_tables

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime.fromisoformat("2013-12-04T10:00+08:00")  # the preparation phase has started
GROUP_CHAT = "-4000000001"
STRANGER_ID = "999"


def user_id(column: str) -> str:
    return STRANGER_ID if column == STRANGER else str(1000 + ROLE_COLUMNS.index(column))


def single_role_plan() -> str:
    """The seed plan with one extra roster entry per role, each holding only that role."""
    text = seed_plan_text()
    extra = "".join(
        f'\n[[roster]]\nid = "only-{role.value}"\nname = "仅{role.value}"\n'
        f'roles = ["{role.value}"]\ntelegram_id = {user_id(role.value)}\nlocale = "en"\n'
        for role in Role
    )
    head, sep, tail = text.partition("\n[[phases]]")
    return head + extra + sep + tail


@dataclass(frozen=True)
class Row:
    command: str
    chats: frozenset[ChatType]
    allowed: dict[str, bool]  # role column → ✓


def readme_rows() -> dict[str, Row]:
    """The README's command table, as documented."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- commands:start.*?-->\n(.*?)\n<!-- commands:end -->", readme, re.S)
    assert block is not None
    lines = [line.strip("|").split("|") for line in block.group(1).strip().splitlines()]
    header = [cell.strip() for cell in lines[0]]
    assert header[2 : 2 + len(ROLE_COLUMNS)] == list(ROLE_COLUMNS)
    rows = {}
    for cells in lines[2:]:
        cells = [cell.strip() for cell in cells]
        command = cells[0].split()[0].lstrip("/")
        chats = frozenset(ChatType(part.strip()) for part in cells[1].split("/"))
        marks = dict(zip(header[2:], cells[2:], strict=False))
        rows[command] = Row(
            command, chats, {column: marks[column] == "✓" for column in ROLE_COLUMNS}
        )
    return rows


def refusals(spec: CommandSpec, app: Huiwu, event: Event) -> set[str]:
    """Every refusal the router can give this event, in English (the test users' language);
    the stranger's comes from the handlers' own context, whatever its wording."""
    msgids = (
        "/{name} works in the plan's group chat, not here.",
        "/{name} works in private chat with me, not in the group.",
        spec.refusal,
    )
    with use_locale("en"):
        stranger = HandlerContext(app, event, [])
        stranger.refuse_stranger()
        return {_(msgid).format(name=spec.name) for msgid in msgids} | {
            reply.text for reply in stranger.replies
        }


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with the plan loaded and the group bound (built once for the module)."""
    path = tmp_path_factory.mktemp("authorisation") / "template.sqlite3"
    asyncio.run(build_template(path))
    return path


async def build_template(path: Path) -> None:
    db = await Database.open(str(path))
    text = single_role_plan()
    plan = load_plan_text(text)
    async with db.transaction() as conn:
        instance_id = await store_plan(conn, plan, text, loaded_by="test", now=NOW)
        await instances.bind_chat(conn, instance_id, "telegram", GROUP_CHAT, NOW)
        for role in Role:
            await instances.mark_reachable(conn, "telegram", user_id(role.value), True)
    await db.close()


async def run_case(template: Path, tmp_path: Path, spec: CommandSpec, column: str, chat: ChatType):
    """Dispatch ``/command`` from the person holding ``column`` in ``chat``; return the
    replies, the refusals it could get, and the tables (but the outbox) before and after."""
    path = tmp_path / f"{spec.name}-{column}-{chat.value}.sqlite3"
    shutil.copy(template, path)
    db = await Database.open(str(path))
    try:
        app = Huiwu(db, ManualClock(NOW), default_locale="zh_CN")
        before = await dump_tables(db, exclude=("outbox",))
        sender = user_id(column)
        event = Event(
            platform="telegram",
            chat_id=sender if chat is ChatType.PRIVATE else GROUP_CHAT,
            chat_type=chat,
            user_id=sender,
            user_name=column,
            language="en",
            text=f"/{spec.name}",
            command=spec.name,
        )
        refused_texts = refusals(spec, app, event)
        await dispatch(app, event)
        rows = await db.fetch_all("SELECT payload FROM outbox WHERE chat_id = ?", (event.chat_id,))
        replies = [OutgoingMessage.from_json(row[0]).text for row in rows]
        after = await dump_tables(db, exclude=("outbox",))
    finally:
        await db.close()
    return replies, refused_texts, before, after


def test_the_readme_table_has_every_command_and_every_role() -> None:
    rows = readme_rows()
    assert list(rows) == [spec.name for spec in COMMANDS]
    assert set(ROLE_COLUMNS) == {STRANGER} | {role.value for role in Role}
    # The table is not trivially permissive or restrictive: both marks occur.
    marks = {allowed for row in rows.values() for allowed in row.allowed.values()}
    assert marks == {True, False}


@pytest.mark.parametrize("spec", COMMANDS, ids=lambda spec: spec.name)
async def test_each_role_in_each_chat_is_allowed_or_refused_as_documented(
    spec: CommandSpec, template: Path, tmp_path: Path
) -> None:
    row = readme_rows()[spec.name]
    with use_locale("en"):
        crashed = _(
            "Sorry, something went wrong on my side. Nothing you sent was lost; please try again."
        )
    for chat in ChatType:
        for column in ROLE_COLUMNS:
            documented = chat in row.chats and row.allowed[column]
            replies, refused_texts, before, after = await run_case(
                template, tmp_path, spec, column, chat
            )
            case = f"/{spec.name} by {column} in {chat.value}: {replies}"
            assert crashed not in replies, case
            refused = bool(replies) and all(reply in refused_texts for reply in replies)
            if documented:
                assert not refused, case
            else:
                assert refused, case
                assert len(replies) == 1, case
                assert after == before, case  # a refusal changes nothing


# --- the plan board: every action × every role, over HTTP ------------------------------------


def readme_board_rows() -> dict[str, dict[str, bool]]:
    """The README's board table, as documented: action -> role column -> ✓."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- board:start.*?-->\n(.*?)\n<!-- board:end -->", readme, re.S)
    assert block is not None
    lines = [line.strip("|").split("|") for line in block.group(1).strip().splitlines()]
    header = [cell.strip() for cell in lines[0]]
    assert header[1 : 1 + len(ROLE_COLUMNS)] == list(ROLE_COLUMNS)
    return {
        cells[0].strip(): {
            column: cells[1 + index].strip() == "✓" for index, column in enumerate(ROLE_COLUMNS)
        }
        for cells in lines[2:]
    }


async def board_outcomes(template: Path, tmp_path: Path) -> dict[str, dict[str, bool]]:
    """What each role column could do on a running board: action -> column -> allowed."""
    import aiohttp
    from aiohttp import web

    from bot.board.links import one_time_link
    from bot.board.web import Board, BoardSettings
    from bot.tasks import phases

    path = tmp_path / "board.sqlite3"
    shutil.copy(template, path)
    db = await Database.open(str(path))
    http = web.Application()
    runner = web.AppRunner(http, access_log=None)
    outcomes: dict[str, dict[str, bool]] = {}
    try:
        app = Huiwu(db, ManualClock(NOW), default_locale="zh_CN")
        [instance] = await instances.list_instances(db)
        plan = await app.plans.get(instance.id)
        await phases.start_phase(app, instance.id, plan.phases[0])
        Board(app, BoardSettings("http://127.0.0.1/board")).install(http)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        origin = f"http://127.0.0.1:{runner.addresses[0][1]}"
        base = f"{origin}/board"
        for column in ROLE_COLUMNS:
            link = await one_time_link(db, base, "telegram", user_id(column), instance.id, NOW)
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(cookie_jar=jar) as session:
                async with session.get(link) as response:
                    opened = response.status == 200
                    html = await response.text()
                statuses = {}
                for action, url in (("documents", "documents/ledger"), ("zip", "files.zip")):
                    async with session.get(f"{base}/{instance.id}/{url}") as response:
                        statuses[action] = response.status == 200
            for action, allowed in (
                ("open", opened),
                ("whole", opened and 'data-scope="whole"' in html),
                ("review", opened and 'id="review"' in html),
                *statuses.items(),
            ):
                outcomes.setdefault(action, {})[column] = allowed
    finally:
        await runner.cleanup()
        await db.close()
    return outcomes


async def test_each_role_on_the_board_may_do_what_the_readme_says(
    template: Path, tmp_path: Path
) -> None:
    from bot.board.access import BOARD_ACTIONS

    documented = readme_board_rows()
    assert list(documented) == [action.name for action in BOARD_ACTIONS]
    assert await board_outcomes(template, tmp_path) == documented


# --- a person on two plans; a plan that only offers itself (issue 22) ----------------------


def second_plan(title: str, organizer_id: str, member_id: str) -> str:
    """A small plan: ``organizer_id`` organises it and ``member_id`` is a plain member."""
    text = seed_plan_text().replace('title = "领导班子专题民主生活会"', f'title = "{title}"', 1)
    text = text.replace('roles = ["organizer", "member"]', 'roles = ["member"]', 1)
    head, sep, tail = text.partition("\n[[roster]]")
    extra = (
        f'\n[[roster]]\nid = "boss"\nname = "新组织者"\nroles = ["organizer"]\n'
        f'telegram_id = {organizer_id}\nlocale = "en"\n'
        f'\n[[roster]]\nid = "plain"\nname = "普通成员"\nroles = ["member"]\n'
        f'telegram_id = {member_id}\nlocale = "en"\n'
    )
    return head + extra + sep + tail


async def say(app: Huiwu, sender: str, text: str, *, button: str | None = None) -> list[str]:
    """Dispatch a private command (or a button press) and return the texts it queued."""
    before = await app.db.fetch_one("SELECT COALESCE(MAX(id), 0) FROM outbox")
    command = text[1:].split()[0] if text.startswith("/") else None
    event = Event(
        platform="telegram",
        chat_id=sender,
        chat_type=ChatType.PRIVATE,
        user_id=sender,
        user_name="someone",
        language="en",
        text=text,
        command=command,
        button=button,
    )
    await dispatch(app, event)
    rows = await app.db.fetch_all(
        "SELECT payload FROM outbox WHERE chat_id = ? AND id > ?", (sender, before[0])
    )
    return [OutgoingMessage.from_json(row[0]).text for row in rows]


async def test_private_commands_act_on_the_chosen_plan_and_name_it(
    template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "two-plans.sqlite3"
    shutil.copy(template, path)
    db = await Database.open(str(path))
    try:
        app = Huiwu(db, ManualClock(NOW), default_locale="zh_CN")
        organizer = user_id(Role.ORGANIZER.value)
        [first] = await db.fetch_all("SELECT id FROM plan_instances")
        # The operator loads a second plan where the first plan's organizer is a plain member.
        text = second_plan("第二个方案", STRANGER_ID, organizer)
        async with db.transaction() as conn:
            second = await store_plan(conn, load_plan_text(text), text, loaded_by="cli", now=NOW)
        # Being named in a new plan does not switch the person's plan: /invites still works.
        [answer] = await say(app, organizer, "/invites")
        assert answer.startswith("Plan: 领导班子专题民主生活会 (/plans switches)\n"), answer
        assert "no invite is needed" in answer  # no platform runs: the answer of plan 1
        listed = await say(app, organizer, "/plans")
        assert "▶ 领导班子专题民主生活会" in listed[0] and "第二个方案" in listed[0]
        await say(app, organizer, "", button=f"plans:use:{second}")
        [refused] = await say(app, organizer, "/invites")
        assert refused.startswith("Plan: 第二个方案 (/plans switches)\n"), refused
        assert "Only the plan's organizer can use /invites." in refused
        assert "Another of your plans allows it: /plans switches." in refused
        # Someone else's plan cannot be chosen; a forged 40-digit id is just an invalid button.
        assert await say(app, organizer, "", button="plans:use:99") == [
            "This button is no longer valid."
        ]
        assert await say(app, organizer, "", button="plans:use:" + "9" * 40) == [
            "This button is no longer valid."
        ]
        await say(app, organizer, "", button=f"plans:use:{first[0]}")
        [allowed] = await say(app, organizer, "/invites")
        assert "no invite is needed" in allowed
    finally:
        await db.close()


async def test_a_plan_that_only_offers_itself_gives_its_named_people_nothing(
    template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "offered.sqlite3"
    shutil.copy(template, path)
    db = await Database.open(str(path))
    try:
        app = Huiwu(db, ManualClock(NOW), default_locale="zh_CN")
        organizer, member = user_id(Role.ORGANIZER.value), user_id(Role.MEMBER.value)
        text = second_plan("紧急通知：请点击链接", STRANGER_ID, organizer)
        async with db.transaction() as conn:
            offered = await store_plan(
                conn,
                load_plan_text(text),
                text,
                loaded_by=f"telegram:{STRANGER_ID}",
                now=NOW,
                binds=lambda platform, account: account == STRANGER_ID,
            )
        for sender in (organizer, member):
            for command in ("/status", "/plan", "/invites", "/mytasks", "/help"):
                for answer in await say(app, sender, command):
                    assert "紧急通知" not in answer and "Plan:" not in answer, (command, answer)
        # The organizer of the real plan is offered the plan; only /plans shows it, on request.
        [listed] = await say(app, organizer, "/plans")
        assert "Offered to you, not accepted:" in listed and f"No. {offered}" in listed
        members = await instances.members_for_user(db, "telegram", organizer)
        assert offered not in {m.instance_id for m in members}
    finally:
        await db.close()


FORGED = "9" * 40  # an id no SQLite integer holds


@pytest.mark.parametrize(
    "data",
    [
        f"submit:{FORGED}",
        f"review:ok:{FORGED}",
        f"talk:rec:{FORGED}",
        f"talk:ok:{FORGED}",
        f"cast:{FORGED}",
        f"vote:1:2:{FORGED}",
        f"op:to:1:{FORGED}",
        f"item:done:{FORGED}",
        f"plans:yes:{FORGED}",
    ],
)
async def test_a_forged_button_with_a_huge_id_is_refused_and_changes_nothing(
    data: str, template: Path, tmp_path: Path
) -> None:
    path = tmp_path / "forged.sqlite3"
    shutil.copy(template, path)
    db = await Database.open(str(path))
    try:
        app = Huiwu(db, ManualClock(NOW), default_locale="zh_CN")
        before = await dump_tables(db, exclude=("outbox",))
        answers = await say(app, user_id(Role.ORGANIZER.value), "", button=data)
        assert answers == ["This button is no longer valid."]
        assert await dump_tables(db, exclude=("outbox",)) == before
    finally:
        await db.close()
