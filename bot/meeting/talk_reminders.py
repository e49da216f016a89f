"""Heart-to-heart talks as a source of the reminder engine (issue 4): each side of a pair
not yet recorded, and whoever must confirm a recorded talk, is reminded like a task, by the
deadline of the plan's talks task, while its phase runs (pausing that task pauses these
reminders too)."""

from __future__ import annotations

from datetime import datetime

from bot.core.formatting import days_left_text, due_text
from bot.core.i18n import _
from bot.core.messaging import Button, OutgoingMessage
from bot.meeting.buttons import TalkAnswer, TalkWith
from bot.meeting.talks import PairState, talk_pairs_in
from bot.plan import Plan, load_plan_text
from bot.reminders.planner import Kind, Planned
from bot.reminders.sources import TASK_SUBJECT, Remindable
from bot.tasks.phases import phase_start_time
from storage import assignments, instances
from storage.db import Database

RECORD = "talk"  # key "talk:<partner key>:<member id>", ref: the partner's member id
CONFIRM = "talk-confirm"  # key "talk-confirm:<recorder key>:<talk id>", ref: the talk id


class TalkReminders:
    """The required talk pairs that do not count yet, while the talks' phase runs. They are
    not escalated: the organizer sees every pair in /talks, and an escalation would name
    each person once per open pair."""

    escalates = False
    outlives_plan = False

    def __init__(self) -> None:
        self._plans: dict[str, Plan] = {}  # plan text -> parsed plan (a round may append)

    async def _plan(self, db: Database, instance_id: int) -> Plan | None:
        record = await instances.get_instance(db, instance_id)
        if record is None:
            return None
        if record.plan_toml not in self._plans:
            self._plans[record.plan_toml] = load_plan_text(record.plan_toml)
        return self._plans[record.plan_toml]

    async def open_items(self, db: Database, instance_id: int) -> list[Remindable]:
        plan = await self._plan(db, instance_id)
        if plan is None or not plan.talk_pairs or plan.talks_task_id is None:
            return []
        task = plan.task(plan.talks_task_id)
        started, ended = (await assignments.phase_runs(db, instance_id)).get(
            task.phase_id, (None, None)
        )
        if started is None or ended is not None:
            return []  # only while the talks' phase runs: after it the meeting has been held
        given = phase_start_time(plan, plan.phase(task.phase_id))
        subject = TASK_SUBJECT + task.id
        items = []
        for pair in await talk_pairs_in(db, instance_id, plan):
            awaiting = pair.awaiting
            if pair.state is PairState.MISSING:
                for member in (pair.a, pair.b):
                    other = pair.other(member.id)
                    key = f"{RECORD}:{other.member_key}:{member.id}"
                    items.append(Remindable(key, member.id, subject, task.due, given, other.id))
            elif awaiting is not None and pair.talk is not None:
                recorder = pair.other(awaiting.id)
                key = f"{CONFIRM}:{recorder.member_key}:{pair.talk.id}"
                items.append(
                    Remindable(
                        key, awaiting.id, subject, task.due, pair.talk.recorded_at, pair.talk.id
                    )
                )
        return items

    @staticmethod
    def _partner(plan: Plan, item: Remindable) -> str:
        return plan.member(item.key.split(":")[1]).name

    def message(
        self, plan: Plan, item: Remindable, planned: Planned, now: datetime
    ) -> OutgoingMessage:
        zone = plan.timezone
        name = self._partner(plan, item)
        if item.key.startswith(CONFIRM + ":"):
            text = _(
                "Reminder: {name} has recorded a heart-to-heart talk with you; please confirm whether it took place."
            ).format(name=name)
        else:
            text = _(
                "Reminder: your heart-to-heart talk with {name} is not recorded yet. Once you have held it, send /talk."
            ).format(name=name)
        left = days_left_text(item.due, now, zone)
        deadline = _("Deadline: {due} ({left})").format(due=due_text(item.due, zone), left=left)
        if planned.kind is Kind.OVERDUE:
            deadline = _("The talks were due {due} ({left}).").format(
                due=due_text(item.due, zone), left=left
            )
        return OutgoingMessage(
            f"{text}\n{deadline}",
            buttons=((self.button(plan, item),),),
            title=self.title(plan, item),
        )

    def title(self, plan: Plan, item: Remindable) -> str:
        return _("Heart-to-heart talk with {name}").format(name=self._partner(plan, item))

    def button(self, plan: Plan, item: Remindable) -> Button:
        name = self._partner(plan, item)
        if item.key.startswith(CONFIRM + ":"):
            return Button(
                _("Confirm the talk with {name}").format(name=name),
                data=TalkAnswer("ok", item.ref).pack(),
            )
        return Button(
            _("Record a talk with {name}").format(name=name), data=TalkWith(item.ref).pack()
        )
