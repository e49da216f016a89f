"""Tests of the Telegram Bot API emulator, driven by python-telegram-bot over real HTTP."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardMarkup, Update
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.sandbox.telegram.api import TelegramEmulator
from bot.sandbox.telegram.limits import FaultPlan, FloodLimits

TOKEN = "123456:TEST-token"


class FakeClock:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def retry_after_as_timedelta(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opts in to python-telegram-bot's coming ``RetryAfter.retry_after`` type."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")


@pytest.fixture
async def emulator() -> AsyncIterator[TelegramEmulator]:
    async with TelegramEmulator() as emulator:
        emulator.add_bot(TOKEN)
        yield emulator


@asynccontextmanager
async def connected_bot(emulator: TelegramEmulator) -> AsyncIterator[telegram.Bot]:
    bot = telegram.Bot(TOKEN, base_url=emulator.base_url, base_file_url=emulator.base_file_url)
    async with bot:
        yield bot


@pytest.fixture
async def bot(emulator: TelegramEmulator) -> AsyncIterator[telegram.Bot]:
    async with connected_bot(emulator) as bot:
        yield bot


@asynccontextmanager
async def polling_application(
    emulator: TelegramEmulator, *handlers: BaseHandler[Update, ContextTypes.DEFAULT_TYPE, None]
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(emulator.base_url)
        .base_file_url(emulator.base_file_url)
        .build()
    )
    for handler in handlers:
        application.add_handler(handler)
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=5)
        try:
            yield application
        finally:
            await application.updater.stop()
            await application.stop()


async def test_get_me_answers_the_bot_identity(bot: telegram.Bot) -> None:
    me = await bot.get_me()

    assert (me.id, me.username, me.first_name, me.is_bot) == (123456, "huiwu_bot", "会务", True)


async def test_unknown_token_is_unauthorized_and_unknown_method_not_found(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    stranger = telegram.Bot("999:wrong", base_url=emulator.base_url)
    try:
        with pytest.raises(InvalidToken, match="rejected by the server"):
            await stranger.initialize()
    finally:
        await stranger.shutdown()
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")


async def test_sent_message_appears_in_transcript_with_buttons(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    user = emulator.add_user("方磊")
    emulator.send_text(user, "/start")
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("确认", callback_data="ok"), InlineKeyboardButton("取消", callback_data="no")],
         [InlineKeyboardButton("文档", url="https://example.org/doc")]]
    )  # fmt: skip

    sent = await bot.send_message(user, "<b>周会</b> 明天 9:30 &lt;A101&gt;", parse_mode="HTML",
                                  reply_markup=keyboard)  # fmt: skip

    entry = emulator.bot_messages(user)[-1]
    assert entry.text == sent.text == "周会 明天 9:30 <A101>"
    assert entry.message_id == sent.message_id
    assert entry.buttons == [
        [("确认", "ok"), ("取消", "no")],
        [("文档", "https://example.org/doc")],
    ]
    assert sent.reply_markup == keyboard
    assert [e.direction for e in emulator.transcript(user)] == ["in", "out"]
    rendered = emulator.render_transcript(user, with_time=False)
    assert rendered.splitlines()[0] == "方磊 → /start"
    assert "会务 ← 周会 明天 9:30 <A101>" in rendered
    assert "[确认] [取消]" in rendered
    assert emulator.stats.messages_sent == 1


async def test_markup_telegram_cannot_parse_is_rejected(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    user = emulator.add_user("方磊")
    emulator.send_text(user, "hi")

    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(user, "a <br> b", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)reserved"):
        await bot.send_message(user, "会议结束.", parse_mode="MarkdownV2")
    ok = await bot.send_message(user, "*会议*结束\\.", parse_mode="MarkdownV2")

    assert ok.text == "会议结束."
    assert len(emulator.bot_messages(user)) == 1


async def test_reply_keyboard_is_shown_and_oversized_button_data_rejected(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    user = emulator.add_user("方磊")
    emulator.send_text(user, "/start")
    oversized = InlineKeyboardMarkup([[InlineKeyboardButton("太长", callback_data="x" * 65)]])

    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(user, "选择", reply_markup=oversized)
    await bot.send_message(user, "选择", reply_markup=ReplyKeyboardMarkup([["提交", "取消"]]))

    [entry] = emulator.bot_messages(user)
    assert entry.keyboard == [["提交", "取消"]]
    assert entry.buttons == []
    assert "⌨[提交] ⌨[取消]" in emulator.render_transcript(user)


async def test_command_reaches_command_handler_with_args(emulator: TelegramEmulator) -> None:
    user = emulator.add_user("方磊")

    async def submit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            "收到 " + " ".join(context.args or []), do_quote=True
        )

    async with polling_application(emulator, CommandHandler("submit", submit)):
        update = emulator.send_text(user, "/submit 2024 Q3")
        first = await emulator.wait_for_bot_message(user)
        since = len(emulator.transcript(user))
        emulator.send_text(user, "/submit@huiwu_bot 周报")
        second = await emulator.wait_for_bot_message(user, since=since)

    assert update["message"]["entities"] == [{"type": "bot_command", "offset": 0, "length": 7}]
    assert first.text == "收到 2024 Q3"
    assert first.reply_to == update["message"]["message_id"]
    assert second.text == "收到 周报"
    assert emulator.pending_update_count() == 0


async def test_button_press_reaches_callback_query_handler(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    user = emulator.add_user("方磊")
    emulator.send_text(user, "/start")
    question = await bot.send_message(
        user, "参加周会吗？", reply_markup=InlineKeyboardMarkup(
            [[InlineKeyboardButton("参加", callback_data="rsvp:yes")]])
    )  # fmt: skip

    async def rsvp(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and isinstance(query.message, telegram.Message)
        await query.answer("已登记")
        await query.edit_message_text(f"{query.message.text} ✅ {query.data}")

    with pytest.raises(ValueError, match="no button"):
        emulator.press_button(user, question.message_id, "rsvp:no")
    async with polling_application(emulator, CallbackQueryHandler(rsvp)):
        update = emulator.press_button(
            user, question.message_id, emulator.bot_messages(user)[-1].callback_data_for("参加")
        )
        edited = await emulator.wait_for_bot_message(user, lambda e: e.edited)

    assert update["callback_query"]["message"]["message_id"] == question.message_id
    assert edited.message_id == question.message_id
    assert edited.text == "参加周会吗？ ✅ rsvp:yes"
    assert edited.buttons == []
    assert emulator.callback_answer(update["callback_query"]["id"]) == {
        "text": "已登记", "show_alert": False, "url": None,
    }  # fmt: skip
    assert "方磊 → [参加]" in emulator.render_transcript(user, with_time=False)


async def test_document_upload_round_trip(emulator: TelegramEmulator, bot: telegram.Bot) -> None:
    user = emulator.add_user("方磊")
    emulator.send_text(user, "/agenda")
    content = "议程\n1. 预算".encode() + bytes(range(256))

    sent = await bot.send_document(user, content, filename="议程.txt", caption="本周议程")
    assert sent.document is not None
    downloaded = await (await bot.get_file(sent.document.file_id)).download_as_bytearray()
    resent = await bot.send_document(user, sent.document.file_id)

    assert bytes(downloaded) == content
    assert resent.document is not None and resent.document.file_id == sent.document.file_id
    entry = emulator.bot_messages(user)[0]
    assert entry.document is not None
    assert (entry.document.filename, entry.document.content, entry.text) == (
        "议程.txt", content, "本周议程",
    )  # fmt: skip


async def test_bot_downloads_a_document_and_photo_sent_by_a_user(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    user = emulator.add_user("方磊")
    report = b"%PDF-1.4 quarterly report"

    document_update = emulator.send_document(
        user, "report.pdf", report, mime_type="application/pdf"
    )
    photo_update = emulator.send_photo(user, b"\xff\xd8\xff photo", caption="白板")
    document_message = Update.de_json(document_update, bot).message
    photo_message = Update.de_json(photo_update, bot).message

    assert document_message is not None and document_message.document is not None
    assert document_message.document.file_name == "report.pdf"
    file = await bot.get_file(document_message.document.file_id)
    assert bytes(await file.download_as_bytearray()) == report
    assert photo_message is not None and photo_message.caption == "白板"
    photo_file = await photo_message.photo[-1].get_file()
    assert bytes(await photo_file.download_as_bytearray()) == b"\xff\xd8\xff photo"


async def test_forbidden_for_users_who_never_started_or_blocked_the_bot(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    silent = emulator.add_user("沉默")
    leaver = emulator.add_user("离开")
    emulator.send_text(leaver, "/start")
    await bot.send_message(leaver, "欢迎")
    emulator.block_bot(leaver)

    with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
        await bot.send_message(silent, "你好")
    with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
        await bot.send_message(leaver, "还在吗")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "?")

    assert emulator.stats.forbidden == 2
    assert [e.text for e in emulator.bot_messages(leaver)] == ["欢迎"]
    updates = await bot.get_updates()
    assert updates[-1].my_chat_member is not None
    assert updates[-1].my_chat_member.new_chat_member.status == "kicked"


async def test_text_longer_than_4096_characters_is_rejected(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    user = emulator.add_user("方磊")
    emulator.send_text(user, "hi")

    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(user, "长" * 4097)
    longest = await bot.send_message(user, "长" * 4096)

    assert longest.text == "长" * 4096
    assert len(emulator.bot_messages(user)) == 1


async def test_per_chat_limit_answers_retry_after() -> None:
    clock = FakeClock()
    async with TelegramEmulator(clock=clock) as emulator:
        emulator.add_bot(TOKEN)
        user = emulator.add_user("方磊")
        emulator.send_text(user, "/start")
        async with connected_bot(emulator) as bot:
            for number in range(3):  # the burst
                await bot.send_message(user, f"第{number}条")
            with pytest.raises(RetryAfter) as refused:
                await bot.send_message(user, "太快了")
            clock.now += 1.0
            await bot.send_message(user, "稍后")

    assert refused.value.retry_after == dt.timedelta(seconds=1)
    assert emulator.stats.too_many_requests == 1
    assert [e.text for e in emulator.bot_messages(user)] == ["第0条", "第1条", "第2条", "稍后"]


async def test_global_limit_is_30_messages_per_second() -> None:
    clock = FakeClock()
    async with TelegramEmulator(clock=clock) as emulator:
        emulator.add_bot(TOKEN)
        users = [emulator.add_user(f"用户{n}") for n in range(31)]
        for user in users:
            emulator.send_text(user, "/start")
        async with connected_bot(emulator) as bot:
            for user in users[:30]:
                await bot.send_message(user, "通知")
            with pytest.raises(RetryAfter):
                await bot.send_message(users[30], "通知")
            clock.now += 1.0
            await bot.send_message(users[30], "通知")

    assert emulator.stats.messages_sent == 31
    assert emulator.stats.too_many_requests == 1


async def test_group_limit_is_20_messages_per_minute() -> None:
    clock = FakeClock()
    async with TelegramEmulator(clock=clock) as emulator:
        emulator.add_bot(TOKEN)
        member = emulator.add_user("方磊")
        group = emulator.add_group("筹备组", [member])
        async with connected_bot(emulator) as bot:
            for _ in range(20):
                await bot.send_message(group, "进度")
                clock.now += 1.0
            with pytest.raises(RetryAfter) as refused:
                await bot.send_message(group, "进度")

    assert group < 0
    assert refused.value.retry_after == dt.timedelta(
        seconds=40
    )  # the first send leaves the window at +60 s
    assert len(emulator.bot_messages(group)) == 20


async def test_limits_can_be_disabled() -> None:
    async with TelegramEmulator(limits=FloodLimits(enabled=False)) as emulator:
        emulator.add_bot(TOKEN)
        user = emulator.add_user("方磊")
        emulator.send_text(user, "hi")
        async with connected_bot(emulator) as bot:
            for number in range(10):
                await bot.send_message(user, str(number))

    assert emulator.stats.too_many_requests == 0
    assert len(emulator.bot_messages(user)) == 10


async def test_webhook_receives_updates_with_secret_and_retries(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, object]]] = asyncio.Queue()
    answers = iter([500])

    async def receive(request: web.Request) -> web.Response:
        status = next(answers, 200)
        if status == 200:
            secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
            received.put_nowait((secret, await request.json()))
        return web.Response(status=status)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    user = emulator.add_user("方磊")
    try:
        await bot.set_webhook(f"http://127.0.0.1:{port}/hook", secret_token="s3cret-token")
        update = emulator.send_text(user, "/start")
        secret, pushed = await asyncio.wait_for(received.get(), timeout=3)
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        info = await bot.get_webhook_info()
        await bot.delete_webhook()
        emulator.send_text(user, "polling again")
        polled = await bot.get_updates()
    finally:
        await runner.cleanup()

    assert secret == "s3cret-token"
    assert pushed == update
    assert info.url == f"http://127.0.0.1:{port}/hook"
    assert info.pending_update_count == 0
    assert emulator.stats.webhook_failures == 1
    assert emulator.stats.webhook_deliveries == 1
    assert [u.message.text for u in polled if u.message] == ["polling again"]


async def test_server_error_fault_delivers_nothing() -> None:
    async with TelegramEmulator(faults=FaultPlan(seed=7, p_server_error=1.0)) as faulty:
        faulty.add_bot(TOKEN)
        user = faulty.add_user("方磊")
        faulty.send_text(user, "hi")
        async with connected_bot(faulty) as bot:
            me = await bot.get_me()  # not a faulty method
            with pytest.raises(NetworkError):
                await bot.send_message(user, "丢失")

    assert me.username == "huiwu_bot"
    assert faulty.bot_messages(user) == []
    assert faulty.stats.injected_faults == 1
    assert faulty.stats.faults_by_kind == {"server_error": 1}


@pytest.mark.parametrize(
    ("plan", "error", "delivered"),
    [
        (FaultPlan(seed=1, p_drop_connection=1.0), NetworkError, False),
        (FaultPlan(seed=1, p_timeout=1.0, timeout_delay=2.0), TimedOut, False),
        (FaultPlan(seed=1, p_too_many=1.0), RetryAfter, False),
        (FaultPlan(seed=1, p_error_after_delivery=1.0), NetworkError, True),
    ],
)
async def test_each_fault_kind(plan: FaultPlan, error: type[Exception], delivered: bool) -> None:
    async with TelegramEmulator(faults=plan) as emulator:
        emulator.add_bot(TOKEN)
        user = emulator.add_user("方磊")
        emulator.send_text(user, "hi")
        async with connected_bot(emulator) as bot:
            with pytest.raises(error):
                await bot.send_message(user, "也许送达", read_timeout=0.3)

    assert len(emulator.bot_messages(user)) == (1 if delivered else 0)
    assert emulator.stats.injected_faults == 1


def test_fault_plan_rejects_probabilities_over_one() -> None:
    with pytest.raises(ValueError, match="add up to at most 1"):
        FaultPlan(seed=1, p_server_error=0.6, p_timeout=0.6)


async def test_long_poll_returns_promptly_when_an_update_arrives(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    user = emulator.add_user("方磊")
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.2)
    assert not poll.done()

    update = emulator.send_text(user, "在吗")
    updates = await asyncio.wait_for(poll, timeout=2)
    elapsed = time.monotonic() - started

    assert [u.update_id for u in updates] == [update["update_id"]]
    assert elapsed < 1.5
    confirmed = await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert confirmed == ()
    assert emulator.pending_update_count() == 0


async def test_concurrent_long_poll_ends_the_older_with_conflict(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.1)

    async with connected_bot(emulator) as second_instance:
        newer = await second_instance.get_updates(timeout=0)

    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(older, timeout=2)
    assert newer == ()


async def test_json_and_get_requests_are_understood(emulator: TelegramEmulator) -> None:
    user = emulator.add_user("方磊")
    emulator.send_text(user, "hi")
    markup = {"inline_keyboard": [[{"text": "好", "callback_data": "ok"}]]}

    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{emulator.base_url}{TOKEN}/SENDMESSAGE",
            json={"chat_id": user, "text": "JSON", "reply_markup": markup},
        ) as response:
            sent = await response.json()
        async with session.get(f"{emulator.base_url}{TOKEN}/getme") as response:
            me = await response.json()
        async with session.get(
            f"{emulator.base_url}{TOKEN}/sendMessage",
            params={"chat_id": str(user), "text": "GET", "reply_markup": json.dumps(markup)},
        ) as response:
            via_get = await response.json()

    assert sent["ok"] and sent["result"]["reply_markup"] == markup
    assert me["result"]["username"] == "huiwu_bot"
    assert via_get["result"]["text"] == "GET"
    assert emulator.bot_messages(user)[-1].buttons == [[("好", "ok")]]


async def test_commands_are_kept_per_scope_and_language(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    await bot.set_my_commands([("submit", "提交材料")])
    await bot.set_my_commands([("submit", "Submit files")], language_code="en")
    await bot.set_my_commands([("agenda", "议程")], scope=telegram.BotCommandScopeAllGroupChats())

    default = await bot.get_my_commands()
    english = await bot.get_my_commands(language_code="en")
    groups = await bot.get_my_commands(scope=telegram.BotCommandScopeAllGroupChats())
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([("Bad Command", "x")])
    await bot.delete_my_commands(language_code="en")

    assert [(c.command, c.description) for c in default] == [("submit", "提交材料")]
    assert [c.description for c in english] == ["Submit files"]
    assert [c.command for c in groups] == ["agenda"]
    assert emulator.bot_commands() == [("submit", "提交材料")]
    assert emulator.bot_commands(language_code="en") == []
    assert await bot.get_my_commands(language_code="en") == ()


async def test_edits_polls_chat_info_and_deletion(
    emulator: TelegramEmulator, bot: telegram.Bot
) -> None:
    member = emulator.add_user("方磊")
    newcomer = emulator.add_user("李娜")
    group = emulator.add_group("筹备组", [member])
    joined = emulator.join_group(newcomer, group)
    draft = await bot.send_message(group, "草稿")

    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("草稿", group, draft.message_id)
    await bot.edit_message_text("定稿", group, draft.message_id)
    poll = await bot.send_poll(group, "时间？", ["周一", "周二"], is_anonymous=False)
    closed = await bot.stop_poll(group, poll.message_id)
    chat = await bot.get_chat(group)
    membership = await bot.get_chat_member(group, newcomer)
    assert await bot.delete_message(group, draft.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(group, draft.message_id)

    assert joined["message"]["new_chat_members"][0]["id"] == newcomer
    assert closed.is_closed and [o.text for o in closed.options] == ["周一", "周二"]
    assert (chat.title, chat.type) == ("筹备组", "group")
    assert membership.status == "member"
    texts = [(e.text, e.edited, e.deleted) for e in emulator.bot_messages(group)[:2]]
    assert texts == [("草稿", False, True), ("定稿", True, True)]
    rendered = emulator.render_transcript(group, with_time=False)
    assert "李娜 → (加入群组)" in rendered
    assert "📊 时间？ (已结束)" in rendered


async def test_wait_for_bot_message_times_out_with_the_transcript(
    emulator: TelegramEmulator,
) -> None:
    user = emulator.add_user("方磊")
    emulator.send_text(user, "有人吗")

    with pytest.raises(TimeoutError, match="方磊 → 有人吗"):
        await emulator.wait_for_bot_message(user, timeout=0.1)
