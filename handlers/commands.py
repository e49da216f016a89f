"""The command table: each command, where it works and who may use it.

This one table drives dispatch, the refusals, /help, the platforms' command menus and the
README's command table (a test checks the README against it).
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.i18n import N_
from bot.core.messaging import ChatType
from bot.plan import Role
from handlers.context import HandlerContext

PRIVATE = frozenset({ChatType.PRIVATE})
GROUP = frozenset({ChatType.GROUP})
BOTH = PRIVATE | GROUP
ANYONE: frozenset[Role] | None = None  # strangers too
KNOWN = frozenset(Role)  # anyone on a plan's roster, whatever the role
ORGANIZER = frozenset({Role.ORGANIZER})
CHAIR_OR_ORGANIZER = frozenset({Role.CHAIR, Role.ORGANIZER})
MANAGERS = frozenset({Role.ORGANIZER, Role.LEAD})

HandlerFunc = Callable[..., Awaitable[None]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str  # msgid
    chats: frozenset[ChatType]
    roles: frozenset[Role] | None
    handler: str  # "module:function" in handlers/, resolved lazily to keep imports one-way
    keywords: tuple[str, ...] = ()  # plain words that mean the same (WeCom users type these)
    refusal: str = N_(
        "Only the plan's organizer can use /{name}."
    )  # for a roster member without the role
    takes_args: bool = False  # a keyword may be followed by arguments ("暂停提醒 唐军")

    def allows_chat(self, chat_type: ChatType) -> bool:
        return chat_type in self.chats

    def allows_roles(self, roles: set[Role]) -> bool:
        return self.roles is None or bool(self.roles & roles)


COMMANDS: tuple[CommandSpec, ...] = (
    CommandSpec(
        "start",
        N_("open the private chat with the bot (with an invite code: bind yourself)"),
        PRIVATE,
        ANYONE,
        "start:start",
        ("开始",),
    ),
    CommandSpec(
        "help",
        N_("list the commands you can use here"),
        BOTH,
        ANYONE,
        "start:help_command",
        ("帮助",),
    ),
    CommandSpec(
        "mytasks",
        N_("your tasks and their deadlines"),
        PRIVATE,
        KNOWN,
        "tasks:my_tasks",
        ("我的任务",),
    ),
    CommandSpec(
        "submit", N_("hand in a task: text and/or files"), PRIVATE, KNOWN, "tasks:submit", ("提交",)
    ),
    CommandSpec(
        "cancel",
        N_("stop what you are doing (nothing is stored)"),
        PRIVATE,
        ANYONE,
        "tasks:cancel",
        ("取消",),
    ),
    CommandSpec("plan", N_("the plan's timeline"), BOTH, KNOWN, "group:show_plan", ("方案",)),
    CommandSpec(
        "status",
        N_("who has submitted, who is pending, overdue or unreachable"),
        BOTH,
        KNOWN,
        "group:status",
        ("进度",),
    ),
    CommandSpec(
        "board",
        N_("the plan board: the whole plan on one page, in the app or a browser"),
        PRIVATE,
        KNOWN,
        "board:open_board",
        ("看板",),
    ),
    CommandSpec(
        "summary", N_("the summary of the current phase"), GROUP, KNOWN, "group:summary", ("小结",)
    ),
    CommandSpec(
        "setup", N_("bind this group to your plan (organizer)"), GROUP, ORGANIZER, "group:setup", ()
    ),
    CommandSpec(
        "invites",
        N_("personal invite links for the members (organizer)"),
        PRIVATE,
        ORGANIZER,
        "organizer:invites",
        ("邀请",),
    ),
    CommandSpec(
        "advance",
        N_("end the current phase and start the next (organizer)"),
        BOTH,
        ORGANIZER,
        "organizer:advance",
        (),
    ),
    CommandSpec(
        "ledger",
        N_("the rectification ledger: items, marks and the completion rate"),
        BOTH,
        KNOWN,
        "ledger:show_ledger",
        ("整改台账", "台账"),
    ),
    CommandSpec(
        "myitems",
        N_("your rectification items: report progress and evidence"),
        PRIVATE,
        KNOWN,
        "ledger:my_items",
        ("我的整改",),
    ),
    CommandSpec(
        "additem",
        N_("add a rectification item (organizer, lead)"),
        PRIVATE,
        MANAGERS,
        "ledger_add:add_item",
        ("新增整改", "录入整改"),
        N_("Only the plan's organizer or its lead can use /{name}."),
        takes_args=True,
    ),
    CommandSpec(
        "importitems",
        N_("turn the approved rectification measures into ledger items (organizer, lead)"),
        PRIVATE,
        MANAGERS,
        "ledger_add:import_items",
        ("导入整改",),
    ),
    CommandSpec(
        "export",
        N_("the meeting report, the ledger and the progress table as files (organizer)"),
        PRIVATE,
        ORGANIZER,
        "export:export",
        ("导出",),
        takes_args=True,
    ),
    CommandSpec(
        "remind",
        N_("nudge the members who have not submitted a task (organizer)"),
        BOTH,
        ORGANIZER,
        "organizer:remind",
        ("催办",),
        takes_args=True,
    ),
    CommandSpec(
        "reminders",
        N_("the reminders coming for you"),
        PRIVATE,
        KNOWN,
        "reminders:my_reminders",
        ("我的提醒", "提醒"),
    ),
    CommandSpec(
        "pause",
        N_("pause reminders for a member (leave) or a task (organizer)"),
        BOTH,
        ORGANIZER,
        "reminders:pause",
        ("暂停提醒",),
        takes_args=True,
    ),
    CommandSpec(
        "resume",
        N_("resume paused reminders for a member or a task (organizer)"),
        BOTH,
        ORGANIZER,
        "reminders:resume",
        ("恢复提醒",),
        takes_args=True,
    ),
    CommandSpec(
        "reviews",
        N_("the submissions waiting for your review"),
        PRIVATE,
        KNOWN,
        "review:pending",
        ("审阅",),
    ),
    CommandSpec(
        "opinions",
        N_("open a call for opinions with a closing date, see it, or close it (organizer)"),
        PRIVATE,
        ORGANIZER,
        "opinions:manage",
        ("征求意见",),
        takes_args=True,
    ),
    CommandSpec(
        "opinion",
        N_("send an opinion, to the team or one member, with your name or anonymously"),
        PRIVATE,
        ANYONE,
        "opinions:write",
        ("提意见",),
    ),
    CommandSpec(
        "talk",
        N_("record a heart-to-heart talk you have held"),
        PRIVATE,
        KNOWN,
        "talks:record",
        ("谈心",),
    ),
    CommandSpec(
        "talks",
        N_("which heart-to-heart talks are confirmed, waiting or missing"),
        BOTH,
        KNOWN,
        "talks:matrix",
        ("谈心情况",),
    ),
    CommandSpec(
        "meeting",
        N_("open the meeting: the agenda goes to the group (chair or organizer)"),
        BOTH,
        CHAIR_OR_ORGANIZER,
        "agenda:open_meeting",
        ("开会",),
        N_("Only the meeting's chair or the plan's organizer can use /{name}."),
    ),
    CommandSpec(
        "agenda",
        N_("the meeting's agenda with the current item marked"),
        BOTH,
        KNOWN,
        "agenda:show",
        ("议程",),
    ),
    CommandSpec(
        "next",
        N_("move the meeting on to the next speaker or agenda item (chair or organizer)"),
        BOTH,
        CHAIR_OR_ORGANIZER,
        "agenda:next_item",
        ("下一项",),
        N_("Only the meeting's chair or the plan's organizer can use /{name}."),
    ),
    CommandSpec(
        "survey",
        N_("open, close or remind an anonymous survey (organizer)"),
        BOTH,
        ORGANIZER,
        "voting:manage",
        ("测评",),
        takes_args=True,
    ),
    CommandSpec(
        "results",
        N_("the results of the closed survey rounds"),
        BOTH,
        KNOWN,
        "voting:show_results",
        ("测评结果",),
    ),
)

# The app menu of platforms that have one (WeCom): top-level entries, the last with a sub-menu.
APP_MENU: tuple[tuple[str, ...], ...] = (("mytasks",), ("submit",), ("status", "plan", "help"))

BY_NAME = {spec.name: spec for spec in COMMANDS}
BY_KEYWORD = {keyword: spec for spec in COMMANDS for keyword in spec.keywords}


def allowed_for(ctx: HandlerContext) -> list[CommandSpec]:
    """The commands the sender of ``ctx`` may use in this chat."""
    roles = ctx.roles()
    return [s for s in COMMANDS if s.allows_chat(ctx.event.chat_type) and s.allows_roles(roles)]


def resolve(spec: CommandSpec) -> HandlerFunc:
    """The handler function named by a spec (imported on first use: handler modules import this one)."""
    module_name, _sep, function = spec.handler.partition(":")
    module = importlib.import_module(f"handlers.{module_name}")
    handler: HandlerFunc = getattr(module, function)
    return handler


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
