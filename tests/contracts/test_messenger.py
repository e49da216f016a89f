"""One contract for every platform's ``Messenger`` (as aiogram runs one storage suite over every
backend): the same tests run against the Telegram adapter on the Telegram emulator and the
WeCom adapter on the WeCom emulator, over real HTTP.

What the core relies on: a text arrives whole, in order, however long; buttons arrive with
their labels; a file arrives with its name; the pressed message can lose its buttons; a file a
member sent can be downloaded; and each platform's failures reach the core as the neutral
errors (unreachable, throttled, passing trouble) the outbox sender acts on.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import pytest

from bot.adapters.telegram import adapter as telegram_adapter
from bot.adapters.wecom.client import WeComClient
from bot.adapters.wecom.messenger import WeComMessenger
from bot.core.messaging import (
    Button,
    IncomingFile,
    Messenger,
    OutgoingFile,
    OutgoingMessage,
    RecipientUnreachable,
    RetryAfter,
    TransientSendError,
)
from bot.sandbox.telegram.api import TelegramEmulator
from bot.sandbox.telegram.limits import FaultPlan
from bot.sandbox.wecom.api import WeComEmulator
from storage.files import FileTooLarge

LONG_TEXT = "\n".join(f"第{n}行：整改措施落实情况，逐条说明。" for n in range(1, 400))


@dataclass
class Received:
    """What a member saw, platform aside: each message's text, button labels and file name."""

    text: str
    buttons: list[str] = field(default_factory=list)
    file_name: str | None = None
    updated: bool = False


class Harness(Protocol):
    messenger: Messenger
    reachable: str  # the chat of a member who has opened the bot
    unknown: str  # a chat nobody can be reached at

    def received(self, chat_id: str) -> list[Received]: ...
    def pressed(self, chat_id: str) -> str: ...
    def fail_next(self, kind: str) -> None: ...
    def member_file(self, chat_id: str, name: str, content: bytes) -> IncomingFile: ...


class TelegramHarness:
    def __init__(self, emulator: TelegramEmulator, messenger: Messenger) -> None:
        self.emulator = emulator
        self.messenger = messenger
        user = emulator.add_user("方磊")
        emulator.open_private_chat(user)
        self.reachable = str(user)
        self.unknown = "7999999999"

    def received(self, chat_id: str) -> list[Received]:
        seen: dict[int, Received] = {}
        for entry in self.emulator.bot_messages(int(chat_id)):
            attachment = entry.document or entry.photo
            seen[entry.message_id] = Received(
                entry.text,
                entry.button_labels,
                attachment.filename if entry.document and attachment else None,
                updated=entry.edited or entry.message_id in seen,
            )
        return list(seen.values())

    def pressed(self, chat_id: str) -> str:
        last = [e for e in self.emulator.bot_messages(int(chat_id)) if e.buttons][-1]
        media = last.document is not None or last.photo is not None
        return json.dumps(
            {"chat": int(chat_id), "message": last.message_id, "text": last.text, "media": media}
        )

    def fail_next(self, kind: str) -> None:
        plan = {"throttled": {"p_too_many": 1.0}, "server": {"p_server_error": 1.0}}[kind]
        self.emulator.inject_faults(FaultPlan(seed=1, **plan))  # type: ignore[arg-type]

    def member_file(self, chat_id: str, name: str, content: bytes) -> IncomingFile:
        update = self.emulator.send_document(int(chat_id), name, content)
        document = update["message"]["document"]
        return IncomingFile(document["file_id"], name, None, len(content))


class WeComHarness:
    def __init__(self, emulator: WeComEmulator, messenger: WeComMessenger) -> None:
        self.emulator = emulator
        self.messenger = messenger
        emulator.add_user("fanglei", "方磊")
        self.reachable = "fanglei"
        self.unknown = "nobody"

    def received(self, chat_id: str) -> list[Received]:
        seen = []
        for message in self.emulator.inbox(chat_id):
            content = message.content
            if message.msgtype in ("file", "image"):
                media = self.emulator.media[content["media_id"]]
                seen.append(Received("", file_name=media.filename))
            elif message.msgtype == "template_card":
                text = "\n".join(
                    part
                    for part in (content["main_title"]["title"], content.get("sub_title_text"))
                    if part
                )
                labels = [b["text"] for b in content.get("button_list", [])]
                seen.append(Received(text, labels, updated=message.updated))
            else:
                seen.append(Received(content["content"]))
        return seen

    def pressed(self, chat_id: str) -> str:
        card = [m for m in self.emulator.inbox(chat_id) if m.msgtype == "template_card"][-1]
        return self.emulator.press_code(chat_id, card.content["task_id"])

    def fail_next(self, kind: str) -> None:
        self.emulator.fail_next({"throttled": 45009, "server": -500}[kind], path="message/send")

    def member_file(self, chat_id: str, name: str, content: bytes) -> IncomingFile:
        return IncomingFile(self.emulator.add_media(name, content), None, None, None)


@pytest.fixture(params=["telegram", "wecom"])
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[Harness]:
    if request.param == "telegram":
        async with TelegramEmulator() as emulator:
            emulator.add_bot("123:CONTRACT")
            application = telegram_adapter.build_application(
                "123:CONTRACT", base_url=emulator.base_url
            )
            await application.initialize()
            try:
                yield TelegramHarness(emulator, telegram_adapter.TelegramMessenger(application))
            finally:
                await application.shutdown()
    else:
        emulator = WeComEmulator(corp_id="wwcontract", corp_secret="s" * 43, agent_id=1000002)
        async with emulator:
            client = WeComClient(
                corp_id="wwcontract",
                corp_secret="s" * 43,
                agent_id=1000002,
                api_base_url=emulator.base_url,
                timeout=5.0,
                max_backoff_retries=0,
                max_http_retries=0,
            )
            try:
                yield WeComHarness(emulator, WeComMessenger(client, retry_after=0.01))
            finally:
                await client.close()


def _all_text(received: list[Received]) -> str:
    return "\n".join(r.text for r in received)


async def test_a_text_arrives_as_sent(harness: Harness) -> None:
    await harness.messenger.send(harness.reachable, OutgoingMessage("你好，方磊"))
    assert [r.text for r in harness.received(harness.reachable)] == ["你好，方磊"]


async def test_a_long_text_arrives_whole_and_in_order(harness: Harness) -> None:
    await harness.messenger.send(harness.reachable, OutgoingMessage(LONG_TEXT))
    received = harness.received(harness.reachable)
    assert len(received) > 1  # more than one platform message holds
    lines = _all_text(received).splitlines()
    assert [line for line in lines if line] == LONG_TEXT.splitlines()


async def test_buttons_arrive_with_their_labels(harness: Harness) -> None:
    buttons = ((Button("提交", "submit:1"), Button("我的任务", "mytasks")),)
    await harness.messenger.send(
        harness.reachable, OutgoingMessage("新任务", buttons, title="任务")
    )
    received = harness.received(harness.reachable)
    assert received[-1].buttons == ["提交", "我的任务"]
    assert "新任务" in _all_text(received)


async def test_a_file_arrives_with_its_name(harness: Harness) -> None:
    file = OutgoingFile("情况报告.docx", b"PK\x03\x04report", "application/octet-stream")
    await harness.messenger.send(harness.reachable, OutgoingMessage("文件", file=file))
    assert "情况报告.docx" in [r.file_name for r in harness.received(harness.reachable)]


async def test_the_pressed_message_loses_its_buttons(harness: Harness) -> None:
    buttons = ((Button("同意", "review:ok:1"),),)
    await harness.messenger.send(
        harness.reachable, OutgoingMessage("请审阅", buttons, title="审阅")
    )
    pressed = harness.pressed(harness.reachable)
    await harness.messenger.send(harness.reachable, OutgoingMessage("✓ 已同意", updates=pressed))
    last = harness.received(harness.reachable)[-1]
    assert last.updated and last.buttons == []


async def test_a_file_a_member_sent_can_be_downloaded(harness: Harness) -> None:
    file = harness.member_file(harness.reachable, "剖析材料.txt", "对照检查".encode())
    assert await harness.messenger.download(file) == "对照检查".encode()


async def test_a_file_a_member_sent_streams_into_a_sink_piece_by_piece(
    harness: Harness,
) -> None:
    content = bytes(range(256)) * 1024  # 256 KiB: several pieces
    file = harness.member_file(harness.reachable, "录音.bin", content)

    class Pieces:
        def __init__(self) -> None:
            self.pieces: list[bytes] = []

        def write(self, chunk: bytes) -> None:
            self.pieces.append(chunk)

    sink = Pieces()
    await harness.messenger.download_to(file, sink)
    assert b"".join(sink.pieces) == content and len(sink.pieces) > 1
    assert harness.messenger.max_download_bytes == 20 * 1024 * 1024


async def test_a_file_over_the_platforms_limit_is_refused_before_fetching(
    harness: Harness,
) -> None:
    file = harness.member_file(harness.reachable, "录像.mp4", b"x")
    too_big = dataclasses.replace(file, size=20 * 1024 * 1024 + 1)

    class Nothing:
        def write(self, chunk: bytes) -> None:
            raise AssertionError("nothing may be fetched")

    with pytest.raises(FileTooLarge):
        await harness.messenger.download_to(too_big, Nothing())


async def test_an_unknown_recipient_is_unreachable(harness: Harness) -> None:
    with pytest.raises(RecipientUnreachable):
        await harness.messenger.send(harness.unknown, OutgoingMessage("你好"))


async def test_throttling_asks_to_retry_after(harness: Harness) -> None:
    harness.fail_next("throttled")
    with pytest.raises(RetryAfter) as raised:
        await harness.messenger.send(harness.reachable, OutgoingMessage("你好"))
    assert raised.value.seconds > 0


async def test_a_server_error_is_passing_trouble(harness: Harness) -> None:
    harness.fail_next("server")
    with pytest.raises(TransientSendError):
        await harness.messenger.send(harness.reachable, OutgoingMessage("你好"))
