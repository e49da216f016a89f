"""What a feature module declares: its commands (where they work, who may use them), its
buttons (typed callback data and the handler of each kind) and its conversation states (the
handler of the next plain message). ``handlers.commands`` assembles one table from them.

Modelled on aiogram's routers: each handlers module ends with ``router = Router()`` and its
declarations, so "what answers /status" is answered by reading that module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from bot.core.callback_data import CallbackData
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

ORGANIZER_ONLY = N_("Only the plan's organizer can use /{name}.")

CommandHandler = Callable[[HandlerContext], Awaitable[None]]
ButtonHandler = Callable[[HandlerContext, Any], Awaitable[None]]
StateHandler = Callable[[HandlerContext, dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    description: str  # msgid
    chats: frozenset[ChatType]
    roles: frozenset[Role] | None
    handler: CommandHandler
    keywords: tuple[str, ...] = ()  # plain words that mean the same (WeCom users type these)
    refusal: str = ORGANIZER_ONLY  # msgid, for a roster member without the role
    takes_args: bool = False  # a keyword may be followed by arguments ("暂停提醒 唐军")

    def allows_chat(self, chat_type: ChatType) -> bool:
        return chat_type in self.chats

    def allows_roles(self, roles: set[Role]) -> bool:
        return self.roles is None or bool(self.roles & roles)


@dataclass(frozen=True)
class ButtonRoute:
    data: type[CallbackData]
    handler: ButtonHandler
    strangers: bool  # whether someone on no roster may press it (opinion links, plan uploads)


@dataclass
class Router:
    """One feature's commands, buttons and conversation states, in declaration order."""

    commands: list[CommandSpec] = field(default_factory=list)
    buttons: list[ButtonRoute] = field(default_factory=list)
    states: dict[str, StateHandler] = field(default_factory=dict)

    def command(
        self,
        name: str,
        description: str,
        chats: frozenset[ChatType],
        roles: frozenset[Role] | None,
        handler: CommandHandler,
        *,
        keywords: tuple[str, ...] = (),
        refusal: str = ORGANIZER_ONLY,
        takes_args: bool = False,
    ) -> None:
        self.commands.append(
            CommandSpec(name, description, chats, roles, handler, keywords, refusal, takes_args)
        )

    def button(
        self, data: type[CallbackData], handler: ButtonHandler, *, strangers: bool = False
    ) -> None:
        self.buttons.append(ButtonRoute(data, handler, strangers))

    def state(self, name: str, handler: StateHandler) -> None:
        self.states[name] = handler
