"""Who may do what on the board: one table, like the chat's command table.

The README's board table is generated from ``BOARD_ACTIONS`` (a test keeps them equal) and
``tests/test_authorisation.py`` checks every action × role over HTTP. Reviewing on the board
runs the chat's own review handler, so its finer rule (only the reviewer the plan names for
that submission) is the chat's rule. Handed-in files follow what the page shows
(``views.may_see_assignment``, ``views.may_see_item``): "whole" opens every file, anyone else
their own and those of the submissions they review.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.i18n import N_
from bot.plan import Role
from handlers.commands import ROLE_COLUMNS, STRANGER
from storage.records import MemberRecord

KNOWN = frozenset(Role)
WHOLE_PLAN = frozenset({Role.ORGANIZER, Role.CHAIR, Role.LEAD, Role.SUPERIOR})
ORGANIZER = frozenset({Role.ORGANIZER})


@dataclass(frozen=True)
class BoardAction:
    name: str
    description: str  # msgid
    roles: frozenset[Role]

    def allows(self, roles: set[Role]) -> bool:
        return bool(self.roles & roles)


OPEN = BoardAction(
    "open",
    N_("open the board: your own tasks, ledger items and talks, the survey results"),
    KNOWN,
)
WHOLE = BoardAction(
    "whole",
    N_("see every member's tasks and files, the whole ledger and the talks matrix"),
    WHOLE_PLAN,
)
REVIEW = BoardAction(
    "review",
    N_("approve or return what waits for your review (as /reviews: its reviewer only)"),
    KNOWN,
)
DOCUMENTS = BoardAction(
    "documents",
    N_("download the report (.docx), the ledger and the progress table (.xlsx), as /export"),
    ORGANIZER,
)
ZIP = BoardAction(
    "zip",
    N_("download every submitted file as one zip, named by member and task"),
    ORGANIZER,
)

BOARD_ACTIONS: tuple[BoardAction, ...] = (OPEN, WHOLE, REVIEW, DOCUMENTS, ZIP)


def roles_in(memberships: list[MemberRecord], instance_id: int) -> set[Role]:
    return {Role(role) for m in memberships if m.instance_id == instance_id for role in m.roles}


def markdown_table() -> str:
    """The README's board table: each action and, role by role, who may use it."""
    header = ["board action", *ROLE_COLUMNS, "what it does"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for action in BOARD_ACTIONS:
        marks = [
            "—" if column == STRANGER else ("✓" if action.allows({Role(column)}) else "—")
            for column in ROLE_COLUMNS
        ]
        lines.append("| " + " | ".join([action.name, *marks, action.description]) + " |")
    return "\n".join(lines)
