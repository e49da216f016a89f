"""Rectification items as a source for the reminder engine (``bot.reminders``): an item that
is not done, has a deadline and a responsible member is owed like a task, and is reminded
of (and escalated) by the plan's reminder policy."""

from __future__ import annotations

import dataclasses
from datetime import datetime

from bot.core.i18n import _
from bot.core.messaging import Button, OutgoingMessage
from bot.ledger.buttons import ItemAction
from bot.ledger.texts import item_reminder, short_description
from bot.plan import Plan
from bot.reminders.planner import Kind, Planned
from bot.reminders.sources import Remindable
from storage import ledger
from storage.db import Database
from storage.records import LedgerItemRecord

ITEM_SUBJECT = "item:"


class LedgerReminders:
    """Open rectification items with a deadline and someone responsible; overdue ones are
    escalated to the organizers (督办), as tasks are. Rectification goes on after the meeting
    with deadlines months away (限期整改), so an item is reminded of until it is done, also
    after the plan's last phase and after the plan is finished."""

    escalates = True
    outlives_plan = True

    def __init__(self) -> None:
        # The engine asks for texts without the database, always after ``open_items`` of the
        # same pass; an item's description never changes, so the last reading serves.
        self._items: dict[int, LedgerItemRecord] = {}

    async def open_items(self, db: Database, instance_id: int) -> list[Remindable]:
        found = []
        for item in await ledger.items_of_instance(db, instance_id):
            if item.status == "done" or item.due_at is None or item.member_id is None:
                continue
            self._items[item.id] = item
            found.append(
                Remindable(
                    f"item:{item.id}",
                    item.member_id,
                    f"{ITEM_SUBJECT}{item.id}",
                    item.due_at,
                    item.created_at,
                    item.id,
                )
            )
        return found

    def message(
        self, plan: Plan, item: Remindable, planned: Planned, now: datetime
    ) -> OutgoingMessage:
        message = item_reminder(self._items[item.ref], now, plan.timezone)
        if planned.kind is Kind.OVERDUE:
            text = _("Overdue: {reminder}").format(reminder=message.text)
        else:
            text = _("Reminder: {reminder}").format(reminder=message.text)
        return dataclasses.replace(message, text=text)

    def title(self, plan: Plan, item: Remindable) -> str:
        return _("Rectification item #{id}").format(id=item.ref) + (
            f" {short_description(self._items[item.ref].description)}"
            if item.ref in self._items
            else ""
        )

    def button(self, plan: Plan, item: Remindable) -> Button:
        return Button(
            _("Update #{id}").format(id=item.ref), data=ItemAction("show", item.ref).pack()
        )
