"""Where a plan stands: per task, who has submitted, who is pending, overdue or unreachable."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.core.app import Huiwu
from bot.plan import Plan, Task
from storage import assignments, instances
from storage.records import AssignmentRecord, MemberRecord


class MemberState(enum.StrEnum):
    APPROVED = "approved"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    PENDING = "pending"
    OVERDUE = "overdue"


@dataclass(frozen=True)
class MemberProgress:
    member: MemberRecord
    assignment: AssignmentRecord
    state: MemberState
    late: bool
    reachable: bool


@dataclass(frozen=True)
class TaskProgress:
    task: Task
    rows: tuple[MemberProgress, ...]

    def names(self, *states: MemberState) -> list[str]:
        return [row.member.name for row in self.rows if row.state in states]

    @property
    def done(self) -> bool:
        return bool(self.rows) and all(
            r.state in (MemberState.SUBMITTED, MemberState.APPROVED) for r in self.rows
        )

    @property
    def late_names(self) -> list[str]:
        return [row.member.name for row in self.rows if row.late]

    @property
    def unreachable_names(self) -> list[str]:
        return [row.member.name for row in self.rows if not row.reachable]


def member_state(assignment: AssignmentRecord, now: datetime) -> MemberState:
    if assignment.status == "approved":
        return MemberState.APPROVED
    if assignment.status == "submitted":
        return MemberState.SUBMITTED
    if now > assignment.due_at:
        return MemberState.OVERDUE
    return MemberState.RETURNED if assignment.status == "returned" else MemberState.PENDING


async def plan_progress(
    app: Huiwu, instance_id: int, plan: Plan, phase_ids: set[str] | None = None
) -> list[TaskProgress]:
    """Progress of every assigned task (optionally of some phases), in plan order."""
    # In UTC, as the stored deadlines are: comparing datetimes of one tzinfo skips the
    # zone look-ups (a 1,000-member plan has 5,000 of them to compare; bench/board.py).
    now = app.clock.now().astimezone(UTC)
    members, reachable = await instances.members_with_reach(app.db, instance_id, app.platforms)
    late: set[int] = set()
    by_task: dict[str, list[AssignmentRecord]] = {}
    for record, came_late in await assignments.assignments_with_lateness(app.db, instance_id):
        by_task.setdefault(record.task_id, []).append(record)
        if came_late:
            late.add(record.id)
    result = []
    for task in plan.tasks:
        if task.id not in by_task or (phase_ids is not None and task.phase_id not in phase_ids):
            continue
        position = {key: index for index, key in enumerate(task.assignee_ids)}
        rows = tuple(
            MemberProgress(
                member=members[record.member_id],
                assignment=record,
                state=member_state(record, now),
                late=record.id in late,
                reachable=record.member_id in reachable,
            )
            for record in sorted(
                by_task[task.id],
                # Assignments were made from assignee_ids: list people in the plan's order.
                key=lambda r: position[members[r.member_id].member_key],
            )
        )
        result.append(TaskProgress(task, rows))
    return result
