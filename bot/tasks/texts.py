"""The messages Huiwu writes: timelines, assignment pushes, status, summaries.

Each builder is called inside the reader's locale (``bot.delivery.addressing`` sets it) and returns
plain text or an ``OutgoingMessage``; no platform formatting is assumed.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from bot.core.formatting import date_text, days_left_text, due_text, names_text
from bot.core.i18n import N_, _, ngettext
from bot.core.messaging import Button, OutgoingMessage
from bot.delivery.reach import unreached_reason
from bot.plan import Phase, Plan, SubmissionKind, Task
from bot.tasks.buttons import MyTasks, Submit
from bot.tasks.progress import MemberState, TaskProgress

SUBMISSION_WHAT = {
    SubmissionKind.TEXT: N_("a text"),
    SubmissionKind.FILES: N_("one or more files"),
    SubmissionKind.BOTH: N_("a text and/or files"),
    SubmissionKind.NONE: N_("nothing to upload: confirm when it is done"),
}


def submission_what(task: Task) -> str:
    return _(SUBMISSION_WHAT[task.submission])


def timeline_text(plan: Plan) -> str:
    """The whole plan, phase by phase: tasks, who, by when, who reviews."""
    zone = plan.timezone
    lines = [plan.title]
    if plan.theme:
        lines.append(_("Theme: {theme}").format(theme=plan.theme))
    for phase in plan.phases:
        lines.append("")
        lines.append(
            _("{title} ({start} – {end})").format(
                title=phase.title, start=phase.start.isoformat(), end=phase.end.isoformat()
            )
        )
        for task in phase.tasks:
            lines.append(
                _("  • {title} — {names}; due {due}").format(
                    title=task.title,
                    names=names_text(plan.names(task.assignee_ids)),
                    due=due_text(task.due, zone),
                )
            )
            if task.reviewer_ids:
                lines.append(
                    _("      reviewed by {names}").format(
                        names=names_text(plan.names(task.reviewer_ids))
                    )
                )
            if task.collective:
                lines.append(_("      one submission for the whole team"))
        if plan.meeting and plan.meeting.phase_id == phase.id:
            lines.append(
                ngettext(
                    "  • Meeting: {title}, {when}, {count} agenda item",
                    "  • Meeting: {title}, {when}, {count} agenda items",
                    len(plan.meeting.agenda),
                ).format(
                    title=plan.meeting.title,
                    when=date_text(plan.meeting.starts_at, zone),
                    count=len(plan.meeting.agenda),
                )
            )
    return "\n".join(lines)


def assignment_push(plan: Plan, task: Task, assignment_id: int, now: datetime) -> OutgoingMessage:
    """The private message that gives a member a task."""
    zone = plan.timezone
    lines = [
        _("New task: {title}").format(title=task.title),
        _("Plan: {plan}").format(plan=plan.title),
    ]
    if task.description:
        lines.append(task.description)
    lines.append(_("To hand in: {what}").format(what=submission_what(task)))
    lines.append(
        _("Deadline: {due} ({left})").format(
            due=due_text(task.due, zone), left=days_left_text(task.due, now, zone)
        )
    )
    if task.reviewer_ids:
        lines.append(
            _("Reviewed by: {names}").format(names=names_text(plan.names(task.reviewer_ids)))
        )
    if task.collective:
        lines.append(_("One submission counts for the whole team."))
    return OutgoingMessage(
        "\n".join(lines),
        buttons=(
            (
                Button(_("Submit"), data=Submit(assignment_id).pack()),
                Button(_("My tasks"), data=MyTasks().pack()),
            ),
        ),
        title=_("New task: {title}").format(title=task.title),
    )


STATE_LABELS = {
    MemberState.APPROVED: N_("approved"),
    MemberState.SUBMITTED: N_("submitted"),
    MemberState.RETURNED: N_("returned for changes"),
    MemberState.PENDING: N_("pending"),
    MemberState.OVERDUE: N_("overdue"),
}


def state_label(state: MemberState) -> str:
    return _(STATE_LABELS[state])


def _task_block(
    plan: Plan, progress: TaskProgress, now: datetime, platforms: Collection[str]
) -> list[str]:
    zone = plan.timezone
    task = progress.task
    if progress.done:
        heading = _("{title} — due {due} (complete)").format(
            title=task.title, due=date_text(task.due, zone)
        )
    else:
        heading = _("{title} — due {due} ({left})").format(
            title=task.title,
            due=date_text(task.due, zone),
            left=days_left_text(task.due, now, zone),
        )
    lines = [heading]
    late = set(progress.late_names)
    shown: set[str] = set()
    for state in (
        MemberState.APPROVED,
        MemberState.SUBMITTED,
        MemberState.RETURNED,
        MemberState.PENDING,
        MemberState.OVERDUE,
    ):
        names = progress.names(state)
        if names:
            shown.update(names)
            marked = [_("{name} (late)").format(name=n) if n in late else n for n in names]
            lines.append(
                "  "
                + _("{label}: {names}").format(label=state_label(state), names=names_text(marked))
            )
    if unshown_late := [name for name in progress.late_names if name not in shown]:
        lines.append("  " + _("late: {names}").format(names=names_text(unshown_late)))
    if progress.unreachable_names:
        lines.append(
            "  "
            + _("unreachable ({reason}): {names}").format(
                reason=unreached_reason(platforms), names=names_text(progress.unreachable_names)
            )
        )
    return lines


def status_text(
    plan: Plan, progress: list[TaskProgress], now: datetime, *, platforms: Collection[str]
) -> str:
    if not progress:
        return _("{plan}: no task has been assigned yet.").format(plan=plan.title)
    lines = [_("{plan} — status").format(plan=plan.title)]
    for item in progress:
        lines.append("")
        lines.extend(_task_block(plan, item, now, platforms))
    return "\n".join(lines)


def summary_text(
    plan: Plan,
    phase: Phase,
    progress: list[TaskProgress],
    next_phase: Phase | None,
    now: datetime,
    *,
    platforms: Collection[str],
) -> str:
    """The group's summary at the end of a phase."""
    lines = [_("Summary of the phase “{phase}”").format(phase=phase.title)]
    done = sum(1 for item in progress if item.done)
    if not progress:
        lines.append(_("This phase has no tasks to hand in."))
    elif done == len(progress) == 1:
        lines.append(_("Its one task is complete."))
    elif done == len(progress):
        lines.append(_("All {total} tasks complete.").format(total=len(progress)))
    else:
        lines.append(
            ngettext(
                "{done} of {total} task complete.",
                "{done} of {total} tasks complete.",
                len(progress),
            ).format(done=done, total=len(progress))
        )
    for item in progress:
        lines.append("")
        lines.extend(_task_block(plan, item, now, platforms))
    lines.append("")
    if next_phase is not None:
        lines.append(
            _("Next: “{phase}” from {start}.").format(
                phase=next_phase.title, start=next_phase.start.isoformat()
            )
        )
    else:
        lines.append(_("This was the last phase of the plan."))
    return "\n".join(lines)


def my_tasks_text(plan: Plan, rows: list[tuple[Task, MemberState, int]], now: datetime) -> str:
    if not rows:
        return _("You have no tasks in “{plan}” yet.").format(plan=plan.title)
    zone = plan.timezone
    lines = [_("Your tasks in “{plan}”:").format(plan=plan.title)]
    for task, state, _assignment in rows:
        lines.append(
            _("• {title} — {state}; due {due} ({left})").format(
                title=task.title,
                state=state_label(state),
                due=date_text(task.due, zone),
                left=days_left_text(task.due, now, zone),
            )
        )
    return "\n".join(lines)


def submit_button(title: str, assignment_id: int) -> Button:
    """A button that hands in one named task (where several tasks are offered at once)."""
    return Button(_("Submit: {title}").format(title=title), data=Submit(assignment_id).pack())


def reminder(plan: Plan, task: Task, assignment_id: int, now: datetime) -> OutgoingMessage:
    """A nudge about an open task, with the button to hand it in."""
    zone = plan.timezone
    return OutgoingMessage(
        _("Reminder: “{title}” is due {due} ({left}).").format(
            title=task.title, due=due_text(task.due, zone), left=days_left_text(task.due, now, zone)
        ),
        buttons=((Button(_("Submit"), data=Submit(assignment_id).pack()),),),
        title=_("Reminder: {title}").format(title=task.title),
    )
