"""The ledger's buttons: an item's status and evidence, and the steps of adding an item."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.callback_data import CallbackData


@dataclass(frozen=True)
class ItemAction(CallbackData, prefix="item"):
    """Show an item, mark it in progress or done, or start adding evidence."""

    action: Literal["show", "progress", "done", "evidence"]
    item_id: int


@dataclass(frozen=True)
class ItemFinish(CallbackData, prefix="item:finish"):
    """Stop adding evidence."""


@dataclass(frozen=True)
class AddStep(CallbackData, prefix="add"):
    """A choice while adding an item (/additem): its source, category, member, or a step."""

    action: Literal["source", "category", "member", "skip", "save", "cancel"]
    value: str = ""
