"""The tasks' buttons: open /mytasks, hand in an assignment, send or drop a draft, review."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.callback_data import CallbackData


@dataclass(frozen=True)
class MyTasks(CallbackData, prefix="mytasks"):
    """Show the member's tasks."""


@dataclass(frozen=True)
class Submit(CallbackData, prefix="submit"):
    """Start handing in this assignment."""

    assignment_id: int


@dataclass(frozen=True)
class Draft(CallbackData, prefix="draft"):
    """Hand in the draft collected so far, or drop it."""

    action: Literal["send", "cancel"]


IN_LIST: Literal["list"] = (
    "list"  # a verdict pressed in the /reviews list keeps the list's other buttons
)


@dataclass(frozen=True)
class Review(CallbackData, prefix="review"):
    """A reviewer's verdict on a submission: approve ("ok") or return with a comment ("ret")."""

    verdict: Literal["ok", "ret"]
    submission_id: int
    where: Literal["", "list"] = ""
