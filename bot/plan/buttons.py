"""The buttons under an uploaded plan's preview: load it, or not."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.callback_data import CallbackData


@dataclass(frozen=True)
class PlanLoad(CallbackData, prefix="planload"):
    """Load the previewed plan ("ok") or drop it ("no")."""

    answer: Literal["ok", "no"]
