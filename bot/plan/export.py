"""The normalised plan as JSON-ready data (``huiwu plan check --json``)."""

from __future__ import annotations

from typing import Any

from bot.plan.model import Plan


def plan_to_data(plan: Plan) -> dict[str, Any]:
    zone = plan.timezone
    data: dict[str, Any] = {
        "title": plan.title,
        "theme": plan.theme,
        "organisation": plan.organisation,
        "timezone": zone.key,
        "locale": plan.locale,
        "roster": [
            {"id": m.id, "name": m.name, "roles": sorted(r.value for r in m.roles)}
            for m in plan.members
        ],
        "phases": [
            {
                "id": phase.id,
                "title": phase.title,
                "start": phase.start.isoformat(),
                "end": phase.end.isoformat(),
                "tasks": [
                    {
                        "id": task.id,
                        "title": task.title,
                        "kind": task.kind,
                        "assignees": plan.names(task.assignee_ids),
                        "department": task.department,
                        "due": task.due.astimezone(zone).isoformat(),
                        "submission": task.submission.value,
                        "reviewers": plan.names(task.reviewer_ids),
                        "collective": task.collective,
                    }
                    for task in phase.tasks
                ],
            }
            for phase in plan.phases
        ],
        "meeting": None,
        "surveys": [
            {
                "id": s.id,
                "kind": s.kind,
                "title": s.title,
                "scale": list(s.scale),
                "items": list(s.items),
                "voters": plan.names(s.voter_ids),
                "pass_choices": list(s.pass_choices),
                "threshold": s.threshold,
                "on_fail": s.on_fail,
                "min_ballots": s.min_ballots,
                "revise": s.revise_task_id,
            }
            for s in plan.surveys
        ],
        "reminders": reminders_to_data(plan),
        "talks": {
            "task": plan.talks_task_id,
            "pairs": [plan.names(pair) for pair in plan.talk_pairs],
        },
        "warnings": list(plan.warnings),
    }
    if plan.meeting is not None:
        meeting = plan.meeting
        data["meeting"] = {
            "title": meeting.title,
            "starts_at": meeting.starts_at.astimezone(zone).isoformat(),
            "phase": meeting.phase_id,
            "chair": plan.names(meeting.chair_ids),
            "participants": plan.names(meeting.participant_ids),
            "invited": plan.names(meeting.invited_ids),
            "attendees": plan.names(meeting.attendee_ids),
            "agenda": [
                {
                    "number": item.number,
                    "title": item.title,
                    "presenters": plan.names(item.presenter_ids),
                    "speaking_order": item.speaking_order,
                    "survey": item.survey_id,
                }
                for item in meeting.agenda
            ],
        }
    return data


def reminders_to_data(plan: Plan) -> dict[str, Any]:
    policy = plan.reminders
    quiet = (
        [policy.quiet_start.strftime("%H:%M"), policy.quiet_end.strftime("%H:%M")]
        if policy.quiet_start is not None and policy.quiet_end is not None
        else []
    )
    return {
        "enabled": policy.enabled,
        "days_before": list(policy.days_before),
        "time": policy.at.strftime("%H:%M"),
        "due_day": policy.on_due_day,
        "overdue_every_days": policy.overdue_every_days,
        "escalate_after_days": policy.escalate_after_days,
        "quiet_hours": quiet,
        "calendar": policy.calendar,
        "holidays": [day.isoformat() for day in sorted(policy.holidays)],
        "workdays": [day.isoformat() for day in sorted(policy.workdays)],
    }
