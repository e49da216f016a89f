"""A member's tasks: /mytasks, and handing one in (/submit → choose → send → confirm).

The draft lives in the database (``conversations``), so what a member sent before a
restart is still there after it; nothing is stored as a submission until they confirm.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from bot.core.formatting import names_text
from bot.core.i18n import N_, _, ngettext
from bot.core.messaging import Button, IncomingFile, OutgoingMessage
from bot.delivery import addressing as delivery
from bot.plan import Plan, SubmissionKind, Task
from bot.tasks.buttons import Draft, MyTasks, Review, Submit
from bot.tasks.handin import hand_in
from bot.tasks.progress import MemberState, member_state
from bot.tasks.texts import my_tasks_text, submission_what, submit_button
from handlers import uploads
from handlers.context import MAX_MESSAGE_TEXT, HandlerContext
from handlers.routing import ANYONE, KNOWN, PRIVATE, Router
from storage import assignments, conversations, instances
from storage.records import AssignmentRecord, FileCopy

logger = logging.getLogger(__name__)

COLLECTING = "submit:collecting"
MAX_PARTS = 50
OPEN_STATES = (MemberState.PENDING, MemberState.OVERDUE, MemberState.RETURNED)


async def _my_assignments(ctx: HandlerContext) -> list[tuple[Plan, Task, AssignmentRecord]]:
    found = []
    for record in await assignments.assignments_of_member(
        ctx.app.db, [m.id for m in ctx.memberships]
    ):
        plan = await ctx.app.plans.get(record.instance_id)
        found.append((plan, plan.task(record.task_id), record))
    return found


async def my_tasks(ctx: HandlerContext) -> None:
    now = ctx.app.clock.now()
    mine = await _my_assignments(ctx)
    for membership in ctx.memberships:
        plan = await ctx.plan_of(membership)
        rows = [
            (task, member_state(record, now), record.id)
            for p, task, record in mine
            if record.instance_id == membership.instance_id
        ]
        buttons = tuple(
            (submit_button(task.title, assignment_id),)
            for task, state, assignment_id in rows
            if state in OPEN_STATES
        )
        ctx.reply(my_tasks_text(plan, rows, now), buttons)


async def submit(ctx: HandlerContext) -> None:
    now = ctx.app.clock.now()
    open_ones = [
        (plan, task, record)
        for plan, task, record in await _my_assignments(ctx)
        if member_state(record, now) in OPEN_STATES
    ]
    if not open_ones:
        ctx.reply(_("You have nothing to hand in right now."))
        return
    if len(open_ones) == 1:
        await choose_task(ctx, open_ones[0][2].id)
        return
    ctx.reply(
        _("Which task do you want to hand in?"),
        tuple(
            (Button(task.title, data=Submit(record.id).pack()),)
            for _plan, task, record in open_ones
        ),
    )


async def choose_task(ctx: HandlerContext, assignment_id: int) -> None:
    record = await assignments.get_assignment(ctx.app.db, assignment_id)
    if record is None or record.member_id not in {m.id for m in ctx.memberships}:
        ctx.reply(_("This button is no longer valid."))
        return
    plan = await ctx.app.plans.get(record.instance_id)
    task = plan.task(record.task_id)
    await ctx.keep_conversation(COLLECTING, {"assignment": record.id, "texts": [], "files": []})
    if task.submission is SubmissionKind.NONE:
        prompt = _(
            "Handing in “{title}”: nothing needs to be uploaded. Press Submit to confirm it is done, or Cancel."
        ).format(title=task.title)
    else:
        prompt = _(
            "Handing in “{title}”. Send {what} now; press Submit when you are done, or Cancel."
        ).format(title=task.title, what=submission_what(task))
    ctx.reply(prompt, _draft_buttons())


def _draft_buttons() -> tuple[tuple[Button, ...], ...]:
    return (
        (
            Button(_("Submit"), data=Draft("send").pack()),
            Button(_("Cancel"), data=Draft("cancel").pack()),
        ),
    )


async def collect(ctx: HandlerContext, draft: dict[str, Any]) -> None:
    """Add what the member sent to the draft."""
    event = ctx.event
    record = await assignments.get_assignment(ctx.app.db, int(draft["assignment"]))
    if record is None:
        await cancel(ctx)
        return
    task = (await ctx.app.plans.get(record.instance_id)).task(record.task_id)
    text = event.text.strip()
    if text and not task.submission.accepts_text:
        ctx.reply(_("This task takes files only; please send a file."))
        return
    if event.files and not task.submission.accepts_files:
        ctx.reply(_("This task takes a text only; please type it as a message."))
        return
    if not text and not event.files:
        ctx.reply(_("I can only take text and files here."))
        return
    if len(draft["texts"]) + len(draft["files"]) >= MAX_PARTS:
        ctx.reply(
            _("This draft already has {count} parts; press Submit or Cancel.").format(
                count=MAX_PARTS
            ),
            _draft_buttons(),
        )
        return
    quotas = ctx.app.quotas
    refusals: list[str] = []
    if len(text) > MAX_MESSAGE_TEXT:
        refusals.append(
            _("That message is too long ({length} characters; at most {limit}).").format(
                length=len(text), limit=MAX_MESSAGE_TEXT
            )
        )
    elif text:
        length = sum(len(t) for t in draft["texts"]) + len(text)
        if length > quotas.handin_text:
            refusals.append(
                _(
                    "That text was not added: one hand-in holds at most {limit} characters of text, and it would have {length}."
                ).format(limit=quotas.handin_text, length=length)
            )
        else:
            draft["texts"].append(text)
    for file in event.files:
        if len(draft["files"]) >= quotas.handin_files:
            refusals.append(
                _(
                    "“{name}” was not added: one hand-in holds at most {limit} files. Press Submit to hand in what you have sent."
                ).format(name=file.file_name or _("photo"), limit=quotas.handin_files)
            )
            continue
        kept = await uploads.keep_file(ctx, file, await _room(ctx, draft, record.member_id))
        if isinstance(kept, str):
            refusals.append(kept)
            continue
        draft["files"].append(
            {**dataclasses.asdict(file), "size": kept.size, "sha256": kept.sha256}
        )
    await ctx.keep_conversation(COLLECTING, draft)
    received = received_text(len(draft["texts"]), len(draft["files"]))
    ctx.reply("\n".join([*refusals, received]), _draft_buttons())


async def _room(ctx: HandlerContext, draft: dict[str, Any], member_id: int) -> uploads.Room:
    """What the quotas leave for the next file of this draft."""
    quotas = ctx.app.quotas
    in_draft = sum(int(item.get("size") or 0) for item in draft["files"])
    handed_in = await assignments.member_file_bytes(ctx.app.db, member_id)
    return uploads.Room(
        handin_left=quotas.handin_bytes - in_draft,
        handin_used=in_draft,
        member_left=quotas.member_bytes - handed_in - in_draft,
        member_used=handed_in + in_draft,
    )


def received_text(texts: int, files: int) -> str:
    """What the draft holds so far, naming only what there is."""
    parts = []
    if texts:
        parts.append(
            ngettext(
                "{count} text",
                "{count} texts",
                texts,
            ).format(count=texts)
        )
    if files:
        parts.append(
            ngettext(
                "{count} file",
                "{count} files",
                files,
            ).format(count=files)
        )
    if not parts:
        return _("Nothing is in this hand-in yet: send it now, or press Cancel.")
    return _("Received so far: {parts}. Send more, or press Submit.").format(
        parts=names_text(parts)
    )


async def cancel(ctx: HandlerContext) -> None:
    event = ctx.event
    async with ctx.app.db.transaction() as conn:
        await conversations.clear(conn, event.platform, event.user_id)
    ctx.update_pressed(_("✗ Cancelled."))
    ctx.reply(_("Cancelled. Nothing was stored."))


async def send_draft(ctx: HandlerContext) -> None:
    """Confirm: store the submission (a new version), tell the reviewer, update the status."""
    app, event = ctx.app, ctx.event
    draft = await ctx.conversation_in(
        COLLECTING, _("There is no submission in progress. Send /submit to start one.")
    )
    if draft is None:
        return
    record = await assignments.get_assignment(app.db, int(draft["assignment"]))
    if record is None:
        await cancel(ctx)
        return
    plan = await app.plans.get(record.instance_id)
    task = plan.task(record.task_id)
    if task.submission is not SubmissionKind.NONE and not draft["texts"] and not draft["files"]:
        ctx.reply(
            _("Nothing to hand in yet: send {what} first.").format(what=submission_what(task)),
            _draft_buttons(),
        )
        return
    files = [await recorded_file(ctx, item) for item in draft["files"]]
    now = app.clock.now()
    member = await instances.get_member(app.db, record.member_id)
    assert member is not None
    async with app.db.transaction() as conn:
        submission = await hand_in(
            conn,
            record,
            text="\n\n".join(draft["texts"]) or None,
            files=files,
            now=now,
            whole_task=task.collective,
        )
        await conversations.clear(conn, event.platform, event.user_id)
        for reviewer_key in reviewers_for(task, member.member_key):
            reviewer = await instances.member_by_key(app.db, record.instance_id, reviewer_key)
            if reviewer is None:
                continue
            await delivery.to_member(
                conn,
                app,
                reviewer,
                lambda: _review_request(
                    task, member.name, submission.id, submission.version, draft, submission.late
                ),
                dedupe_key=f"review-request:{submission.id}:{reviewer.id}",
            )
    version_note = (
        _(" (version {version})").format(version=submission.version)
        if submission.version > 1
        else ""
    )
    late_note = _(" It is after the deadline, so it is marked late.") if submission.late else ""
    reviewers = reviewers_for(task, member.member_key)
    review_note = (
        _(" It has gone to {names} for review.").format(names=names_text(plan.names(reviewers)))
        if reviewers
        else ""
    )
    ctx.update_pressed(_("✓ Handed in."))
    ctx.reply(
        _("Handed in: “{title}”{version}.{late}{review}").format(
            title=task.title, version=version_note, late=late_note, review=review_note
        )
    )


def reviewers_for(task: Task, member_key: str) -> tuple[str, ...]:
    """Who reviews a member's submission: the task's reviewers, never the member themself."""
    return tuple(key for key in task.reviewer_ids if key != member_key)


async def recorded_file(ctx: HandlerContext, stored: dict[str, Any]) -> FileCopy:
    """A file of the draft as it is recorded: kept when it arrived; a draft from before the
    files folder is fetched now (a failed fetch keeps the platform's reference)."""
    sha256 = stored.get("sha256")
    file = IncomingFile(**{k: v for k, v in stored.items() if k != "sha256"})
    platform = ctx.event.platform
    if sha256 is None:
        kept = await uploads.keep_file(ctx, file, uploads.Room())
        if not isinstance(kept, str):
            return kept
    return FileCopy(platform, file.file_ref, file.file_name, file.mime_type, file.size, sha256)


def _review_request(
    task: Task,
    member_name: str,
    submission_id: int,
    version: int,
    draft: dict[str, Any],
    late: bool,
) -> OutgoingMessage:
    lines = [
        _("{name} has handed in “{title}” (version {version}) for your review.").format(
            name=member_name, title=task.title, version=version
        )
    ]
    if late:
        lines.append(_("It was handed in after the deadline."))
    for text in draft["texts"]:
        lines.append("")
        lines.append(text)
    for item in draft["files"]:
        lines.append(_("File: {name}").format(name=item.get("file_name") or _("photo")))
    return OutgoingMessage(
        "\n".join(lines),
        buttons=(
            (
                Button(_("Approve"), data=Review("ok", submission_id).pack()),
                Button(_("Return with comment"), data=Review("ret", submission_id).pack()),
            ),
        ),
        title=_("Review: {title}").format(title=task.title),
    )


async def _on_my_tasks(ctx: HandlerContext, _pressed: MyTasks) -> None:
    await my_tasks(ctx)


async def _on_submit(ctx: HandlerContext, pressed: Submit) -> None:
    await choose_task(ctx, pressed.assignment_id)


async def _on_draft(ctx: HandlerContext, pressed: Draft) -> None:
    await (send_draft(ctx) if pressed.action == "send" else cancel(ctx))


router = Router()
router.command(
    "mytasks",
    N_("your tasks and their deadlines"),
    PRIVATE,
    KNOWN,
    my_tasks,
    keywords=("我的任务",),
)
router.command(
    "submit", N_("hand in a task: text and/or files"), PRIVATE, KNOWN, submit, keywords=("提交",)
)
router.command(
    "cancel",
    N_("stop what you are doing (nothing is stored)"),
    PRIVATE,
    ANYONE,
    cancel,
    keywords=("取消",),
)
router.button(MyTasks, _on_my_tasks)
router.button(Submit, _on_submit)
router.button(Draft, _on_draft)
router.state(COLLECTING, collect)
