"""The plan's talks task (交流谈心) is done once every required pair is confirmed: its open
assignments are then handed in, as a member's hand-in would mark them (a submission version,
late if after the deadline, status ``submitted``), and its assignees are told, all in the
transaction of the confirmation that completed the last pair. Its reminders then stop, and
/status, /mytasks and the phase summary show it done.

The whole plan's pairs count, not an assignee's own: see docs/architecture.md (issue 6).
"""

from __future__ import annotations

from functools import partial

import aiosqlite

from bot.core.app import Huiwu
from bot.core.i18n import _
from bot.core.messaging import OutgoingMessage
from bot.delivery import addressing as delivery
from bot.meeting.talks import PairState, talk_pairs_in
from bot.plan import Plan, Task
from bot.tasks.handin import hand_in
from storage import assignments, instances
from storage import talks as talk_store
from storage.talks import TalkRecord

OPEN_STATUSES = ("pending", "returned")  # what a hand-in may change (submitted/approved stay)


async def complete_if_all_confirmed(
    conn: aiosqlite.Connection,
    app: Huiwu,
    instance_id: int,
    plan: Plan,
    confirmed: TalkRecord | None = None,
) -> int:
    """Hand in the talks task for its assignees when every required pair is confirmed;
    returns how many assignments it changed. ``confirmed`` is the talk just confirmed: if
    its pair already counted (a second record of the same pair), nothing new is complete."""
    if plan.talks_task_id is None or not plan.talk_pairs:
        return 0
    if confirmed is not None and await _pair_counted_before(app, confirmed):
        return 0
    pairs = await talk_pairs_in(app.db, instance_id, plan)
    if any(pair.state is not PairState.CONFIRMED for pair in pairs):
        return 0
    task = plan.task(plan.talks_task_id)
    now = app.clock.now()
    changed = 0
    for record in await assignments.assignments_of_instance(app.db, instance_id):
        if record.task_id != task.id:
            continue
        if record.status in OPEN_STATUSES:
            await hand_in(conn, record, text=None, files=(), now=now)
            changed += 1
        member = await instances.get_member(app.db, record.member_id)
        assert member is not None
        await delivery.to_member(
            conn,
            app,
            member,
            partial(_talks_done, task, len(pairs)),
            dedupe_key=f"talks-done:{record.id}",
        )
    return changed


async def _pair_counted_before(app: Huiwu, talk: TalkRecord) -> bool:
    """Whether another record of the talk's pair was confirmed already."""
    return any(
        other.id != talk.id
        and (other.member_a, other.member_b) == (talk.member_a, talk.member_b)
        and other.status == "confirmed"
        for other in await talk_store.talks_of(app.db, talk.instance_id)
    )


def _talks_done(task: Task, total: int) -> OutgoingMessage:
    return OutgoingMessage(
        _(
            "All {total} required heart-to-heart talks are confirmed by both sides, so “{title}” is done: no more reminders about it."
        ).format(total=total, title=task.title)
    )
