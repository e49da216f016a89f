"""The heart-to-heart talks the plan requires: which pairs are done (both sides confirmed),
waiting for the other side, or still to be held; the matrix /talks shows.

``pending_talk_pairs`` lists every required pair not yet confirmed; the reminder engine
(issue 4) reminds them through ``bot.meeting.talk_reminders``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from bot.core.app import Huiwu
from bot.core.i18n import _
from bot.plan import Plan
from storage import instances
from storage import talks as talk_store
from storage.db import Database
from storage.records import MemberRecord
from storage.talks import TalkRecord


class PairState(enum.StrEnum):
    CONFIRMED = "confirmed"  # recorded by one side, confirmed by the other: it counts
    AWAITING = "awaiting"  # recorded, the other side has not confirmed yet
    MISSING = "missing"  # not recorded (or declined)


@dataclass(frozen=True)
class TalkPair:
    a: MemberRecord
    b: MemberRecord
    state: PairState
    talk: TalkRecord | None  # the confirmed or awaiting record

    @property
    def awaiting(self) -> MemberRecord | None:
        """Who must confirm the recorded talk."""
        if self.state is not PairState.AWAITING or self.talk is None:
            return None
        return self.b if self.talk.recorded_by == self.a.id else self.a

    def has(self, member_id: int) -> bool:
        return member_id in (self.a.id, self.b.id)

    def other(self, member_id: int) -> MemberRecord:
        return self.b if member_id == self.a.id else self.a


async def talk_pairs(app: Huiwu, instance_id: int, plan: Plan) -> list[TalkPair]:
    """Every pair the plan requires, in plan order, with its state."""
    return await talk_pairs_in(app.db, instance_id, plan)


async def talk_pairs_in(db: Database, instance_id: int, plan: Plan) -> list[TalkPair]:
    members = {m.member_key: m for m in await instances.members_of(db, instance_id)}
    records = await talk_store.talks_of(db, instance_id)
    pairs = []
    for key_a, key_b in plan.talk_pairs:
        a, b = members[key_a], members[key_b]
        ids = tuple(sorted((a.id, b.id)))
        mine = [t for t in records if (t.member_a, t.member_b) == ids]
        confirmed = next((t for t in mine if t.status == "confirmed"), None)
        awaiting = next((t for t in mine if t.status == "recorded"), None)
        if confirmed is not None:
            pairs.append(TalkPair(a, b, PairState.CONFIRMED, confirmed))
        elif awaiting is not None:
            pairs.append(TalkPair(a, b, PairState.AWAITING, awaiting))
        else:
            pairs.append(TalkPair(a, b, PairState.MISSING, None))
    return pairs


async def pending_talk_pairs(app: Huiwu, instance_id: int) -> list[TalkPair]:
    """The required pairs whose talk does not count yet (to remind them)."""
    plan = await app.plans.get(instance_id)
    return [
        p for p in await talk_pairs(app, instance_id, plan) if p.state is not PairState.CONFIRMED
    ]


SYMBOLS = {PairState.CONFIRMED: "✓", PairState.AWAITING: "…", PairState.MISSING: "✗"}


def matrix_text(plan: Plan, pairs: list[TalkPair]) -> str:
    """Rows and columns numbered by person; each cell the state of that pair."""
    people: list[MemberRecord] = []
    for pair in pairs:
        for member in (pair.a, pair.b):
            if member not in people:
                people.append(member)
    cells = {}
    for pair in pairs:
        cells[(pair.a.id, pair.b.id)] = cells[(pair.b.id, pair.a.id)] = SYMBOLS[pair.state]
    done = sum(p.state is PairState.CONFIRMED for p in pairs)
    lines = [
        _("Heart-to-heart talks: {done} of {total} required pairs confirmed by both sides.").format(
            done=done, total=len(pairs)
        ),
        "",
        "    " + " ".join(str(n) for n in range(1, len(people) + 1)),
    ]
    for row, person in enumerate(people, 1):
        marks = " ".join(
            "—" if other.id == person.id else cells.get((person.id, other.id), "·")
            for other in people
        )
        lines.append(f"{row:>2}  {marks}  {person.name}")
    lines += [
        "",
        _("✓ confirmed by both · … waiting for the other side · ✗ not yet held · · not required"),
    ]
    return "\n".join(lines)
