"""At 09:00 thousands of plans queue their reminders at once: the answers to people waiting go
first, then the plans take turns, and an answer takes the next free slot of the platform's
overall limit (issue 21)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from bot.delivery.limits import Limit, RateLimiter
from bot.sandbox.crash_harness import PHASE_START, fanout_plan, prepare_database
from storage import outbox
from storage.db import Database

NOW = datetime.fromisoformat("2013-12-09T09:00:00+08:00")


async def test_answers_first_then_the_plans_take_turns_each_in_its_own_order(
    db: Database,
) -> None:
    for _plan in range(3):
        await prepare_database(db.path, fanout_plan([1, 2]), now=PHASE_START, group_id=None)  # type: ignore[arg-type]
    ids: dict[str, int] = {}
    async with db.transaction() as conn:
        for plan, count in ((1, 4), (2, 3), (3, 1)):  # plan 1 queued first, and the most
            for n in range(count):
                row = await outbox.enqueue(
                    conn,
                    platform="telegram",
                    chat_id=f"{plan}-{n % 2}",
                    payload="{}",
                    now=NOW,
                    instance_id=plan,
                    dedupe_key=f"reminder:{plan}:{n}",
                )
                assert row is not None
                ids[f"p{plan}.{n}"] = row
    await outbox.enqueue_now(
        db, platform="telegram", chat_id="asker", payloads=["{}"], now=NOW
    )  # the answer to a command, queued last
    claimed = [r.id for r in await outbox.claim_due(db, "telegram", NOW, limit=5)]
    answer = max(r.id for r in await outbox.messages(db, platform="telegram"))
    assert claimed == [answer, ids["p1.0"], ids["p2.0"], ids["p3.0"], ids["p1.1"]]
    rest = [r.id for r in await outbox.claim_due(db, "telegram", NOW, limit=10)]
    # still in turns, counted over both claims: plan 1 had two rows, plan 2 one
    assert rest == [ids["p2.1"], ids["p1.2"], ids["p2.2"], ids["p1.3"]]
    # each plan's rows (so each chat's) in the order they were queued, over both claims
    for plan in ("p1", "p2"):
        order = [
            i for i in claimed + rest if i in {v for k, v in ids.items() if k.startswith(plan)}
        ]
        assert order == sorted(order)


async def test_a_plan_served_in_one_claim_waits_for_the_others_in_the_next(
    db: Database,
) -> None:
    for _plan in range(4):
        await prepare_database(db.path, fanout_plan([1, 2]), now=PHASE_START, group_id=None)  # type: ignore[arg-type]
    first_rows = {}
    async with db.transaction() as conn:
        for plan in range(1, 5):
            for n in range(3):
                row = await outbox.enqueue(
                    conn,
                    platform="telegram",
                    chat_id=f"{plan}-{n}",
                    payload="{}",
                    now=NOW,
                    instance_id=plan,
                    dedupe_key=f"reminder:{plan}:{n}",
                )
                if n == 0:
                    first_rows[plan] = row
    claims = []
    for _ in range(3):
        claimed = await outbox.claim_due(db, "telegram", NOW, limit=2)
        for record in claimed:
            await outbox.mark_sent(db, record.id, NOW)
        claims.append({r.instance_id for r in claimed if r.id == first_rows[r.instance_id]})
    assert claims[0] == {1, 2}
    assert 3 in claims[1]  # not plans 1 and 2 again, whose second rows are older
    assert 4 in claims[1] | claims[2]


async def test_a_claim_sends_every_first_turn_before_a_second_one(db: Database) -> None:
    """Plans 1 and 2 were served in the first claim; the next one holds their second rows
    (queued before plan 3's) and plan 3's first: plan 3 goes first, not by id order."""
    for _plan in range(3):
        await prepare_database(db.path, fanout_plan([1, 2]), now=PHASE_START, group_id=None)  # type: ignore[arg-type]
    ids: dict[str, int] = {}
    async with db.transaction() as conn:
        for plan in (1, 2, 3):
            for n in range(2):
                row = await outbox.enqueue(
                    conn,
                    platform="telegram",
                    chat_id=f"{plan}-{n}",
                    payload="{}",
                    now=NOW,
                    instance_id=plan,
                    dedupe_key=f"reminder:{plan}:{n}",
                )
                assert row is not None
                ids[f"p{plan}.{n}"] = row
    first = [r.id for r in await outbox.claim_due(db, "telegram", NOW, limit=2)]
    assert first == [ids["p1.0"], ids["p2.0"]]
    second = [r.id for r in await outbox.claim_due(db, "telegram", NOW, limit=3)]
    assert second[0] == ids["p3.0"]
    assert set(second) == {ids["p3.0"], ids["p1.1"], ids["p2.1"]}


async def test_only_answers_when_the_sender_is_full(db: Database) -> None:
    async with db.transaction() as conn:
        await outbox.enqueue(
            conn, platform="telegram", chat_id="1", payload="{}", now=NOW, dedupe_key="push:1"
        )
    await outbox.enqueue_now(db, platform="telegram", chat_id="2", payloads=["{}"], now=NOW)
    claimed = await outbox.claim_due(db, "telegram", NOW, limit=10, answers_only=True)
    assert [r.chat_id for r in claimed] == ["2"]


class HeldTime:
    """A clock the test moves; sleeping only lets the other tasks run."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


async def test_an_answer_takes_the_next_overall_slot_before_the_pushes_waiting() -> None:
    time = HeldTime()
    limiter = RateLimiter(clock=time, sleep=time.sleep)
    overall = [("overall", "", Limit(10, 1.0, burst=1))]
    await limiter.acquire(overall)  # the bucket is empty now
    order: list[str] = []

    async def send(name: str, urgent: bool) -> None:
        await limiter.acquire(overall, urgent=urgent)
        order.append(name)

    pushes = [asyncio.create_task(send(f"push{n}", False)) for n in range(3)]
    for _ in range(5):
        await asyncio.sleep(0)  # the pushes wait for the bucket
    answer = asyncio.create_task(send("answer", True))
    for _ in range(5):
        await asyncio.sleep(0)  # the answer waits too
    for step in range(4):
        time.now += 0.1  # one slot more
        for _ in range(50):
            await asyncio.sleep(0)
        assert len(order) == step + 1
    assert order[0] == "answer"
    await asyncio.gather(answer, *pushes)


async def test_an_answer_held_by_its_own_chat_does_not_hold_back_the_pushes() -> None:
    time = HeldTime()
    limiter = RateLimiter(clock=time, sleep=time.sleep)
    overall = ("overall", "", Limit(10, 1.0, burst=1))
    chat = ("private", "asker", Limit(1, 1.0, burst=1))
    await limiter.acquire([overall, chat])  # the asker's chat just had its message
    time.now += 0.1
    answer = asyncio.create_task(limiter.acquire([overall, chat], urgent=True))
    push = asyncio.create_task(limiter.acquire([overall]))
    for _ in range(50):
        await asyncio.sleep(0)
    assert push.done() and not answer.done()  # the answer waits for its chat, not the push
    time.now += 1.0
    await answer
