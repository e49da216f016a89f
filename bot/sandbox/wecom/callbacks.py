"""A client that posts WeCom (企业微信) callbacks to the bot the way WeCom does.

WeCom talks to an app's callback URL in two ways:

* **URL verification** -- ``GET url?msg_signature=…&timestamp=…&nonce=…&echostr=…`` where
  ``echostr`` is an AES-encrypted random string; the server must answer the decrypted
  plaintext, bare, within one second;
* **messages and events** -- ``POST url?msg_signature=…&timestamp=…&nonce=…`` with the body::

      <xml>
         <ToUserName><![CDATA[corp id]]></ToUserName>
         <AgentID><![CDATA[agent id]]></AgentID>
         <Encrypt><![CDATA[base64 AES-256-CBC ciphertext]]></Encrypt>
      </xml>

  where the signature is ``sha1(sorted([token, timestamp, nonce, Encrypt]))`` and the
  plaintext is the message XML (``ToUserName`` = corp id, ``FromUserName`` = member userid,
  ``CreateTime``, ``MsgType``, type fields, ``MsgId`` for messages, ``AgentID``).

Encryption uses wechatpy's enterprise ``WeChatCrypto`` (the same code the bot uses to
decrypt), so a message this client sends is byte-for-byte what WeCom would send.

Message shapes follow WeCom's "接收消息与事件" documentation: ``text``, ``image``, the events
``click`` (menu), ``enter_agent`` and ``template_card_event`` (button pressed on a
``button_interaction`` card). WeCom documents no *file* message for self-built apps (members'
messages to an app are text, image, voice, video, location and link); :meth:`send_file`
posts a ``MsgType=file`` message with a ``MediaId`` so the bot's handling of an unexpected
type can be tested -- wechatpy parses it as an unknown message.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType

import aiohttp
import xmltodict
from wechatpy.enterprise.crypto import WeChatCrypto

logger = logging.getLogger(__name__)

__all__ = ["CallbackResponse", "WeComCallbackClient", "build_message_xml"]


def _cdata(value: str) -> str:
    """Wrap text in CDATA, splitting any ``]]>`` it contains."""
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def build_message_xml(fields: list[tuple[str, str | int]]) -> str:
    """Render WeCom's plaintext message XML: strings in CDATA, integers bare."""
    lines = ["<xml>"]
    for name, value in fields:
        rendered = str(value) if isinstance(value, int) else _cdata(value)
        lines.append(f"<{name}>{rendered}</{name}>")
    lines.append("</xml>")
    return "\n".join(lines)


@dataclass(frozen=True)
class CallbackResponse:
    """What the bot's callback endpoint answered."""

    status: int
    body: str
    plaintext_xml: str  # what was sent, before encryption
    reply_xml: str | None = None  # the decrypted passive reply, if the bot sent one


class WeComCallbackClient:
    """Posts signed, AES-encrypted callbacks to ``url`` exactly as WeCom does."""

    def __init__(
        self,
        url: str,
        token: str,
        encoding_aes_key: str,
        corp_id: str,
        agent_id: int,
        *,
        timeout: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.corp_id = corp_id
        self.agent_id = agent_id
        self._crypto = WeChatCrypto(token, encoding_aes_key, corp_id)
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._session: aiohttp.ClientSession | None = None
        self._msgid = secrets.randbelow(2**62) + 2**62  # WeCom MsgIds are 64-bit integers

    def __repr__(self) -> str:  # never show the token or AES key
        return f"WeComCallbackClient(url={self.url!r}, corp_id={self.corp_id!r})"

    async def __aenter__(self) -> WeComCallbackClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    def _now(self) -> str:
        return str(int(self._clock()))

    def next_msg_id(self) -> int:
        """A fresh 64-bit MsgId."""
        self._msgid += 1
        return self._msgid

    # -- signing -----------------------------------------------------------------------------

    def _encrypt(self, plaintext: str, nonce: str, timestamp: str) -> tuple[str, str]:
        """Return (Encrypt, msg_signature) for ``plaintext``, using wechatpy's crypto."""
        envelope = xmltodict.parse(self._crypto.encrypt_message(plaintext, nonce, timestamp))
        return envelope["xml"]["Encrypt"], envelope["xml"]["MsgSignature"]

    @staticmethod
    def _forge(signature: str) -> str:
        forged = secrets.token_hex(20)
        return forged if forged != signature else forged[::-1]

    # -- URL verification --------------------------------------------------------------------

    async def verify_url(self, echo_plain: str | None = None, *, forged: bool = False) -> str:
        """Do WeCom's URL check (GET with echostr); return the body the server answered.

        A correct server answers ``echo_plain`` (random unless given) and nothing else.
        """
        plain = echo_plain if echo_plain is not None else secrets.token_hex(16)
        nonce, timestamp = secrets.token_hex(8), self._now()
        echostr, signature = self._encrypt(plain, nonce, timestamp)
        if forged:
            signature = self._forge(signature)
        params = {
            "msg_signature": signature,
            "timestamp": timestamp,
            "nonce": nonce,
            "echostr": echostr,
        }
        async with self._http().get(self.url, params=params) as response:
            body = await response.text()
        logger.debug("WeCom callback verify_url answered HTTP %s", response.status)
        return body

    # -- messages and events -----------------------------------------------------------------

    async def send_xml(self, plaintext_xml: str, *, forged: bool = False) -> CallbackResponse:
        """Encrypt, sign and POST an arbitrary plaintext message XML."""
        nonce, timestamp = secrets.token_hex(8), self._now()
        encrypted, signature = self._encrypt(plaintext_xml, nonce, timestamp)
        if forged:
            signature = self._forge(signature)
        body = build_message_xml(
            [("ToUserName", self.corp_id), ("AgentID", str(self.agent_id)), ("Encrypt", encrypted)]
        )
        params = {"msg_signature": signature, "timestamp": timestamp, "nonce": nonce}
        async with self._http().post(
            self.url,
            params=params,
            data=body.encode("utf-8"),
            headers={"Content-Type": "text/xml; charset=utf-8"},
        ) as response:
            text = await response.text()
            status = response.status
        return CallbackResponse(status, text, plaintext_xml, self._decrypt_reply(text))

    def _decrypt_reply(self, body: str) -> str | None:
        """Decrypt a passive reply (``<Encrypt>`` + ``<MsgSignature>``); None if there is none."""
        if "<Encrypt>" not in body:
            return None
        try:
            envelope = xmltodict.parse(body)["xml"]
            reply: str = self._crypto.decrypt_message(
                body, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"]
            )
        except Exception:  # a malformed reply is the bot's bug; report it as undecodable
            logger.warning("WeCom callback: could not decrypt the passive reply")
            return None
        return reply

    def _message(self, from_user: str, msg_type: str, fields: list[tuple[str, str | int]]) -> str:
        head: list[tuple[str, str | int]] = [
            ("ToUserName", self.corp_id),
            ("FromUserName", from_user),
            ("CreateTime", int(self._clock())),
            ("MsgType", msg_type),
        ]
        return build_message_xml([*head, *fields, ("AgentID", self.agent_id)])

    async def send_text(
        self, from_user: str, content: str, msg_id: int | None = None, *, forged: bool = False
    ) -> CallbackResponse:
        """A member sends the app a text message."""
        msg_id = self.next_msg_id() if msg_id is None else msg_id
        xml = self._message(from_user, "text", [("Content", content), ("MsgId", msg_id)])
        return await self.send_xml(xml, forged=forged)

    async def send_image(
        self,
        from_user: str,
        media_id: str,
        pic_url: str,
        msg_id: int | None = None,
        *,
        forged: bool = False,
    ) -> CallbackResponse:
        """A member sends the app a picture."""
        msg_id = self.next_msg_id() if msg_id is None else msg_id
        fields: list[tuple[str, str | int]] = [
            ("PicUrl", pic_url),
            ("MediaId", media_id),
            ("MsgId", msg_id),
        ]
        return await self.send_xml(self._message(from_user, "image", fields), forged=forged)

    async def send_file(
        self, from_user: str, media_id: str, msg_id: int | None = None, *, forged: bool = False
    ) -> CallbackResponse:
        """A ``MsgType=file`` message -- not a documented WeCom app callback; see module doc."""
        msg_id = self.next_msg_id() if msg_id is None else msg_id
        fields: list[tuple[str, str | int]] = [("MediaId", media_id), ("MsgId", msg_id)]
        return await self.send_xml(self._message(from_user, "file", fields), forged=forged)

    async def send_click(
        self, from_user: str, event_key: str, *, forged: bool = False
    ) -> CallbackResponse:
        """A member clicks a ``click`` menu item (Event=click, EventKey=the item's key)."""
        fields: list[tuple[str, str | int]] = [("Event", "click"), ("EventKey", event_key)]
        return await self.send_xml(self._message(from_user, "event", fields), forged=forged)

    async def send_enter_agent(self, from_user: str, *, forged: bool = False) -> CallbackResponse:
        """A member opens the app (Event=enter_agent, empty EventKey)."""
        fields: list[tuple[str, str | int]] = [("Event", "enter_agent"), ("EventKey", "")]
        return await self.send_xml(self._message(from_user, "event", fields), forged=forged)

    async def send_template_card_event(
        self,
        from_user: str,
        task_id: str,
        event_key: str,
        *,
        card_type: str = "button_interaction",
        response_code: str | None = None,
        forged: bool = False,
    ) -> CallbackResponse:
        """A member presses a button (``key`` = ``event_key``) on a template card."""
        fields: list[tuple[str, str | int]] = [
            ("Event", "template_card_event"),
            ("EventKey", event_key),
            ("TaskId", task_id),
            ("CardType", card_type),
            ("ResponseCode", response_code or secrets.token_urlsafe(24)),
        ]
        return await self.send_xml(self._message(from_user, "event", fields), forged=forged)
