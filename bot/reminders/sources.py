"""What can be reminded about: the ``ReminderSource`` protocol and the task source.

A source lists the open items of a plan instance (something a member owes by a deadline,
with a stable key) and writes the messages about them; the engine does the rest (policy,
quiet hours, pauses, dedupe, escalation). Issue 6 (talk pairs, non-voters) and issue 7
(rectification items) plug in here by adding a source to ``engine.SOURCES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.messaging import Button, OutgoingMessage
from bot.plan import Plan
from bot.reminders import texts
from bot.reminders.planner import Planned
from bot.tasks.texts import submit_button
from storage import reminders
from storage.db import Database


@dataclass(frozen=True, slots=True)
class Remindable:
    """Something one member owes by a deadline."""

    key: str  # unique and stable in its plan instance, e.g. "task:42"
    member_id: int
    subject: str  # what a pause names besides the member, e.g. "task:talks"
    due: datetime
    given_at: datetime  # when it was given or handed back: no reminder that same local day
    ref: int  # the source's own id (the assignment id for tasks)


class ReminderSource(Protocol):
    # Whether overdue items are also escalated to the organizers.
    escalates: bool
    # Whether its items are still reminded of after the plan is finished.
    outlives_plan: bool

    async def open_items(self, db: Database, instance_id: int) -> list[Remindable]:
        """Every item of the instance still owed (done ones are simply not listed)."""

    def message(
        self, plan: Plan, item: Remindable, planned: Planned, now: datetime
    ) -> OutgoingMessage:
        """The reminder to the member (built in the member's locale)."""

    def title(self, plan: Plan, item: Remindable) -> str:
        """What the item is, in a line (escalations, /reminders)."""

    def button(self, plan: Plan, item: Remindable) -> Button:
        """The button that acts on the item, labelled with what it is (for digests)."""


TASK_SUBJECT = "task:"


class TaskReminders:
    """Assignments not yet handed in, or handed back for changes: reminded of while the
    plan runs (also past its last phase's end), not once it is finished."""

    escalates = True
    outlives_plan = False

    async def open_items(self, db: Database, instance_id: int) -> list[Remindable]:
        return [
            Remindable(
                f"task:{row.id}",
                row.member_id,
                TASK_SUBJECT + row.task_id,
                row.due_at,
                row.returned_at or row.assigned_at,
                row.id,
            )
            for row in await reminders.open_assignments(db, instance_id)
        ]

    def message(
        self, plan: Plan, item: Remindable, planned: Planned, now: datetime
    ) -> OutgoingMessage:
        task = plan.task(item.subject.removeprefix(TASK_SUBJECT))
        return texts.task_reminder(plan, task, item.ref, planned, now)

    def title(self, plan: Plan, item: Remindable) -> str:
        return plan.task(item.subject.removeprefix(TASK_SUBJECT)).title

    def button(self, plan: Plan, item: Remindable) -> Button:
        return submit_button(self.title(plan, item), item.ref)
