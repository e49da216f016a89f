"""Flood limits and injected faults of the Telegram Bot API emulator.

:class:`FloodLimits` and :class:`FloodController` reproduce Telegram's documented sending
limits (about 30 messages per second per bot, one per second in a chat with a short burst,
20 per minute in a group) so that a bot which ignores them gets ``429 Too Many Requests``
as it would in production.  :class:`FaultPlan` and :class:`FaultInjector` decide, with a
seeded random generator, which requests fail and how, for fault-tolerance tests.
"""

from __future__ import annotations

import math
import random
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

Clock = Callable[[], float]
"""A callable returning monotonic seconds, like :func:`time.monotonic`."""

DEFAULT_FAULT_METHODS = frozenset({"sendMessage", "sendDocument", "sendPhoto", "editMessageText"})


@dataclass(frozen=True)
class FloodLimits:
    """Telegram's sending limits for one bot; ``enabled=False`` turns all of them off."""

    global_per_second: int = 30
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: int = 20
    enabled: bool = True


@dataclass
class _ChatBucket:
    tokens: float
    updated_at: float


class FloodController:
    """Admits or refuses the sends of one bot according to :class:`FloodLimits`.

    The global and per-group limits are sliding windows (one second, one minute); the
    per-chat limit is a token bucket refilled at ``per_chat_per_second`` that holds up to
    ``per_chat_burst`` sends.  Only admitted sends are counted.
    """

    def __init__(self, limits: FloodLimits, clock: Clock) -> None:
        self._limits = limits
        self._clock = clock
        self._recent_sends: deque[float] = deque()
        self._recent_group_sends: dict[int, deque[float]] = {}
        self._chat_buckets: dict[int, _ChatBucket] = {}

    def admit(self, chat_id: int, *, is_group: bool) -> int | None:
        """Records a send to ``chat_id`` if the limits allow it.

        Returns ``None`` when the send is admitted, otherwise the whole number of seconds
        (at least 1) to wait before retrying, as Telegram's ``retry_after``.
        """
        if not self._limits.enabled:
            return None
        now = self._clock()
        waits = [
            _window_wait(self._recent_sends, now, 1.0, self._limits.global_per_second),
            self._chat_wait(chat_id, now),
        ]
        if is_group:
            group_sends = self._recent_group_sends.setdefault(chat_id, deque())
            waits.append(_window_wait(group_sends, now, 60.0, self._limits.per_group_per_minute))
        longest_wait = max(waits)
        if longest_wait > 0:
            return max(1, math.ceil(longest_wait))
        self._recent_sends.append(now)
        if is_group:
            self._recent_group_sends[chat_id].append(now)
        self._chat_buckets[chat_id].tokens -= 1
        return None

    def _chat_wait(self, chat_id: int, now: float) -> float:
        rate = self._limits.per_chat_per_second
        burst = float(self._limits.per_chat_burst)
        bucket = self._chat_buckets.setdefault(chat_id, _ChatBucket(burst, now))
        bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated_at) * rate)
        bucket.updated_at = now
        return 0.0 if bucket.tokens >= 1 else (1 - bucket.tokens) / rate


def _window_wait(sends: deque[float], now: float, window: float, capacity: int) -> float:
    """Seconds until one more send fits in a sliding ``window`` holding ``capacity`` sends."""
    while sends and sends[0] <= now - window:
        sends.popleft()
    if len(sends) < capacity:
        return 0.0
    return sends[len(sends) - capacity] + window - now


class FaultKind(StrEnum):
    """The ways an injected fault disturbs one request."""

    SERVER_ERROR = "server_error"
    """Answer 500 or 502; nothing is delivered."""
    TIMEOUT = "timeout"
    """Hold the request for ``timeout_delay`` seconds, then answer 504; nothing is delivered."""
    DROP_CONNECTION = "drop_connection"
    """Close the connection without answering; nothing is delivered."""
    TOO_MANY = "too_many"
    """Answer 429 with ``retry_after=1``; nothing is delivered."""
    ERROR_AFTER_DELIVERY = "error_after_delivery"
    """Deliver the message, then answer 502 so the client believes it failed."""


@dataclass(frozen=True)
class FaultPlan:
    """Probabilities of each :class:`FaultKind` for requests to ``methods``.

    At most one fault hits a request, so the probabilities must add up to at most 1.
    Method names match case-insensitively.
    """

    seed: int
    p_server_error: float = 0.0
    p_timeout: float = 0.0
    p_drop_connection: float = 0.0
    p_too_many: float = 0.0
    p_error_after_delivery: float = 0.0
    timeout_delay: float = 10.0
    methods: frozenset[str] = field(default=DEFAULT_FAULT_METHODS)

    def __post_init__(self) -> None:
        probabilities = self.probabilities().values()
        if any(not 0.0 <= p <= 1.0 for p in probabilities) or sum(probabilities) > 1.0 + 1e-9:
            raise ValueError("fault probabilities must be within [0, 1] and add up to at most 1")

    def probabilities(self) -> dict[FaultKind, float]:
        """The probability of each fault kind, in the order they are drawn."""
        return {
            FaultKind.SERVER_ERROR: self.p_server_error,
            FaultKind.TIMEOUT: self.p_timeout,
            FaultKind.DROP_CONNECTION: self.p_drop_connection,
            FaultKind.TOO_MANY: self.p_too_many,
            FaultKind.ERROR_AFTER_DELIVERY: self.p_error_after_delivery,
        }


class FaultInjector:
    """Draws the fault, if any, for each request, reproducibly from :attr:`FaultPlan.seed`."""

    def __init__(self, plan: FaultPlan) -> None:
        self.plan = plan
        self._random = random.Random(plan.seed)
        self._methods = frozenset(method.lower() for method in plan.methods)

    def draw(self, method: str) -> FaultKind | None:
        """Returns the fault for one request to ``method``, or ``None`` for a normal answer."""
        if method.lower() not in self._methods:
            return None
        roll = self._random.random()
        threshold = 0.0
        for kind, probability in self.plan.probabilities().items():
            threshold += probability
            if roll < threshold:
                return kind
        return None

    def server_error_status(self) -> int:
        """The status of an injected server error: 500 or 502."""
        return self._random.choice((500, 502))
