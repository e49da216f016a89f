"""The ledger's messages: one line per item with its mark, the group's /ledger overview,
a member's own items, and the reminder about an item that is due."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.core.formatting import date_text, days_left_text
from bot.core.i18n import _, ngettext
from bot.core.messaging import Button, OutgoingMessage
from bot.ledger.buttons import ItemAction
from bot.ledger.rules import (
    CATEGORY_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    LedgerSummary,
    is_overdue,
    label,
    mark,
)
from storage.records import LedgerItemRecord

MAX_DESCRIPTION = 60  # characters of a description in a list line


def short_description(text: str) -> str:
    return text if len(text) <= MAX_DESCRIPTION else text[: MAX_DESCRIPTION - 1] + "…"


def due_part(item: LedgerItemRecord, now: datetime, zone: ZoneInfo) -> str:
    if item.due_at is None:
        return _("no deadline")
    if item.status == "done":
        return _("due {due}").format(due=date_text(item.due_at, zone))
    return _("due {due} ({left})").format(
        due=date_text(item.due_at, zone), left=days_left_text(item.due_at, now, zone)
    )


def item_line(item: LedgerItemRecord, owner: str | None, now: datetime, zone: ZoneInfo) -> str:
    """'🟡 #3 description — 唐军 (办公室); in progress; due …'"""
    state = label(STATUS_LABELS, item.status)
    if is_overdue(item, now):
        state = _("{state}, overdue").format(state=state)
    who = owner or _("nobody")
    if item.department:
        who = f"{who}（{item.department}）"
    return _("{mark} #{id} {description} — {who}; {state}; {due}").format(
        mark=mark(item, now).value,
        id=item.id,
        description=short_description(item.description),
        who=who,
        state=state,
        due=due_part(item, now, zone),
    )


def summary_line(summary: LedgerSummary) -> str:
    return ngettext(
        "{total} item: {done} done ({rate:.0%}), {in_progress} in progress, {todo} to do; {overdue} overdue.",
        "{total} items: {done} done ({rate:.0%}), {in_progress} in progress, {todo} to do; {overdue} overdue.",
        summary.total,
    ).format(
        total=summary.total,
        done=summary.done,
        rate=summary.rate,
        in_progress=summary.in_progress,
        todo=summary.todo,
        overdue=summary.overdue,
    )


def ledger_text(
    title: str,
    summary: LedgerSummary,
    lines: list[str],
) -> str:
    if not summary.total:
        return _("The rectification ledger of “{plan}” has no items yet.").format(plan=title)
    head = [_("Rectification ledger of “{plan}”").format(plan=title), summary_line(summary)]
    head.append(_("🔴 to do or overdue · 🟡 in progress · 🟢 done"))
    return "\n".join([*head, "", *lines])


def item_detail(
    item: LedgerItemRecord, owner: str | None, evidence: int, now: datetime, zone: ZoneInfo
) -> str:
    lines = [
        item_line(item, owner, now, zone),
        _("Source: {source}").format(source=label(SOURCE_LABELS, item.source)),
        _("How: {category}").format(category=label(CATEGORY_LABELS, item.category)),
        _("Evidence handed in: {count}").format(count=evidence),
    ]
    if len(item.description) > MAX_DESCRIPTION:
        lines.insert(1, item.description)
    return "\n".join(lines)


def item_buttons(item: LedgerItemRecord) -> tuple[tuple[Button, ...], ...]:
    row = []
    if item.status != "in_progress":
        row.append(Button(_("In progress"), data=ItemAction("progress", item.id).pack()))
    if item.status != "done":
        row.append(Button(_("Done"), data=ItemAction("done", item.id).pack()))
    return (tuple(row), (Button(_("Add evidence"), data=ItemAction("evidence", item.id).pack()),))


def item_reminder(item: LedgerItemRecord, now: datetime, zone: ZoneInfo) -> OutgoingMessage:
    """A nudge about an open ledger item (for the reminder engine)."""
    return OutgoingMessage(
        _("Rectification item #{id} “{description}” is {due}.").format(
            id=item.id,
            description=short_description(item.description),
            due=due_part(item, now, zone),
        ),
        buttons=item_buttons(item),
        title=_("Rectification item #{id}").format(id=item.id),
    )
