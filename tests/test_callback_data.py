"""Typed button data: every kind packs to what it parses, refuses what is not its own, and
routes to exactly one feature."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pytest

from bot.core.callback_data import MAX_BYTES, CallbackData
from bot.ledger.buttons import AddStep, ItemAction, ItemFinish
from bot.meeting.buttons import Cast, OpinionTo, TalkAnswer, TalkWith, Vote
from bot.tasks.buttons import Review, Submit
from handlers.commands import BUTTONS


@dataclass(frozen=True)
class Sample(CallbackData, prefix="sample"):
    verdict: Literal["ok", "ret"]
    number: int
    where: str = ""


def test_pack_and_unpack_round_trip() -> None:
    assert Sample("ok", 7).pack() == "sample:ok:7"  # a trailing default is not written
    assert Sample("ret", 7, "list").pack() == "sample:ret:7:list"
    assert Sample.unpack("sample:ok:7") == Sample("ok", 7)
    assert Sample.unpack("sample:ret:7:list") == Sample("ret", 7, "list")


@pytest.mark.parametrize(
    "data",
    [
        "sample",  # fields missing
        "sample:ok",  # a required field missing
        "sample:maybe:7",  # not an allowed word
        "sample:ok:x",  # not a number
        "sample:ok:-1",
        "sample:ok:٣",  # a digit, but not an ASCII one
        "sample:ok:" + "9" * 40,  # a forged 40-digit id: refused, never an OverflowError
        "sample:ok:7:list:more",  # too many fields
        "samples:ok:7",  # another prefix
        "",
    ],
)
def test_malformed_data_is_refused(data: str) -> None:
    assert Sample.unpack(data) is None


def test_pack_refuses_what_no_platform_carries() -> None:
    with pytest.raises(ValueError, match="separator"):
        Sample("ok", 1, "a:b").pack()
    with pytest.raises(ValueError, match=str(MAX_BYTES)):
        Sample("ok", 1, "x" * MAX_BYTES).pack()


@pytest.mark.parametrize(
    "pressed",
    [
        Submit(12),
        Review("ok", 7),
        Review("ret", 7, "list"),
        ItemAction("done", 3),
        ItemFinish(),
        AddStep("member", "4"),
        AddStep("cancel"),
        OpinionTo(2, 0),
        TalkWith(5),
        TalkAnswer("no", 9),
        Vote(1, 2, 3),
        Cast(1),
    ],
)
def test_each_button_is_routed_to_exactly_one_kind(pressed: CallbackData) -> None:
    data = pressed.pack()
    readers = [route.data for route in BUTTONS if route.data.unpack(data) is not None]
    assert readers == [type(pressed)]
    assert readers[0].unpack(data) == pressed


def test_no_two_kinds_share_a_prefix() -> None:
    prefixes = [route.data.prefix for route in BUTTONS]
    assert len(prefixes) == len(set(prefixes))
