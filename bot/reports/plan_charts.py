"""The plan's data as charts: task progress (with each phase summary) and survey results.
Called inside the reader's locale, in a thread (they draw with matplotlib)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.core.i18n import _
from bot.reports.charts import stacked_bars, survey_chart
from bot.tasks.progress import MemberState, TaskProgress
from bot.tasks.texts import state_label

STATE_COLOURS = (
    (MemberState.APPROVED, "#2e7d32"),
    (MemberState.SUBMITTED, "#81c784"),
    (MemberState.RETURNED, "#ffb300"),
    (MemberState.PENDING, "#90a4ae"),
    (MemberState.OVERDUE, "#c62828"),
)


def progress_chart(title: str, progress: Sequence[TaskProgress]) -> bytes:
    """One bar per task, split by how many people are in each state."""
    series = [
        (
            state_label(state),
            colour,
            [sum(1 for row in item.rows if row.state is state) for item in progress],
        )
        for state, colour in STATE_COLOURS
    ]
    return stacked_bars(title, [item.task.title for item in progress], series, _("people"))


def results_chart(
    title: str,
    items: Sequence[str],
    choices: Sequence[str],
    counts: Mapping[str, Mapping[str, int]],
) -> bytes:
    """An evaluation or satisfaction survey: the ballots per item and choice."""
    return survey_chart(title, items, choices, counts, _("ballots"))
