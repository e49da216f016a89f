"""Store a checked plan as a new plan instance with its roster and platform identities."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import aiosqlite

from bot.plan import Plan
from storage import instances


async def store_plan(
    conn: aiosqlite.Connection,
    plan: Plan,
    plan_toml: str,
    *,
    loaded_by: str | None,
    now: datetime,
    binds: Callable[[str, str], bool] | None = None,
) -> int:
    """Create the instance; members known by telegram_id / wecom_userid get those identities,
    or with ``binds`` only the accounts it allows (the others are offered: see
    ``storage.instances.create_instance``)."""
    members = [
        (
            member.id,
            member.name,
            [r.value for r in member.roles],
            member.locale,
            member.platform_ids,
        )
        for member in plan.members
    ]
    return await instances.create_instance(
        conn,
        title=plan.title,
        plan_toml=plan_toml,
        members=members,
        loaded_by=loaded_by,
        now=now,
        binds=binds,
    )
