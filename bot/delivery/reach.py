"""Who a private message reaches now, so that a message stating who received what is true.

A member is reached when they have an identity on a running platform that can be written to
(they opened the bot; WeCom members can be written to from the start). Rows for the others
are held until they open the bot, or not written at all when they are not connected yet.
Group messages that say "everyone has received ..." are built from this, not assumed.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from bot.core.app import Huiwu
from bot.core.formatting import names_text
from bot.core.i18n import _
from storage import instances
from storage.records import MemberRecord


async def unreached(app: Huiwu, instance_id: int, members: Iterable[MemberRecord]) -> list[str]:
    """The names of ``members`` no private message reaches now, in the order given."""
    _all, reachable = await instances.members_with_reach(app.db, instance_id, app.platforms)
    return [member.name for member in members if member.id not in reachable]


def unreached_reason(platforms: Collection[str]) -> str:
    """Why someone is not reached, as true on the platforms running: on Telegram they have
    not opened the bot (or blocked it); on WeCom the roster gives no account of theirs, or the
    app may not write to them (outside its visible range, or left the company)."""
    telegram, wecom = "telegram" in platforms, "wecom" in platforms
    if telegram and wecom:
        return _("they have not opened the bot, and the WeCom app cannot write to them")
    if wecom:
        return _("the roster gives no WeCom account of theirs, or the app may not write to them")
    return _("they have not opened the bot, or have blocked it")


def unreached_line(names: list[str], platforms: Collection[str]) -> str:
    """One line naming who was not reached and why (empty when everyone was)."""
    if not names:
        return ""
    return _("Not reached yet ({reason}): {names}").format(
        reason=unreached_reason(platforms), names=names_text(names)
    )
