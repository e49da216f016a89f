"""Everything the documents are made of, read from the database in one place: the plan's
meeting facts, the materials members handed in (by task kind), the ledger, survey results
and task progress. The .docx and .xlsx writers only format what this returns.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.core.app import Huiwu
from bot.core.i18n import _
from bot.ledger.rules import status_series
from bot.meeting.results import count
from bot.meeting.talks import TalkPair, talk_pairs
from bot.plan import Plan, Survey
from bot.tasks.progress import TaskProgress, plan_progress
from storage import assignments, instances, ledger, surveys
from storage import opinions as opinion_store
from storage.opinions import Opinion
from storage.records import LedgerItemRecord, MemberRecord, SubmissionRecord

# Which task kinds feed which part of the meeting report (see the shipped plan).
STATEMENT_KINDS = ("statement",)
OPINION_KINDS = ("opinions",)
MEASURE_KINDS = ("rectification-personal", "rectification-team")
LAST_YEAR_KINDS = ("last-year", "implementation")


def days_between(earlier: datetime, later: datetime, zone: ZoneInfo) -> int:
    """Calendar days from one moment to a later one in the plan's zone; at least 1, since it
    is only asked when ``later`` is past ``earlier`` (late by an hour is late by a day)."""
    return max(1, (later.astimezone(zone).date() - earlier.astimezone(zone).date()).days)


@dataclass(frozen=True)
class ReviewNote:
    reviewer: str
    verdict: str  # approved / returned
    comment: str | None
    reviewed_at: datetime


def review_text(note: ReviewNote) -> str:
    """'已通过（党组书记）：措施具体，同意。'"""
    verdict = _("approved") if note.verdict == "approved" else _("returned for changes")
    text = _("{verdict} ({reviewer})").format(verdict=verdict, reviewer=note.reviewer)
    return f"{text}：{note.comment}" if note.comment else text


@dataclass(frozen=True)
class Material:
    """What one member handed in for one task (the latest version)."""

    member: str
    task: str
    text: str | None
    files: tuple[str, ...]
    status: str  # the assignment's status: submitted / approved / returned / pending
    submitted_at: datetime | None
    due_at: datetime | None = None
    late: bool = False  # the latest version came after the deadline
    reviews: tuple[ReviewNote, ...] = ()


@dataclass(frozen=True)
class SurveyResult:
    key: str  # the survey's id in the plan
    title: str
    items: tuple[str, ...]
    choices: tuple[str, ...]
    counts: dict[str, dict[str, int]]  # item -> choice -> ballots
    ballots: int
    round: int = 1
    closed_at: datetime | None = None
    shown: bool = True  # False: fewer ballots than the survey's minimum, counts withheld
    min_ballots: int = 0
    rate: float | None = None  # the share of passing answers, when the survey has a pass rule
    passed: bool | None = None


@dataclass(frozen=True)
class OpinionSection:
    """Opinions collected in the opinion windows, to the whole team (addressee None) or to one
    member, verbatim; ``sender`` is None for an anonymous one."""

    addressee: str | None
    opinions: list[tuple[str, str | None]]  # (text, sender)


@dataclass(frozen=True)
class ReportData:
    plan: Plan
    now: datetime
    statements: list[Material]
    opinions: list[Material]
    opinions_collected: list[OpinionSection]
    measures: list[Material]
    last_year: list[Material]
    items: list[LedgerItemRecord]
    owners: dict[int, str]  # member id -> name
    evidence: dict[int, list[str]]  # item id -> its evidence: texts, and file names
    surveys: list[SurveyResult]
    progress: list[TaskProgress]
    # The ledger day by day: (day, done, in progress, overdue, total) at the day's end.
    ledger_states: list[tuple[date, int, int, int, int]] = field(default_factory=list)
    latest: dict[int, SubmissionRecord] = field(default_factory=dict)  # by assignment id
    reviews: dict[int, tuple[ReviewNote, ...]] = field(default_factory=dict)  # by assignment id
    talks: list[TalkPair] = field(default_factory=list)


async def _materials(
    app: Huiwu, instance_id: int, plan: Plan, kinds: tuple[str, ...]
) -> list[Material]:
    members = {m.id: m for m in await instances.members_of(app.db, instance_id)}
    latest = await assignments.latest_submissions(app.db, instance_id)
    found = []
    for record in await assignments.assignments_of_instance(app.db, instance_id):
        task = plan.task(record.task_id)
        if task.kind not in kinds:
            continue
        submission = latest.get(record.id)
        if submission is None and task.collective:
            continue  # one member handed it in for all: listed once, under them
        files: tuple[str, ...] = ()
        if submission is not None:
            files = tuple(
                f.file_name or f.mime_type or "file"
                for f in await assignments.files_of(app.db, submission.id)
            )
        found.append(
            Material(
                members[record.member_id].name,
                task.title,
                submission.text if submission else None,
                files,
                record.status,
                submission.submitted_at if submission else None,
                record.due_at,
                bool(submission and submission.late),
                await _reviews(app, submission, members) if submission else (),
            )
        )
    order = {task.id: index for index, task in enumerate(plan.tasks)}
    titles = {task.title: order[task.id] for task in plan.tasks}
    found.sort(key=lambda m: titles.get(m.task, 0))
    return found


async def _reviews(
    app: Huiwu, submission: SubmissionRecord, members: dict[int, MemberRecord]
) -> tuple[ReviewNote, ...]:
    return tuple(
        ReviewNote(
            members[r.reviewer_id].name if r.reviewer_id in members else "",
            r.verdict,
            r.comment,
            r.reviewed_at,
        )
        for r in await assignments.reviews_of(app.db, submission.id)
    )


async def _all_reviews(
    app: Huiwu, instance_id: int, latest: dict[int, SubmissionRecord]
) -> dict[int, tuple[ReviewNote, ...]]:
    members = {m.id: m for m in await instances.members_of(app.db, instance_id)}
    found = {}
    for assignment_id, submission in latest.items():
        notes = await _reviews(app, submission, members)
        if notes:
            found[assignment_id] = notes
    return found


def counts_by_item(survey: Survey, counts: list[list[int]]) -> dict[str, dict[str, int]]:
    """A stored result's counts (a list per item, a number per choice) keyed by names."""
    return {
        item: dict(zip(survey.scale, row, strict=False))
        for item, row in zip(survey.items, counts, strict=False)
    }


async def survey_rounds(app: Huiwu, instance_id: int, plan: Plan) -> list[SurveyResult]:
    """Every closed round of every survey, in plan order; a round with fewer ballots than the
    survey's minimum is listed with ``shown`` False and no counts (as in the group)."""
    results = []
    for survey in plan.surveys:
        for closed in await surveys.rounds_of(app.db, instance_id, survey.id):
            if closed.status != "closed":
                continue
            result = closed.result or count(survey, await surveys.ballots(app.db, closed.id))
            shown = result["ballots"] >= survey.min_ballots
            title = (
                survey.title
                if closed.round == 1
                else _("{title}, round {round}").format(title=survey.title, round=closed.round)
            )
            results.append(
                SurveyResult(
                    survey.id,
                    title,
                    survey.items,
                    survey.scale,
                    counts_by_item(survey, result["counts"]) if shown else {},
                    result["ballots"],
                    closed.round,
                    closed.closed_at,
                    shown,
                    survey.min_ballots,
                    result.get("rate") if shown else None,
                    result.get("passed") if shown else None,
                )
            )
    return results


async def _collected(app: Huiwu, instance_id: int) -> list[OpinionSection]:
    found: list[Opinion] = []
    for window in await opinion_store.windows_of(app.db, instance_id):
        found += await opinion_store.opinions_of(app.db, window.id)
    if not found:
        return []
    sections = [
        OpinionSection(None, [(o.text, o.sender_name) for o in found if o.addressee_id is None])
    ]
    for member in await instances.members_of(app.db, instance_id):
        mine = [(o.text, o.sender_name) for o in found if o.addressee_id == member.id]
        if mine:
            sections.append(OpinionSection(member.name, mine))
    return [section for section in sections if section.opinions]


async def _evidence(app: Huiwu, items: list[LedgerItemRecord]) -> dict[int, list[str]]:
    found = {}
    for item in items:
        entries = await ledger.evidence_of(app.db, item.id)
        found[item.id] = [e.text or f"[{e.file_name or e.mime_type or 'file'}]" for e in entries]
    return found


async def gather(app: Huiwu, instance_id: int) -> ReportData:
    plan = await app.plans.get(instance_id)
    items = await ledger.items_of_instance(app.db, instance_id)
    history = await ledger.history(app.db, instance_id)
    latest = await assignments.latest_submissions(app.db, instance_id)
    return ReportData(
        plan=plan,
        now=app.clock.now(),
        statements=await _materials(app, instance_id, plan, STATEMENT_KINDS),
        opinions=await _materials(app, instance_id, plan, OPINION_KINDS),
        opinions_collected=await _collected(app, instance_id),
        measures=await _materials(app, instance_id, plan, MEASURE_KINDS),
        last_year=await _materials(app, instance_id, plan, LAST_YEAR_KINDS),
        items=items,
        owners={m.id: m.name for m in await instances.members_of(app.db, instance_id)},
        evidence=await _evidence(app, items),
        surveys=await survey_rounds(app, instance_id, plan),
        progress=await plan_progress(app, instance_id, plan),
        ledger_states=status_series(history, items, app.clock.now(), plan.timezone),
        latest=latest,
        reviews=await _all_reviews(app, instance_id, latest),
        talks=await talk_pairs(app, instance_id, plan) if plan.talk_pairs else [],
    )
