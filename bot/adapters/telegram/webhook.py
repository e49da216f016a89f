"""Telegram's webhook on the bot's one aiohttp server (next to the WeCom callbacks and the
board), instead of python-telegram-bot's own web server on a port of its own.

A POST must carry the secret token Telegram was given (``X-Telegram-Bot-Api-Secret-Token``),
else 403; a body that is not a JSON object gets 400; either changes nothing. An accepted update
goes to the application's update queue, as PTB's own webhook server does.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update
from telegram.ext import Application

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH = "/telegram"  # where the server listens, whatever public address a proxy maps to it
MAX_BODY = 1024 * 1024  # an update is a few KB; a long message with entities stays far below


class TelegramWebhook:
    def __init__(self, application: Application, webhook_url: str, secret: str | None) -> None:
        self.application = application
        self.webhook_url = webhook_url
        self.path = PATH
        self.secret = secret

    def install(self, http: web.Application) -> None:
        http.router.add_post(self.path, self._receive)

    async def register(self) -> None:
        """Tell Telegram where to post (what was sent while the bot was down follows)."""
        await self.application.bot.set_webhook(
            url=self.webhook_url,
            secret_token=self.secret,
            allowed_updates=Update.ALL_TYPES,
            drop_pending_updates=False,
        )

    async def _receive(self, request: web.Request) -> web.Response:
        if self.secret is not None and not hmac.compare_digest(
            request.headers.get(SECRET_HEADER, ""), self.secret
        ):
            logger.warning("Telegram webhook: a post without the secret token was refused")
            return web.Response(status=403)
        if request.content_length is not None and request.content_length > MAX_BODY:
            return web.Response(status=413)
        try:
            data = json.loads(await request.read())
        except (ValueError, UnicodeDecodeError):
            return web.Response(status=400)
        if not isinstance(data, dict):
            return web.Response(status=400)
        try:
            update = Update.de_json(data, self.application.bot)
        except Exception:  # an update PTB cannot read: not from Telegram
            return web.Response(status=400)
        if update is not None:
            await self.application.update_queue.put(update)
        return web.Response()
