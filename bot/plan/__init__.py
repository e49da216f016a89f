"""The plan: what a work plan holds, how it is read from TOML, and how it is shown."""

from bot.plan.loader import PlanError, load_plan, load_plan_text
from bot.plan.model import (
    AgendaItem,
    Meeting,
    Member,
    Phase,
    Plan,
    Role,
    SubmissionKind,
    Survey,
    Task,
)

__all__ = [
    "AgendaItem",
    "Meeting",
    "Member",
    "Phase",
    "Plan",
    "PlanError",
    "Role",
    "SubmissionKind",
    "Survey",
    "Task",
    "load_plan",
    "load_plan_text",
]
