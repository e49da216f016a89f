"""The bot taking Telegram updates by webhook (``HUIWU_WEBHOOK_URL``): the emulator pushes each
update to python-telegram-bot's webhook server over real HTTP with the secret token; the bot
never polls, refuses posts without the secret, and gets what was sent while it was down once
it is back (the emulator retries, as Telegram does)."""

from __future__ import annotations

import asyncio
import json

import aiohttp

from bot.adapters.guarded_site import ConnectionLimits
from bot.run.runtime import Runtime
from bot.sandbox.telegram.people import contains
from tests.e2e.conftest import WorldFactory

SECRET = "webhook-secret-42"


async def test_updates_arrive_by_webhook_and_are_answered(make_world: WorldFactory) -> None:
    world = await make_world(webhook_secret=SECRET)  # the organizer binds and /setup, by webhook
    await world.bind("唐军")
    await world.at("2013-12-03T09:00+08:00")  # the preparation phase starts: pushes
    answer = await world.people["唐军"].say("/mytasks", expect=contains("交流谈心"))
    assert "撰写剖析材料" in answer.text
    stats = world.emulator.stats
    assert stats.requests_by_method["getUpdates"] == 0
    assert stats.requests_by_method["setWebhook"] == 1
    assert stats.webhook_deliveries >= 4 and stats.webhook_failures == 0


async def test_a_post_without_the_secret_is_refused_and_changes_nothing(
    make_world: WorldFactory,
) -> None:
    world = await make_world(webhook_secret=SECRET)
    person = world.people["唐军"]
    update = {
        "update_id": 999_001,
        "message": {
            "message_id": 77,
            "date": 1386032400,
            "chat": {"id": person.user_id, "type": "private"},
            "from": {"id": person.user_id, "is_bot": False, "first_name": "唐军"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    outbox_before = await world.app.db.fetch_one("SELECT COUNT(*) FROM outbox")
    url = world.options.webhook_url
    assert url is not None
    async with aiohttp.ClientSession() as session:
        for headers in ({}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"}):
            async with session.post(
                url,
                data=json.dumps(update),
                headers={"Content-Type": "application/json", **headers},
            ) as response:
                assert response.status == 403
    await world.app.drain()
    assert await world.app.db.fetch_one("SELECT COUNT(*) FROM outbox") == outbox_before
    assert world.emulator.bot_messages(person.user_id) == []


async def test_what_is_sent_while_the_bot_is_down_arrives_after_a_restart(
    make_world: WorldFactory,
) -> None:
    world = await make_world(webhook_secret=SECRET)
    await world.runtime.stop()
    organizer = world.user_ids["方磊"]
    world.emulator.send_text(organizer, "/help")  # delivery fails: nobody listens
    since = len(world.emulator.transcript(organizer))
    world.runtime = Runtime(world.db_path, world.clock, telegram=world.options)
    await world.runtime.start()
    answer = await world.emulator.wait_for_bot_message(organizer, since=since, timeout=20)
    assert "/mytasks" in answer.text
    assert world.emulator.stats.webhook_failures >= 1
    assert world.emulator.stats.requests_by_method["getUpdates"] == 0


async def test_idle_and_slow_webhook_connections_are_closed_in_time(
    make_world: WorldFactory,
) -> None:
    """Issue 22, item 6: loopback sockets that send nothing, or half a request's headers, or
    headers and half a body, are closed by the webhook server when their time is up (short
    limits here), and updates still arrive."""
    limits = ConnectionLimits(header_seconds=0.3, body_seconds=0.3)
    world = await make_world(webhook_secret=SECRET, webhook_limits=limits)
    port = world.options.listen_port
    clients = [await asyncio.open_connection("127.0.0.1", port) for _ in range(9)]
    for number, (_reader, writer) in enumerate(clients):
        if number % 3 == 1:
            writer.write(b"POST /telegram HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        elif number % 3 == 2:
            writer.write(b"POST /telegram HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n{")
        await writer.drain()
    for reader, writer in clients:
        async with asyncio.timeout(5):
            await reader.read()  # returns when the server has closed the connection
        writer.close()
    await world.bind("唐军")  # by webhook, as before
