"""What the board shows a viewer: the page's data, read from the same stores and with the
same rules as the chat's /plan, /status, /reviews, /talks, /ledger and /results.

The whole plan goes to its organizer, chair, lead and superior; anyone else on the roster
sees their own tasks, ledger items and talks, and what waits for their review. Survey results
are those of closed rounds with enough ballots (``bot.reports.gather.survey_results``, the
chat's rule); nothing about who voted is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time

from bot.board import access
from bot.core.app import Huiwu
from bot.core.formatting import date_text, due_text
from bot.core.i18n import _
from bot.ledger.rules import STATUS_LABELS, is_overdue, label, mark, summarize
from bot.meeting.talks import PairState, talk_pairs
from bot.plan import Plan, Role
from bot.reports.gather import SurveyResult, survey_results
from bot.tasks import phases
from bot.tasks.progress import MemberProgress, MemberState, member_state, plan_progress
from bot.tasks.texts import state_label
from handlers.review import Waiting, waiting_for
from handlers.tasks import reviewers_for
from storage import assignments, instances, ledger
from storage.records import MemberRecord

ROWS_PER_PAGE = 50  # members per page of the matrix: a 1,000-member plan stays light
PREVIEW = 200  # characters of a submission's text in the review queue
EVIDENCE_SHOWN = 3  # an item's latest pieces of evidence on the page
EVIDENCE_PREVIEW = 80

SYMBOLS = {
    MemberState.APPROVED: "✓",
    MemberState.SUBMITTED: "●",
    MemberState.RETURNED: "↩",
    MemberState.PENDING: "○",
    MemberState.OVERDUE: "!",
}


@dataclass(frozen=True)
class Viewer:
    platform: str
    user_id: str
    locale: str
    memberships: list[MemberRecord]
    csrf: str = ""  # the session's token every form carries
    page_token: str = ""  # what the page carries instead of a cookie (the Mini App), or ""

    def roles(self, instance_id: int) -> set[Role]:
        return access.roles_in(self.memberships, instance_id)

    def member(self, instance_id: int) -> MemberRecord | None:
        return next((m for m in self.memberships if m.instance_id == instance_id), None)

    def may(self, action: access.BoardAction, instance_id: int) -> bool:
        return action.allows(self.roles(instance_id))


@dataclass(frozen=True)
class Cell:
    assignment_id: int
    state: str
    symbol: str
    label: str
    late: bool
    version: int


@dataclass(frozen=True)
class Row:
    name: str
    reachable: bool
    cells: list[Cell | None]


@dataclass(frozen=True)
class PhaseLine:
    title: str
    dates: str
    now: bool
    tasks: list[tuple[int, str, str]]  # (column number, title, due)


@dataclass
class BoardPage:
    instance_id: int
    title: str
    organisation: str
    whole: bool
    phase_now: str | None
    timeline: list[PhaseLine]
    meeting: str | None
    columns: list[str]
    rows: list[Row]
    page: int
    pages: int
    counts: dict[str, int]
    waiting: list[tuple[Waiting, str]]
    talk_people: list[str]
    talk_cells: list[list[str]]
    talks_done: int
    talks_total: int
    ledger_rows: list[dict[str, object]]
    ledger_rate: int
    ledger_total: int
    surveys: list[SurveyResult]
    can_documents: bool
    can_zip: bool
    plans: list[tuple[int, str]] = field(default_factory=list)


def _timeline(plan: Plan, current: str | None, columns: dict[str, int]) -> list[PhaseLine]:
    zone = plan.timezone
    lines = []
    for phase in plan.phases:
        tasks = [
            (columns[task.id], task.title, due_text(task.due, zone))
            for task in phase.tasks
            if task.id in columns
        ]
        lines.append(
            PhaseLine(
                phase.title,
                f"{date_text(_midday(phase.start, plan), zone)} – "
                f"{date_text(_midday(phase.end, plan), zone)}",
                phase.id == current,
                tasks,
            )
        )
    return lines


def _midday(day: date, plan: Plan) -> datetime:
    """A phase's day as a moment, for the date formatter (midday: the same day in any zone)."""
    return datetime.combine(day, time(12), plan.timezone)


async def board_page(app: Huiwu, viewer: Viewer, instance_id: int, page: int = 1) -> BoardPage:
    plan = await app.plans.get(instance_id)
    me = viewer.member(instance_id)
    assert me is not None
    whole = viewer.may(access.WHOLE, instance_id)
    now = app.clock.now()
    progress = await plan_progress(app, instance_id, plan)
    columns = {tp.task.id: number for number, tp in enumerate(progress, 1)}
    current = await phases.current_phase(app, instance_id)
    versions = await assignments.latest_versions(app.db, instance_id)

    by_member: dict[int, dict[str, MemberProgress]] = {}
    order: list[MemberRecord] = []
    reachable: dict[int, bool] = {}
    counts = {state.value: 0 for state in MemberState} | {"late": 0, "unreachable": 0}
    for task_progress in progress:
        for row in task_progress.rows:
            if row.member.id not in by_member:
                by_member[row.member.id] = {}
                order.append(row.member)
                reachable[row.member.id] = row.reachable
            by_member[row.member.id][task_progress.task.id] = row
            if whole or row.member.id == me.id:
                counts[row.state.value] += 1
                counts["late"] += row.late
    if whole:
        counts["unreachable"] = sum(1 for ok in reachable.values() if not ok)
        members = sorted(order, key=lambda m: m.id)
    else:
        members = [m for m in order if m.id == me.id]
    pages = max(1, -(-len(members) // ROWS_PER_PAGE))
    page = min(max(page, 1), pages)
    shown = members[(page - 1) * ROWS_PER_PAGE : page * ROWS_PER_PAGE]
    rows = []
    for member in shown:
        cells: list[Cell | None] = []
        for task_progress in progress:
            found = by_member[member.id].get(task_progress.task.id)
            if found is None:
                cells.append(None)
                continue
            cells.append(
                Cell(
                    found.assignment.id,
                    found.state.value,
                    SYMBOLS[found.state],
                    state_label(found.state),
                    found.late,
                    versions.get(found.assignment.id, 0),
                )
            )
        rows.append(Row(member.name, reachable.get(member.id, True), cells))

    waiting = [
        (w, _preview(w.submission.text))
        for w in await waiting_for(
            app, [m for m in viewer.memberships if m.instance_id == instance_id]
        )
    ]

    pairs = await talk_pairs(app, instance_id, plan)
    if not whole:
        pairs = [p for p in pairs if p.has(me.id)]
    people: list[MemberRecord] = []
    for pair in pairs:
        for person in (pair.a, pair.b):
            if person not in people:
                people.append(person)
    marks = {}
    for pair in pairs:
        symbol = {PairState.CONFIRMED: "✓", PairState.AWAITING: "…", PairState.MISSING: "✗"}[
            pair.state
        ]
        marks[(pair.a.id, pair.b.id)] = marks[(pair.b.id, pair.a.id)] = symbol
    talk_cells = [
        [
            "—" if other.id == person.id else marks.get((person.id, other.id), "·")
            for other in people
        ]
        for person in people
    ]

    items = await ledger.items_of_instance(app.db, instance_id)
    if not whole:
        items = [item for item in items if item.member_id == me.id]
    summary = summarize(items, now)
    owners = {m.id: m.name for m in await instances.members_of(app.db, instance_id)}
    evidence = await ledger.evidence_notes(app.db, instance_id)
    ledger_rows: list[dict[str, object]] = [
        {
            "id": item.id,
            "mark": mark(item, now).name.lower(),
            "description": item.description,
            "owner": owners.get(item.member_id or 0, item.department or ""),
            "status": label(STATUS_LABELS, item.status),
            "overdue": is_overdue(item, now),
            "due": date_text(item.due_at, plan.timezone) if item.due_at else "",
            "evidence": len(evidence.get(item.id, [])),
            "notes": [
                (
                    _preview(note.text, EVIDENCE_PREVIEW) if note.text else "",
                    note.file_name or _("file") if note.has_file else "",
                    note.id if note.has_file else None,
                )
                for note in evidence.get(item.id, [])[-EVIDENCE_SHOWN:]
            ],
        }
        for item in items
    ]
    meeting = None
    if plan.meeting is not None:
        meeting = f"{plan.meeting.title} · {due_text(plan.meeting.starts_at, plan.timezone)}"
    plans = []
    for membership in viewer.memberships:
        if membership.instance_id != instance_id:
            plans.append(
                (membership.instance_id, (await app.plans.get(membership.instance_id)).title)
            )
    return BoardPage(
        instance_id=instance_id,
        title=plan.title,
        organisation=plan.organisation,
        whole=whole,
        phase_now=current.title if current else None,
        timeline=_timeline(plan, current.id if current else None, columns),
        meeting=meeting,
        columns=[tp.task.title for tp in progress],
        rows=rows,
        page=page,
        pages=pages,
        counts=counts,
        waiting=waiting,
        talk_people=[p.name for p in people],
        talk_cells=talk_cells,
        talks_done=sum(p.state is PairState.CONFIRMED for p in pairs),
        talks_total=len(pairs),
        ledger_rows=ledger_rows,
        ledger_rate=round(summary.rate * 100),
        ledger_total=summary.total,
        surveys=await survey_results(app, instance_id, plan),
        can_documents=viewer.may(access.DOCUMENTS, instance_id),
        can_zip=viewer.may(access.ZIP, instance_id),
        plans=plans,
    )


def _preview(text: str | None, limit: int = PREVIEW) -> str:
    text = (text or "").strip()
    return text[:limit] + ("…" if len(text) > limit else "")


@dataclass(frozen=True)
class Version:
    number: int
    submitted: str
    late: bool
    text: str
    files: list[tuple[int, str, int]]  # (file id, name, size)
    reviews: list[tuple[str, str, str]]  # (verdict, reviewer, comment)


@dataclass(frozen=True)
class AssignmentPage:
    instance_id: int
    member: str
    task: str
    due: str
    state: str
    versions: list[Version]


def may_see_item(
    viewer: Viewer, instance_id: int, item_instance_id: int, owner_id: int | None
) -> bool:
    """A ledger item (and its evidence) shows to the whole plan's viewers and its owner: the
    items the board lists for this viewer."""
    me = viewer.member(instance_id)
    if me is None or item_instance_id != instance_id:
        return False
    return viewer.may(access.WHOLE, instance_id) or (owner_id is not None and owner_id == me.id)


async def may_see_assignment(
    app: Huiwu, viewer: Viewer, instance_id: int, assignment_id: int
) -> bool:
    """The whole plan's viewers, the member, and the submission's reviewers see it."""
    record = await assignments.get_assignment(app.db, assignment_id)
    me = viewer.member(instance_id)
    if record is None or record.instance_id != instance_id or me is None:
        return False
    if viewer.may(access.WHOLE, instance_id) or record.member_id == me.id:
        return True
    plan = await app.plans.get(instance_id)
    submitter = await instances.get_member(app.db, record.member_id)
    assert submitter is not None
    return me.member_key in reviewers_for(plan.task(record.task_id), submitter.member_key)


async def assignment_page(app: Huiwu, instance_id: int, assignment_id: int) -> AssignmentPage:
    record = await assignments.get_assignment(app.db, assignment_id)
    assert record is not None
    plan = await app.plans.get(instance_id)
    task = plan.task(record.task_id)
    members = {m.id: m.name for m in await instances.members_of(app.db, instance_id)}
    versions = []
    for submission in reversed(await assignments.submissions_of(app.db, assignment_id)):
        files = [
            (f.id, f.file_name or f.file_ref[:12], f.size or (len(f.content) if f.content else 0))
            for f in await assignments.files_of(app.db, submission.id)
        ]
        reviews = [
            (r.verdict, members.get(r.reviewer_id, ""), r.comment or "")
            for r in await assignments.reviews_of(app.db, submission.id)
        ]
        versions.append(
            Version(
                submission.version,
                due_text(submission.submitted_at, plan.timezone),
                submission.late,
                submission.text or "",
                files,
                reviews,
            )
        )
    return AssignmentPage(
        instance_id,
        members.get(record.member_id, ""),
        task.title,
        due_text(record.due_at, plan.timezone),
        state_label(member_state(record, app.clock.now())),
        versions,
    )
