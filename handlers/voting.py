"""Anonymous surveys in chat: a voter answers item by item with buttons and casts the
ballot once; the organizer opens, closes and reminds (/survey); anyone on the roster sees
the results of closed rounds (/results).

Nothing sent to a voter repeats their choices (the outbox keeps what was sent); the draft is
sealed (``storage.sealing``), deleted when the ballot is cast, and the write-ahead log is
emptied after it.
"""

from __future__ import annotations

from bot.core.formatting import due_text, names_text
from bot.core.i18n import N_, _
from bot.delivery import reach
from bot.meeting import results, surveys
from bot.meeting.buttons import Cast, Vote
from bot.plan import Plan, Survey
from handlers.context import HandlerContext
from handlers.group import chat_plan
from handlers.organizer import end_of_day, organizer_instance
from handlers.routing import BOTH, KNOWN, ORGANIZER, Router
from storage import surveys as survey_store
from storage.records import MemberRecord
from storage.surveys import SurveyRound


async def _ballot_context(
    ctx: HandlerContext, survey_id: int
) -> tuple[SurveyRound, Survey, MemberRecord] | None:
    """The open round and the sender as one of its voters, or None (with a reply)."""
    survey_round = await survey_store.get_round(ctx.app.db, survey_id)
    if survey_round is None:
        ctx.reply(_("This button is no longer valid."))
        return None
    plan = await ctx.app.plans.get(survey_round.instance_id)
    survey = plan.survey(survey_round.survey_key)
    voter = next(
        (
            m
            for m in ctx.memberships
            if m.instance_id == survey_round.instance_id and m.member_key in survey.voter_ids
        ),
        None,
    )
    if voter is None:
        ctx.reply(_("You are not among the voters of “{title}”.").format(title=survey.title))
        return None
    if survey_round.status != "open":
        ctx.reply(
            _("“{title}” has closed; ballots are no longer taken.").format(title=survey.title)
        )
        return None
    if voter.id in await survey_store.voter_ids(ctx.app.db, survey_id):
        ctx.reply(
            _("You have voted in “{title}” already: one ballot each.").format(title=survey.title)
        )
        return None
    return survey_round, survey, voter


async def choose(ctx: HandlerContext, survey_id: int, item: int, choice: int) -> None:
    """A choice pressed on the ballot: keep it in the draft and show the next open item."""
    found = await _ballot_context(ctx, survey_id)
    if found is None:
        return
    survey_round, survey, voter = found
    if not (0 <= item < len(survey.items) and 0 <= choice < len(survey.scale)):
        ctx.reply(_("This button is no longer valid."))
        return
    answers = await survey_store.load_draft(ctx.app.db, ctx.app.sealer, survey_id, voter.id)
    if answers is None or len(answers) != len(survey.items):
        answers = [None] * len(survey.items)
    answers[item] = choice
    async with ctx.app.db.transaction() as conn:
        await survey_store.save_draft(conn, ctx.app.sealer, survey_id, voter.id, answers)
    missing = [index for index, answer in enumerate(answers) if answer is None]
    if missing:
        prompt = surveys.ballot_prompt(survey, survey_round, missing[0])
    else:
        prompt = surveys.cast_prompt(survey, survey_round)
    ctx.reply(prompt.text, prompt.buttons)


async def cast(ctx: HandlerContext, survey_id: int) -> None:
    found = await _ballot_context(ctx, survey_id)
    if found is None:
        return
    _round, survey, voter = found
    answers = await survey_store.load_draft(ctx.app.db, ctx.app.sealer, survey_id, voter.id)
    if answers is None or None in answers or len(answers) != len(survey.items):
        ctx.reply(_("Please answer every item first."))
        return
    choices = [survey.scale[index] for index in answers if index is not None]
    async with ctx.app.db.transaction() as conn:
        stored = await survey_store.cast(conn, survey_id, voter.id, choices)
    await ctx.app.db.forget()
    if not stored:
        ctx.reply(
            _("You have voted in “{title}” already: one ballot each.").format(title=survey.title)
        )
        return
    # The card says only that the ballot was cast, never what it says.
    ctx.update_pressed(_("✓ Your ballot was cast."))
    ctx.reply(_("Your ballot in “{title}” has been cast. Thank you.").format(title=survey.title))


USAGE = "/survey open ID [YYYY-MM-DD] · /survey close ID · /survey remind ID"


async def manage(ctx: HandlerContext) -> None:
    """/survey — list; /survey open|close|remind ID."""
    instance_id = organizer_instance(ctx)
    assert instance_id is not None
    plan = await ctx.app.plans.get(instance_id)
    args = ctx.event.args
    if not args:
        ctx.reply(await _overview(ctx, instance_id, plan))
        return
    action = args[0].lower()
    survey_key = args[1] if len(args) > 1 else _only_survey(plan)
    if action not in ("open", "close", "remind") or survey_key not in {s.id for s in plan.surveys}:
        ctx.reply(
            _("Usage: {usage}\nSurvey ids: {ids}").format(
                usage=USAGE, ids=", ".join(s.id for s in plan.surveys)
            )
        )
        return
    survey = plan.survey(survey_key)
    current = next(
        (
            r
            for r in await survey_store.open_rounds(ctx.app.db, instance_id)
            if r.survey_key == survey.id
        ),
        None,
    )
    if action == "open":
        await _open(ctx, instance_id, plan, survey, args[2] if len(args) > 2 else None)
    elif current is None:
        ctx.reply(_("“{title}” is not open.").format(title=survey.title))
    elif action == "close":
        closed = await surveys.close_survey(ctx.app, current)
        if closed is not None:
            ctx.reply(results.result_text(survey, closed))
    else:
        names = await surveys.remind_non_voters(ctx.app, instance_id, survey, current)
        ctx.reply(
            _("Reminded: {names}.").format(names=names_text(names))
            if names
            else _("Everybody has voted.")
        )


def _only_survey(plan: Plan) -> str:
    return plan.surveys[0].id if len(plan.surveys) == 1 else ""


async def _open(
    ctx: HandlerContext, instance_id: int, plan: Plan, survey: Survey, closing: str | None
) -> None:
    # By default a survey run by a task closes at the task's deadline (the satisfaction
    # survey's); an agenda item's survey closes when the meeting moves on.
    closes_at = next(
        (t.due for t in plan.tasks if t.survey_id == survey.id and t.due > ctx.app.clock.now()),
        None,
    )
    if closing is not None:
        closes_at = end_of_day(plan, closing)
        if closes_at is None or closes_at <= ctx.app.clock.now():
            ctx.reply(_("The closing date must be a future date like 2014-06-25."))
            return
    opened = await surveys.open_survey(ctx.app, instance_id, survey, closes_at)
    if opened is None:
        ctx.reply(_("“{title}” is open already.").format(title=survey.title))
        return
    voters = await surveys.voters_of(ctx.app, instance_id, survey)
    not_reached = await reach.unreached(ctx.app, instance_id, voters)
    if not_reached:
        opened_text = _(
            "Opened “{title}”, round {round}: {sent} of the {count} voters have been sent a ballot."
        )
    else:
        opened_text = _(
            "Opened “{title}”, round {round}: all {count} voters have been sent a ballot."
        )
    lines = [
        opened_text.format(
            title=survey.title,
            round=opened.round,
            sent=len(voters) - len(not_reached),
            count=len(voters),
        )
    ]
    if not_reached:
        lines.append(reach.unreached_line(not_reached, list(ctx.app.platforms)))
    ctx.reply("\n".join(lines))


async def _overview(ctx: HandlerContext, instance_id: int, plan: Plan) -> str:
    lines = [_("Surveys of the plan:")]
    for survey in plan.surveys:
        lines.append(f"• {survey.id}: {survey.title}")
        for survey_round in await survey_store.rounds_of(ctx.app.db, instance_id, survey.id):
            if survey_round.status == "open":
                voted, waiting = await surveys.voted_and_waiting(
                    ctx.app, instance_id, survey, survey_round
                )
                closes = (
                    due_text(survey_round.closes_at, plan.timezone)
                    if survey_round.closes_at
                    else _("on demand")
                )
                lines.append(
                    "    "
                    + _("round {round} open (closes {closes}); {state}").format(
                        round=survey_round.round,
                        closes=closes,
                        state=surveys.waiting_text(voted, waiting),
                    )
                )
            else:
                lines.append("    " + results.history_text(survey, [survey_round]))
    lines += ["", _("Usage: {usage}").format(usage=USAGE)]
    return "\n".join(lines)


async def show_results(ctx: HandlerContext) -> None:
    instance_id = await chat_plan(ctx)
    if instance_id is None:
        return
    plan = await ctx.app.plans.get(instance_id)
    blocks = []
    for survey in plan.surveys:
        for survey_round in await survey_store.rounds_of(ctx.app.db, instance_id, survey.id):
            blocks.append(results.result_text(survey, survey_round))
    ctx.reply("\n\n".join(blocks) if blocks else _("No survey has been opened yet."))


async def _on_vote(ctx: HandlerContext, pressed: Vote) -> None:
    await choose(ctx, pressed.survey_id, pressed.item, pressed.choice)


async def _on_cast(ctx: HandlerContext, pressed: Cast) -> None:
    await cast(ctx, pressed.survey_id)


router = Router()
router.command(
    "survey",
    N_("open, close or remind an anonymous survey (organizer)"),
    BOTH,
    ORGANIZER,
    manage,
    keywords=("测评",),
    takes_args=True,
)
router.command(
    "results",
    N_("the results of the closed survey rounds"),
    BOTH,
    KNOWN,
    show_results,
    keywords=("测评结果",),
)
router.button(Vote, _on_vote)
router.button(Cast, _on_cast)
