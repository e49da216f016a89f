"""Parsed plans of the stored instances, read once per process."""

from __future__ import annotations

from bot.plan import Plan, load_plan_text
from storage import instances
from storage.db import Database


class PlanCache:
    """instance id -> Plan. A plan changes only when a failed survey round appends its next
    round's phase; that step calls ``forget``."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._plans: dict[int, Plan] = {}

    async def get(self, instance_id: int) -> Plan:
        plan = self._plans.get(instance_id)
        if plan is None:
            record = await instances.get_instance(self.db, instance_id)
            if record is None:
                raise KeyError(f"no plan instance {instance_id}")
            plan = self._plans[instance_id] = load_plan_text(
                record.plan_toml, source=f"instance {instance_id}"
            )
        return plan

    def forget(self, instance_id: int) -> None:
        """Read the instance's plan again on next use."""
        self._plans.pop(instance_id, None)
