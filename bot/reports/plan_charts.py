"""The plan's data as charts: task progress (with each phase summary) and survey results.
Called inside the reader's locale, in a thread (they draw with matplotlib)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from bot.core.i18n import _
from bot.reports.charts import stacked_bars, status_chart, survey_chart
from bot.tasks.progress import MemberState, TaskProgress
from bot.tasks.texts import state_label

STATE_COLOURS = (
    (MemberState.APPROVED, "#2e7d32"),
    (MemberState.SUBMITTED, "#81c784"),
    (MemberState.RETURNED, "#ffb300"),
    (MemberState.PENDING, "#90a4ae"),
    (MemberState.OVERDUE, "#c62828"),
)


LATE_COLOUR = "#ef6c00"
HANDED_IN = (MemberState.APPROVED, MemberState.SUBMITTED)


def progress_chart(title: str, progress: Sequence[TaskProgress]) -> bytes:
    """One bar per task, split by how many people are in each state; hand-ins that came
    after the deadline are a segment of their own, hatched."""
    late_label = _("handed in late")
    series = [
        (
            state_label(state),
            colour,
            [
                sum(
                    1
                    for row in item.rows
                    if row.state is state and not (row.late and state in HANDED_IN)
                )
                for item in progress
            ],
        )
        for state, colour in STATE_COLOURS
    ]
    late = [sum(1 for row in item.rows if row.late and row.state in HANDED_IN) for item in progress]
    series.insert(2, (late_label, LATE_COLOUR, late))
    return stacked_bars(
        title, [item.task.title for item in progress], series, _("people"), hatched=(late_label,)
    )


def ledger_chart(
    title: str, states: Sequence[tuple[date, int, int, int, int]], zone: ZoneInfo
) -> bytes:
    """The ledger day by day: done, in progress, overdue and to do, stacked; the legend
    gives today's counts out of the total ("done 1/4")."""
    del zone  # the days are the plan's already
    days = [day for day, *_counts in states]
    done = [row[1] for row in states]
    in_progress = [row[2] for row in states]
    overdue = [row[3] for row in states]
    todo = [row[4] - row[1] - row[2] - row[3] for row in states]
    total = states[-1][4] if states else 0

    def named(name: str, values: list[int]) -> str:
        return f"{name} {values[-1] if values else 0}/{total}"

    series = [
        (named(_("done"), done), "#2e7d32", done),
        (named(_("in progress"), in_progress), "#ffb300", in_progress),
        (named(_("overdue"), overdue), "#c62828", overdue),
        (named(_("to do"), todo), "#b0bec5", todo),
    ]
    return status_chart(title, days, series, _("items"))


def results_chart(
    title: str,
    items: Sequence[str],
    choices: Sequence[str],
    counts: Mapping[str, Mapping[str, int]],
) -> bytes:
    """An evaluation or satisfaction survey: the ballots per item and choice."""
    return survey_chart(title, items, choices, counts, _("ballots"))
