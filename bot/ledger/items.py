"""Creating ledger items: by hand (/additem) or from the measures in approved personal and
team rectification submissions. The responsible member is told in the same transaction.
"""

from __future__ import annotations

import re

import aiosqlite

from bot.core.app import Huiwu
from bot.core.i18n import _
from bot.core.messaging import OutgoingMessage
from bot.delivery import addressing as delivery
from bot.ledger.texts import item_buttons, item_line
from storage import assignments, instances, ledger
from storage.ledger import NewItem
from storage.records import LedgerItemRecord, MemberRecord

# Task kind → where its measures come from (the shipped plan's kinds).
MEASURE_SOURCES = {"rectification-personal": "self-review", "rectification-team": "meeting"}
DEADLINE_KIND = "rectification"  # the concentrated rectification: imported items are due with it
MAX_DESCRIPTION = 1000
# "一、", "1.", "1、", "（一）", "(1)" at the start or after a line break or a clause's end.
_NUMBERED = re.compile(
    r"(?:^|(?<=[\n；;。：:]))\s*(?:[一二三四五六七八九十]+、|\d+\s*[、.．]|[（(][一二三四五六七八九十\d]+[)）])\s*"
)


def split_measures(text: str) -> list[str]:
    """The numbered measures of a text, or the whole text as one when it numbers none."""
    parts = _NUMBERED.split(text.strip())
    measures = [p.strip(" \n；;。") for p in (parts[1:] if len(parts) > 1 else parts)]
    return [re.sub(r"\s*\n\s*", " ", m)[:MAX_DESCRIPTION] for m in measures if m]


async def create_item(
    conn: aiosqlite.Connection,
    app: Huiwu,
    instance_id: int,
    item: NewItem,
    by: MemberRecord | None,
) -> LedgerItemRecord | None:
    """Store the item and push it to the responsible member (unless they added it
    themselves); None when an item with its ``source_ref`` exists already."""
    now = app.clock.now()
    item_id = await ledger.add_item(conn, instance_id, item, by.id if by else None, now)
    if item_id is None:
        return None
    record = await ledger.get_item(app.db, item_id)  # the same connection: it sees the row
    assert record is not None
    owner = await instances.get_member(app.db, item.member_id) if item.member_id else None
    if owner is not None and (by is None or owner.id != by.id):
        zone = (await app.plans.get(instance_id)).timezone
        await delivery.to_member(
            conn,
            app,
            owner,
            lambda: OutgoingMessage(
                _("A rectification item is assigned to you:\n{item}").format(
                    item=item_line(record, owner.name, now, zone)
                ),
                buttons=item_buttons(record),
                title=_("Rectification item #{id}").format(id=item_id),
            ),
            dedupe_key=f"item-assigned:{item_id}",
        )
    return record


async def import_measures(app: Huiwu, instance_id: int, by: MemberRecord) -> list[LedgerItemRecord]:
    """Each measure of each approved personal / team rectification submission (its latest
    version) becomes an item of its submitter; importing again adds only what is new."""
    plan = await app.plans.get(instance_id)
    deadline = next((t.due for t in plan.tasks if t.kind == DEADLINE_KIND), None)
    latest = await assignments.latest_submissions(app.db, instance_id)
    created = []
    async with app.db.transaction() as conn:
        for record in await assignments.assignments_of_instance(app.db, instance_id):
            source = MEASURE_SOURCES.get(plan.task(record.task_id).kind)
            submission = latest.get(record.id)
            if source is None or record.status != "approved" or submission is None:
                continue
            if not submission.text:
                continue
            for number, measure in enumerate(split_measures(submission.text), start=1):
                item = NewItem(
                    measure,
                    source,
                    "deadline" if deadline else "explain",
                    record.member_id,
                    due_at=deadline,
                    source_ref=f"submission:{submission.id}:{number}",
                )
                stored = await create_item(conn, app, instance_id, item, by)
                if stored is not None:
                    created.append(stored)
    return created
