"""The board on the Telegram emulator world: a plan in its rectification phase where 唐军 and
孟平 have handed in their personal measures (text and a file) for 党组书记 to review, and
helpers to sign in over real HTTP (one-time links, Mini App init data)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import aiohttp

from bot.board.auth import sign_init_data
from bot.board.links import one_time_link
from tests.e2e.conftest import TOKEN, World, WorldFactory

MEASURES = "制定个人整改措施"
TANG_FILE = ("唐军/../个人整改措施.docx", b"PK\x03\x04 tang measures")


async def board_world(make_world: WorldFactory) -> World:
    world = await make_world(board=True)
    await world.bind("唐军", "孟平", "党组书记", "市政府分管领导")
    await world.at("2014-01-01T09:00+08:00")
    await world.hand_in("唐军", MEASURES, text="唐军个人整改措施：加强理论学习。", file=TANG_FILE)
    await world.hand_in("孟平", MEASURES, text="孟平个人整改措施：改进调查研究。")
    return world


async def link(world: World, name: str) -> str:
    """A fresh one-time link that signs in as ``name`` (their Telegram account)."""
    return await one_time_link(
        world.app.db,
        world.board_url,
        "telegram",
        str(world.user_ids[name]),
        world.instance_id,
        world.clock.now(),
    )


def init_data(world: World, name: str, *, at: datetime | None = None, token: str = TOKEN) -> str:
    signed_at = int((at or world.clock.now()).timestamp())
    user = {"id": world.user_ids[name], "first_name": name, "language_code": "zh-hans"}
    return sign_init_data(
        {"auth_date": str(signed_at), "query_id": "AAE", "user": json.dumps(user)}, token
    )


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def signed_in(world: World, name: str) -> aiohttp.ClientSession:
    session = client()
    async with session.get(await link(world, name)) as response:
        assert response.status == 200, await response.text()
    return session


def origin(world: World) -> str:
    return world.board_url.removesuffix("/board")


def continue_form(html: str) -> tuple[str, str]:
    """The Mini App sign-in's answer: where its form goes on, and the page token it carries."""
    found = re.search(
        r'<form id="continue" method="post" action="([^"]+)">\s*'
        r'<input type="hidden" name="session" value="([^"]+)">',
        html,
    )
    assert found is not None, html
    return found.group(1), found.group(2)


def page_token(html: str) -> str:
    found = re.search(r'<meta name="board-session" content="([^"]+)">', html)
    assert found is not None, html
    return found.group(1)
