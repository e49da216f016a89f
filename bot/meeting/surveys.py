"""Anonymous surveys on the clock: open a round (ballots to the voters in private), close it
(count, announce, and for a failed satisfaction survey plan the next round), remind the
voters who have not voted, and finish the plan when a round passes.
"""

from __future__ import annotations

import logging
from datetime import datetime
from functools import partial

from bot.core.app import Huiwu
from bot.core.formatting import date_text, due_text, names_text
from bot.core.i18n import _
from bot.core.messaging import Button, OutgoingFile, OutgoingMessage
from bot.delivery import addressing as delivery
from bot.delivery import progress, reach
from bot.meeting import results, rounds
from bot.meeting.buttons import Cast, Vote
from bot.plan import Plan, Survey
from bot.reports import pictures as summary_pictures
from bot.tasks import phases
from storage import instances
from storage import surveys as survey_store
from storage.records import MemberRecord
from storage.surveys import SurveyRound

logger = logging.getLogger(__name__)


def ballot_prompt(
    survey: Survey, survey_round: SurveyRound, item: int, *, first: bool = False
) -> OutgoingMessage:
    """One item of the ballot with the scale as buttons. It never shows earlier answers:
    the outbox keeps what it sent, and a message to the voter must not carry their choices."""
    lines = []
    if first:
        lines += [
            _("Anonymous ballot: “{title}” (round {round}).").format(
                title=survey.title, round=survey_round.round
            ),
            _(
                "Your ballot is stored without your name and without the time; only the fact that you have voted is recorded, apart from it."
            ),
            "",
        ]
    lines.append(
        _("Item {number} of {total}: {item}").format(
            number=item + 1, total=len(survey.items), item=survey.items[item]
        )
    )
    buttons = tuple(
        Button(choice, data=Vote(survey_round.id, item, index).pack())
        for index, choice in enumerate(survey.scale)
    )
    return OutgoingMessage("\n".join(lines), (buttons,), title=survey.title)


def cast_prompt(survey: Survey, survey_round: SurveyRound) -> OutgoingMessage:
    if len(survey.items) == 1:
        text = _(
            "The item is answered. Press Cast to hand in your ballot; to change the answer, press another choice above first."
        )
    else:
        text = _(
            "All {total} items are answered. Press Cast to hand in your ballot; to change an answer, press another choice above first."
        ).format(total=len(survey.items))
    return OutgoingMessage(
        text,
        ((Button(_("Cast ballot"), data=Cast(survey_round.id).pack()),),),
    )


async def voters_of(app: Huiwu, instance_id: int, survey: Survey) -> list[MemberRecord]:
    members = {m.member_key: m for m in await instances.members_of(app.db, instance_id)}
    return [members[key] for key in survey.voter_ids if key in members]


async def open_survey(
    app: Huiwu, instance_id: int, survey: Survey, closes_at: datetime | None
) -> SurveyRound | None:
    """Open the next round and send every voter a ballot; None if a round is open already."""
    if any(r.survey_key == survey.id for r in await survey_store.open_rounds(app.db, instance_id)):
        return None
    plan = await app.plans.get(instance_id)
    voters = await voters_of(app, instance_id, survey)
    not_reached = await reach.unreached(app, instance_id, voters)
    now = app.clock.now()
    async with app.db.transaction() as conn:
        survey_round = await survey_store.open_round(conn, instance_id, survey.id, now, closes_at)
        for member in voters:
            await delivery.to_member(
                conn,
                app,
                member,
                partial(ballot_prompt, survey, survey_round, 0, first=True),
                dedupe_key=f"ballot:{survey_round.id}:{member.id}",
            )
        await delivery.to_groups(
            conn,
            app,
            instance_id,
            partial(
                _opened_text,
                plan,
                survey,
                survey_round,
                len(voters),
                not_reached,
                list(app.platforms),
            ),
            dedupe_key=f"survey-open:{survey_round.id}",
        )
    app.wake_senders()
    app.schedule_changed.set()
    return survey_round


def _opened_text(
    plan: Plan,
    survey: Survey,
    survey_round: SurveyRound,
    voters: int,
    not_reached: list[str],
    platforms: list[str],
) -> OutgoingMessage:
    if not not_reached:
        text = _(
            "“{title}” (round {round}) is open: all {count} voters have been sent an anonymous ballot in private chat."
        ).format(title=survey.title, round=survey_round.round, count=voters)
    else:
        text = _(
            "“{title}” (round {round}) is open: {sent} of the {count} voters have been sent an anonymous ballot in private chat."
        ).format(
            title=survey.title,
            round=survey_round.round,
            sent=voters - len(not_reached),
            count=voters,
        )
        text += "\n" + reach.unreached_line(not_reached, platforms)
    if survey_round.closes_at is not None:
        text += "\n" + _("It closes {when}.").format(
            when=due_text(survey_round.closes_at, plan.timezone)
        )
    return OutgoingMessage(text)


async def remind_non_voters(
    app: Huiwu, instance_id: int, survey: Survey, survey_round: SurveyRound
) -> list[str]:
    """Send a fresh ballot to each voter who has not voted; returns their names."""
    voted = await survey_store.voter_ids(app.db, survey_round.id)
    waiting = [m for m in await voters_of(app, instance_id, survey) if m.id not in voted]
    async with app.db.transaction() as conn:
        for member in waiting:
            await delivery.to_member(conn, app, member, partial(_reminder, survey, survey_round))
    app.wake_senders()
    return [m.name for m in waiting]


def _reminder(survey: Survey, survey_round: SurveyRound) -> OutgoingMessage:
    prompt = ballot_prompt(survey, survey_round, 0, first=True)
    note = _("Reminder: you have not voted yet in “{title}”.").format(title=survey.title)
    return OutgoingMessage(note + "\n\n" + prompt.text, prompt.buttons, title=prompt.title)


async def close_survey(app: Huiwu, survey_round: SurveyRound) -> SurveyRound | None:
    """Count and announce a round; a failed one with ``on_fail = reconvene`` plans the next
    round, a passed satisfaction survey finishes the plan. None if it was closed already."""
    instance_id = survey_round.instance_id
    plan = await app.plans.get(instance_id)
    survey = plan.survey(survey_round.survey_key)
    now = app.clock.now()
    result = results.count(survey, await survey_store.ballots(app.db, survey_round.id))
    next_round = None
    if result["passed"] is False and survey.on_fail == "reconvene":
        next_round = rounds.plan_next_round(plan, survey, survey_round.round + 1, now)
    async with app.db.transaction() as conn:
        closed = await survey_store.close_round(
            conn,
            survey_round.id,
            now,
            result,
            next_round.survey_opens_at if next_round else None,
        )
        if not closed:
            return None
        if next_round is not None:
            rate = results.percent(result["rate"] or 0.0)
            record = await instances.get_instance(app.db, instance_id)
            assert record is not None
            appended = rounds.round_phase_toml(plan, survey, rate, next_round)
            await instances.set_plan_toml(conn, instance_id, record.plan_toml + appended)
    await app.db.forget()  # the drafts of those who did not cast are gone from the log too
    app.plans.forget(instance_id)
    final = await survey_store.get_round(app.db, survey_round.id)
    assert final is not None
    history = await survey_store.rounds_of(app.db, instance_id, survey.id)
    await progress.show_in_groups(app, instance_id, progress.UPLOADING_PHOTO)
    chart = await summary_pictures.survey_picture(plan, survey, final)
    async with app.db.transaction() as conn:
        await delivery.to_groups(
            conn,
            app,
            instance_id,
            partial(_closed_text, plan, survey, final, history, next_round, chart),
            dedupe_key=f"survey-close:{survey_round.id}",
        )
    if survey.kind == "satisfaction" and result["passed"]:
        await finish_plan(app, instance_id)
    app.wake_senders()
    app.schedule_changed.set()
    logger.info("instance %d: survey %s round %d closed", instance_id, survey.id, final.round)
    return final


def _closed_text(
    plan: Plan,
    survey: Survey,
    survey_round: SurveyRound,
    history: list[SurveyRound],
    next_round: rounds.NextRound | None,
    chart: OutgoingFile | None = None,
) -> OutgoingMessage:
    lines = [results.result_text(survey, survey_round)]
    if len(history) > 1:
        lines += ["", _("All rounds:"), results.history_text(survey, history)]
    passed = (survey_round.result or {}).get("passed")
    if passed is False:
        lines.append("")
        if next_round is None:
            lines.append(_("The threshold was not reached."))
        else:
            zone = plan.timezone
            lines.append(
                _(
                    "The threshold was not reached, so round {round} follows: the meeting is held again on {meeting}; the rectification plan is revised and handed in by {due}; the survey is taken again from {opens} to {closes}."
                ).format(
                    round=next_round.number,
                    meeting=date_text(next_round.meeting_at, zone),
                    due=due_text(next_round.revised_due, zone),
                    opens=due_text(next_round.survey_opens_at, zone),
                    closes=due_text(next_round.survey_closes_at, zone),
                )
            )
    elif passed and survey.kind == "satisfaction":
        lines += [
            "",
            _("The threshold is reached: the plan “{plan}” is complete.").format(plan=plan.title),
        ]
    return OutgoingMessage("\n".join(lines), file=chart)


async def finish_plan(app: Huiwu, instance_id: int) -> None:
    """End what is still running (each phase posts its summary) and mark the plan finished."""
    plan = await app.plans.get(instance_id)
    current = await phases.current_phase(app, instance_id)
    while current is not None:
        await phases.end_phase(app, instance_id, current)
        current = await phases.current_phase(app, instance_id)
    async with app.db.transaction() as conn:
        await instances.set_status(conn, instance_id, "finished")
    logger.info("instance %d (%s) finished", instance_id, plan.title)


async def voted_and_waiting(
    app: Huiwu, instance_id: int, survey: Survey, survey_round: SurveyRound
) -> tuple[list[str], list[str]]:
    voted = await survey_store.voter_ids(app.db, survey_round.id)
    voters = await voters_of(app, instance_id, survey)
    return (
        [m.name for m in voters if m.id in voted],
        [m.name for m in voters if m.id not in voted],
    )


def waiting_text(voted: list[str], waiting: list[str]) -> str:
    return _("voted: {count}; not yet: {names}").format(count=len(voted), names=names_text(waiting))
