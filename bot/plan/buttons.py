"""The buttons under an uploaded plan's preview: load it, or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.callback_data import CallbackData


@dataclass(frozen=True)
class PlanLoad(CallbackData, prefix="planload"):
    """Load the previewed plan ("ok") or drop it ("no")."""

    answer: Literal["ok", "no"]


@dataclass(frozen=True)
class PlanChoice(CallbackData, prefix="plans"):
    """In /plans: make a plan the current one ("use"), or accept ("yes") or decline ("no") a
    plan offered by account."""

    action: Literal["use", "yes", "no"]
    instance: int
