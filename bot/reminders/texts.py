"""The words of reminders: to a member, the escalation to the organizers, /reminders."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.formatting import date_text, days_left_text, due_text, names_text
from bot.core.i18n import _, ngettext
from bot.core.messaging import Button, OutgoingMessage
from bot.plan import Plan, Task
from bot.reminders.planner import Kind, Planned
from bot.tasks.buttons import Submit


def moment_text(moment: datetime, zone: ZoneInfo) -> str:
    """A day and a time of day in the plan's zone: '2013年12月3日（周二） 09:00'."""
    return f"{date_text(moment, zone)} {moment.astimezone(zone).strftime('%H:%M')}"


def task_reminder(
    plan: Plan, task: Task, assignment_id: int, planned: Planned, now: datetime
) -> OutgoingMessage:
    zone = plan.timezone
    due = due_text(task.due, zone)
    if planned.kind is Kind.OVERDUE:
        text = _(
            "Overdue: “{title}” was due {due} ({left}). Please hand it in as soon as you can."
        ).format(title=task.title, due=due, left=days_left_text(task.due, now, zone))
    elif planned.moved_from is not None:
        text = _(
            "Reminder: “{title}” is due {due}, which is not a working day, so I am reminding you on the working day before ({left})."
        ).format(title=task.title, due=due, left=days_left_text(task.due, now, zone))
    else:
        text = _("Reminder: “{title}” is due {due} ({left}).").format(
            title=task.title, due=due, left=days_left_text(task.due, now, zone)
        )
    return OutgoingMessage(
        text,
        buttons=((Button(_("Submit"), data=Submit(assignment_id).pack()),),),
        title=_("Reminder: {title}").format(title=task.title),
    )


def digest(messages: list[OutgoingMessage], buttons: list[Button]) -> OutgoingMessage:
    """Several reminders due at once to one member, as one message (one push, not five)."""
    lines = [_("{count} reminders:").format(count=len(messages))]
    lines.extend(message.text for message in messages)
    return OutgoingMessage(
        "\n\n".join(lines),
        buttons=tuple((button,) for button in buttons),
        title=_("{count} reminders").format(count=len(messages)),
    )


def escalation(
    plan: Plan,
    missing: list[tuple[str, datetime, list[str]]],
    days: int,
    *,
    can_nudge: bool = True,
) -> str:
    """To an organizer (or, about the organizer, the lead): what is still missing ``days`` or
    more days after its deadline; ``can_nudge`` when the reader may use /remind."""
    lines = [
        ngettext(
            "Still missing in “{plan}”, {days} day or more after the deadline:",
            "Still missing in “{plan}”, {days} days or more after the deadline:",
            days,
        ).format(plan=plan.title, days=days)
    ]
    for title, due, names in missing:
        lines.append(
            _("• {title} (due {due}): {names}").format(
                title=title, due=date_text(due, plan.timezone), names=names_text(names)
            )
        )
    lines.append(
        _("/status shows the whole plan; /remind nudges them now.")
        if can_nudge
        else _("/status shows the whole plan.")
    )
    return "\n".join(lines)


def kind_text(planned: Planned, zone: ZoneInfo) -> str:
    if planned.kind is Kind.BEFORE:
        return ngettext(
            "{days} day before the deadline",
            "{days} days before the deadline",
            planned.days,
        ).format(days=planned.days)
    if planned.kind is Kind.DUE:
        if planned.moved_from is not None:
            return _("deadline reminder (the deadline, {day}, is not a working day)").format(
                day=date_text(datetime.combine(planned.moved_from, datetime.min.time(), zone), zone)
            )
        return _("on the day of the deadline")
    if planned.kind is Kind.OVERDUE:
        return ngettext(
            "overdue by {days} day",
            "overdue by {days} days",
            planned.days,
        ).format(days=planned.days)
    return _("to the organizer: still missing")


def outlook_text(plan: Plan, coming: list[tuple[str, Planned]], paused: bool, *, name: str) -> str:
    """/reminders: what is coming for one member in one plan."""
    zone = plan.timezone
    if paused:
        return _(
            "{name}, your reminders in “{plan}” are paused; the organizer resumes them."
        ).format(name=name, plan=plan.title)
    if not coming:
        return _("No reminders are coming for you in “{plan}”.").format(plan=plan.title)
    lines = [_("Reminders coming for you in “{plan}”:").format(plan=plan.title)]
    for title, planned in coming:
        lines.append(
            _("• {when} — {title}: {what}").format(
                when=moment_text(planned.send_at, zone), title=title, what=kind_text(planned, zone)
            )
        )
    quiet = plan.reminders
    if quiet.quiet_start is not None and quiet.quiet_end is not None:
        lines.append(
            _("Nothing is sent between {start} and {end}.").format(
                start=quiet.quiet_start.strftime("%H:%M"), end=quiet.quiet_end.strftime("%H:%M")
            )
        )
    return "\n".join(lines)
