"""Review of a submission: approve, or return it with a comment the member sees; /reviews
lists what waits for the sender's review (the lead: each member's personal measures; the
superior the plan names: the team's rectification plan)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.app import Huiwu
from bot.core.i18n import N_, _
from bot.core.messaging import Button, OutgoingMessage
from bot.delivery import addressing as delivery
from bot.plan import Task
from bot.tasks.buttons import IN_LIST, Review, Submit
from handlers.context import HandlerContext
from handlers.routing import KNOWN, PRIVATE, Router
from handlers.tasks import reviewers_for
from storage import assignments, conversations, instances
from storage.records import AssignmentRecord, MemberRecord, SubmissionRecord

COMMENTING = "review:commenting"


@dataclass(frozen=True)
class Reviewable:
    """A submission the sender may review now, with what the review needs."""

    submission: SubmissionRecord
    assignment: AssignmentRecord
    task: Task
    reviewer: MemberRecord
    submitter: MemberRecord


async def _reviewable(ctx: HandlerContext, submission_id: int) -> Reviewable | None:
    """What the sender may review now, or None (and a reply saying why)."""
    app = ctx.app
    submission = await assignments.get_submission(app.db, submission_id)
    if submission is None:
        ctx.reply(_("This button is no longer valid."))
        return None
    record = await assignments.get_assignment(app.db, submission.assignment_id)
    assert record is not None
    plan = await app.plans.get(record.instance_id)
    task = plan.task(record.task_id)
    submitter = await instances.get_member(app.db, record.member_id)
    assert submitter is not None
    reviewer = next(
        (
            m
            for m in ctx.memberships
            if m.instance_id == record.instance_id
            and m.member_key in reviewers_for(task, submitter.member_key)
        ),
        None,
    )
    if reviewer is None:
        ctx.reply(_("Only the reviewer of “{title}” can do that.").format(title=task.title))
        return None
    latest = (await assignments.submissions_of(app.db, record.id))[-1]
    if latest.id != submission.id or await assignments.reviews_of(app.db, submission.id):
        ctx.reply(_("This version has been reviewed already or replaced by a newer one."))
        return None
    return Reviewable(submission, record, task, reviewer, submitter)


async def decide(
    ctx: HandlerContext, submission_id: int, *, approve: bool, one_of_many: bool = False
) -> None:
    """A verdict pressed; ``one_of_many``: on the /reviews list, whose other buttons stay."""
    found = await _reviewable(ctx, submission_id)
    if found is None:
        return
    pressed = None if one_of_many else ctx.event.pressed
    if approve:
        await _record(ctx, found, "approved", None)
        ctx.update_message(pressed, _("✓ Approved."))
        return
    # The review request is updated once the comment has gone (the verdict is the choice).
    await ctx.keep_conversation(COMMENTING, {"submission": submission_id, "pressed": pressed})
    ctx.reply(
        _("What should be changed? Your next message goes to {name} as the comment.").format(
            name=found.submitter.name
        )
    )


async def comment(ctx: HandlerContext, data: dict[str, Any]) -> None:
    text = ctx.event.text.strip()
    if not text:
        ctx.reply(_("Please type the comment as a text message."))
        return
    found = await _reviewable(ctx, int(data["submission"]))
    if found is None:
        async with ctx.app.db.transaction() as conn:
            await conversations.clear(conn, ctx.event.platform, ctx.event.user_id)
        return
    await _record(ctx, found, "returned", text)
    ctx.update_message(data.get("pressed"), _("↩ Returned with your comment."))


async def _record(
    ctx: HandlerContext, found: Reviewable, verdict: str, comment_text: str | None
) -> None:
    submission, record, task = found.submission, found.assignment, found.task
    reviewer, member = found.reviewer, found.submitter
    app, event = ctx.app, ctx.event
    async with app.db.transaction() as conn:
        await assignments.add_review(
            conn, submission.id, reviewer.id, verdict, comment_text, app.clock.now()
        )
        await assignments.set_assignment_status(conn, record, verdict, whole_task=task.collective)
        await conversations.clear(conn, event.platform, event.user_id)
        await delivery.to_member(
            conn,
            app,
            member,
            lambda: _outcome(task.title, reviewer.name, verdict, comment_text, record.id),
            dedupe_key=f"review-outcome:{submission.id}",
        )
    if verdict == "returned":
        app.schedule_changed.set()  # its reminders are armed again
    if verdict == "approved":
        ctx.reply(_("Approved “{title}” by {name}.").format(title=task.title, name=member.name))
    else:
        ctx.reply(
            _("Returned “{title}” to {name} with your comment.").format(
                title=task.title, name=member.name
            )
        )


def _outcome(
    title: str, reviewer: str, verdict: str, comment_text: str | None, assignment_id: int
) -> OutgoingMessage:
    if verdict == "approved":
        return OutgoingMessage(
            _("{reviewer} approved your “{title}”.").format(reviewer=reviewer, title=title)
        )
    return OutgoingMessage(
        _(
            "{reviewer} returned your “{title}” for changes:\n{comment}\nPlease hand in a revised version."
        ).format(reviewer=reviewer, title=title, comment=comment_text),
        buttons=((Button(_("Submit again"), data=Submit(assignment_id).pack()),),),
    )


PREVIEW = 300  # characters of a submission's text shown in the /reviews list


@dataclass(frozen=True)
class Waiting:
    """A latest submission waiting for the review of ``reviewer``."""

    submission: SubmissionRecord
    submitter: MemberRecord
    task: Task
    reviewer: MemberRecord


async def waiting_for(app: Huiwu, memberships: list[MemberRecord]) -> list[Waiting]:
    """Every latest submission these memberships may review and have not reviewed (what
    /reviews lists and the board shows)."""
    found: list[Waiting] = []
    for member in memberships:
        plan = await app.plans.get(member.instance_id)
        reviewed = {t.id: t for t in plan.tasks if member.member_key in t.reviewer_ids}
        if not reviewed:  # most people review nothing: no need to read the whole plan
            continue
        latest = await assignments.latest_submissions(app.db, member.instance_id)
        members = {m.id: m for m in await instances.members_of(app.db, member.instance_id)}
        seen_collective: set[str] = set()
        for record in await assignments.assignments_of_instance(app.db, member.instance_id):
            task = reviewed.get(record.task_id)
            if task is None:
                continue
            submission = latest.get(record.id)
            if record.status != "submitted" or submission is None:
                continue
            submitter = members[record.member_id]
            if member.member_key not in reviewers_for(task, submitter.member_key):
                continue
            if task.collective and task.id in seen_collective:
                continue
            seen_collective.add(task.id)
            if await assignments.reviews_of(app.db, submission.id):
                continue
            found.append(Waiting(submission, submitter, task, member))
    return found


async def pending(ctx: HandlerContext) -> None:
    """/reviews: every latest submission the sender may review and has not reviewed."""
    lines: list[str] = []
    rows: list[tuple[Button, ...]] = []
    for waiting in await waiting_for(ctx.app, ctx.memberships):
        submission, submitter, task = waiting.submission, waiting.submitter, waiting.task
        text = (submission.text or "").strip()
        preview = text[:PREVIEW] + ("…" if len(text) > PREVIEW else "")
        lines.append(
            _("• {name}: “{title}”, version {version}").format(
                name=submitter.name, title=task.title, version=submission.version
            )
            + (f"\n  {preview}" if preview else "")
        )
        rows.append(
            (
                Button(
                    _("Approve: {name}").format(name=submitter.name),
                    data=Review("ok", submission.id, IN_LIST).pack(),
                ),
                Button(
                    _("Return: {name}").format(name=submitter.name),
                    data=Review("ret", submission.id, IN_LIST).pack(),
                ),
            )
        )
    if not lines:
        ctx.reply(_("Nothing is waiting for your review."))
        return
    ctx.reply(_("Waiting for your review:") + "\n" + "\n".join(lines), tuple(rows))


async def _on_verdict(ctx: HandlerContext, pressed: Review) -> None:
    await decide(
        ctx,
        pressed.submission_id,
        approve=pressed.verdict == "ok",
        one_of_many=pressed.where == IN_LIST,
    )


router = Router()
router.command(
    "reviews",
    N_("the submissions waiting for your review"),
    PRIVATE,
    KNOWN,
    pending,
    keywords=("审阅",),
)
router.button(Review, _on_verdict)
router.state(COMMENTING, comment)
