"""A failed satisfaction round starts the next one: a reconvened meeting, a revised
rectification plan and a new survey, appended to the instance's plan as a new phase.

The phase is ordinary plan data (``[[phases]]`` appended to the stored TOML), so the phase
machinery pushes the revised task, reminds, summarises and shows it in /plan unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from bot.core.i18n import _, use_locale
from bot.plan import Plan, Survey, Task
from bot.plan.toml_writer import dump_toml

# Offsets from the first day of the round's phase (it starts after the last phase ends).
MEETING_AFTER = timedelta(days=6)  # the reconvened meeting, at 09:00
REVISED_PLAN_AFTER = timedelta(days=13)  # the revised plan is due at the end of that day
SURVEY_OPENS_AFTER = timedelta(days=14)  # at 09:00
SURVEY_CLOSES_AFTER = timedelta(days=20)  # at 17:00; the phase ends that day (summary 18:00)
SURVEY_LENGTH = SURVEY_CLOSES_AFTER - SURVEY_OPENS_AFTER + timedelta(hours=8)


@dataclass(frozen=True)
class NextRound:
    number: int
    phase_id: str
    start: date
    end: date
    meeting_at: datetime
    revised_task: Task | None
    revised_due: datetime
    survey_opens_at: datetime
    survey_closes_at: datetime


def plan_next_round(plan: Plan, survey: Survey, number: int, closed_at: datetime) -> NextRound:
    zone = plan.timezone
    last_end = max(phase.end for phase in plan.phases)
    start = max(closed_at.astimezone(zone).date(), last_end) + timedelta(days=1)
    revised = plan.task(survey.revise_task_id) if survey.revise_task_id else None
    return NextRound(
        number=number,
        phase_id=f"round-{number}",
        start=start,
        end=start + SURVEY_CLOSES_AFTER,
        meeting_at=datetime.combine(start + MEETING_AFTER, time(9, 0), zone),
        revised_task=revised,
        revised_due=datetime.combine(start + REVISED_PLAN_AFTER, time(23, 59), zone),
        survey_opens_at=datetime.combine(start + SURVEY_OPENS_AFTER, time(9, 0), zone),
        survey_closes_at=datetime.combine(start + SURVEY_OPENS_AFTER, time(9, 0), zone)
        + SURVEY_LENGTH,
    )


def round_phase_toml(plan: Plan, survey: Survey, rate: str, next_round: NextRound) -> str:
    """The ``[[phases]]`` block of the round, written in the plan's language."""
    with use_locale(plan.locale):
        title = _(
            "Round {round}: the meeting is held again, the rectification plan revised and the survey repeated"
        ).format(round=next_round.number)
        phase: dict[str, Any] = {
            "id": next_round.phase_id,
            "title": title,
            "start": next_round.start.isoformat(),
            "end": next_round.end.isoformat(),
        }
        task = next_round.revised_task
        if task is not None:
            description = _(
                "The satisfaction rate of the previous round was {rate}, below the threshold. After the reconvened meeting, revise the plan and hand it in again."
            ).format(rate=rate)
            revised: dict[str, Any] = {
                "id": f"{task.id}-round-{next_round.number}",
                "title": _("{title} (revised, round {round})").format(
                    title=task.title, round=next_round.number
                ),
                "kind": task.kind,
                "description": description,
                "assignees": list(task.assignee_ids),
                "due": next_round.revised_due.strftime("%Y-%m-%dT%H:%M"),
                "submission": task.submission.value,
                "collective": task.collective,
            }
            if task.reviewer_ids:
                revised["reviewer"] = list(task.reviewer_ids)
            phase["tasks"] = [revised]
    comment = f"Appended by Huiwu: “{survey.title}” did not reach its threshold ({rate})."
    return "\n" + dump_toml({"phases": [phase]}, [comment])
