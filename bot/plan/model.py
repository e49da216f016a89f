"""The normalised plan: immutable dataclasses every other part of Huiwu reads.

A plan is validated once by ``bot.plan.loader``; after that role groups are expanded to
member ids and relative deadlines to datetimes in the plan's timezone, so no other module
has to resolve them again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from bot.plan.reminder_policy import ReminderPolicy

# Work-plan documents bot.plan.importer reads (defined here, so that recognising one does
# not load the importer and its name dictionaries: they double the bot's start-up and memory).
DOCUMENT_SUFFIXES = (".txt", ".text", ".docx")


class Role(enum.StrEnum):
    """What a person does in the plan; one person may hold several roles."""

    ORGANIZER = "organizer"
    CHAIR = "chair"
    LEAD = "lead"
    MEMBER = "member"
    ATTENDEE = "attendee"
    SUPERIOR = "superior"


class SubmissionKind(enum.StrEnum):
    """What a member hands in for a task."""

    TEXT = "text"
    FILES = "files"
    BOTH = "both"
    NONE = "none"

    @property
    def accepts_text(self) -> bool:
        return self in (SubmissionKind.TEXT, SubmissionKind.BOTH)

    @property
    def accepts_files(self) -> bool:
        return self in (SubmissionKind.FILES, SubmissionKind.BOTH)


@dataclass(frozen=True)
class Member:
    id: str
    name: str
    roles: frozenset[Role]
    telegram_id: int | None = None
    wecom_userid: str | None = None
    locale: str | None = None

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def platform_ids(self) -> dict[str, str]:
        """The person's user id on each platform the roster names."""
        ids: dict[str, str] = {}
        if self.telegram_id is not None:
            ids["telegram"] = str(self.telegram_id)
        if self.wecom_userid:
            ids["wecom"] = self.wecom_userid
        return ids


@dataclass(frozen=True)
class Task:
    id: str
    phase_id: str
    title: str
    kind: str
    description: str
    assignee_ids: tuple[str, ...]
    due: datetime
    submission: SubmissionKind
    reviewer_ids: tuple[str, ...] = ()
    collective: bool = False
    survey_id: str | None = None
    window_end: datetime | None = (
        None  # a rule the plan also states, e.g. "within 15 days of the meeting"
    )
    department: str | None = None  # the unit that answers for it (责任单位), as the plan names it

    @property
    def needs_review(self) -> bool:
        return bool(self.reviewer_ids)


@dataclass(frozen=True)
class Phase:
    id: str
    title: str
    start: date
    end: date
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class AgendaItem:
    number: int
    title: str
    presenter_ids: tuple[str, ...] = ()
    speaking_order: bool = False
    survey_id: str | None = None


@dataclass(frozen=True)
class Meeting:
    title: str
    starts_at: datetime
    phase_id: str | None
    chair_ids: tuple[str, ...]
    participant_ids: tuple[str, ...]
    invited_ids: tuple[str, ...]
    attendee_ids: tuple[str, ...]
    agenda: tuple[AgendaItem, ...]


@dataclass(frozen=True)
class Survey:
    id: str
    kind: str  # "evaluation" or "satisfaction"
    title: str
    voter_ids: tuple[str, ...]
    scale: tuple[str, ...]
    items: tuple[str, ...]
    pass_choices: tuple[str, ...] = ()
    threshold: float | None = None
    on_fail: str | None = None  # "reconvene"
    min_ballots: int = 3
    revise_task_id: str | None = None  # the task a failed round hands in again, revised


@dataclass(frozen=True)
class Plan:
    title: str
    theme: str
    organisation: str
    timezone: ZoneInfo
    locale: str
    members: tuple[Member, ...]
    phases: tuple[Phase, ...]
    meeting: Meeting | None
    surveys: tuple[Survey, ...]
    # Heart-to-heart talks the plan requires: pairs of member ids, each in roster order.
    talk_pairs: tuple[tuple[str, str], ...] = ()
    talks_task_id: str | None = None
    warnings: tuple[str, ...] = field(default=(), compare=False)
    reminders: ReminderPolicy = field(default_factory=ReminderPolicy)

    def member(self, member_id: str) -> Member:
        for member in self.members:
            if member.id == member_id:
                return member
        raise KeyError(member_id)

    def with_role(self, role: Role) -> tuple[Member, ...]:
        return tuple(m for m in self.members if m.has(role))

    @property
    def tasks(self) -> tuple[Task, ...]:
        return tuple(task for phase in self.phases for task in phase.tasks)

    def task(self, task_id: str) -> Task:
        for task in self.tasks:
            if task.id == task_id:
                return task
        raise KeyError(task_id)

    def phase(self, phase_id: str) -> Phase:
        for phase in self.phases:
            if phase.id == phase_id:
                return phase
        raise KeyError(phase_id)

    def survey(self, survey_id: str) -> Survey:
        for survey in self.surveys:
            if survey.id == survey_id:
                return survey
        raise KeyError(survey_id)

    def names(self, member_ids: tuple[str, ...]) -> list[str]:
        return [self.member(member_id).name for member_id in member_ids]
