"""The meeting's steps on the clock: opinion windows close, survey rounds close, and the
next round of a failed survey opens. Called from ``bot.tasks.phases.tick``; each step is idempotent."""

from __future__ import annotations

from datetime import datetime

from bot.core.app import Huiwu
from bot.meeting import opinions, rounds, surveys
from storage import opinions as opinion_store
from storage import surveys as survey_store


async def tick(app: Huiwu) -> datetime | None:
    """Run what is due; return when the next step is due."""
    now = app.clock.now()
    upcoming: list[datetime] = []
    for window in await opinion_store.open_windows(app.db):
        if window.closes_at <= now:
            await opinions.close_window(app, window)
        else:
            upcoming.append(window.closes_at)
    for survey_round in await survey_store.scheduled(app.db):
        plan = await app.plans.get(survey_round.instance_id)
        survey = plan.survey(survey_round.survey_key)
        if survey_round.status == "open":
            assert survey_round.closes_at is not None
            if survey_round.closes_at <= now:
                await surveys.close_survey(app, survey_round)
            else:
                upcoming.append(survey_round.closes_at)
            continue
        assert survey_round.next_round_at is not None
        if survey_round.next_round_at <= now:
            closes_at = survey_round.next_round_at + rounds.SURVEY_LENGTH
            await surveys.open_survey(app, survey_round.instance_id, survey, closes_at)
        else:
            upcoming.append(survey_round.next_round_at)
    return min(upcoming, default=None)
