"""Random input through the real dispatcher (``handlers.router.dispatch``, neutral Events):
random and very long text, control characters, unknown commands and arguments, malformed
button data, files of unexpected types and sizes, unknown users and chats.

For every input: no unhandled exception, every answer in the sender's language, and where
the input is refused, the database (all but the outbox, which holds the answer) unchanged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.adapters.telegram.adapter import TELEGRAM_POLICY
from bot.core.app import Huiwu, PlatformInfo
from bot.core.clock import ManualClock
from bot.core.i18n import _, use_locale
from bot.core.messaging import ByteSink, ChatType, Event, IncomingFile, OutgoingMessage
from bot.delivery.sender import OutboxSender
from bot.plan import Role, load_plan_text
from bot.plan.loading import store_plan
from bot.sandbox.demo.telegram import seed_plan_text
from bot.tasks import phases
from handlers.commands import BY_KEYWORD, BY_NAME, COMMANDS
from handlers.router import dispatch
from storage import instances
from storage.db import Database
from tests.dbdump import dump_tables

NOW = datetime.fromisoformat("2013-12-04T10:00+08:00")  # the preparation phase has started
GROUP_CHAT = "-4000000001"
MEMBER_IDS = {  # roster key → Telegram user id
    "fanglei": "2001",
    "tangjun": "2002",
    "mengping": "2003",
    "secretary": "2004",
    "city-leader": "2005",
    "branch-secretary": "2006",
}
STRANGER = "2999"
ROLES = {  # the seed roster's roles, by user id
    "2001": {Role.ORGANIZER, Role.MEMBER},
    "2002": {Role.MEMBER},
    "2003": {Role.MEMBER},
    "2004": {Role.CHAIR, Role.LEAD, Role.MEMBER},
    "2005": {Role.SUPERIOR},
    "2006": {Role.ATTENDEE},
}
ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{[^}]*\}")
CJK = re.compile(r"[\u4e00-\u9fff]")
VALID_BUTTON = re.compile(
    r"mytasks|submit:\d+|draft:(send|cancel)|review:(ok|ret):\d+|planload:(ok|no)"
)


class FileShelf:
    """The files users "sent", by reference: the platform side of a download."""

    platform = "telegram"
    max_download_bytes: int | None = None

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    async def send(self, chat_id: str, message: OutgoingMessage) -> None:
        raise AssertionError("the fuzz tests never start the sender")

    async def download(self, file: IncomingFile) -> bytes:
        return self.files[file.file_ref]

    async def download_to(self, file: IncomingFile, sink: ByteSink) -> None:
        sink.write(self.files[file.file_ref])


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "template.sqlite3"
    asyncio.run(build_template(path))
    return path


async def build_template(path: Path) -> None:
    """The seed plan, bound to the group, its members bound and the first phase started."""
    db = await Database.open(str(path))
    app = Huiwu(db, ManualClock(NOW))
    text = seed_plan_text()
    async with db.transaction() as conn:
        instance_id = await store_plan(conn, load_plan_text(text), text, loaded_by="t", now=NOW)
        await instances.bind_chat(conn, instance_id, "telegram", GROUP_CHAT, NOW)
        await instances.set_status(conn, instance_id, "active")
        for member in await instances.members_of(db, instance_id):
            user = MEMBER_IDS.get(member.member_key)
            if user is not None:
                await instances.set_identity(conn, member.id, "telegram", user, reachable=True)
    await phases.tick(app)
    await db.close()


@dataclass
class Outcome:
    replies: list[str]
    changed: bool


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    logging.getLogger().addHandler(handler)
    yield handler
    logging.getLogger().removeHandler(handler)


async def run(template: Path, workdir: Path, event: Event, files: dict[str, bytes]) -> Outcome:
    path = workdir / "case.sqlite3"
    shutil.copy(template, path)
    db = await Database.open(str(path))
    try:
        app = Huiwu(db, ManualClock(NOW))
        shelf = FileShelf()
        shelf.files.update(files)
        app.add_platform(
            "telegram", PlatformInfo(OutboxSender(db, app.clock, shelf, TELEGRAM_POLICY))
        )
        before = await dump_tables(db, exclude=("outbox",))
        mark = (await db.fetch_one("SELECT COALESCE(MAX(id), 0) FROM outbox"))[0]  # type: ignore[index]
        await dispatch(app, event)
        # The answers to the event (pushes it causes carry their plan and go out in the
        # member's or the plan's language, which the sender's Telegram setting does not change).
        rows = await db.fetch_all(
            "SELECT payload FROM outbox WHERE id > ? AND instance_id IS NULL ORDER BY id", (mark,)
        )
        after = await dump_tables(db, exclude=("outbox",))
    finally:
        await db.close()
    # Files (an export) are captioned with their names, in the plan's language: not answers.
    messages = [OutgoingMessage.from_json(row[0]) for row in rows]
    replies = [message.text for message in messages if message.file is None]
    return Outcome(replies, before != after)


# --- strategies ------------------------------------------------------------------------

senders = st.sampled_from([*MEMBER_IDS.values(), STRANGER]) | st.integers(1, 10**12).map(str)
languages = st.sampled_from(["zh-hans", "en", "en-GB", "fr", None])
control_text = st.text(
    st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "So"]), max_size=50
)
any_text = st.text(max_size=300) | control_text
long_text = st.builds(
    lambda piece, times: piece * times, st.text(min_size=1, max_size=12), st.integers(350, 700)
)
texts = (any_text | long_text).filter(lambda t: t.strip() not in BY_KEYWORD)
unknown_names = st.from_regex(r"[a-z0-9_]{1,64}", fullmatch=True).filter(lambda n: n not in BY_NAME)
args = st.lists(st.text(min_size=1, max_size=40).filter(lambda a: not a.isspace()), max_size=4).map(
    tuple
)
bad_buttons = (
    st.text(max_size=80).filter(lambda d: not VALID_BUTTON.fullmatch(d.strip()))
    | st.integers(10**6, 10**9).map(lambda n: f"submit:{n}")
    | st.tuples(st.sampled_from(["ok", "ret"]), st.integers(10**6, 10**9)).map(
        lambda v: f"review:{v[0]}:{v[1]}"
    )
    | st.sampled_from(
        ["draft:send", "draft:cancel", "planload:ok", "planload:no", "submit:", "review:ok:"]
    )
)
file_names = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.builds(
        lambda stem, ext: stem + ext,
        st.text(max_size=20),
        st.sampled_from([".toml", ".txt", ".docx", ".exe", ".pdf", ".jpg", ""]),
    ),
)
mime_types = st.sampled_from(
    [None, "application/octet-stream", "text/plain", "image/png", "application/x-msdownload"]
) | st.text(max_size=30)


@st.composite
def chats(draw: st.DrawFn, sender: str) -> tuple[str, ChatType]:
    kind = draw(st.sampled_from(["private", "group", "unknown-group"]))
    if kind == "private":
        return sender, ChatType.PRIVATE
    if kind == "group":
        return GROUP_CHAT, ChatType.GROUP
    return str(-draw(st.integers(1, 10**13))), ChatType.GROUP


@st.composite
def refused_events(draw: st.DrawFn) -> tuple[Event, dict[str, bytes]]:
    """Input that must change nothing: plain text, unknown commands, malformed buttons,
    files outside any conversation, commands the table refuses the sender."""
    sender = draw(senders)
    chat_id, chat_type = draw(chats(sender))
    common = {
        "platform": "telegram",
        "chat_id": chat_id,
        "chat_type": chat_type,
        "user_id": sender,
        "user_name": draw(st.text(max_size=20)),
        "language": draw(languages),
    }
    kind = draw(st.sampled_from(["text", "unknown", "button", "file", "refused-command"]))
    files: dict[str, bytes] = {}
    if kind == "text":
        event = Event(**common, text=draw(texts))
    elif kind == "unknown":
        name = draw(unknown_names)
        event = Event(**common, text=f"/{name}", command=name, args=draw(args))
    elif kind == "button":
        event = Event(**common, button=draw(bad_buttons))
    elif kind == "file":
        content = draw(st.binary(max_size=2048))
        size = draw(st.sampled_from([len(content), 10**9, None]))
        ref = f"file-{len(content)}"
        files[ref] = content
        photo = draw(st.booleans())
        incoming = IncomingFile(
            ref,
            None if photo else draw(file_names),
            "image/jpeg" if photo else draw(mime_types),
            size,
            is_photo=photo,
        )
        event = Event(**common, text=draw(st.text(max_size=100)), files=(incoming,))
    else:
        event = draw(refused_command(common))
    return event, files


@st.composite
def refused_command(draw: st.DrawFn, common: dict) -> Event:
    """A known command where the table refuses it: in the wrong kind of chat, from a
    stranger, or from a member without the role it needs."""
    options = []
    for spec in COMMANDS:
        for chat_type in ChatType:
            for sender in (STRANGER, *MEMBER_IDS.values()):
                refused_chat = chat_type not in spec.chats
                refused_role = not spec.allows_roles(ROLES.get(sender, set())) or (
                    sender == STRANGER and spec.roles is not None
                )
                if refused_chat or refused_role:
                    options.append((spec, chat_type, sender))
    spec, chat_type, sender = draw(st.sampled_from(options))
    chat_id = sender if chat_type is ChatType.PRIVATE else GROUP_CHAT
    return Event(
        **{**common, "user_id": sender, "chat_id": chat_id, "chat_type": chat_type},
        text=f"/{spec.name}",
        command=spec.name,
        args=draw(args),
    )


@st.composite
def allowed_commands(draw: st.DrawFn) -> Event:
    """Known commands (and their Chinese words) with random arguments, from anyone anywhere."""
    sender = draw(senders)
    chat_id, chat_type = draw(chats(sender))
    spec = draw(st.sampled_from(COMMANDS))
    common = {
        "platform": "telegram",
        "chat_id": chat_id,
        "chat_type": chat_type,
        "user_id": sender,
        "language": draw(languages),
    }
    if spec.keywords and draw(st.booleans()):
        return Event(**common, text=spec.keywords[0])
    arguments = draw(args | st.tuples(long_text))
    return Event(
        **common, text=" ".join((f"/{spec.name}", *arguments)), command=spec.name, args=arguments
    )


def expected_locale(event: Event) -> str:
    return "en" if (event.language or "").startswith("en") else "zh_CN"


def catalog_fragments() -> dict[str, set[str]]:
    """Pieces of text only one language's messages contain, by locale: English sentences
    of the msgids (between placeholders) and Chinese phrases of the zh_CN translations
    that are not also words of the seed plan."""
    path = ROOT / "locales/zh_CN/LC_MESSAGES/huiwu.po"
    with path.open("rb") as handle:
        catalog = read_po(handle)
    english, chinese = set(), set()
    for message in catalog:
        if not message.id or not message.string or not isinstance(message.id, str):
            continue
        english.update(
            piece.strip()
            for piece in PLACEHOLDER.split(message.id)
            if len(piece.strip()) >= 12 and " " in piece.strip()
        )
        chinese.update(
            piece.strip()
            for piece in PLACEHOLDER.split(str(message.string))
            if len(CJK.findall(piece)) >= 4
        )
    # A phrase that is also plan data (a task title such as 征求意见) tells no language.
    plan = seed_plan_text()
    return {"en": english, "zh_CN": {piece for piece in chinese if piece not in plan}}


FRAGMENTS = catalog_fragments()


def check_answers(event: Event, outcome: Outcome, errors: ErrorLog) -> None:
    """No error was logged, nothing went wrong, and each answer is in the sender's language:
    none holds a phrase of the other language's messages, and a Chinese one has Chinese."""
    assert not errors.records, [r.getMessage() for r in errors.records]
    locale = expected_locale(event)
    with use_locale(locale):
        crashed = _(
            "Sorry, something went wrong on my side. Nothing you sent was lost; please try again."
        )
    assert crashed not in outcome.replies
    other = FRAGMENTS["zh_CN" if locale == "en" else "en"]
    for reply in outcome.replies:
        foreign = [piece for piece in other if piece in reply]
        assert not foreign, f"{locale} reader gets {foreign} in {reply!r}"
        if locale == "zh_CN":
            assert CJK.search(reply), f"not in Chinese: {reply!r}"


FUZZ = settings(
    max_examples=150,
    derandomize=True,  # the same examples in every run: CI is not a lottery
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(case=refused_events())
def test_refused_input_is_answered_in_the_senders_language_and_changes_nothing(
    case: tuple[Event, dict[str, bytes]], template: Path, tmp_path: Path, error_log: ErrorLog
) -> None:
    event, files = case
    error_log.records.clear()
    outcome = asyncio.run(run(template, tmp_path, event, files))
    check_answers(event, outcome, error_log)
    assert not outcome.changed, (event, outcome.replies)
    something = event.text.strip() or event.files or event.button is not None or event.command
    if event.is_private and something:  # in private, the sender is always told something
        assert outcome.replies, event


@FUZZ
@given(event=allowed_commands())
def test_any_command_with_any_arguments_is_handled_without_error(
    event: Event, template: Path, tmp_path: Path, error_log: ErrorLog
) -> None:
    error_log.records.clear()
    outcome = asyncio.run(run(template, tmp_path, event, {}))
    check_answers(event, outcome, error_log)
