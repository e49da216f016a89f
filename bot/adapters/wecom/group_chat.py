"""``huiwu wecom create-chat``: the plan's WeCom group chat, created or bound.

WeCom apps cannot join an existing group chat: the app creates one (appchat/create) from the
roster's ``wecom_userid``s, or is given the chatid of one it created before. The chat is then
bound to the plan instance like a Telegram group after /setup, so status and summaries go
there through appchat/send, and the plan becomes active (its phases run on the clock).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.adapters.wecom.client import WeComClient
from bot.adapters.wecom.events import PLATFORM
from bot.core.clock import Clock
from bot.core.i18n import _
from bot.plan import Role
from storage import instances
from storage.db import Database

MAX_CHAT_NAME = 50


class ChatSetupError(ValueError):
    """The chat cannot be created or bound; the message says why."""


@dataclass(frozen=True)
class BoundChat:
    instance_id: int
    chatid: str
    created: bool
    members: tuple[str, ...]  # userids


async def _instance_id(db: Database, wanted: int | None) -> int:
    if wanted is not None:
        if await instances.get_instance(db, wanted) is None:
            raise ChatSetupError(_("There is no plan instance {id}.").format(id=wanted))
        return wanted
    running = [i for i in await instances.list_instances(db) if i.status != "finished"]
    if not running:
        raise ChatSetupError(_("No plan is loaded: run huiwu plan load first."))
    return running[-1].id


async def create_or_bind_chat(
    db: Database,
    client: WeComClient,
    clock: Clock,
    *,
    instance_id: int | None = None,
    chatid: str | None = None,
) -> BoundChat:
    """Create the plan's group chat (or check and bind ``chatid``) and bind it to the plan."""
    instance_id = await _instance_id(db, instance_id)
    identities = await instances.identities_of_instance(db, instance_id)
    members = await instances.members_of(db, instance_id)
    userids: list[str] = []
    owner = None
    for member in members:
        userid = next(
            (i.user_id for i in identities.get(member.id, []) if i.platform == PLATFORM), None
        )
        if userid is None:
            continue
        userids.append(userid)
        if owner is None and Role.ORGANIZER.value in member.roles:
            owner = userid
    if chatid is not None:
        await client.get_chat(chatid)  # WeCom answers 86003 for a chat the app did not create
        created = False
    else:
        if len(userids) < 2:
            raise ChatSetupError(
                _(
                    "A WeCom group chat needs at least two members with a wecom_userid in the roster."
                )
            )
        record = await instances.get_instance(db, instance_id)
        assert record is not None
        chatid = await client.create_chat(
            record.title[:MAX_CHAT_NAME], owner or userids[0], userids
        )
        created = True
    async with db.transaction() as conn:
        await instances.bind_chat(conn, instance_id, PLATFORM, chatid, clock.now())
        await instances.set_status(conn, instance_id, "active")
    return BoundChat(instance_id, chatid, created, tuple(userids))
