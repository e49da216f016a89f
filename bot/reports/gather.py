"""Everything the documents are made of, read from the database in one place: the plan's
meeting facts, the materials members handed in (by task kind), the ledger, survey results
and task progress. The .docx and .xlsx writers only format what this returns.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from bot.app import Huiwu
from bot.ledger import completion_series
from bot.plan import Plan
from bot.progress import TaskProgress, plan_progress
from storage import assignments, instances, ledger
from storage.records import LedgerItemRecord

# Which task kinds feed which part of the meeting report (see the shipped plan).
STATEMENT_KINDS = ("statement",)
OPINION_KINDS = ("opinions",)
MEASURE_KINDS = ("rectification-personal", "rectification-team")
LAST_YEAR_KINDS = ("last-year", "implementation")


@dataclass(frozen=True)
class Material:
    """What one member handed in for one task (the latest version)."""

    member: str
    task: str
    text: str | None
    files: tuple[str, ...]
    status: str  # the assignment's status: submitted / approved / returned / pending
    submitted_at: datetime | None


@dataclass(frozen=True)
class SurveyResult:
    key: str  # the survey's id in the plan
    title: str
    items: tuple[str, ...]
    choices: tuple[str, ...]
    counts: dict[str, dict[str, int]]  # item -> choice -> ballots
    ballots: int


@dataclass(frozen=True)
class ReportData:
    plan: Plan
    now: datetime
    statements: list[Material]
    opinions: list[Material]
    measures: list[Material]
    last_year: list[Material]
    items: list[LedgerItemRecord]
    owners: dict[int, str]  # member id -> name
    completion: list[tuple[date, float]]  # the ledger's completion rate day by day
    evidence: dict[int, list[str]]  # item id -> its evidence: texts, and file names
    surveys: list[SurveyResult]
    progress: list[TaskProgress]


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
            )
        )
    order = {task.id: index for index, task in enumerate(plan.tasks)}
    titles = {task.title: order[task.id] for task in plan.tasks}
    found.sort(key=lambda m: titles.get(m.task, 0))
    return found


async def survey_results(app: Huiwu, instance_id: int, plan: Plan) -> list[SurveyResult]:
    """Counts per item and choice of each survey's latest closed round. Results are shown only
    at close and only with at least ``min_ballots`` ballots (issue 6), so an open round or one
    with fewer ballots is left out."""
    results = []
    for survey in plan.surveys:
        row = await app.db.fetch_one(
            "SELECT id FROM surveys WHERE instance_id = ? AND survey_key = ? AND status = 'closed' "
            "AND (SELECT COUNT(*) FROM ballots b WHERE b.survey_id = surveys.id) >= ? "
            "ORDER BY round DESC LIMIT 1",
            (instance_id, survey.id, survey.min_ballots),
        )
        if row is None:
            continue
        counts: dict[str, dict[str, int]] = {item: {} for item in survey.items}
        ballots = await app.db.fetch_all(
            "SELECT answers FROM ballots WHERE survey_id = ?", (row["id"],)
        )
        for ballot in ballots:
            for item, choice in zip(survey.items, json.loads(ballot["answers"]), strict=False):
                counts[item][choice] = counts[item].get(choice, 0) + 1
        results.append(
            SurveyResult(survey.id, survey.title, survey.items, survey.scale, counts, len(ballots))
        )
    return results


async def _evidence(app: Huiwu, items: list[LedgerItemRecord]) -> dict[int, list[str]]:
    found = {}
    for item in items:
        entries = await ledger.evidence_of(app.db, item.id)
        found[item.id] = [e.text or f"[{e.file_name or e.mime_type or 'file'}]" for e in entries]
    return found


async def gather(app: Huiwu, instance_id: int) -> ReportData:
    plan = await app.plans.get(instance_id)
    items = await ledger.items_of_instance(app.db, instance_id)
    return ReportData(
        plan=plan,
        now=app.clock.now(),
        statements=await _materials(app, instance_id, plan, STATEMENT_KINDS),
        opinions=await _materials(app, instance_id, plan, OPINION_KINDS),
        measures=await _materials(app, instance_id, plan, MEASURE_KINDS),
        last_year=await _materials(app, instance_id, plan, LAST_YEAR_KINDS),
        items=items,
        owners={m.id: m.name for m in await instances.members_of(app.db, instance_id)},
        completion=completion_series(
            await ledger.history(app.db, instance_id), app.clock.now(), plan.timezone
        ),
        evidence=await _evidence(app, items),
        surveys=await survey_results(app, instance_id, plan),
        progress=await plan_progress(app, instance_id, plan),
    )
