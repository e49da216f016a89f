"""Each person's own Telegram command menu (issue 16): what their roles allow, in their
language, from the one command table; set when they bind themselves, refreshed at start-up."""

from __future__ import annotations

import json

from bot.core.messaging import ChatType
from bot.plan import Role
from bot.sandbox.demo.telegram import seed_plan_text
from bot.sandbox.telegram.people import SimulatedPerson, contains
from handlers.commands import COMMANDS
from tests.e2e.conftest import PLAN_TITLE, World, WorldFactory


def allowed(*roles: Role) -> list[str]:
    return [
        spec.name
        for spec in COMMANDS
        if spec.allows_chat(ChatType.PRIVATE) and spec.allows_roles(set(roles))
    ]


async def test_a_member_sees_only_what_they_may_use_and_the_organizer_more(world: World) -> None:
    emulator = world.emulator
    await world.bind("唐军")
    await world.app.drain()
    tang = emulator.menu_seen_by(world.user_ids["唐军"])
    assert tang == allowed(Role.MEMBER)
    assert "advance" not in tang and "invites" not in tang and "mytasks" in tang
    fang = emulator.menu_seen_by(world.user_ids["方磊"])
    assert fang == allowed(Role.ORGANIZER, Role.MEMBER)
    assert "advance" in fang and "invites" in fang
    # Someone on no roster sees only what anyone may use.
    stranger = emulator.add_user("路人")
    await SimulatedPerson(emulator, stranger, "路人").say("/start")
    await world.app.drain()
    assert emulator.menu_seen_by(stranger) == allowed()
    assert "mytasks" not in allowed()
    # The descriptions are the member's language (the plan's Chinese here).
    scope = {"chat_id": world.user_ids["唐军"], "type": "chat"}
    descriptions = dict(emulator.bot_commands(scope=scope))
    assert descriptions["mytasks"] == "我的任务及截止时间"


async def test_the_menu_follows_the_language_order(make_world: WorldFactory) -> None:
    def english(text: str, _ids: dict[str, int]) -> str:
        return text.replace('locale = "zh_CN"', 'locale = "en"', 1)

    world = await make_world(edit_plan=english)
    world.emulator.set_language(world.user_ids["孟平"], "de")
    await world.bind("孟平")
    await world.app.drain()
    scope = {"chat_id": world.user_ids["孟平"], "type": "chat"}
    assert dict(world.emulator.bot_commands(scope=scope))["mytasks"] == (
        "your tasks and their deadlines"
    )


async def test_menus_are_set_again_at_start_up(world: World) -> None:
    await world.bind("唐军")
    await world.app.drain()
    scope = {"chat_id": world.user_ids["唐军"], "type": "chat"}
    # Something else replaced it (another bot process, an old version): a restart fixes it.
    world.emulator._bot().commands.pop((json.dumps(scope, sort_keys=True), ""))
    assert world.emulator.menu_seen_by(world.user_ids["唐军"]) == allowed()
    await world.restart()
    await world.app.drain()
    assert world.emulator.menu_seen_by(world.user_ids["唐军"]) == allowed(Role.MEMBER)


def allowed_in_groups(*roles: Role) -> list[str]:
    return [
        spec.name
        for spec in COMMANDS
        if spec.allows_chat(ChatType.GROUP) and spec.allows_roles(set(roles))
    ]


async def test_in_the_group_a_member_sees_the_members_menu_and_the_organizer_more(
    world: World,
) -> None:
    """The group menu of a plain member lists no command that refuses them; the organizer,
    who bound the group, has /setup, /advance and /next there in a menu of their own."""
    emulator, group = world.emulator, world.group
    await world.bind("唐军")
    await world.app.drain()
    tang = emulator.group_menu_seen_by(group, world.user_ids["唐军"])
    assert tang == allowed_in_groups(Role.MEMBER)
    assert "status" in tang and not {"setup", "advance", "next", "remind"} & set(tang)
    fang = emulator.group_menu_seen_by(group, world.user_ids["方磊"])
    assert fang == allowed_in_groups(Role.ORGANIZER, Role.MEMBER)
    assert {"setup", "advance", "next"} <= set(fang)
    # Someone not on the plan, added to the group, sees the plain member's menu.
    stranger = emulator.add_user("路人")
    emulator.join_group(stranger, group)
    assert emulator.group_menu_seen_by(group, stranger) == tang
    # After a restart (menus replaced by another process meanwhile), set again.
    scope = {"chat_id": group, "type": "chat_member", "user_id": world.user_ids["方磊"]}
    world.emulator._bot().commands.pop((json.dumps(scope, sort_keys=True), ""))
    await world.restart()
    await world.app.drain()
    assert emulator.group_menu_seen_by(group, world.user_ids["方磊"]) == fang


async def test_a_plan_loaded_by_an_english_organizer_leaves_the_others_menus_in_theirs(
    world: World,
) -> None:
    """方磊 (Telegram in English) loads a second plan naming 唐军 by his id: 唐军 is bound
    at once and his menu refreshed in his own language (the plan's Chinese), not 方磊's."""
    await world.bind("唐军")
    world.emulator.set_language(world.user_ids["方磊"], "en")
    text = seed_plan_text().replace(f'title = "{PLAN_TITLE}"', 'title = "第二份方案"', 1)
    for key, name in (("fanglei", "方磊"), ("tangjun", "唐军")):
        text = text.replace(
            f'id = "{key}"\n', f'id = "{key}"\ntelegram_id = {world.user_ids[name]}\n', 1
        )
    fang = world.people["方磊"]
    await fang.send_file("plan.toml", text.encode(), mime_type="application/toml")
    await world.app.drain()
    await fang.press("planload:ok", expect=contains("第二份方案"))
    await world.app.drain()
    assert len(await world.rows("SELECT id FROM plan_instances")) == 2
    mine = dict(
        world.emulator.bot_commands(scope={"chat_id": world.user_ids["方磊"], "type": "chat"})
    )
    tangs = dict(
        world.emulator.bot_commands(scope={"chat_id": world.user_ids["唐军"], "type": "chat"})
    )
    assert mine["mytasks"] == "your tasks and their deadlines"
    assert tangs["mytasks"] == "我的任务及截止时间"
