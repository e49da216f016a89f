"""The agenda as the group sees it: items with the current one marked, and the speaking
order of a mutual-criticism item (the chair first, then the others in plan order)."""

from __future__ import annotations

from bot.core.formatting import names_text
from bot.core.i18n import _
from bot.plan import AgendaItem, Plan
from storage.meetings import MeetingRun


def speaking_order(plan: Plan, item: AgendaItem) -> tuple[str, ...]:
    """Member ids in the order they speak on an item with ``speaking_order``."""
    if not item.speaking_order:
        return ()
    chairs = plan.meeting.chair_ids if plan.meeting else ()
    return tuple(chairs) + tuple(key for key in item.presenter_ids if key not in chairs)


def item_line(plan: Plan, item: AgendaItem) -> str:
    text = f"{item.number}. {item.title}"
    if item.presenter_ids and not item.speaking_order:
        text += " — " + names_text(plan.names(item.presenter_ids))
    return text


def agenda_text(plan: Plan, run: MeetingRun | None) -> str:
    assert plan.meeting is not None
    meeting = plan.meeting
    running = run is not None and run.ended_at is None
    if running:
        assert run is not None
        head = _("Agenda of “{title}” (meeting {run}, in progress):").format(
            title=meeting.title, run=run.run
        )
    else:
        head = _("Agenda of “{title}” (not in progress):").format(title=meeting.title)
    lines = [head]
    for item in meeting.agenda:
        mark = "  "
        if running and run is not None:
            mark = "▶ " if item.number == run.item else ("✓ " if item.number < run.item else "  ")
        lines.append(mark + item_line(plan, item))
        if running and run is not None and item.number == run.item and item.speaking_order:
            lines.append("     " + order_text(plan, item, run.speaker))
    return "\n".join(lines)


def order_text(plan: Plan, item: AgendaItem, current: int) -> str:
    names = plan.names(speaking_order(plan, item))
    marked = [f"【{name}】" if i == current else name for i, name in enumerate(names)]
    return _("Speaking order: {names}").format(names=" → ".join(marked))


def item_started_text(plan: Plan, item: AgendaItem) -> str:
    assert plan.meeting is not None
    lines = [
        _("Agenda item {number} of {total}: {title}").format(
            number=item.number, total=len(plan.meeting.agenda), title=item.title
        )
    ]
    if item.speaking_order:
        lines.append(order_text(plan, item, 0))
        first = plan.names(speaking_order(plan, item))[0]
        lines.append(_("{name} speaks first.").format(name=first))
    elif item.presenter_ids:
        lines.append(
            _("Speaking: {names}").format(names=names_text(plan.names(item.presenter_ids)))
        )
    return "\n".join(lines)
