"""The rectification ledger's rules: red / yellow / green marks, the completion rate, its
history day by day, reading a deadline a person typed, and what is due for whom.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.i18n import N_, _
from bot.plan.cn_dates import find_dates, infer_year
from storage import instances, ledger
from storage.db import Database
from storage.records import LedgerItemRecord, MemberRecord

DUE_AT = time(23, 59)  # an item due on a day is due at the end of it, as tasks are

SOURCE_LABELS = {
    "opinion": N_("opinion collected"),
    "meeting": N_("found at the meeting"),
    "self-review": N_("self-review"),
}
# The seed's four ways of dealing with a problem.
CATEGORY_LABELS = {
    "immediate": N_("fix at once"),
    "deadline": N_("fix by a deadline"),
    "explain": N_("explain to the people, solve step by step"),
    "escalate": N_("report to the higher level for coordination"),
}
STATUS_LABELS = {
    "todo": N_("to do"),
    "in_progress": N_("in progress"),
    "done": N_("done"),
}


class Mark(enum.StrEnum):
    RED = "🔴"
    YELLOW = "🟡"
    GREEN = "🟢"


def is_overdue(item: LedgerItemRecord, now: datetime) -> bool:
    return item.status != "done" and item.due_at is not None and now > item.due_at


def mark(item: LedgerItemRecord, now: datetime) -> Mark:
    """Green when done, red when to do or overdue, yellow while in progress."""
    if item.status == "done":
        return Mark.GREEN
    if item.status == "in_progress" and not is_overdue(item, now):
        return Mark.YELLOW
    return Mark.RED


def label(labels: dict[str, str], key: str) -> str:
    return _(labels[key]) if key in labels else key


@dataclass(frozen=True)
class LedgerSummary:
    total: int
    done: int
    in_progress: int
    todo: int
    overdue: int

    @property
    def rate(self) -> float:
        return self.done / self.total if self.total else 0.0


def summarize(items: Iterable[LedgerItemRecord], now: datetime) -> LedgerSummary:
    found = list(items)
    return LedgerSummary(
        total=len(found),
        done=sum(1 for i in found if i.status == "done"),
        in_progress=sum(1 for i in found if i.status == "in_progress"),
        todo=sum(1 for i in found if i.status == "todo"),
        overdue=sum(1 for i in found if is_overdue(i, now)),
    )


def completion_series(
    history: list[tuple[int, str, datetime]], now: datetime, zone: ZoneInfo
) -> list[tuple[date, float]]:
    """The completion rate at the end of each day, from the first item's day to today."""
    return [
        (day, done / total if total else 0.0)
        for day, done, _in_progress, _overdue, total in status_series(history, (), now, zone)
    ]


def status_series(
    history: list[tuple[int, str, datetime]],
    items: Iterable[LedgerItemRecord],
    now: datetime,
    zone: ZoneInfo,
) -> list[tuple[date, int, int, int, int]]:
    """At the end of each day from the first item's to today: (day, done, in progress,
    overdue, total). Overdue counts an item not done past its (current) deadline, whatever
    its status, as ``is_overdue`` does; in progress counts the others being worked on."""
    if not history:
        return []
    due = {item.id: item.due_at for item in items}
    first = history[0][2].astimezone(zone).date()
    today = now.astimezone(zone).date()
    status: dict[int, str] = {}
    series = []
    index = 0
    day = first
    while day <= today:
        end = datetime.combine(day + timedelta(days=1), time(0), zone)
        while index < len(history) and history[index][2] < end:
            item_id, state, _when = history[index]
            status[item_id] = state
            index += 1
        moment = min(end, now)
        done = overdue = in_progress = 0
        for item_id, state in status.items():
            deadline = due.get(item_id)
            if state == "done":
                done += 1
            elif deadline is not None and moment > deadline:
                overdue += 1
            elif state == "in_progress":
                in_progress += 1
        series.append((day, done, in_progress, overdue, len(status)))
        day += timedelta(days=1)
    return series


_ISO_DAY = re.compile(r"^\s*(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})\s*$")


def parse_due(text: str, today: date, zone: ZoneInfo) -> datetime | None:
    """A deadline typed as 2014-03-31, 2014/3/31, 2014年3月31日, 3月31日 or 3月底
    (a missing year: the next such day from today); None when it cannot be read."""
    match = _ISO_DAY.match(text)
    try:
        if match:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        else:
            found = find_dates(text)
            if len(found) != 1 or found[0][0].group(0).strip() != text.strip():
                return None
            day = infer_year(found[0][1], (today, today + timedelta(days=300)))
    except ValueError:
        return None
    return datetime.combine(day, DUE_AT, zone)


@dataclass(frozen=True)
class DueItem:
    """An open item whose deadline is near or past, and who answers for it."""

    item: LedgerItemRecord
    member: MemberRecord
    overdue: bool


async def items_due(db: Database, now: datetime, within: timedelta) -> list[DueItem]:
    """Open items of running plans due within ``within`` from ``now`` (or overdue), with
    their responsible member: what a reminder source asks for."""
    found = []
    for item in await ledger.open_items(db):
        if item.due_at is None or item.member_id is None or item.due_at - now > within:
            continue
        member = await instances.get_member(db, item.member_id)
        if member is not None:
            found.append(DueItem(item, member, now > item.due_at))
    return found
