"""Addressing: turn "tell this member / this group / the sender of this event" into outbox rows.

Each message is built inside the recipient's locale, so one push to ten members can go out
in two languages. Only platforms that are running get rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime

import aiosqlite

from bot.core.app import Huiwu
from bot.core.i18n import use_locale
from bot.core.messaging import Event, OutgoingMessage
from storage import instances, outbox
from storage.records import MemberRecord

MessageBuilder = Callable[[], OutgoingMessage]


async def to_member(
    conn: aiosqlite.Connection,
    app: Huiwu,
    member: MemberRecord,
    build: MessageBuilder,
    *,
    dedupe_key: str | None = None,
    not_before: datetime | None = None,
) -> int:
    """Queue a private message to a member on each running platform; returns rows queued."""
    plan = await app.plans.get(member.instance_id)
    queued = 0
    for identity in await instances.identities_of(app.db, member.id):
        if identity.platform not in app.platforms:
            continue
        with use_locale(member.locale or plan.locale):
            message = build()
        row = await outbox.enqueue(
            conn,
            platform=identity.platform,
            chat_id=identity.user_id,
            payload=message.to_json(),
            now=app.clock.now(),
            instance_id=member.instance_id,
            dedupe_key=f"{dedupe_key}:{identity.platform}" if dedupe_key else None,
            not_before=not_before,
            held=not identity.reachable,
        )
        queued += row is not None
    return queued


async def to_groups(
    conn: aiosqlite.Connection,
    app: Huiwu,
    instance_id: int,
    build: MessageBuilder,
    *,
    dedupe_key: str | None = None,
) -> int:
    """Queue a message to every group chat bound to the plan instance, in the plan's locale."""
    plan = await app.plans.get(instance_id)
    queued = 0
    for platform, chat_id in await instances.group_chats(app.db, instance_id):
        if platform not in app.platforms:
            continue
        with use_locale(plan.locale):
            message = build()
        row = await outbox.enqueue(
            conn,
            platform=platform,
            chat_id=chat_id,
            payload=_as_group(message).to_json(),
            now=app.clock.now(),
            instance_id=instance_id,
            dedupe_key=f"{dedupe_key}:{platform}:{chat_id}" if dedupe_key else None,
        )
        queued += row is not None
    return queued


async def to_chat(
    conn: aiosqlite.Connection, app: Huiwu, event: Event, message: OutgoingMessage
) -> None:
    """Answer in the chat an event came from (already built in the event's locale)."""
    for chat_id, addressed in _addressed(app, event, [message]):
        await outbox.enqueue(
            conn,
            platform=event.platform,
            chat_id=chat_id,
            payload=addressed.to_json(),
            now=app.clock.now(),
        )


async def replies_to_chat(app: Huiwu, event: Event, messages: list[OutgoingMessage]) -> None:
    """Answer in the chat an event came from, when nothing else is written with the answers
    (or where the platform says some of them must go: ``PlatformInfo.shape_replies``)."""
    await outbox.enqueue_to_chats_now(
        app.db,
        platform=event.platform,
        rows=[
            (chat_id, message.to_json()) for chat_id, message in _addressed(app, event, messages)
        ],
        now=app.clock.now(),
    )


async def replies_unrecorded(app: Huiwu, event: Event, messages: list[OutgoingMessage]) -> None:
    """Answer in the event's chat at once, without the outbox (the database cannot be
    written): best effort, sent once."""
    platform = app.platforms.get(event.platform)
    if platform is None:
        return
    for chat_id, message in _addressed(app, event, messages):
        await platform.sender.send_unrecorded(chat_id, message)


def _addressed(
    app: Huiwu, event: Event, messages: list[OutgoingMessage]
) -> list[tuple[str, OutgoingMessage]]:
    """(chat, message) of each answer; those to a group chat marked as such."""
    platform = app.platforms.get(event.platform)
    shape = platform.shape_replies if platform is not None else None
    rows = shape(event, messages) if shape else [(event.chat_id, m) for m in messages]
    if event.is_private:
        return rows
    return [(chat, _as_group(m) if chat == event.chat_id else m) for chat, m in rows]


def _as_group(message: OutgoingMessage) -> OutgoingMessage:
    return dataclasses.replace(message, to_group=True)
