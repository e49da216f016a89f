"""``huiwu run`` stopped by SIGTERM or SIGINT in the middle of a fan-out, again and again, and
started right after each stop: it exits 0, nothing is sent twice and nothing is lost; and a
second ``huiwu run`` on the same database refuses to start (issue 15).

The emulator answers every request a quarter of a second after the message has arrived (as a
slow network does), so at each stop there are sends in flight whose message is already there:
cancelling them, instead of letting them finish, would send each of them again at the restart.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from bot.core.clock import ManualClock
from bot.core.i18n import _, use_locale
from bot.run.runtime import Runtime, TelegramOptions
from bot.sandbox.crash_harness import (
    GROUP_ID,
    PHASE_START,
    TOKEN,
    BotProcess,
    add_members,
    fanout_plan,
    prepare_database,
    wait_until,
)
from bot.sandbox.telegram.api import TelegramEmulator

MEMBERS = 120
STOPS = 6
IN_FLIGHT_WARNING = "in flight at the last stop"

pytestmark = pytest.mark.slow


def row_states(db_path: Path) -> dict[str, int]:
    with contextlib.closing(sqlite3.connect(db_path)) as conn:
        rows = conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
    return {state: count for state, count in rows}


async def test_stops_in_a_row_during_a_fan_out_send_nothing_twice_and_exit_0(
    tmp_path: Path,
) -> None:
    async with TelegramEmulator(answer_delay=0.25) as emulator:
        emulator.add_bot(TOKEN)
        members = add_members(emulator, MEMBERS)
        emulator.add_group("压力测试群", members[:1], chat_id=GROUP_ID)
        db_path = tmp_path / "huiwu.sqlite3"
        await prepare_database(db_path, fanout_plan(members), now=PHASE_START)
        bot = BotProcess(db_path, emulator, workdir=tmp_path)
        logs = []
        await bot.start()
        try:
            for number in range(STOPS):
                progress = emulator.stats.messages_sent + 8
                await wait_until(
                    lambda progress=progress: emulator.stats.messages_sent >= progress,  # type: ignore[misc]
                    timeout=30,
                    what=f"sends before stop {number + 1}",
                    bot=bot,
                )
                assert bot.process is not None
                bot.process.send_signal(signal.SIGINT if number % 2 else signal.SIGTERM)
                code = await bot.wait(timeout=15)
                logs.append(bot.log())
                assert code == 0, bot.log()
                assert row_states(db_path).get("sending", 0) == 0  # nothing left claimed
                await bot.start()  # right after the stop
            await wait_until(
                lambda: row_states(db_path) == {"sent": MEMBERS + 1},
                timeout=60,
                what="every row sent",
                bot=bot,
            )
        finally:
            await bot.stop()
            logs.append(bot.log())

    counts = Counter({uid: len(emulator.bot_messages(uid)) for uid in members})
    assert set(counts.values()) == {1}, counts.most_common(3)  # each member once, none twice
    assert len(emulator.bot_messages(GROUP_ID)) == 1
    assert not [log for log in logs if IN_FLIGHT_WARNING in log]
    assert sum("sender stopped" in log for log in logs) == STOPS + 1


async def test_a_second_run_on_the_same_database_refuses_to_start_with_exit_2(
    tmp_path: Path,
) -> None:
    async with TelegramEmulator() as emulator:
        emulator.add_bot(TOKEN)
        members = add_members(emulator, 3)
        db_path = tmp_path / "huiwu.sqlite3"
        await prepare_database(db_path, fanout_plan(members), now=PHASE_START, group_id=None)
        first = BotProcess(db_path, emulator, workdir=tmp_path)
        second = BotProcess(db_path, emulator, workdir=tmp_path / "second")
        (tmp_path / "second").mkdir()
        await first.start()
        try:
            await wait_until(
                lambda: emulator.stats.messages_sent == len(members),
                timeout=30,
                what="the first run's pushes",
                bot=first,
            )
            sent = emulator.stats.messages_sent
            await second.start()
            assert await second.wait(timeout=30) == 2
            with use_locale("zh_CN"):
                message = _(
                    "Another Huiwu (process {pid}) is running on {db}: stop it first, or give this one its own HUIWU_DB."
                ).format(pid=first.pid, db=db_path)
            assert message in second.log()
            assert "Traceback" not in second.log()
            assert emulator.stats.messages_sent == sent  # the second sent nothing
        finally:
            assert await first.stop() == 0
        # The lock ends with its process: a new run starts.
        await second.start()
        try:
            await wait_until(
                lambda: "Huiwu started" in second.log(), timeout=30, what="the restart", bot=second
            )
        finally:
            assert await second.stop() == 0


async def test_a_send_unanswered_past_the_grace_stays_claimed_and_is_reported_at_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The stop is bounded: a send whose answer does not come within the grace is left claimed
    (the others go back to the outbox), and the next start says so and sends it again."""
    async with TelegramEmulator(answer_delay=2.0) as emulator:
        emulator.add_bot(TOKEN)
        members = add_members(emulator, 20)
        db_path = tmp_path / "huiwu.sqlite3"
        await prepare_database(db_path, fanout_plan(members), now=PHASE_START, group_id=None)
        options = TelegramOptions(TOKEN, base_url=emulator.base_url, register_commands=False)
        runtime = Runtime(str(db_path), ManualClock(PHASE_START), telegram=options)
        await runtime.start()
        try:
            await wait_until(
                lambda: emulator.stats.messages_sent >= 1, timeout=30, what="a send in flight"
            )
            sender = runtime.app.platforms["telegram"].sender
            in_flight = len(sender._sending)
            assert in_flight >= 1
            await sender.stop(grace=0.2)  # shorter than the answers take
            states = row_states(db_path)
            assert states.get("sending") == in_flight  # only the interrupted sends stay claimed
            assert states.get("sent", 0) == 0 and states["pending"] == len(members) - in_flight
        finally:
            await runtime.stop()
        caplog.set_level(logging.WARNING)
        runtime = Runtime(str(db_path), ManualClock(PHASE_START), telegram=options)
        await runtime.start()
        try:
            assert f"messages in flight at the last stop: {in_flight};" in caplog.text
        finally:
            await runtime.stop()
