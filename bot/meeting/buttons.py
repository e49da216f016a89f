"""The meeting's buttons: writing an opinion, recording and confirming talks, ballots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.callback_data import CallbackData


@dataclass(frozen=True)
class OpinionNew(CallbackData, prefix="op:new"):
    """Start writing an opinion."""


@dataclass(frozen=True)
class OpinionTo(CallbackData, prefix="op:to"):
    """Address the opinion: a member of the window's plan, or 0 for the whole team."""

    window_id: int
    member_id: int


@dataclass(frozen=True)
class OpinionSend(CallbackData, prefix="op:send"):
    """Send the opinion with the writer's name or anonymously."""

    how: Literal["named", "anon"]


@dataclass(frozen=True)
class OpinionCancel(CallbackData, prefix="op:cancel"):
    """Drop the opinion being written."""


@dataclass(frozen=True)
class TalkWith(CallbackData, prefix="talk:rec"):
    """Record a talk held with this partner."""

    partner_id: int


@dataclass(frozen=True)
class TalkAnswer(CallbackData, prefix="talk"):
    """The partner confirms ("ok") or declines ("no") a recorded talk."""

    answer: Literal["ok", "no"]
    talk_id: int


@dataclass(frozen=True)
class Vote(CallbackData, prefix="vote"):
    """One answer on a ballot: the choice's index for the item."""

    survey_id: int
    item: int
    choice: int


@dataclass(frozen=True)
class Cast(CallbackData, prefix="cast"):
    """Cast the ballot filled in so far."""

    survey_id: int
