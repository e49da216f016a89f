"""Tests of the WeCom API emulator (raw HTTP) and of the WeCom callback client."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import xmltodict
from aiohttp import web
from wechatpy.enterprise import parse_message
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from bot.sandbox.wecom.api import WeComEmulator
from bot.sandbox.wecom.callbacks import WeComCallbackClient

CORP_ID = "ww0123456789abcdef"
SECRET = "s3cr3t-" + "x" * 36
AGENT_ID = 1000002


class FakeClock:
    def __init__(self, start: float = 10_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def emu(clock: FakeClock) -> AsyncIterator[WeComEmulator]:
    emulator = WeComEmulator(corp_id=CORP_ID, corp_secret=SECRET, agent_id=AGENT_ID, clock=clock)
    for userid, name in [("alice", "Alice"), ("bob", "Bob"), ("carol", "Carol")]:
        emulator.add_user(userid, name)
    async with emulator:
        yield emulator


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def get(http: aiohttp.ClientSession, emu: WeComEmulator, path: str, **params: Any) -> Any:
    async with http.get(emu.base_url + path, params=params) as response:
        return await response.json()


async def post(
    http: aiohttp.ClientSession, emu: WeComEmulator, path: str, body: Any, **params: Any
) -> Any:
    async with http.post(emu.base_url + path, params=params, json=body) as response:
        assert response.status == 200
        return await response.json()


async def token(http: aiohttp.ClientSession, emu: WeComEmulator) -> str:
    answer = await get(http, emu, "gettoken", corpid=CORP_ID, corpsecret=SECRET)
    assert answer["errcode"] == 0
    return str(answer["access_token"])


def text(to: str, content: str = "hello") -> dict[str, Any]:
    return {"touser": to, "msgtype": "text", "agentid": AGENT_ID, "text": {"content": content}}


# -- gettoken and access tokens --------------------------------------------------------------


async def test_gettoken_checks_corp_id_and_secret(
    emu: WeComEmulator, http: aiohttp.ClientSession
) -> None:
    bad_corp = await get(http, emu, "gettoken", corpid="wwnope", corpsecret=SECRET)
    bad_secret = await get(http, emu, "gettoken", corpid=CORP_ID, corpsecret="wrong")
    good = await get(http, emu, "gettoken", corpid=CORP_ID, corpsecret=SECRET)
    again = await get(http, emu, "gettoken", corpid=CORP_ID, corpsecret=SECRET)
    assert bad_corp["errcode"] == 40013
    assert bad_secret["errcode"] == 40001
    assert "open.work.weixin.qq.com/devtool/query?e=40001" in bad_secret["errmsg"]
    assert good["errcode"] == 0 and good["expires_in"] == 7200 and good["access_token"]
    assert again["access_token"] == good["access_token"]  # WeCom reuses a valid token
    assert emu.stats.tokens_issued == 1
    assert SECRET not in repr(emu)


async def test_every_call_checks_the_token(
    emu: WeComEmulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    missing = await post(http, emu, "message/send", text("alice"))
    unknown = await post(http, emu, "message/send", text("alice"), access_token="forged")
    tok = await token(http, emu)
    ok = await post(http, emu, "message/send", text("alice"), access_token=tok)
    clock.advance(7200)
    expired = await post(http, emu, "message/send", text("alice"), access_token=tok)
    assert (missing["errcode"], unknown["errcode"], expired["errcode"]) == (41001, 40014, 42001)
    assert ok["errcode"] == 0
    assert len(emu.inbox("alice")) == 1
    fresh = await token(http, emu)
    assert fresh != tok and emu.stats.tokens_issued == 2


async def test_expire_tokens_answers_42001_then_a_new_token_works(
    emu: WeComEmulator, http: aiohttp.ClientSession
) -> None:
    tok = await token(http, emu)
    emu.expire_tokens()
    expired = await post(http, emu, "message/send", text("alice"), access_token=tok)
    fresh = await token(http, emu)
    ok = await post(http, emu, "message/send", text("alice"), access_token=fresh)
    assert expired["errcode"] == 42001 and ok["errcode"] == 0 and fresh != tok
    assert [m.content["content"] for m in emu.inbox("alice")] == ["hello"]


# -- message/send ----------------------------------------------------------------------------


async def test_message_send_reports_invalid_users_and_delivers_to_the_rest(
    emu: WeComEmulator, http: aiohttp.ClientSession
) -> None:
    tok = await token(http, emu)
    answer = await post(http, emu, "message/send", text("alice|ghost|bob"), access_token=tok)
    assert answer["errcode"] == 0 and answer["invaliduser"] == "ghost" and answer["msgid"]
    assert [m.msgtype for m in emu.inbox("alice")] == ["text"]
    assert emu.inbox("bob")[0].content == {"content": "hello"}
    assert emu.inbox("ghost") == []
    all_invalid = await post(http, emu, "message/send", text("ghost"), access_token=tok)
    assert all_invalid["errcode"] == 81013
    everyone = await post(http, emu, "message/send", text("@all", "all"), access_token=tok)
    assert everyone["errcode"] == 0
    assert emu.stats.per_user_delivered == {"alice": 2, "bob": 2, "carol": 1}


async def test_message_send_validates_agent_type_and_content(
    emu: WeComEmulator, http: aiohttp.ClientSession
) -> None:
    tok = await token(http, emu)
    wrong_agent = {**text("alice"), "agentid": 1}
    bad_type = {"touser": "alice", "msgtype": "telepathy", "agentid": AGENT_ID}
    empty = text("alice", "   ")
    no_media = {"touser": "alice", "msgtype": "file", "agentid": AGENT_ID, "file": {}}
    card = {"touser": "alice", "msgtype": "textcard", "agentid": AGENT_ID, "textcard": {}}
    codes = [
        (await post(http, emu, "message/send", body, access_token=tok))["errcode"]
        for body in (wrong_agent, bad_type, empty, no_media, card)
    ]
    assert codes == [40056, 40008, 44004, 40007, 40058]
    assert emu.inbox("alice") == []


async def test_template_card_needs_unique_task_id_and_keyed_buttons(
    emu: WeComEmulator, http: aiohttp.ClientSession
) -> None:
    tok = await token(http, emu)
    card = {
        "card_type": "button_interaction",
        "main_title": {"title": "Confirm attendance"},
        "task_id": "task-1",
        "button_list": [{"text": "Yes", "style": 1, "key": "yes"}],
    }
    body = {"touser": "alice", "msgtype": "template_card", "agentid": AGENT_ID}
    first = await post(http, emu, "message/send", {**body, "template_card": card}, access_token=tok)
    again = await post(http, emu, "message/send", {**body, "template_card": card}, access_token=tok)
    keyless = {**card, "task_id": "task-2", "button_list": [{"text": "Yes"}]}
    no_key = await post(
        http, emu, "message/send", {**body, "template_card": keyless}, access_token=tok
    )
    assert first["errcode"] == 0 and first["response_code"]
    assert again["errcode"] == 40058 and "task_id" in again["errmsg"]
    assert no_key["errcode"] == 40058
    assert [m.content["task_id"] for m in emu.inbox("alice")] == ["task-1"]


async def test_member_limit_drops_silently_over_30_a_minute(
    emu: WeComEmulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    tok = await token(http, emu)
    answers = [
        await post(http, emu, "message/send", text("alice", f"m{i}"), access_token=tok)
        for i in range(40)
    ]
    assert all(a["errcode"] == 0 for a in answers)  # WeCom does not report the drop
    assert len(emu.inbox("alice")) == 30
    assert emu.stats.dropped_over_limit == 10 and emu.stats.per_user_dropped["alice"] == 10
    clock.advance(60.5)
    await post(http, emu, "message/send", text("alice", "later"), access_token=tok)
    assert emu.inbox("alice")[-1].content["content"] == "later"
    assert len(emu.inbox("alice")) == 31


async def test_member_limit_of_1000_an_hour(
    emu: WeComEmulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    tok = await token(http, emu)
    for _ in range(1000):  # 25 a minute stays under the minute limit
        await post(http, emu, "message/send", text("bob"), access_token=tok)
        clock.advance(2.4)
    assert emu.stats.dropped_over_limit == 0
    await post(http, emu, "message/send", text("bob", "1001st"), access_token=tok)
    assert emu.stats.dropped_over_limit == 1 and len(emu.inbox("bob")) == 1000
    clock.advance(1201)  # an hour after the first message it leaves the window
    await post(http, emu, "message/send", text("bob", "later"), access_token=tok)
    assert emu.inbox("bob")[-1].content["content"] == "later"


# -- appchat ---------------------------------------------------------------------------------


async def test_appchat_create_get_send_and_errors(
    emu: WeComEmulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    tok = await token(http, emu)
    created = await post(
        http,
        emu,
        "appchat/create",
        {"name": "会务组", "owner": "alice", "userlist": ["alice", "bob"], "chatid": "meeting1"},
        access_token=tok,
    )
    assert created == {"errcode": 0, "errmsg": "ok", "chatid": "meeting1"}
    info = await get(http, emu, "appchat/get", access_token=tok, chatid="meeting1")
    assert (
        info["chat_info"]["userlist"] == ["alice", "bob"] and info["chat_info"]["name"] == "会务组"
    )
    one = {"name": "x", "owner": "alice", "userlist": ["alice"]}
    stranger = {"name": "x", "owner": "alice", "userlist": ["alice", "mallory"]}
    duplicate = {"name": "x", "owner": "alice", "userlist": ["alice", "bob"], "chatid": "meeting1"}
    codes = [
        (await post(http, emu, "appchat/create", body, access_token=tok))["errcode"]
        for body in (one, stranger, duplicate)
    ]
    assert codes == [86006, 86216, 86215]
    unknown = await post(
        http,
        emu,
        "appchat/send",
        {"chatid": "nochat", "msgtype": "text", "text": {"content": "hi"}},
        access_token=tok,
    )
    assert unknown["errcode"] == 86003
    for i in range(205):
        await post(
            http,
            emu,
            "appchat/send",
            {"chatid": "meeting1", "msgtype": "text", "text": {"content": f"m{i}"}},
            access_token=tok,
        )
    assert len(emu.chat_messages("meeting1")) == 200
    assert emu.stats.dropped_over_limit == 5 and emu.stats.per_chat_dropped["meeting1"] == 5


# -- media, menu, injected failures ----------------------------------------------------------


async def test_media_upload_and_get_round_trip(
    emu: WeComEmulator, http: aiohttp.ClientSession
) -> None:
    tok = await token(http, emu)
    payload = bytes(range(256)) * 3
    form = aiohttp.FormData(quote_fields=False)
    form.add_field("media", payload, filename="议程.pdf", content_type="application/pdf")
    async with http.post(
        emu.base_url + "media/upload", params={"access_token": tok, "type": "file"}, data=form
    ) as response:
        uploaded = await response.json()
    assert uploaded["errcode"] == 0 and uploaded["type"] == "file"
    async with http.get(
        emu.base_url + "media/get", params={"access_token": tok, "media_id": uploaded["media_id"]}
    ) as response:
        assert response.status == 200
        assert await response.read() == payload
        assert "filename*=UTF-8''%E8%AE%AE%E7%A8%8B.pdf" in response.headers["Content-Disposition"]
    tiny = aiohttp.FormData()
    tiny.add_field("media", b"abc", filename="a.txt")
    async with http.post(
        emu.base_url + "media/upload", params={"access_token": tok, "type": "file"}, data=tiny
    ) as response:
        assert (await response.json())["errcode"] == 40006  # WeCom wants more than 5 bytes
    missing = await get(http, emu, "media/get", access_token=tok, media_id="nope")
    assert missing["errcode"] == 40007


async def test_menu_create_is_stored(emu: WeComEmulator, http: aiohttp.ClientSession) -> None:
    tok = await token(http, emu)
    menu = {"button": [{"type": "click", "name": "今日议程", "key": "agenda"}]}
    wrong = await post(http, emu, "menu/create", menu, access_token=tok, agentid=1)
    ok = await post(http, emu, "menu/create", menu, access_token=tok, agentid=AGENT_ID)
    assert wrong["errcode"] == 40056 and ok["errcode"] == 0
    assert emu.menu() == menu


async def test_fail_next_injects_errcodes_and_http_errors(
    emu: WeComEmulator, http: aiohttp.ClientSession
) -> None:
    tok = await token(http, emu)
    emu.fail_next(45009, 2, path="message/send")
    emu.fail_next(-502, path="appchat/get")
    first = await post(http, emu, "message/send", text("alice"), access_token=tok)
    second = await post(http, emu, "message/send", text("alice"), access_token=tok)
    third = await post(http, emu, "message/send", text("alice"), access_token=tok)
    async with http.get(
        emu.base_url + "appchat/get", params={"access_token": tok, "chatid": "x"}
    ) as response:
        assert response.status == 502
    assert (first["errcode"], second["errcode"], third["errcode"]) == (45009, 45009, 0)
    assert len(emu.inbox("alice")) == 1 and emu.stats.errors_injected == 3
    emu.fail_next(45033)  # path=None: any API call but gettoken
    await token(http, emu)
    assert (await post(http, emu, "message/send", text("bob"), access_token=tok))["errcode"] == (
        45033
    )


# -- callback client -------------------------------------------------------------------------

CB_TOKEN = "callbacktoken"
AES_KEY = base64.b64encode(bytes(range(32))).decode().rstrip("=")


class CallbackServer:
    """A tiny bot-side endpoint that checks callbacks with wechatpy, as the bot must."""

    def __init__(self) -> None:
        self.crypto = WeChatCrypto(CB_TOKEN, AES_KEY, CORP_ID)
        self.received: list[dict[str, Any]] = []
        self.outer: list[dict[str, Any]] = []
        self.rejected = 0
        self.reply_to_text = False

    async def verify(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            echo = self.crypto.check_signature(
                q["msg_signature"], q["timestamp"], q["nonce"], q["echostr"]
            )
        except InvalidSignatureException:
            self.rejected += 1
            return web.Response(status=403, text="bad signature")
        return web.Response(text=echo)

    async def receive(self, request: web.Request) -> web.Response:
        q = request.query
        body = await request.text()
        try:
            plain = self.crypto.decrypt_message(
                body, q["msg_signature"], q["timestamp"], q["nonce"]
            )
        except InvalidSignatureException:
            self.rejected += 1
            return web.Response(status=403, text="bad signature")
        self.outer.append(xmltodict.parse(body)["xml"])
        fields = xmltodict.parse(plain)["xml"]
        self.received.append(fields)
        if self.reply_to_text and fields["MsgType"] == "text":
            reply = (
                f"<xml><ToUserName><![CDATA[{fields['FromUserName']}]]></ToUserName>"
                f"<FromUserName><![CDATA[{CORP_ID}]]></FromUserName>"
                "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                "<Content><![CDATA[收到]]></Content></xml>"
            )
            return web.Response(text=self.crypto.encrypt_message(reply, "nonce123"))
        return web.Response(text="")


@pytest.fixture
async def callback_server() -> AsyncIterator[tuple[CallbackServer, str]]:
    server = CallbackServer()
    app = web.Application()
    app.router.add_get("/wecom/callback", server.verify)
    app.router.add_post("/wecom/callback", server.receive)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield server, f"http://127.0.0.1:{port}/wecom/callback"
    await runner.cleanup()


@pytest.fixture
async def callbacks(
    callback_server: tuple[CallbackServer, str],
) -> AsyncIterator[WeComCallbackClient]:
    _, url = callback_server
    async with WeComCallbackClient(url, CB_TOKEN, AES_KEY, CORP_ID, AGENT_ID) as client:
        yield client


async def test_verify_url_echoes_the_decrypted_echostr(
    callback_server: tuple[CallbackServer, str], callbacks: WeComCallbackClient
) -> None:
    server, _ = callback_server
    assert await callbacks.verify_url("echo-1234") == "echo-1234"
    assert await callbacks.verify_url("echo-1234", forged=True) == "bad signature"
    assert server.rejected == 1


async def test_text_callback_is_signed_encrypted_and_shaped_like_wecom(
    callback_server: tuple[CallbackServer, str], callbacks: WeComCallbackClient
) -> None:
    server, _ = callback_server
    server.reply_to_text = True
    result = await callbacks.send_text("alice", "报名 <会议> ]]> & more", msg_id=1234567890123456)
    assert result.status == 200
    fields = server.received[0]
    assert fields["ToUserName"] == CORP_ID and fields["FromUserName"] == "alice"
    assert fields["MsgType"] == "text" and fields["Content"] == "报名 <会议> ]]> & more"
    assert fields["MsgId"] == "1234567890123456" and fields["AgentID"] == str(AGENT_ID)
    assert fields["CreateTime"].isdigit()
    assert server.outer[0]["ToUserName"] == CORP_ID and server.outer[0]["AgentID"] == str(AGENT_ID)
    message = parse_message(result.plaintext_xml)
    assert message.type == "text" and message.agent == AGENT_ID and message.source == "alice"
    assert (
        result.reply_xml is not None and "<Content><![CDATA[收到]]></Content>" in result.reply_xml
    )


async def test_image_file_click_enter_and_card_callbacks(
    callback_server: tuple[CallbackServer, str], callbacks: WeComCallbackClient
) -> None:
    server, _ = callback_server
    results = await asyncio.gather(
        callbacks.send_image("bob", "media-1", "https://example.invalid/p.jpg"),
        callbacks.send_file("bob", "media-2"),
        callbacks.send_click("bob", "agenda"),
        callbacks.send_enter_agent("bob"),
        callbacks.send_template_card_event("bob", "task-1", "yes", response_code="rc1"),
    )
    assert [r.status for r in results] == [200] * 5
    by_type = {
        (f["MsgType"], f.get("Event")): f
        for f in (xmltodict.parse(r.plaintext_xml)["xml"] for r in results)
    }
    assert by_type[("image", None)]["MediaId"] == "media-1"
    assert by_type[("image", None)]["PicUrl"] == "https://example.invalid/p.jpg"
    assert by_type[("file", None)]["MediaId"] == "media-2"
    assert by_type[("event", "click")]["EventKey"] == "agenda"
    assert by_type[("event", "enter_agent")].get("EventKey") is None  # empty CDATA
    card = by_type[("event", "template_card_event")]
    assert (card["TaskId"], card["EventKey"], card["ResponseCode"]) == ("task-1", "yes", "rc1")
    assert len(server.received) == 5 and server.rejected == 0
    click = parse_message(results[2].plaintext_xml)
    assert click.type == "event" and click.event == "click" and click.key == "agenda"
    assert parse_message(results[3].plaintext_xml).event == "enter_agent"


async def test_forged_callback_fails_verification(
    callback_server: tuple[CallbackServer, str], callbacks: WeComCallbackClient
) -> None:
    server, _ = callback_server
    result = await callbacks.send_text("alice", "let me in", forged=True)
    assert result.status == 403 and result.body == "bad signature"
    assert server.received == [] and server.rejected == 1


# -- message/update_template_card --------------------------------------------------------------


async def test_a_response_code_updates_a_card_once_and_only_within_72_hours(
    emu: WeComEmulator, http: aiohttp.ClientSession, clock: FakeClock
) -> None:
    tok = await token(http, emu)
    buttons = [{"text": "Yes", "key": "yes"}, {"text": "No", "key": "no"}]
    card = {
        "card_type": "button_interaction",
        "task_id": "task-upd",
        "main_title": {"title": "Agree?"},
        "button_list": buttons,
    }
    body = {"touser": "alice|bob", "msgtype": "template_card", "agentid": AGENT_ID}
    sent = await post(http, emu, "message/send", {**body, "template_card": card}, access_token=tok)
    pressed = emu.press_code("alice", "task-upd")

    def update(code: str, **extra: Any) -> dict[str, Any]:
        return {
            "userids": ["alice"],
            "agentid": AGENT_ID,
            "response_code": code,
            "button": {"replace_name": "Agreed"},
            **extra,
        }

    path = "message/update_template_card"
    wrong_agent = await post(http, emu, path, update(pressed, agentid=1), access_token=tok)
    first = await post(http, emu, path, update(pressed), access_token=tok)
    reused = await post(http, emu, path, update(pressed), access_token=tok)
    unknown = await post(http, emu, path, update("made-up"), access_token=tok)
    assert wrong_agent["errcode"] == 40056
    assert (first["errcode"], reused["errcode"], unknown["errcode"]) == (0, 40058, 40058)
    [alice_card] = emu.inbox("alice")
    assert alice_card.updated and "button_list" not in alice_card.content
    assert alice_card.content["replace_name"] == "Agreed"
    assert alice_card.content["main_title"] == {"title": "Agree?"}
    [bob_card] = emu.inbox("bob")  # a press's code updates only the presser's copy
    assert not bob_card.updated and bob_card.content["button_list"] == buttons

    # The code message/send answered may update bob's copy, but not after 72 hours.
    clock.advance(72 * 3600 + 1)
    tok = await token(http, emu)
    late = await post(
        http, emu, path, update(sent["response_code"], userids=["bob"]), access_token=tok
    )
    assert late["errcode"] == 40058 and "expired" in late["errmsg"]
    assert emu.inbox("bob")[0].content["button_list"] == buttons
    assert (emu.stats.cards_updated, emu.stats.response_codes_refused) == (1, 3)
