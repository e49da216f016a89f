"""The command table, assembled from every feature's router: each command, where it works
and who may use it; the buttons and the conversation states.

This one table drives dispatch, the refusals, /help, the platforms' command menus and the
README's command table (a test checks the README against it). The order of ``ROUTERS`` is the
order of /help and of the README.
"""

from __future__ import annotations

from bot.core.i18n import N_, _
from bot.plan import Role
from handlers import (
    agenda,
    board,
    export,
    group,
    ledger,
    ledger_add,
    opinions,
    organizer,
    plans,
    reminders,
    review,
    start,
    talks,
    tasks,
    voting,
)
from handlers.context import HandlerContext
from handlers.routing import ANYONE, BOTH, ButtonRoute, CommandSpec, Router, StateHandler

__all__ = ["BUTTONS", "BY_KEYWORD", "BY_NAME", "COMMANDS", "STATES", "CommandSpec"]

HELP = Router()


async def help_command(ctx: HandlerContext) -> None:
    """/help: the commands the sender may use in this chat, from this table."""
    lines = [_("Commands you can use here:")]
    for spec in allowed_for(ctx):
        lines.append(f"/{spec.name} — {_(spec.description)}")
    ctx.reply("\n".join(lines))


HELP.command(
    "help",
    N_("list the commands you can use here"),
    BOTH,
    ANYONE,
    help_command,
    keywords=("帮助",),
)


ROUTERS: tuple[Router, ...] = (
    start.router,
    HELP,
    plans.router,
    tasks.router,
    group.router,
    board.router,
    organizer.router,
    ledger.router,
    ledger_add.router,
    export.router,
    reminders.router,
    review.router,
    opinions.router,
    talks.router,
    agenda.router,
    voting.router,
)


COMMANDS: tuple[CommandSpec, ...] = tuple(spec for router in ROUTERS for spec in router.commands)
BUTTONS: tuple[ButtonRoute, ...] = tuple(route for router in ROUTERS for route in router.buttons)
STATES: dict[str, StateHandler] = {
    name: handler for router in ROUTERS for name, handler in router.states.items()
}

# The app menu of platforms that have one (WeCom): top-level entries, the last with a sub-menu.
APP_MENU: tuple[tuple[str, ...], ...] = (("mytasks",), ("submit",), ("status", "plan", "help"))

BY_NAME = {spec.name: spec for spec in COMMANDS}
if len(BY_NAME) != len(COMMANDS):
    raise RuntimeError("two routers declare the same command")
BY_KEYWORD = {keyword: spec for spec in COMMANDS for keyword in spec.keywords}


def allowed_for(ctx: HandlerContext) -> list[CommandSpec]:
    """The commands the sender of ``ctx`` may use in this chat."""
    roles = ctx.roles()
    return [s for s in COMMANDS if s.allows_chat(ctx.event.chat_type) and s.allows_roles(roles)]


STRANGER = "stranger"
# The README's role columns: someone on no roster, then each plan role. A person's roles are
# those they hold in any plan (in a group: in the group's plan); holding several, they may
# use what any of them allows.
ROLE_COLUMNS: tuple[str, ...] = (
    STRANGER,
    Role.MEMBER.value,
    Role.ATTENDEE.value,
    Role.LEAD.value,
    Role.CHAIR.value,
    Role.ORGANIZER.value,
    Role.SUPERIOR.value,
)
ALLOWED_MARK, REFUSED_MARK = "✓", "—"


def allows_column(spec: CommandSpec, column: str) -> bool:
    """Whether someone holding only the role ``column`` (or a stranger) may use the command."""
    if column == STRANGER:
        return spec.roles is None
    return spec.allows_roles({Role(column)})


def markdown_table() -> str:
    """The README's command table, generated from COMMANDS: where each command works and,
    role by role, who may use it."""
    header = ["command", "where", *ROLE_COLUMNS, "what it does"]
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    for spec in COMMANDS:
        where = " / ".join(sorted(chat.value for chat in spec.chats))
        words = f" (also: {', '.join(spec.keywords)})" if spec.keywords else ""
        marks = [ALLOWED_MARK if allows_column(spec, c) else REFUSED_MARK for c in ROLE_COLUMNS]
        lines.append(
            "| " + " | ".join([f"/{spec.name}{words}", where, *marks, spec.description]) + " |"
        )
    return "\n".join(lines)
