"""The pictures that go with what the group is told: the progress of a phase's tasks (on its
summary), the results of a survey (when a round closes, and again with the summary of its
phase) and, in a rectification phase, the ledger's completion over time. Drawn in the plan's
locale.
"""

from __future__ import annotations

import asyncio

from bot.core.app import Huiwu
from bot.core.i18n import _, use_locale
from bot.core.messaging import OutgoingFile, OutgoingMessage
from bot.ledger.rules import status_series, summarize
from bot.ledger.texts import summary_line
from bot.plan import Phase, Plan, Survey
from bot.reports.gather import counts_by_item
from bot.tasks.progress import TaskProgress
from storage import ledger
from storage.surveys import SurveyRound

RECTIFICATION_KINDS = ("rectification", "rectification-personal", "rectification-team")

# The chart modules load matplotlib (half a second and tens of MB): imported when a picture is
# drawn, not when the bot starts (bench/startup.py).


def _photo(name: str, png: bytes) -> OutgoingFile:
    return OutgoingFile(name, png, "image/png", is_photo=True)


async def progress_picture(
    plan: Plan, phase: Phase, progress: list[TaskProgress]
) -> OutgoingFile | None:
    """The progress chart of a phase with tasks."""
    if not progress:
        return None
    from bot.reports.plan_charts import progress_chart

    with use_locale(plan.locale):  # to_thread runs in a copy of this context
        title = _("Progress of the phase “{phase}”").format(phase=phase.title)
        png = await asyncio.to_thread(progress_chart, title, progress)
    return _photo(f"{phase.title}.png", png)  # a name a reader can read, where one shows


async def survey_picture(
    plan: Plan, survey: Survey, survey_round: SurveyRound
) -> OutgoingFile | None:
    """The bar chart of a closed round, when its result may be shown (enough ballots)."""
    result = survey_round.result
    if result is None or result["ballots"] < survey.min_ballots:
        return None
    from bot.reports.plan_charts import results_chart

    with use_locale(plan.locale):
        title = _("{title}, round {round}").format(title=survey.title, round=survey_round.round)
        png = await asyncio.to_thread(
            results_chart,
            title if survey_round.round > 1 else survey.title,
            survey.items,
            survey.scale,
            counts_by_item(survey, result["counts"]),
        )
    return _photo(f"{survey.title}-{survey_round.round}.png", png)


async def more_pictures(
    app: Huiwu, instance_id: int, plan: Plan, phase: Phase
) -> list[OutgoingMessage]:
    """In a rectification phase, the ledger day by day (done / in progress / overdue) as a
    photo with the counts as caption (survey results are pictured when a round closes:
    ``survey_picture``)."""
    from bot.reports.plan_charts import ledger_chart

    found = []
    with use_locale(plan.locale):
        if any(task.kind in RECTIFICATION_KINDS for task in phase.tasks):
            items = await ledger.items_of_instance(app.db, instance_id)
            if items:
                now = app.clock.now()
                states = status_series(
                    await ledger.history(app.db, instance_id), items, now, plan.timezone
                )
                png = await asyncio.to_thread(
                    ledger_chart, _("Rectification ledger over time"), states, plan.timezone
                )
                caption = summary_line(summarize(items, now))
                found.append(OutgoingMessage(caption, file=_photo("ledger.png", png)))
    return found
