"""The rate limiter: sliding windows, token buckets, several limits at once (issue 2)."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from bot.delivery.limits import Limit, RateLimiter


class FakeTime:
    """A monotonic clock that moves only when the limiter sleeps.

    Like a real clock, a sleep always lets at least ``tick`` pass (see the xfail test
    below for what happens with a clock that advances by exactly the sleep). A runaway
    loop fails the test instead of hanging it.
    """

    def __init__(self, tick: float = 1e-6, max_sleeps: int = 100) -> None:
        self.now = 500.0
        self.tick = tick
        self.max_sleeps = max_sleeps
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if len(self.sleeps) > self.max_sleeps:
            raise RuntimeError(f"the limiter slept {len(self.sleeps)} times: {self.sleeps[-3:]}")
        self.now += max(seconds, self.tick)


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def limiter(fake: FakeTime) -> RateLimiter:
    return RateLimiter(clock=fake, sleep=fake.sleep)


GLOBAL = Limit(30, 1.0)


async def test_sliding_window_thirty_per_second_the_31st_waits_a_second(
    fake: FakeTime, limiter: RateLimiter
) -> None:
    for _ in range(30):
        assert await limiter.acquire([("global", "", GLOBAL)]) == 0.0
    assert fake.sleeps == []
    waited = await limiter.acquire([("global", "", GLOBAL)])
    assert waited == pytest.approx(1.0)
    assert fake.now == pytest.approx(501.0)


async def test_sliding_window_frees_room_as_old_sends_leave(
    fake: FakeTime, limiter: RateLimiter
) -> None:
    limit = Limit(2, 10.0)
    assert await limiter.acquire([("chat", "1", limit)]) == 0.0
    fake.now += 4
    assert await limiter.acquire([("chat", "1", limit)]) == 0.0
    # the window is full until the first send is ten seconds old
    assert await limiter.acquire([("chat", "1", limit)]) == pytest.approx(6.0)
    assert await limiter.acquire([("chat", "1", limit)]) == pytest.approx(4.0)


async def test_keys_are_limited_separately(fake: FakeTime, limiter: RateLimiter) -> None:
    limit = Limit(1, 3.0)
    assert await limiter.acquire([("chat", "a", limit)]) == 0.0
    assert await limiter.acquire([("chat", "b", limit)]) == 0.0
    assert await limiter.acquire([("chat", "a", limit)]) == pytest.approx(3.0)


async def test_token_bucket_allows_a_burst_then_refills(
    fake: FakeTime, limiter: RateLimiter
) -> None:
    bucket = Limit(19, 20.0, burst=3)  # 0.95 sends a second on average
    for _ in range(3):
        assert await limiter.acquire([("chat", "g", bucket)]) == 0.0
    assert fake.sleeps == []
    waited = await limiter.acquire([("chat", "g", bucket)])
    assert waited == pytest.approx(1 / 0.95, rel=1e-6)  # about 1.05 s
    # the bucket is empty again: the next one waits a full token's time too
    assert await limiter.acquire([("chat", "g", bucket)]) == pytest.approx(1 / 0.95, rel=1e-6)


async def test_token_bucket_refills_no_more_than_its_burst(
    fake: FakeTime, limiter: RateLimiter
) -> None:
    bucket = Limit(19, 20.0, burst=3)
    assert await limiter.acquire([("chat", "g", bucket)]) == 0.0
    fake.now += 3600  # a long quiet hour
    for _ in range(3):
        assert await limiter.acquire([("chat", "g", bucket)]) == 0.0
    assert await limiter.acquire([("chat", "g", bucket)]) > 1.0


async def test_several_limits_take_the_longest_wait(fake: FakeTime, limiter: RateLimiter) -> None:
    short = Limit(2, 1.0)
    long = Limit(2, 60.0)
    limits = [("global", "", short), ("group", "g", long)]
    assert await limiter.acquire(limits) == 0.0
    assert await limiter.acquire(limits) == 0.0
    # both are full: the one-minute window decides
    assert await limiter.acquire(limits) == pytest.approx(60.0)
    assert fake.sleeps[0] == pytest.approx(60.0)


async def test_a_send_is_recorded_under_every_limit_it_passed(
    fake: FakeTime, limiter: RateLimiter
) -> None:
    shared = Limit(2, 10.0)
    assert await limiter.acquire([("global", "", shared), ("chat", "a", Limit(5, 1.0))]) == 0.0
    assert await limiter.acquire([("global", "", shared), ("chat", "b", Limit(5, 1.0))]) == 0.0
    # the global window saw both sends, even though they went to different chats
    assert await limiter.acquire([("global", "", shared)]) == pytest.approx(10.0)


async def test_concurrent_senders_are_spaced_out(fake: FakeTime, limiter: RateLimiter) -> None:
    limit = Limit(1, 2.0)
    sent_at: list[float] = []

    async def send() -> None:
        await limiter.acquire([("chat", "x", limit)])
        sent_at.append(fake.now)

    await asyncio.gather(*(send() for _ in range(4)))
    assert len(sent_at) == 4
    assert sent_at == sorted(sent_at)
    gaps = [later - earlier for earlier, later in itertools.pairwise(sent_at)]
    assert all(gap >= 2.0 - 1e-9 for gap in gaps), gaps
    assert sent_at[-1] == pytest.approx(506.0)


async def test_token_bucket_wait_is_one_sleep_with_an_exact_clock() -> None:
    exact = FakeTime(tick=0.0, max_sleeps=20)
    limiter = RateLimiter(clock=exact, sleep=exact.sleep)
    bucket = Limit(19, 20.0, burst=3)
    for _ in range(3):
        await limiter.acquire([("chat", "g", bucket)])
    assert await limiter.acquire([("chat", "g", bucket)]) == pytest.approx(1 / 0.95)
    assert len(exact.sleeps) == 1


async def test_no_limits_never_waits(fake: FakeTime, limiter: RateLimiter) -> None:
    assert await limiter.acquire([]) == 0.0
    assert fake.sleeps == []


async def test_a_send_in_flight_holds_its_slot_until_it_completes() -> None:
    """``reserve`` counts a send as "now" while it is in flight, then from when it finished."""
    fake = FakeTime()
    limiter = RateLimiter(clock=fake, sleep=fake.sleep)
    limits = [("window", "k", Limit(1, 10.0))]
    first = await limiter.reserve(limits)
    waiting = asyncio.create_task(limiter.reserve(limits))
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiting.done() and fake.sleeps == []  # held by the send in flight, no sleep
    fake.now += 5.0  # the send took five seconds
    first.complete()
    second = await waiting
    assert fake.sleeps == [pytest.approx(10.0)]  # a whole window from when it finished
    assert second.waited == pytest.approx(10.0) and limiter.waits == 1
