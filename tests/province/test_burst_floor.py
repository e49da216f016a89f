"""The floor of the 09:00 burst in bench/province.py (issue 21): the bot token's 30 messages a
second are shared by the reminders and the /mytasks answers sent meanwhile, so the floor
counts both, and only the answers sent between the first and the last reminder."""

from __future__ import annotations

from bench.province import TELEGRAM_RATE, burst_floor


def test_the_floor_counts_the_answers_sent_during_the_burst_only() -> None:
    reminders = [10.0 + i / 28 for i in range(281)]  # 10 s at 28 a second
    answers = [9.0, 10.5, 12.0, 15.0, 19.9, 21.0]  # two outside the burst
    assert burst_floor(reminders, []) == 280 / TELEGRAM_RATE
    assert burst_floor(reminders, answers) == (280 + 4) / TELEGRAM_RATE
