"""Reminders under injected faults (5xx, timeouts, dropped connections, 429s; seeded): the
same fortnight of the seed plan run once on a clean emulator and once on a faulty one gives
every member the same reminders, each exactly once."""

from __future__ import annotations

from bot.sandbox.telegram.limits import FaultPlan
from tests.e2e.conftest import World, WorldFactory
from tests.e2e.test_reminders import Diary, diary_keeper

ALL_KINDS = {"server_error", "timeout", "drop_connection", "too_many"}


async def fortnight(world: World) -> Diary:
    """Members bound, one task handed in on the way, the clock stepped through every due
    reminder of the preparation phase; each person's diary of what arrived when."""
    await world.bind("唐军", "孟平", "党组书记")
    diary, record = diary_keeper(world)
    await world.travel("2013-12-05T16:00+08:00", record)
    await world.hand_in("方磊", "组织学习", text="学习记录")
    await world.travel("2013-12-21T12:00+08:00", record)
    return diary


async def test_each_reminder_reaches_each_member_exactly_once_under_faults(
    make_world: WorldFactory,
) -> None:
    clean = await fortnight(await make_world())
    faults = FaultPlan(
        seed=11,
        p_server_error=0.12,
        p_timeout=0.04,
        p_drop_connection=0.08,
        p_too_many=0.08,
        timeout_delay=0.2,
    )
    world = await make_world(faults=faults)
    faulty = await fortnight(world)

    reminders = [
        said for entries in clean.values() for _when, said in entries if "push" not in said
    ]
    assert len(reminders) > 10  # the scenario does remind (and escalate)
    assert faulty == clean  # the same messages, at the same steps, none twice, none lost
    states = await world.rows("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    assert {row[0] for row in states} == {"sent"}
    assert set(world.emulator.stats.faults_by_kind) == ALL_KINDS
