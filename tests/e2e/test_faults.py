"""The whole bot under every kind of injected fault at once (5xx, timeouts, dropped
connections, 429s; seeded): each phase's pushes reach each member exactly once."""

from __future__ import annotations

from collections import Counter

from bot.sandbox.telegram.limits import FaultPlan
from tests.e2e.conftest import World, WorldFactory, zh


def push_heads(world: World, name: str) -> Counter[str]:
    prefix = zh("New task: {title}", title="")
    return Counter(
        entry.text.splitlines()[0]
        for entry in world.emulator.bot_messages(world.user_ids[name])
        if entry.text.startswith(prefix)
    )


async def test_pushes_of_every_phase_arrive_exactly_once_under_all_fault_kinds(
    make_world: WorldFactory,
) -> None:
    faults = FaultPlan(
        seed=4,
        p_server_error=0.15,
        p_timeout=0.05,
        p_drop_connection=0.1,
        p_too_many=0.1,
        timeout_delay=0.3,
    )
    world = await make_world(faults=faults)
    names = ("唐军", "孟平", "党组书记", "市政府分管领导")
    await world.bind(*names)
    for moment in ("2013-12-03T09:00+08:00", "2013-12-21T09:00+08:00", "2014-01-01T09:00+08:00"):
        await world.at(moment)

    assignments = await world.rows(
        "SELECT m.name, a.task_id FROM assignments a JOIN members m ON m.id = a.member_id"
    )
    plan = await world.app.plans.get(world.instance_id)
    expected: dict[str, Counter[str]] = {name: Counter() for name in ("方磊", *names)}
    for name, task_id in assignments:
        expected[name][zh("New task: {title}", title=plan.task(task_id).title)] += 1
    assert sum(len(c) for c in expected.values()) > 10
    for name, heads in expected.items():
        assert push_heads(world, name) == heads, name
    states = await world.rows("SELECT state, COUNT(*) FROM outbox GROUP BY state")
    assert {row[0] for row in states} == {"sent"}
    stats = world.emulator.stats
    assert set(stats.faults_by_kind) == {"server_error", "timeout", "drop_connection", "too_many"}
