"""A province's December as a SQLite file, built row by row with plain SQL (seconds, not the
hours it would take through chat), for ``bench.province``.

The world on Monday 9 December 2013, a few seconds before 09:00 (Beijing time):

* ``plans`` running plans of ``members`` members each, one phase under way, three tasks due on
  Tuesday, Thursday and Friday: at 09:00 every member is reminded of two of them (one
  digest message each), and the week goes on with a reminder each morning. Plans alternate
  between Telegram and WeCom; each has its group bound. Timezones and calendars differ:
  most plans are in Beijing time (Asia/Shanghai, Asia/Hong_Kong, Asia/Macau, Asia/Taipei, all
  UTC+8, with the Chinese working-day calendar or none), one in ten in Asia/Urumqi (UTC+6),
  whose 09:00 comes two hours later and is not part of the burst;
* ``finished`` plans of last year, each with its submissions, reviews, sent outbox rows and
  reminder log, and two rectification items still open with deadlines in March (reminded of
  until done, so every reminder pass reads them).
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from storage.db import Database
from storage.timefmt import to_db

BURST = datetime.fromisoformat("2013-12-09T09:00:00+08:00")  # a Monday
ASSIGNED = datetime.fromisoformat("2013-12-08T20:00:00+08:00")  # no reminder before the 9th
LAST_YEAR = datetime.fromisoformat("2012-12-03T09:00:00+08:00")
FIRST_TELEGRAM_ID = 7_200_000_001
FIRST_GROUP_ID = -4_200_000_001
ZONES_UTC8 = ("Asia/Shanghai", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei")
LATE_ZONE = "Asia/Urumqi"  # UTC+6: its 09:00 is 11:00 in Beijing
TASK_DUES = ("2013-12-10", "2013-12-12", "2013-12-13")  # reminded 1, 3 and 3 days before
HISTORY_MESSAGES_PER_MEMBER = 12  # last year's sent messages per member of a finished plan
HISTORY_TASKS = 4
HISTORY_CALLBACKS_PER_PLAN = 20  # handled WeCom callbacks per finished WeCom plan


@dataclass(frozen=True)
class PlanSpec:
    index: int
    platform: str  # "telegram" or "wecom"
    timezone: str
    calendar: str | None

    @property
    def in_burst(self) -> bool:
        return self.timezone != LATE_ZONE


@dataclass
class World:
    plans: list[PlanSpec]
    members_per_plan: int
    finished: int
    # Each running plan's members: Telegram user ids (int) or WeCom userids (str).
    accounts: dict[int, list[int | str]]

    def burst_accounts(self, platform: str) -> dict[int, list[int | str]]:
        """The accounts reminded at 09:00 Beijing time, by plan index."""
        return {
            spec.index: self.accounts[spec.index]
            for spec in self.plans
            if spec.platform == platform and spec.in_burst
        }


def plan_spec(index: int) -> PlanSpec:
    platform = "telegram" if index % 2 == 0 else "wecom"
    timezone = LATE_ZONE if index % 20 in (8, 9) else ZONES_UTC8[index % len(ZONES_UTC8)]
    calendar = "cn" if index % 3 != 2 else None
    return PlanSpec(index, platform, timezone, calendar)


def running_plan_toml(spec: PlanSpec, accounts: list[int | str]) -> str:
    lines = [
        f'title = "第{spec.index + 1}党支部民主生活会"',
        f'timezone = "{spec.timezone}"',
        'locale = "zh_CN"',
        "[reminders]",
        "days_before = [3, 1]",
        'time = "09:00"',
    ]
    if spec.calendar:
        lines.append(f'calendar = "{spec.calendar}"')
    for number, account in enumerate(accounts):
        roles = '["organizer", "member"]' if number == 0 else '["member"]'
        lines += ["[[roster]]", f'id = "m{number}"', f'name = "成员{number}"', f"roles = {roles}"]
        lines.append(
            f"telegram_id = {account}"
            if isinstance(account, int)
            else f'wecom_userid = "{account}"'
        )
    lines += [
        "[[phases]]",
        'id = "prepare"',
        'title = "会前准备"',
        'start = "2013-12-02"',
        'end = "2013-12-31"',
    ]
    for number, due in enumerate(TASK_DUES, start=1):
        lines += [
            "[[phases.tasks]]",
            f'id = "t{number}"',
            f'title = "任务{number}"',
            'assignees = ["@members"]',
            f'due = "{due}"',
        ]
    return "\n".join(lines) + "\n"


def finished_plan_toml(index: int, members: int) -> str:
    lines = [f'title = "去年第{index + 1}党支部民主生活会"', 'timezone = "Asia/Shanghai"']
    for number in range(members):
        roles = '["organizer", "member"]' if number == 0 else '["member"]'
        lines += ["[[roster]]", f'id = "m{number}"', f'name = "成员{number}"', f"roles = {roles}"]
    lines += [
        "[[phases]]",
        'id = "prepare"',
        'title = "会前准备"',
        'start = "2012-12-03"',
        'end = "2012-12-28"',
    ]
    for number in range(1, HISTORY_TASKS + 1):
        lines += [
            "[[phases.tasks]]",
            f'id = "t{number}"',
            f'title = "任务{number}"',
            'assignees = ["@members"]',
            f'due = "2012-12-{10 + number:02d}"',
        ]
    return "\n".join(lines) + "\n"


def _due_at(day: str, timezone: str) -> str:
    from zoneinfo import ZoneInfo

    return to_db(datetime.fromisoformat(f"{day}T23:59:59").replace(tzinfo=ZoneInfo(timezone)))


async def build(path: Path, *, plans: int, members_per_plan: int, finished: int) -> World:
    """Write the world into a new SQLite file at ``path``."""
    db = await Database.open(str(path))  # the schema, migrated
    await db.close()
    return await asyncio.to_thread(_fill, path, plans, members_per_plan, finished)


def _fill(path: Path, plans: int, members_per_plan: int, finished: int) -> World:
    rng = random.Random(21)
    world = World([plan_spec(i) for i in range(plans)], members_per_plan, finished, {})
    conn = sqlite3.connect(path)
    try:
        with conn:
            _finished_plans(conn, world, rng)
            _running_plans(conn, world)
    finally:
        conn.close()
    return world


def _insert_members(conn: sqlite3.Connection, instance_id: int, count: int) -> list[int]:
    rows = [
        (instance_id, f"m{n}", f"成员{n}", "member,organizer" if n == 0 else "member", None)
        for n in range(count)
    ]
    first = conn.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM members").fetchone()[0]
    conn.executemany(
        "INSERT INTO members (instance_id, member_key, name, roles, locale) VALUES (?, ?, ?, ?, ?)",
        rows,
    )
    return list(range(first, first + count))


def _running_plans(conn: sqlite3.Connection, world: World) -> None:
    m = world.members_per_plan
    started = to_db(datetime.fromisoformat("2013-12-02T09:00:00+08:00"))
    for spec in world.plans:
        accounts: list[int | str]
        if spec.platform == "telegram":
            accounts = [FIRST_TELEGRAM_ID + spec.index * m + n for n in range(m)]
        else:
            accounts = [f"p{spec.index:04d}m{n:03d}" for n in range(m)]
        world.accounts[spec.index] = accounts
        toml = running_plan_toml(spec, accounts)
        cursor = conn.execute(
            "INSERT INTO plan_instances (title, plan_toml, status, loaded_by, created_at) "
            "VALUES (?, ?, 'active', 'bench', ?)",
            (f"第{spec.index + 1}党支部民主生活会", toml, started),
        )
        instance_id = int(cursor.lastrowid or 0)
        member_ids = _insert_members(conn, instance_id, m)
        conn.executemany(
            "INSERT INTO identities (member_id, platform, user_id, reachable) VALUES (?, ?, ?, 1)",
            [(mid, spec.platform, str(acc)) for mid, acc in zip(member_ids, accounts, strict=True)],
        )
        conn.executemany(
            "INSERT INTO current_plans (platform, user_id, instance_id, chosen_at) "
            "VALUES (?, ?, ?, ?)",
            [(spec.platform, str(acc), instance_id, started) for acc in accounts],
        )
        group = (
            str(FIRST_GROUP_ID - spec.index) if spec.platform == "telegram" else f"wrg{spec.index}"
        )
        conn.execute(
            "INSERT INTO chat_bindings (platform, chat_id, instance_id, bound_at) VALUES (?, ?, ?, ?)",
            (spec.platform, group, instance_id, started),
        )
        conn.execute(
            "INSERT INTO phase_runs (instance_id, phase_id, started_at) VALUES (?, 'prepare', ?)",
            (instance_id, started),
        )
        conn.executemany(
            "INSERT INTO assignments (instance_id, task_id, member_id, status, due_at, assigned_at) "
            "VALUES (?, ?, ?, 'pending', ?, ?)",
            [
                (instance_id, f"t{number}", mid, _due_at(due, spec.timezone), to_db(ASSIGNED))
                for number, due in enumerate(TASK_DUES, start=1)
                for mid in member_ids
            ],
        )


def _finished_plans(conn: sqlite3.Connection, world: World, rng: random.Random) -> None:
    m = world.members_per_plan
    created = to_db(LAST_YEAR)
    for index in range(world.finished):
        toml = finished_plan_toml(index, m)
        cursor = conn.execute(
            "INSERT INTO plan_instances (title, plan_toml, status, loaded_by, created_at) "
            "VALUES (?, ?, 'finished', 'bench', ?)",
            (f"去年第{index + 1}党支部民主生活会", toml, created),
        )
        instance_id = int(cursor.lastrowid or 0)
        member_ids = _insert_members(conn, instance_id, m)
        platform = "telegram" if index % 2 == 0 else "wecom"
        conn.executemany(
            "INSERT INTO identities (member_id, platform, user_id, reachable) VALUES (?, ?, ?, 1)",
            [(mid, platform, f"old{index}-{n}") for n, mid in enumerate(member_ids)],
        )
        conn.execute(
            "INSERT INTO phase_runs (instance_id, phase_id, started_at, ended_at) "
            "VALUES (?, 'prepare', ?, ?)",
            (instance_id, created, to_db(LAST_YEAR + timedelta(days=25))),
        )
        for number in range(1, HISTORY_TASKS + 1):
            due = LAST_YEAR + timedelta(days=7 + number)
            for mid in member_ids:
                a = conn.execute(
                    "INSERT INTO assignments (instance_id, task_id, member_id, status, due_at, "
                    "assigned_at) VALUES (?, ?, ?, 'approved', ?, ?)",
                    (instance_id, f"t{number}", mid, to_db(due), created),
                )
                s = conn.execute(
                    "INSERT INTO submissions (assignment_id, version, text, submitted_at, late) "
                    "VALUES (?, 1, ?, ?, 0)",
                    (a.lastrowid, "对照检查材料" * 40, to_db(due - timedelta(days=1))),
                )
                conn.execute(
                    "INSERT INTO reviews (submission_id, reviewer_id, verdict, comment, reviewed_at) "
                    "VALUES (?, ?, 'approved', NULL, ?)",
                    (s.lastrowid, member_ids[0], to_db(due)),
                )
                for days in (3, 1):
                    conn.execute(
                        "INSERT INTO reminder_log (reminder_key, instance_id, member_id, kind, "
                        "planned_for, sent_at) VALUES (?, ?, ?, 'before', ?, ?)",
                        (
                            f"task:{a.lastrowid}:before:{days}",
                            instance_id,
                            mid,
                            to_db(due - timedelta(days=days)),
                            to_db(due - timedelta(days=days)),
                        ),
                    )
        for n in range(2):  # two rectification items still open, due in March
            item_due = datetime.fromisoformat("2014-03-31T23:59:59+08:00")
            conn.execute(
                "INSERT INTO rectification_items (instance_id, description, source, category, "
                "member_id, due_at, status, created_at, updated_at) "
                "VALUES (?, ?, 'meeting', 'deadline', ?, ?, 'in_progress', ?, ?)",
                (
                    instance_id,
                    f"整改事项{n + 1}：健全制度，按期完成",
                    member_ids[n % m],
                    to_db(item_due),
                    created,
                    created,
                ),
            )
        payload = json.dumps({"text": "提醒：请按时提交对照检查材料。" * 4}, ensure_ascii=False)
        rows = []
        for n, mid in enumerate(member_ids):
            for k in range(HISTORY_MESSAGES_PER_MEMBER):
                sent = LAST_YEAR + timedelta(days=rng.randrange(0, 60), minutes=k)
                rows.append(
                    (
                        f"old:{instance_id}:{mid}:{k}",
                        instance_id,
                        platform,
                        f"old{index}-{n}",
                        payload,
                        to_db(sent),
                        to_db(sent),
                    )
                )
        conn.executemany(
            "INSERT INTO outbox (dedupe_key, instance_id, platform, chat_id, payload, created_at, "
            "attempts, state, sent_at) VALUES (?, ?, ?, ?, ?, ?, 1, 'sent', ?)",
            rows,
        )
        if platform == "wecom":
            conn.executemany(
                "INSERT INTO wecom_callbacks (dedupe_key, fields, received_at, handled_at) "
                "VALUES (?, ?, ?, ?)",
                [
                    (
                        f"msg:{instance_id}-{k}",
                        json.dumps({"MsgType": "text", "Content": "我的任务"}),
                        to_db(LAST_YEAR + timedelta(days=k)),
                        to_db(LAST_YEAR + timedelta(days=k)),
                    )
                    for k in range(HISTORY_CALLBACKS_PER_PLAN)
                ],
            )
