"""What may be forgotten after a while: rows that only record that something happened.

A season of a province's plans leaves hundreds of thousands of sent messages in the outbox
and of reminder keys in the reminder log (``bench/province.py``); nothing reads them once
they are old. ``prune`` deletes, older than the retention:

* outbox rows sent (a failed row is kept for a person to see; pending and held rows are
  still to be sent);
* the reminder log of finished plans, except the keys of rectification items, which are
  reminded of after the plan (their keys stop a reminder from going twice), and the keys of
  rectification items done;
* WeCom callbacks handled (the journal forgets them sooner by itself);
* conversations untouched for the whole retention: a draft abandoned (never handed in nor
  cancelled), whose files ``storage.file_refs.sweep`` then deletes.

Never a submission, a review, a ballot, an opinion, a talk or a ledger item: those are the
plans' record.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import Database
from storage.timefmt import to_db


async def prune(db: Database, now: datetime, days: int) -> dict[str, int]:
    """Delete what is older than ``days`` days; returns how many rows, by table."""
    try:
        cutoff = to_db(now - timedelta(days=days))
    except OverflowError:  # before the first year: nothing is that old
        return {"outbox": 0, "reminder_log": 0, "wecom_callbacks": 0, "conversations": 0}
    pruned = {}
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "DELETE FROM outbox WHERE state = 'sent' AND sent_at < ?", (cutoff,)
        )
        pruned["outbox"] = cursor.rowcount
        cursor = await conn.execute(
            "DELETE FROM reminder_log WHERE sent_at < ? AND ("
            " (reminder_key NOT LIKE 'item:%' AND instance_id IN"
            "  (SELECT id FROM plan_instances WHERE status = 'finished'))"
            " OR (reminder_key LIKE 'item:%' AND EXISTS (SELECT 1 FROM rectification_items i"
            "  WHERE i.status = 'done' AND i.updated_at < ?"
            "  AND reminder_key LIKE 'item:' || i.id || ':%')))",
            (cutoff, cutoff),
        )
        pruned["reminder_log"] = cursor.rowcount
        cursor = await conn.execute(
            "DELETE FROM wecom_callbacks WHERE handled_at IS NOT NULL AND handled_at < ?",
            (cutoff,),
        )
        pruned["wecom_callbacks"] = cursor.rowcount
        cursor = await conn.execute("DELETE FROM conversations WHERE updated_at < ?", (cutoff,))
        pruned["conversations"] = cursor.rowcount
    return pruned
