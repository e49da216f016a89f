"""Closing an opinion window: every member receives the opinions addressed to them (and
those to the whole team) word for word, the organizer all of them; the group hears the count.
"""

from __future__ import annotations

import logging
from functools import partial

from bot.core.app import Huiwu
from bot.core.i18n import _
from bot.core.messaging import OutgoingMessage
from bot.delivery import addressing as delivery
from bot.delivery import reach
from bot.plan import Plan, Role
from storage import instances
from storage import opinions as opinion_store
from storage.opinions import Opinion, OpinionWindow
from storage.records import MemberRecord

logger = logging.getLogger(__name__)

MESSAGE_LIMIT = 3500  # characters per message; opinions are packed, never cut


def addressable_keys(plan: Plan) -> tuple[str, ...]:
    """Who opinions can be addressed to: the meeting's participants (the leadership team)."""
    if plan.meeting is not None and plan.meeting.participant_ids:
        return plan.meeting.participant_ids
    return tuple(m.id for m in plan.with_role(Role.MEMBER))


Entry = tuple[str, int, Opinion]  # (section: "you" / "team" / a member's name, number, opinion)


def _entries(
    member: MemberRecord, members: list[MemberRecord], opinions: list[Opinion]
) -> list[Entry]:
    """What one recipient gets, in order: the organizer all, a member theirs and the team's."""
    sections: list[tuple[str, list[Opinion]]] = []
    team = [o for o in opinions if o.addressee_id is None]
    if Role.ORGANIZER.value in member.roles:
        sections.append(("team", team))
        sections += [(m.name, [o for o in opinions if o.addressee_id == m.id]) for m in members]
    else:
        sections.append(("you", [o for o in opinions if o.addressee_id == member.id]))
        sections.append(("team", team))
    return [(name, n, o) for name, items in sections for n, o in enumerate(items, 1)]


def chunks(entries: list[Entry]) -> list[list[Entry]]:
    """Entries packed into messages by the length of the opinions (the same in any language)."""
    packed: list[list[Entry]] = [[]]
    size = 0
    for entry in entries:
        length = len(entry[2].text) + len(entry[2].sender_name or "") + 40
        if packed[-1] and size + length > MESSAGE_LIMIT:
            packed.append([])
            size = 0
        packed[-1].append(entry)
        size += length
    return packed


def _heading(section: str) -> str:
    if section == "you":
        return _("To you")
    if section == "team":
        return _("To the whole team")
    return _("To {name}").format(name=section)


def render(plan: Plan, total: int, part: list[Entry], first: bool) -> OutgoingMessage:
    lines = []
    if first:
        lines.append(
            _("Opinions on “{plan}”, word for word ({count} in all):").format(
                plan=plan.title, count=total
            )
        )
    section = None
    for name, number, opinion in part:
        if name != section:
            lines += ["", f"【{_heading(name)}】"]
            section = name
        by = opinion.sender_name or _("anonymous")
        lines.append(f"{number}. {opinion.text}\n—— {by}")
    if first and not part:
        lines.append(_("No opinions were received."))
    return OutgoingMessage("\n".join(lines))


def _closed_text(count: int, not_reached: list[str], platforms: list[str]) -> OutgoingMessage:
    if count == 0:
        return OutgoingMessage(_("The call for opinions has closed; no opinions were handed in."))
    if not not_reached:
        text = _(
            "The call for opinions has closed with {count} opinion(s); each member has been sent those addressed to them, word for word."
        ).format(count=count)
    else:
        text = _(
            "The call for opinions has closed with {count} opinion(s); the members have been sent those addressed to them, word for word, in private chat."
        ).format(count=count)
        text += "\n" + reach.unreached_line(not_reached, platforms)
    return OutgoingMessage(text)


async def close_window(app: Huiwu, window: OpinionWindow) -> bool:
    """Close and deliver; False if it was closed already."""
    instance_id = window.instance_id
    plan = await app.plans.get(instance_id)
    members = await instances.members_of(app.db, instance_id)
    team_keys = set(addressable_keys(plan))
    opinions = await opinion_store.opinions_of(app.db, window.id)
    receivers = [
        m
        for m in members
        if Role.ORGANIZER.value in m.roles
        or (m.member_key in team_keys and _entries(m, members, opinions))
    ]
    not_reached = await reach.unreached(app, instance_id, receivers)
    async with app.db.transaction() as conn:
        if not await opinion_store.close_window(conn, window.id, app.clock.now()):
            return False
        for member in members:
            is_organizer = Role.ORGANIZER.value in member.roles
            if not is_organizer and member.member_key not in team_keys:
                continue
            entries = _entries(member, members, opinions)
            if not entries and not is_organizer:
                continue
            for index, part in enumerate(chunks(entries)):
                await delivery.to_member(
                    conn,
                    app,
                    member,
                    partial(render, plan, len(opinions), part, index == 0),
                    dedupe_key=f"opinions:{window.id}:{member.id}:{index}",
                )
        await delivery.to_groups(
            conn,
            app,
            instance_id,
            partial(_closed_text, len(opinions), not_reached, list(app.platforms)),
            dedupe_key=f"opinions-closed:{window.id}",
        )
    app.wake_senders()
    logger.info("instance %d: opinion window %d closed", instance_id, window.id)
    return True
