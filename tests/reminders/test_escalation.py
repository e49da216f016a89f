"""Who an escalation goes to: the organizers, never the member who is late."""

from __future__ import annotations

from bot.plan import Role
from bot.reminders.engine import escalation_recipients
from storage.records import MemberRecord


def member(member_id: int, *roles: Role) -> MemberRecord:
    return MemberRecord(
        member_id, 1, f"m{member_id}", f"成员{member_id}", frozenset(r.value for r in roles), None
    )


def roster(*members: MemberRecord) -> dict[int, MemberRecord]:
    return {m.id: m for m in members}


def ids(found: list[MemberRecord]) -> list[int]:
    return sorted(m.id for m in found)


def test_a_late_member_is_escalated_to_every_organizer() -> None:
    members = roster(
        member(1, Role.ORGANIZER, Role.MEMBER),
        member(2, Role.ORGANIZER),
        member(3, Role.CHAIR, Role.LEAD, Role.MEMBER),
        member(4, Role.MEMBER),
    )
    assert ids(escalation_recipients(members, 4)) == [1, 2]


def test_a_late_organizer_is_escalated_to_the_other_organizers_else_the_lead_else_the_chair() -> (
    None
):
    two_organizers = roster(
        member(1, Role.ORGANIZER, Role.MEMBER),
        member(2, Role.ORGANIZER),
        member(3, Role.LEAD),
    )
    assert ids(escalation_recipients(two_organizers, 1)) == [2]
    lead = roster(
        member(1, Role.ORGANIZER, Role.MEMBER), member(3, Role.LEAD), member(4, Role.CHAIR)
    )
    assert ids(escalation_recipients(lead, 1)) == [3]
    chair = roster(member(1, Role.ORGANIZER, Role.MEMBER), member(4, Role.CHAIR, Role.MEMBER))
    assert ids(escalation_recipients(chair, 1)) == [4]


def test_nobody_when_the_late_member_holds_every_role_an_escalation_goes_to() -> None:
    alone = roster(
        member(1, Role.ORGANIZER, Role.LEAD, Role.CHAIR, Role.MEMBER),
        member(2, Role.MEMBER),
        member(3, Role.SUPERIOR),
    )
    assert escalation_recipients(alone, 1) == []
    assert ids(escalation_recipients(alone, 2)) == [1]
