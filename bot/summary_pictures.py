"""The pictures that go with a phase summary in the group: the progress of the phase's tasks
(attached to the summary itself), then the results of the phase's surveys that have ballots
and, in a rectification phase, the ledger's completion over time. Drawn in the plan's locale.
"""

from __future__ import annotations

import asyncio

from bot.app import Huiwu
from bot.i18n import _, use_locale
from bot.ledger import completion_series, summarize
from bot.ledger_texts import summary_line
from bot.messaging import OutgoingFile, OutgoingMessage
from bot.plan import Phase, Plan
from bot.progress import TaskProgress
from bot.reports.charts import completion_chart
from bot.reports.gather import survey_results
from bot.reports.plan_charts import progress_chart, results_chart
from storage import ledger

RECTIFICATION_KINDS = ("rectification", "rectification-personal", "rectification-team")


def _photo(name: str, png: bytes) -> OutgoingFile:
    return OutgoingFile(name, png, "image/png", is_photo=True)


async def progress_picture(
    plan: Plan, phase: Phase, progress: list[TaskProgress]
) -> OutgoingFile | None:
    """The progress chart of a phase with tasks."""
    if not progress:
        return None
    with use_locale(plan.locale):  # to_thread runs in a copy of this context
        title = _("Progress of the phase “{phase}”").format(phase=phase.title)
        png = await asyncio.to_thread(progress_chart, title, progress)
    return _photo(f"{phase.id}-progress.png", png)


def _phase_surveys(plan: Plan, phase: Phase) -> set[str]:
    keys = {task.survey_id for task in phase.tasks if task.survey_id}
    if plan.meeting is not None and plan.meeting.phase_id == phase.id:
        keys |= {item.survey_id for item in plan.meeting.agenda if item.survey_id}
    return {key for key in keys if key}


async def more_pictures(
    app: Huiwu, instance_id: int, plan: Plan, phase: Phase
) -> list[OutgoingMessage]:
    """Survey results and the ledger's completion, each as a photo with a short caption."""
    found = []
    keys = _phase_surveys(plan, phase)
    with use_locale(plan.locale):
        for result in await survey_results(app, instance_id, plan):
            if result.key not in keys or not result.ballots:
                continue
            png = await asyncio.to_thread(
                results_chart, result.title, result.items, result.choices, result.counts
            )
            caption = _("{survey}: {count} ballot(s)").format(
                survey=result.title, count=result.ballots
            )
            found.append(OutgoingMessage(caption, file=_photo(f"{result.key}.png", png)))
        if any(task.kind in RECTIFICATION_KINDS for task in phase.tasks):
            items = await ledger.items_of_instance(app.db, instance_id)
            if items:
                now = app.clock.now()
                series = completion_series(
                    await ledger.history(app.db, instance_id), now, plan.timezone
                )
                png = await asyncio.to_thread(
                    completion_chart,
                    _("Rectification ledger: completion over time"),
                    series,
                    _("items done"),
                )
                caption = summary_line(summarize(items, now))
                found.append(OutgoingMessage(caption, file=_photo("ledger.png", png)))
    return found
