"""What a handler gets: the event, who the sender is in which plan, and a way to answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiosqlite

from bot.core.app import Huiwu
from bot.core.i18n import _
from bot.core.messaging import Button, Event, OutgoingMessage
from bot.delivery import addressing as delivery
from bot.plan import Plan, Role
from storage import conversations
from storage.records import MemberRecord

MAX_MESSAGE_TEXT = 4000  # one message's text a handler stores or acts on; longer is refused


@dataclass
class HandlerContext:
    app: Huiwu
    event: Event
    # The sender's memberships; in a group, only those in the group's plan.
    memberships: list[MemberRecord]
    group_instance_id: int | None = None  # the plan bound to the group the event came from
    replies: list[OutgoingMessage] = field(default_factory=list)
    # People on the event's platform whose command menu changed (set after the handler).
    menus_changed: list[str] = field(default_factory=list)
    # Plans whose group menus changed (a group was bound): their people who may do more
    # there than a plain member get their own menu in it.
    group_menus_changed: list[int] = field(default_factory=list)
    # In private, a command acts on one plan (the current one, ``handlers.plans``):
    # ``memberships`` then holds only that plan's; this keeps them all.
    every_membership: list[MemberRecord] = field(default_factory=list)
    current_plan_title: str | None = None  # set when the sender is on several plans

    def __post_init__(self) -> None:
        if not self.every_membership:
            self.every_membership = list(self.memberships)

    @property
    def is_known(self) -> bool:
        return bool(self.memberships)

    def roles(self) -> set[Role]:
        return {Role(role) for m in self.memberships for role in m.roles}

    def memberships_with(self, role: Role) -> list[MemberRecord]:
        return [m for m in self.memberships if role.value in m.roles]

    def reply(self, text: str, buttons: tuple[tuple[Button, ...], ...] = ()) -> None:
        """Answer in the event's chat (sent after the handler returns)."""
        self.replies.append(OutgoingMessage(text, buttons))

    def update_pressed(self, outcome: str) -> None:
        """This press completed a one-time choice: the pressed message loses its buttons and
        shows ``outcome`` (see ``update_message``)."""
        self.update_message(self.event.pressed, outcome)

    def update_message(self, pressed: str | None, outcome: str) -> None:
        """The message ``pressed`` refers to (an ``Event.pressed``) loses its buttons and shows
        ``outcome``. It goes through the outbox after the replies; nothing happens without a
        reference (the platform gave none, or the message holds other choices)."""
        if pressed:
            self.replies.append(OutgoingMessage(outcome, updates=pressed))

    def reply_message(self, message: OutgoingMessage) -> None:
        """Answer with a whole message (e.g. one carrying a file or a photo)."""
        self.replies.append(message)

    def uses_invites(self) -> bool:
        """Whether members bind themselves with invites here (see ``_uses_invites``)."""
        return self._uses_invites()

    def _uses_invites(self) -> bool:
        """Whether members bind themselves with invites here (Telegram), or are known by the
        account id the roster names (WeCom)."""
        platform = self.app.platforms.get(self.event.platform)
        return platform is not None and platform.invite_link is not None

    def greet_stranger(self) -> None:
        if self._uses_invites():
            self.reply(
                _(
                    "Hello! I am Huiwu, the meeting work-plan assistant. You are not on any plan's roster yet: ask the organizer for your personal invite link."
                )
            )
        else:
            self.reply(
                _(
                    "Hello! I am Huiwu, the meeting work-plan assistant. You are not on any plan's roster yet: ask the organizer to add your account ({account}) to the plan."
                ).format(account=self.event.user_id)
            )

    def refuse_stranger(self) -> None:
        if self._uses_invites():
            self.reply(
                _(
                    "You are not on this plan's roster, so I cannot do that for you. Ask the organizer for an invite link."
                )
            )
        else:
            self.reply(
                _(
                    "You are not on this plan's roster, so I cannot do that for you. Ask the organizer to add your account ({account}) to the plan."
                ).format(account=self.event.user_id)
            )

    async def keep_conversation(self, state: str, data: dict[str, Any]) -> None:
        """Store the sender's conversation (a draft, what they are answering): it survives a
        restart, and the next plain message continues it."""
        async with self.app.db.transaction() as conn:
            await conversations.save(
                conn, self.event.platform, self.event.user_id, state, data, self.app.clock.now()
            )

    async def conversation_in(self, state: str, otherwise: str) -> dict[str, Any] | None:
        """The data of the sender's stored conversation when it is in ``state``; else None,
        answering ``otherwise`` (a stale button, a step sent out of turn)."""
        stored = await conversations.load(self.app.db, self.event.platform, self.event.user_id)
        if stored is None or stored[0] != state:
            self.reply(otherwise)
            return None
        return stored[1]

    async def plan_of(self, member: MemberRecord) -> Plan:
        return await self.app.plans.get(member.instance_id)

    def outgoing(self) -> list[OutgoingMessage]:
        """The replies, then the updates of pressed messages (the answer is read first)."""
        return sorted(self.replies, key=lambda message: message.updates is not None)

    async def flush(self, conn: aiosqlite.Connection) -> None:
        for message in self.outgoing():
            await delivery.to_chat(conn, self.app, self.event, message)
        self.replies.clear()
