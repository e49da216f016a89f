"""Logs at DEBUG hold no vote, no opinion text and no token (issue 15).

Two handlers take the same records while members vote and write an anonymous opinion: one
as a bare ``logging.StreamHandler`` (it shows that the libraries do log all of it, so the test
can fail), one made private as ``huiwu`` makes its own (``bot.run.logs``).
"""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator

import pytest

from bot.run import logs
from bot.sandbox.telegram.people import contains
from tests.e2e.conftest import BOT_USERNAME, TOKEN, World

OPINION = "匿名意见：班子成员调研偏少，第七号。"


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, io.StringIO]]:
    raw, private = io.StringIO(), io.StringIO()
    handlers = [
        logging.StreamHandler(raw),
        logs.make_private(logging.StreamHandler(private), secrets=[TOKEN]),
    ]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    for handler in handlers:
        root.addHandler(handler)
    try:
        yield raw, private
    finally:
        for handler in handlers:
            root.removeHandler(handler)
        root.setLevel(level)


async def test_debug_logs_keep_no_ballot_no_opinion_and_no_token(
    world: World, captured: tuple[io.StringIO, io.StringIO]
) -> None:
    raw, private = captured
    await world.bind("唐军", "孟平")
    fang, tang, meng = world.people["方磊"], world.people["唐军"], world.people["孟平"]
    await fang.say("/survey open evaluation", expect=contains("1"))
    await world.app.drain()
    [(survey_id,)] = await world.rows("SELECT id FROM surveys WHERE status = 'open'")
    for person in (tang, meng):
        for item in range(3):
            await person.press(f"vote:{survey_id}:{item}:3", expect=contains(""))
        await person.press(f"cast:{survey_id}", expect=contains(""))
    answer = await fang.say("/opinions 2013-12-10", expect=contains(f"https://t.me/{BOT_USERNAME}"))
    assert re.search("op-", answer.text)
    await tang.say("/opinion")
    await tang.press("op:to:")
    await tang.say(OPINION)
    await tang.press("op:send:anon")
    await world.app.drain()
    logging.getLogger("bot.run").info("calling %s/bot%s/getMe", "http://api", TOKEN)

    leaks = (TOKEN, OPINION, f"vote:{survey_id}", "差")  # 差: the choice both voters made
    assert all(leak in raw.getvalue() for leak in leaks)  # the libraries log all of it
    written = private.getvalue()
    assert "INFO bot.run: calling http://api/bot***/getMe" in written  # its own lines stay
    assert [leak for leak in leaks if leak in written] == []


def test_secret_shapes_in_urls_and_tracebacks_are_hidden() -> None:
    formatter = logs.PrivateFormatter(secrets=["corp-secret-value"])
    try:
        raise RuntimeError("GET https://api.telegram.org/bot987:AAH-x_y/getMe failed")
    except RuntimeError:
        record = logging.LogRecord(
            "bot", logging.ERROR, __file__, 1, "calling %s", ("gettoken?corpsecret=abc&x=1",), None
        )
        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert "987:AAH-x_y" not in text and "abc" not in text
    assert "bot***/getMe" in text and "corpsecret=***&x=1" in text
    assert "corp-secret-value" not in formatter.format(
        logging.LogRecord("x", logging.INFO, __file__, 1, "secret corp-secret-value", (), None)
    )
