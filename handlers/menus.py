"""Each person's own command menu: the private-chat commands their roles allow, in their
language, from the one command table (``handlers.commands``).

A platform that can set a menu per chat (Telegram: setMyCommands with BotCommandScopeChat)
gives ``PlatformInfo.set_menu``; menus are set again when what someone may use changes: a
handler names them in ``HandlerContext.menus_changed`` (/start, loading a plan) and the router
refreshes them after the answer; the runtime refreshes everyone at start-up (roles may have
changed while it was stopped). Everyone else sees the menu for strangers, which lists
only what anyone may use. A failed refresh is logged and changes nothing else: the commands
work whatever the menu shows.

In a plan's group everyone sees the group menu of a plain member (set for all groups at
start-up); someone whose roles allow more there (the organizer's /setup, /advance, the chair's
/next) gets their own menu in that group (Telegram's chat-member scope), set when the group is
bound, when they bind themselves, and at start-up. Only those few are set, not everyone in
every group: a province's 2,000 groups would otherwise cost one API call per member and group.
Someone who loses a role keeps their larger group menu until it is replaced; the commands
still refuse them.
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


def group_menu_for_roles(roles: set[Role]) -> list[tuple[str, str]]:
    """(command, description) of the group commands ``roles`` allow, in the current locale."""
    return [
        (spec.name, _(spec.description)[:MAX_DESCRIPTION])
        for spec in commands.COMMANDS
        if spec.allows_chat(ChatType.GROUP) and spec.allows_roles(roles)
    ]


def everyones_group_menu() -> list[tuple[str, str]]:
    """The group menu everyone sees: a plain member's, in the current locale."""
    return group_menu_for_roles({Role.MEMBER})


async def _menus_of(
    app: Huiwu, platform: str, user_id: str, language: str | None
) -> tuple[list[tuple[str, str]], list[tuple[str, list[tuple[str, str]]]]]:
    """One person's private menu, and (group chat id, menu) for each group of their plans
    where their roles allow more than a plain member's; in the language the router would
    answer them in."""
    memberships = await instances.members_for_user(app.db, platform, user_id)
    roles = {Role(role) for m in memberships for role in m.roles}
    chosen = next((m.locale for m in memberships if m.locale), None)
    locale = normalise_locale(chosen, app.default_locale) if chosen else supported_locale(language)
    if locale is None and memberships:
        locale = (await app.plans.get(memberships[0].instance_id)).locale
    with use_locale(locale or app.default_locale):
        private = menu_for_roles(roles)
        groups = []
        for membership in memberships:
            own = group_menu_for_roles({Role(role) for role in membership.roles})
            if own == everyones_group_menu():
                continue
            for chat_platform, chat_id in await instances.group_chats(
                app.db, membership.instance_id
            ):
                if chat_platform == platform:
                    groups.append((chat_id, own))
        return private, groups


async def refresh(
    app: Huiwu, platform: str, user_ids: Iterable[str], language: str | None = None
) -> int:
    """Set the menus of each person on ``platform`` (private, and in their plans' groups
    where they may do more); returns how many people's menus were set."""
    info = app.platforms.get(platform)
    if info is None or info.set_menu is None:
        return 0
    done = 0
    for user_id in user_ids:
        try:
            private, groups = await _menus_of(app, platform, user_id, language)
            await info.set_menu(user_id, private, None)
            for chat_id, entries in groups:
                await info.set_menu(user_id, entries, chat_id)
            done += 1
        except Exception as exc:  # the menu is a convenience; never fail what triggered it
            logger.warning("%s: could not set the command menu of %s: %s", platform, user_id, exc)
    return done


async def users_with_group_menus(app: Huiwu, platform: str, instance_id: int) -> list[str]:
    """The accounts on ``platform`` of the plan's people whose group menu is not everyone's
    (to refresh when the plan's group is bound)."""
    identities = await instances.identities_of_instance(app.db, instance_id)
    found: list[str] = []
    for member in await instances.members_of(app.db, instance_id):
        if group_menu_for_roles({Role(role) for role in member.roles}) == everyones_group_menu():
            continue
        found.extend(i.user_id for i in identities.get(member.id, []) if i.platform == platform)
    return found


def refresh_soon(
    app: Huiwu, platform: str, user_ids: Iterable[str], language: str | None = None
) -> None:
    """Refresh in the background (a handler does not wait for the platform's API)."""
    user_ids = list(user_ids)
    if user_ids and platform in app.platforms and app.platforms[platform].set_menu is not None:
        app.in_background(refresh(app, platform, user_ids, language))


def refresh_group_menus_soon(app: Huiwu, platform: str, instance_id: int) -> None:
    """In the background: the menus of the plan's people who may do more in its groups."""
    if platform in app.platforms and app.platforms[platform].set_menu is not None:

        async def refresh_them() -> None:
            await refresh(app, platform, await users_with_group_menus(app, platform, instance_id))

        app.in_background(refresh_them())


async def refresh_everyone(app: Huiwu, platform: str) -> int:
    """Every bound person on ``platform`` (at start-up)."""
    rows = await app.db.fetch_all(
        "SELECT DISTINCT user_id FROM identities WHERE platform = ?", (platform,)
    )
    return await refresh(app, platform, [str(row[0]) for row in rows])


async def settle(app: Huiwu) -> None:
    """Wait for the refreshes under way (tests, shutdown)."""
    await asyncio.gather(*list(app.background), return_exceptions=True)
