"""The robot's callback mode: WeCom POSTs each message or event, AES-encrypted like the app's
callbacks but as JSON (``{"encrypt": ...}``) and with an empty ReceiveId, to the robot's own
path on Huiwu's HTTP server (``WECOM_BOT_PATH``, beside the app's callback path).

``GET`` is WeCom's URL check (the decrypted ``echostr`` is answered, bare). ``POST`` is
verified, decrypted, journaled and answered with an empty body at once (WeCom gives five
seconds); answers go out through the message's ``response_url``. A bad signature or a stale
timestamp gets 403, a malformed body 400, a body over 64 KiB 413; none changes anything.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web
from wechatpy.enterprise.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

from bot.adapters.wecom.events import MalformedCallback
from bot.adapters.wecom.robot.frames import parse_body
from bot.adapters.wecom.robot.receiver import RobotReceiver

logger = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
MAX_AGE_SECONDS = 86400.0


class RobotCallbackEndpoint:
    """Routes for the robot's callback URL; ``install`` adds them to an aiohttp application."""

    def __init__(
        self,
        *,
        token: str,
        aes_key: str,
        receiver: RobotReceiver,
        path: str = "/wecom/robot",
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.receiver = receiver
        self._crypto = WeChatCrypto(token, aes_key, "")  # a robot's ReceiveId is empty
        self._wall_clock = wall_clock
        self.rejected: dict[int, int] = {}

    def __repr__(self) -> str:  # never show the token or the AES key
        return f"RobotCallbackEndpoint(path={self.path!r})"

    def install(self, app: web.Application) -> None:
        app.router.add_get(self.path, self._verify_url)
        app.router.add_post(self.path, self._receive)

    def _reject(self, status: int, reason: str) -> web.Response:
        self.rejected[status] = self.rejected.get(status, 0) + 1
        logger.warning("WeCom robot callback refused (%d): %s", status, reason)
        return web.Response(status=status, text=reason)

    @staticmethod
    def _signed(request: web.Request) -> tuple[str, str, str] | None:
        values = tuple(request.query.get(n, "") for n in ("msg_signature", "timestamp", "nonce"))
        return values if all(values) else None  # type: ignore[return-value]

    async def _verify_url(self, request: web.Request) -> web.Response:
        signed = self._signed(request)
        echostr = request.query.get("echostr", "")
        if signed is None or not echostr:
            return self._reject(400, "msg_signature, timestamp, nonce and echostr are required")
        try:
            plain = self._crypto.check_signature(*signed, echostr)
        except InvalidSignatureException:
            return self._reject(403, "bad signature")
        except Exception as exc:
            return self._reject(400, f"cannot decrypt ({type(exc).__name__})")
        return web.Response(text=plain)

    async def _receive(self, request: web.Request) -> web.Response:
        signed = self._signed(request)
        if signed is None:
            return self._reject(400, "msg_signature, timestamp and nonce are required")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return self._reject(413, "body too large")
        raw = await request.content.read(MAX_BODY + 1)
        if len(raw) > MAX_BODY:
            return self._reject(413, "body too large")
        try:
            envelope = parse_body(raw)
            encrypted = envelope.get("encrypt")
            if not isinstance(encrypted, str) or not encrypted:
                raise MalformedCallback("encrypt missing")
            signature, timestamp, nonce = signed
            plain = self._crypto.decrypt_message(
                {"Encrypt": encrypted}, signature, timestamp, nonce
            )
            if abs(self._wall_clock() - int(timestamp)) > MAX_AGE_SECONDS:
                return self._reject(403, "stale timestamp")
            body = parse_body(plain)
        except InvalidSignatureException:
            return self._reject(403, "bad signature")
        except MalformedCallback as exc:
            return self._reject(400, str(exc))
        except Exception as exc:  # bad base64, padding, length, a wrong ReceiveId
            return self._reject(400, f"cannot decrypt ({type(exc).__name__})")
        await self.receiver.accept(body)
        return web.Response(text="")
