"""The Bot API methods served by the Telegram emulator, and webhook delivery.

:class:`BotApiMethods` implements each method on the shared :class:`TelegramWorld`: it
validates parameters the way Telegram does (chat not found, bot blocked, text too long,
message not modified, flood limits, ...) and returns the ``result`` object of the answer
or raises :class:`ApiError`.  Webhook delivery pushes queued updates, one at a time and in
order, to the URL given by ``setWebhook`` and retries with growing delays on failure.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from bot.sandbox.telegram.state import (
    ApiError,
    BotAccount,
    JsonDict,
    RequestParams,
    SimChat,
    StoredFile,
    StoredMessage,
    TelegramWorld,
    WebhookConfig,
    bad_request,
    forbidden,
    too_many_requests,
)
from bot.sandbox.telegram.text import keyboard_labels, plain_text, validate_reply_markup

logger = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024


def utf16_length(text: str) -> int:
    """Telegram counts text limits in UTF-16 code units: an emoji outside the BMP counts two."""
    return len(text.encode("utf-16-le")) // 2


_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_SCOPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)

Method = Callable[[BotAccount, RequestParams], Awaitable[Any]]


class BotApiMethods:
    """The Bot API methods, each taking the calling bot and the request parameters."""

    def __init__(
        self,
        world: TelegramWorld,
        *,
        webhook_retry_delay: float = 0.2,
        webhook_max_retry_delay: float = 5.0,
    ) -> None:
        self._world = world
        self._webhook_retry_delay = webhook_retry_delay
        self._webhook_max_retry_delay = webhook_max_retry_delay
        self._webhook_tasks: dict[str, asyncio.Task[None]] = {}
        self._http: aiohttp.ClientSession | None = None
        self._closing = False
        self._poll_ids = itertools.count(5_000_000_000_000_000_001)
        self.by_name: dict[str, tuple[str, Method]] = {
            name.lower(): (name, method)
            for name, method in {
                "getMe": self.get_me,
                "logOut": self.log_out,
                "close": self.log_out,
                "getUpdates": self.get_updates,
                "setWebhook": self.set_webhook,
                "deleteWebhook": self.delete_webhook,
                "getWebhookInfo": self.get_webhook_info,
                "setMyCommands": self.set_my_commands,
                "getMyCommands": self.get_my_commands,
                "deleteMyCommands": self.delete_my_commands,
                "setChatMenuButton": self.set_chat_menu_button,
                "getChatMenuButton": self.get_chat_menu_button,
                "sendMessage": self.send_message,
                "editMessageText": self.edit_message_text,
                "editMessageReplyMarkup": self.edit_message_reply_markup,
                "deleteMessage": self.delete_message,
                "answerCallbackQuery": self.answer_callback_query,
                "sendDocument": self.send_document,
                "sendPhoto": self.send_photo,
                "getFile": self.get_file,
                "sendPoll": self.send_poll,
                "stopPoll": self.stop_poll,
                "getChat": self.get_chat,
                "getChatMember": self.get_chat_member,
                "sendChatAction": self.send_chat_action,
            }.items()
        }
        """Lower-case method name → (canonical name, implementation)."""

    async def open(self) -> None:
        """Prepares the HTTP client used for webhook delivery."""
        self._closing = False
        self._http = aiohttp.ClientSession()

    async def close(self) -> None:
        """Releases pending long polls, stops webhook delivery and closes the HTTP client."""
        self._closing = True
        for bot in self._world.bots.values():
            bot.updates_signal.notify()
        tasks = list(self._webhook_tasks.values())
        self._webhook_tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
            self._http = None

    def notify_update(self, bot: BotAccount) -> None:
        """Starts webhook delivery for ``bot`` if a webhook is set and no delivery runs."""
        task = self._webhook_tasks.get(bot.token)
        if bot.webhook is not None and (task is None or task.done()) and not self._closing:
            self._webhook_tasks[bot.token] = asyncio.get_running_loop().create_task(
                self._deliver_to_webhook(bot), name=f"telegram-webhook-{bot.user_id}"
            )

    # --- bot identity and updates -------------------------------------------------------

    async def get_me(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        return bot.to_api()

    async def log_out(self, bot: BotAccount, params: RequestParams) -> bool:
        return True

    async def get_updates(self, bot: BotAccount, params: RequestParams) -> list[JsonDict]:
        self._refuse_polling_with_webhook(bot)
        limit = min(max(params.integer("limit") or 100, 1), 100)
        timeout = max(params.integer("timeout") or 0, 0)
        allowed = params.json("allowed_updates")
        if allowed is not None:
            bot.allowed_updates = frozenset(allowed) or None
        bot.confirm_updates(params.integer("offset"))
        bot.polling_generation += 1
        generation = bot.polling_generation
        bot.updates_signal.notify()  # an older long poll of this bot ends with 409
        deadline = time.monotonic() + timeout
        while True:
            updates = bot.deliverable_updates(limit)
            remaining = deadline - time.monotonic()
            if updates or remaining <= 0 or self._closing:
                return updates
            await bot.updates_signal.wait(remaining)
            if bot.polling_generation != generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            self._refuse_polling_with_webhook(bot)

    @staticmethod
    def _refuse_polling_with_webhook(bot: BotAccount) -> None:
        if bot.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )

    async def set_webhook(self, bot: BotAccount, params: RequestParams) -> bool:
        url = params.text("url") or ""
        if not url:
            return await self.delete_webhook(bot, params)
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret_token = params.text("secret_token")
        if secret_token is not None and not _SECRET_TOKEN.fullmatch(secret_token):
            raise bad_request("secret token contains unallowed characters")
        if params.flag("drop_pending_updates"):
            bot.pending_updates.clear()
        allowed = params.json("allowed_updates")
        if allowed is not None:
            bot.allowed_updates = frozenset(allowed) or None
        bot.webhook = WebhookConfig(url, secret_token, params.integer("max_connections") or 40)
        bot.webhook_last_error = None
        bot.updates_signal.notify()  # a pending long poll ends with 409
        self.notify_update(bot)
        return True

    async def delete_webhook(self, bot: BotAccount, params: RequestParams) -> bool:
        if params.flag("drop_pending_updates"):
            bot.pending_updates.clear()
        bot.webhook = None
        task = self._webhook_tasks.pop(bot.token, None)
        if task is not None:
            task.cancel()
        return True

    async def get_webhook_info(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        info: JsonDict = {
            "url": bot.webhook.url if bot.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(bot.pending_updates),
        }
        if bot.webhook is not None:
            info["max_connections"] = bot.webhook.max_connections
            if bot.allowed_updates is not None:
                info["allowed_updates"] = sorted(bot.allowed_updates)
        if bot.webhook_last_error is not None:
            info["last_error_date"], info["last_error_message"] = bot.webhook_last_error
        return info

    async def _deliver_to_webhook(self, bot: BotAccount) -> None:
        delay = self._webhook_retry_delay
        while bot.webhook is not None and not self._closing:
            updates = bot.deliverable_updates(1)
            if not updates:
                await bot.updates_signal.wait(None)
                continue
            error = await self._post_update(bot.webhook, updates[0])
            if error is None:
                if bot.pending_updates and bot.pending_updates[0] is updates[0]:
                    bot.pending_updates.pop(0)
                self._world.stats.webhook_deliveries += 1
                delay = self._webhook_retry_delay
                continue
            logger.info("webhook delivery to %s failed: %s", bot.webhook.url, error)
            self._world.stats.webhook_failures += 1
            bot.webhook_last_error = (int(time.time()), error)
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._webhook_max_retry_delay)

    async def _post_update(self, webhook: WebhookConfig, update: JsonDict) -> str | None:
        """POSTs one update; returns ``None`` on a 2xx answer, else what went wrong."""
        assert self._http is not None, "open() must run before webhook delivery"
        headers = {}
        if webhook.secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
        try:
            async with self._http.post(
                webhook.url, json=update, headers=headers, timeout=aiohttp.ClientTimeout(total=10)
            ) as response:
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, TimeoutError) as error:
            return f"Connection failed: {error!r}"

    # --- commands ------------------------------------------------------------------------

    def _commands_key(self, params: RequestParams) -> tuple[str, str]:
        scope = params.json("scope") or {"type": "default"}
        kind = scope.get("type") if isinstance(scope, dict) else None
        if kind not in _COMMAND_SCOPES:
            raise bad_request("BOT_COMMAND_SCOPE_INVALID")
        if kind in ("chat", "chat_administrators", "chat_member"):
            try:
                chat_id = int(scope.get("chat_id", ""))
            except (TypeError, ValueError):
                raise bad_request("chat not found") from None
            if chat_id not in self._world.chats and chat_id not in self._world.users:
                raise bad_request("chat not found")
            scope = {**scope, "chat_id": chat_id}
        if kind == "chat_member":  # a member of that group, by their user id
            try:
                user_id = int(scope.get("user_id", ""))
            except (TypeError, ValueError):
                raise bad_request("user not found") from None
            chat = self._world.chats.get(scope["chat_id"])
            if chat is None or not chat.is_group or user_id not in chat.member_ids:
                raise bad_request("user not found")
            scope = {**scope, "user_id": user_id}
        return json.dumps(scope, sort_keys=True), params.text("language_code") or ""

    async def set_my_commands(self, bot: BotAccount, params: RequestParams) -> bool:
        commands = params.json("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            if not _COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        bot.commands[self._commands_key(params)] = [
            {"command": c["command"], "description": c["description"]} for c in commands
        ]
        return True

    async def get_my_commands(self, bot: BotAccount, params: RequestParams) -> list[JsonDict]:
        return bot.commands.get(self._commands_key(params), [])

    async def delete_my_commands(self, bot: BotAccount, params: RequestParams) -> bool:
        bot.commands.pop(self._commands_key(params), None)
        return True

    async def set_chat_menu_button(self, bot: BotAccount, params: RequestParams) -> bool:
        """The default menu button (a per-chat one is not emulated)."""
        button = params.json("menu_button") or {"type": "default"}
        kind = button.get("type") if isinstance(button, dict) else None
        if kind not in ("commands", "web_app", "default"):
            raise bad_request("menu_button type is invalid")
        if kind == "web_app":
            url = str((button.get("web_app") or {}).get("url", ""))
            if not url.startswith(("https://", "http://")) or not button.get("text"):
                raise bad_request("BUTTON_URL_INVALID")
        bot.menu_button = button
        return True

    async def get_chat_menu_button(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        return bot.menu_button

    # --- chats ---------------------------------------------------------------------------

    @staticmethod
    def _chat_id(params: RequestParams) -> int:
        """The numeric ``chat_id``; an ``@username`` is unknown to the emulator."""
        try:
            return int(params.required_text("chat_id", missing="chat_id is empty"))
        except ValueError:
            raise bad_request("chat not found") from None

    def _known_chat(self, params: RequestParams) -> SimChat:
        """The chat named by ``chat_id``."""
        chat = self._world.chats.get(self._chat_id(params))
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _reachable_chat(self, bot: BotAccount, params: RequestParams) -> SimChat:
        """The chat named by ``chat_id``, if the bot may write to it."""
        chat_id = self._chat_id(params)
        chat = self._world.chats.get(chat_id)
        if chat is None or (chat.user is not None and chat_id not in bot.started_by):
            if chat_id in self._world.users:
                raise forbidden("bot can't initiate conversation with a user")
            raise bad_request("chat not found")
        if chat_id in bot.blocked_by:
            raise forbidden("bot was blocked by the user")
        return chat

    async def get_chat(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        chat = self._known_chat(params)
        return {
            **chat.to_api(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    async def get_chat_member(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        chat = self._known_chat(params)
        user_id = params.required_integer("user_id", missing="user_id is empty")
        if user_id == bot.user_id:
            return {"status": "member", "user": bot.sender_api()}
        user = self._world.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        is_member = user_id in chat.member_ids if chat.is_group else chat.user is user
        return {"status": "member" if is_member else "left", "user": user.to_api()}

    async def send_chat_action(self, bot: BotAccount, params: RequestParams) -> bool:
        chat = self._reachable_chat(bot, params)
        action = params.required_text("action", missing="action is empty")
        if action not in _CHAT_ACTIONS:
            raise bad_request("Wrong parameter action in request")
        bot.chat_actions.append((chat.chat_id, action))
        return True

    # --- sending and editing -------------------------------------------------------------

    def _deliver(self, bot: BotAccount, params: RequestParams, content: JsonDict) -> JsonDict:
        """Sends a new bot message with ``content`` after the chat and flood checks."""
        chat = self._reachable_chat(bot, params)
        markup = validate_reply_markup(params.json("reply_markup"))
        reply_to = self._replied_message(chat, params)
        retry_after = bot.flood.admit(chat.chat_id, is_group=chat.is_group)
        if retry_after is not None:
            raise too_many_requests(retry_after)
        message = self._world.new_message(chat, bot.sender_api(), content)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        chat.messages[message["message_id"]] = StoredMessage(message, from_bot=True)
        self._world.record("out", chat, message, bot.first_name, keyboard=keyboard_labels(markup))
        self._world.stats.messages_sent += 1
        return message

    @staticmethod
    def _replied_message(chat: SimChat, params: RequestParams) -> JsonDict | None:
        reply_parameters = params.json("reply_parameters") or {}
        message_id = reply_parameters.get("message_id") or params.integer("reply_to_message_id")
        if message_id is None:
            return None
        replied = chat.messages.get(int(message_id))
        if replied is not None:
            return {
                key: value for key, value in replied.payload.items() if key != "reply_to_message"
            }
        allow_missing = reply_parameters.get("allow_sending_without_reply") or params.flag(
            "allow_sending_without_reply"
        )
        if allow_missing:
            return None
        raise bad_request("message to be replied not found")

    @staticmethod
    def _message_text(params: RequestParams) -> str:
        text = plain_text(
            params.required_text("text", missing="message text is empty"),
            params.text("parse_mode"),
        )
        if not text.strip():
            raise bad_request("message text is empty")
        if utf16_length(text) > MAX_TEXT_LENGTH:
            raise bad_request("message is too long")
        return text

    @staticmethod
    def _caption(params: RequestParams) -> JsonDict:
        caption = params.text("caption")
        if not caption:
            return {}
        shown = plain_text(caption, params.text("parse_mode"))
        if utf16_length(shown) > MAX_CAPTION_LENGTH:
            raise bad_request("message caption is too long")
        return {"caption": shown}

    async def send_message(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        content: JsonDict = {"text": self._message_text(params)}
        entities = params.json("entities")
        if entities and not params.text("parse_mode"):
            content["entities"] = entities
        return self._deliver(bot, params, content)

    async def send_document(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        stored = self._file_to_send(params, "document", folder="documents")
        return self._deliver(
            bot, params, {"document": stored.document_api(), **self._caption(params)}
        )

    async def send_photo(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        stored = self._file_to_send(params, "photo", folder="photos")
        return self._deliver(bot, params, {"photo": stored.photo_api(), **self._caption(params)})

    def _file_to_send(self, params: RequestParams, name: str, *, folder: str) -> StoredFile:
        """The uploaded file (stored now) or the known file that ``file_id`` names."""
        upload = params.upload(name)
        if upload is not None:
            if not upload.content:
                raise bad_request("file must be non-empty")
            if len(upload.content) > MAX_UPLOAD_BYTES:
                raise ApiError(413, "Request Entity Too Large")
            filename = upload.filename or ("photo.jpg" if name == "photo" else "document")
            return self._world.store_file(
                upload.content, filename=filename, mime_type=upload.mime_type, folder=folder
            )
        file_id = params.required_text(name, missing=f"there is no {name} in the request")
        stored = self._world.files.get(file_id)
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        return stored

    def _bot_message(self, bot: BotAccount, params: RequestParams) -> tuple[SimChat, StoredMessage]:
        if params.text("inline_message_id"):
            raise bad_request("inline messages are not supported by the emulator")
        chat = self._reachable_chat(bot, params)
        message_id = params.required_integer(
            "message_id", missing="message identifier is not specified"
        )
        stored = chat.messages.get(message_id)
        if stored is None:
            raise bad_request("message to edit not found")
        if not stored.from_bot:
            raise bad_request("message can't be edited")
        return chat, stored

    def _record_edit(self, bot: BotAccount, chat: SimChat, stored: StoredMessage) -> JsonDict:
        stored.payload["edit_date"] = int(time.time())
        self._world.record("out", chat, stored.payload, bot.first_name, edited=True)
        return dict(stored.payload)

    async def edit_message_text(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        chat, stored = self._bot_message(bot, params)
        if "text" not in stored.payload:
            raise bad_request("there is no text in the message to edit")
        text = self._message_text(params)
        markup = validate_reply_markup(params.json("reply_markup"))
        inline_markup = {"inline_keyboard": markup["inline_keyboard"]} if markup else None
        if text == stored.payload["text"] and inline_markup == stored.payload.get("reply_markup"):
            raise bad_request(_NOT_MODIFIED)
        stored.payload["text"] = text
        stored.payload.pop("reply_markup", None)
        if inline_markup is not None:
            stored.payload["reply_markup"] = inline_markup
        return self._record_edit(bot, chat, stored)

    async def edit_message_reply_markup(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        chat, stored = self._bot_message(bot, params)
        markup = validate_reply_markup(params.json("reply_markup"))
        inline_markup = {"inline_keyboard": markup["inline_keyboard"]} if markup else None
        if inline_markup == stored.payload.get("reply_markup"):
            raise bad_request(_NOT_MODIFIED)
        stored.payload.pop("reply_markup", None)
        if inline_markup is not None:
            stored.payload["reply_markup"] = inline_markup
        return self._record_edit(bot, chat, stored)

    async def delete_message(self, bot: BotAccount, params: RequestParams) -> bool:
        chat = self._reachable_chat(bot, params)
        message_id = params.required_integer(
            "message_id", missing="message identifier is not specified"
        )
        if chat.messages.pop(message_id, None) is None:
            raise bad_request("message to delete not found")
        for entry in self._world.transcripts.get(chat.chat_id, []):
            if entry.message_id == message_id and entry.callback_data is None:
                entry.deleted = True
        return True

    async def answer_callback_query(self, bot: BotAccount, params: RequestParams) -> bool:
        query_id = params.required_text("callback_query_id", missing="query_id is empty")
        if query_id not in self._world.open_callback_queries:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        self._world.open_callback_queries.discard(query_id)
        self._world.callback_answers[query_id] = {
            "text": params.text("text"),
            "show_alert": params.flag("show_alert"),
            "url": params.text("url"),
        }
        return True

    # --- files ---------------------------------------------------------------------------

    async def get_file(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        file_id = params.required_text("file_id", missing="file_id is empty")
        stored = self._world.files.get(file_id)
        if stored is None:
            raise bad_request("invalid file_id")
        if len(stored.content) > MAX_DOWNLOAD_BYTES:
            raise bad_request("file is too big")
        return stored.to_api()

    # --- polls ---------------------------------------------------------------------------

    async def send_poll(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        question = params.required_text("question", missing="poll question must be non-empty")
        if len(question) > 300:
            raise bad_request("poll question length must not exceed 300")
        options = params.json("options")
        if not isinstance(options, list) or not 2 <= len(options) <= 12:
            raise bad_request("poll must have 2-12 options")
        texts = [
            option if isinstance(option, str) else option.get("text", "") for option in options
        ]
        if not all(1 <= len(text) <= 100 for text in texts):
            raise bad_request("poll options length must not exceed 100")
        poll = {
            "id": str(next(self._poll_ids)),
            "question": question,
            "options": [
                {"text": text, "voter_count": 0, "persistent_id": str(index)}
                for index, text in enumerate(texts)
            ],
            "total_voter_count": 0,
            "is_closed": params.flag("is_closed"),
            "is_anonymous": params.flag("is_anonymous", default=True),
            "type": params.text("type") or "regular",
            "allows_multiple_answers": params.flag("allows_multiple_answers"),
            "allows_revoting": params.flag("allows_revoting", default=True),
            "members_only": params.flag("members_only"),
        }
        return self._deliver(bot, params, {"poll": poll})

    async def stop_poll(self, bot: BotAccount, params: RequestParams) -> JsonDict:
        chat, stored = self._bot_message(bot, params)
        poll = stored.payload.get("poll")
        if poll is None:
            raise bad_request("message with poll to stop not found")
        if poll["is_closed"]:
            raise bad_request("poll has already been closed")
        poll["is_closed"] = True
        self._record_edit(bot, chat, stored)
        return dict(poll)
