"""The roster an import builds: the given entries plus the people and placeholders the
document adds, each once (a unit is a task's department, not an entry)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.plan.cn_names import member_id_for, strip_spaces

ROLE_ORDER = ("organizer", "member", "chair", "lead", "superior", "attendee")


class Roster:
    """The given roster plus the entries the document adds (people, placeholders)."""

    def __init__(self, given: list[dict[str, Any]]):
        self.entries = [dict(entry) for entry in given]
        self.added: list[dict[str, Any]] = []

    @property
    def all(self) -> list[dict[str, Any]]:
        return self.entries + self.added

    def names(self) -> list[str]:
        return [str(entry["name"]) for entry in self.all]

    def find(self, name: str) -> dict[str, Any] | None:
        wanted = strip_spaces(name)
        for entry in self.all:
            if strip_spaces(str(entry["name"])) == wanted:
                return entry
        return None

    def add(self, name: str, roles: Iterable[str]) -> str:
        """The id of the entry called ``name``, adding it with ``roles`` when it is new."""
        existing = self.find(name)
        if existing is not None:
            return str(existing["id"])
        entry_id = member_id_for(name, (str(entry["id"]) for entry in self.all))
        self.added.append({"id": entry_id, "name": strip_spaces(name), "roles": list(roles)})
        return entry_id

    def roles_of(self, entry: dict[str, Any]) -> list[str]:
        roles = entry.get("roles", ["member"])
        return [roles] if isinstance(roles, str) else list(roles)

    def has_role(self, role: str) -> bool:
        return any(role in self.roles_of(entry) for entry in self.all)

    def give_role(self, entry_id: str, role: str) -> None:
        for entry in self.all:
            if entry["id"] == entry_id and role not in self.roles_of(entry):
                entry["roles"] = [role, *self.roles_of(entry)]

    def is_added(self, entry_id: str) -> bool:
        return any(entry["id"] == entry_id for entry in self.added)

    def ordered(self) -> list[dict[str, Any]]:
        """Given entries first, then people, then placeholders by their main role."""

        def rank(entry: dict[str, Any]) -> int:
            roles = self.roles_of(entry)
            main = next((r for r in ROLE_ORDER if r in roles), "member")
            person = roles in (["member"], ["organizer", "member"])
            return 0 if person else 1 + ROLE_ORDER.index(main)

        return self.entries + sorted(self.added, key=rank)
