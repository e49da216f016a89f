"""Each person's own command menu: the private-chat commands their roles allow, in their
language, from the one command table (``handlers.commands``).

A platform that can set a menu per chat (Telegram: setMyCommands with BotCommandScopeChat)
gives ``PlatformInfo.set_menu``; menus are set again when what someone may use changes: a
handler names them in ``HandlerContext.menus_changed`` (/start, loading a plan) and the router
refreshes them after the answer; the runtime refreshes everyone at start-up (roles may have
changed while it was stopped). Everyone else sees the menu for strangers, which lists
only what anyone may use. A failed refresh is logged and changes nothing else: the commands
work whatever the menu shows.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from bot.core.app import Huiwu
from bot.core.i18n import _, normalise_locale, supported_locale, use_locale
from bot.core.messaging import ChatType
from bot.plan import Role
from handlers import commands
from storage import instances

logger = logging.getLogger(__name__)

MAX_DESCRIPTION = 256  # Telegram's limit for a command's description


def menu_for_roles(roles: set[Role]) -> list[tuple[str, str]]:
    """(command, description) of the private-chat commands ``roles`` allow, in the current
    locale; no roles means a stranger's menu."""
    return [
        (spec.name, _(spec.description)[:MAX_DESCRIPTION])
        for spec in commands.COMMANDS
        if spec.allows_chat(ChatType.PRIVATE) and spec.allows_roles(roles)
    ]


async def menu_of(
    app: Huiwu, platform: str, user_id: str, language: str | None = None
) -> list[tuple[str, str]]:
    """The menu of one person, in the language the router would answer them in."""
    memberships = await instances.members_for_user(app.db, platform, user_id)
    roles = {Role(role) for m in memberships for role in m.roles}
    chosen = next((m.locale for m in memberships if m.locale), None)
    locale = normalise_locale(chosen, app.default_locale) if chosen else supported_locale(language)
    if locale is None and memberships:
        locale = (await app.plans.get(memberships[0].instance_id)).locale
    with use_locale(locale or app.default_locale):
        return menu_for_roles(roles)


async def refresh(
    app: Huiwu, platform: str, user_ids: Iterable[str], language: str | None = None
) -> int:
    """Set the menu of each person on ``platform``; returns how many were set."""
    info = app.platforms.get(platform)
    if info is None or info.set_menu is None:
        return 0
    done = 0
    for user_id in user_ids:
        try:
            await info.set_menu(user_id, await menu_of(app, platform, user_id, language))
            done += 1
        except Exception as exc:  # the menu is a convenience; never fail what triggered it
            logger.warning("%s: could not set the command menu of %s: %s", platform, user_id, exc)
    return done


def refresh_soon(
    app: Huiwu, platform: str, user_ids: Iterable[str], language: str | None = None
) -> None:
    """Refresh in the background (a handler does not wait for the platform's API)."""
    if platform in app.platforms and app.platforms[platform].set_menu is not None:
        app.in_background(refresh(app, platform, list(user_ids), language))


async def refresh_everyone(app: Huiwu, platform: str) -> int:
    """Every bound person on ``platform`` (at start-up)."""
    rows = await app.db.fetch_all(
        "SELECT DISTINCT user_id FROM identities WHERE platform = ?", (platform,)
    )
    return await refresh(app, platform, [str(row[0]) for row in rows])


async def settle(app: Huiwu) -> None:
    """Wait for the refreshes under way (tests, shutdown)."""
    await asyncio.gather(*list(app.background), return_exceptions=True)
