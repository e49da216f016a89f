"""Plan instances (a plan loaded to run), their members, identities, chats and invites."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from datetime import datetime

import aiosqlite

from storage.db import Database
from storage.records import IdentityRecord, InstanceRecord, MemberRecord
from storage.timefmt import from_db, to_db


def _instance(row: aiosqlite.Row) -> InstanceRecord:
    return InstanceRecord(
        row["id"], row["title"], row["plan_toml"], row["status"], from_db(row["created_at"])
    )


def _member(row: aiosqlite.Row) -> MemberRecord:
    roles = frozenset(filter(None, row["roles"].split(",")))
    return MemberRecord(
        row["id"], row["instance_id"], row["member_key"], row["name"], roles, row["locale"]
    )


async def create_instance(
    conn: aiosqlite.Connection,
    *,
    title: str,
    plan_toml: str,
    members: Iterable[tuple[str, str, Iterable[str], str | None, dict[str, str]]],
    loaded_by: str | None,
    now: datetime,
    binds: Callable[[str, str], bool] | None = None,
) -> int:
    """Store a plan and its roster; members are (key, name, roles, locale, {platform: user id}).

    An account for which ``binds(platform, user_id)`` is false becomes an offer, not an
    identity: the person is bound only when they accept (``accept_offer``). Without
    ``binds`` (the operator's command line) every account is bound at once."""
    cursor = await conn.execute(
        "INSERT INTO plan_instances (title, plan_toml, loaded_by, created_at) VALUES (?, ?, ?, ?)",
        (title, plan_toml, loaded_by, to_db(now)),
    )
    instance_id = int(cursor.lastrowid or 0)
    for key, name, roles, locale, identities in members:
        cursor = await conn.execute(
            "INSERT INTO members (instance_id, member_key, name, roles, locale) VALUES (?, ?, ?, ?, ?)",
            (instance_id, key, name, ",".join(sorted(roles)), locale),
        )
        member_id = int(cursor.lastrowid or 0)
        for platform, user_id in identities.items():
            if binds is not None and not binds(platform, user_id):
                await conn.execute(
                    "INSERT INTO plan_offers (member_id, platform, user_id, offered_at) "
                    "VALUES (?, ?, ?, ?)",
                    (member_id, platform, user_id, to_db(now)),
                )
                continue
            await keep_current_plan(conn, platform, user_id, now)
            # WeCom members are reachable from the start; Telegram users must open the bot first.
            await conn.execute(
                "INSERT INTO identities (member_id, platform, user_id, reachable) VALUES (?, ?, ?, ?)",
                (member_id, platform, user_id, 1 if platform == "wecom" else 0),
            )
    return instance_id


async def get_instance(db: Database, instance_id: int) -> InstanceRecord | None:
    row = await db.fetch_one("SELECT * FROM plan_instances WHERE id = ?", (instance_id,))
    return _instance(row) if row else None


async def list_instances(db: Database, *, status: str | None = None) -> list[InstanceRecord]:
    if status is None:
        rows = await db.fetch_all("SELECT * FROM plan_instances ORDER BY id")
    else:
        rows = await db.fetch_all(
            "SELECT * FROM plan_instances WHERE status = ? ORDER BY id", (status,)
        )
    return [_instance(row) for row in rows]


async def ids_by_status(db: Database, statuses: Iterable[str]) -> list[tuple[int, str]]:
    """(id, status) of the instances with one of ``statuses``, by id: what the clock's steps
    walk at every tick (without the plans' texts, which the plan cache keeps parsed)."""
    wanted = tuple(statuses)

    async def load() -> list[tuple[int, str]]:
        marks = ", ".join("?" for _ in wanted)
        rows = await db.fetch_all(
            f"SELECT id, status FROM plan_instances WHERE status IN ({marks}) ORDER BY id", wanted
        )
        return [(int(row[0]), str(row[1])) for row in rows]

    # Kept until plan_instances changes (storage.readcache): read at every tick.
    return await db.reads.get(("instance-ids", wanted), load)


async def set_plan_toml(conn: aiosqlite.Connection, instance_id: int, plan_toml: str) -> None:
    """Replace an instance's plan text (a survey round appends a phase; nothing else changes)."""
    await conn.execute(
        "UPDATE plan_instances SET plan_toml = ? WHERE id = ?", (plan_toml, instance_id)
    )


async def set_status(conn: aiosqlite.Connection, instance_id: int, status: str) -> None:
    await conn.execute("UPDATE plan_instances SET status = ? WHERE id = ?", (status, instance_id))


async def bind_chat(
    conn: aiosqlite.Connection, instance_id: int, platform: str, chat_id: str, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO chat_bindings (platform, chat_id, instance_id, bound_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (platform, chat_id) DO UPDATE SET instance_id = excluded.instance_id, bound_at = excluded.bound_at",
        (platform, chat_id, instance_id, to_db(now)),
    )


async def instance_for_chat(db: Database, platform: str, chat_id: str) -> int | None:
    row = await db.fetch_one(
        "SELECT instance_id FROM chat_bindings WHERE platform = ? AND chat_id = ?",
        (platform, chat_id),
    )
    return int(row[0]) if row else None


async def group_chats(db: Database, instance_id: int) -> list[tuple[str, str]]:
    """(platform, chat id) of every group bound to the instance."""
    rows = await db.fetch_all(
        "SELECT platform, chat_id FROM chat_bindings WHERE instance_id = ? ORDER BY platform",
        (instance_id,),
    )
    return [(row[0], row[1]) for row in rows]


async def members_of(db: Database, instance_id: int) -> list[MemberRecord]:
    rows = await db.fetch_all(
        "SELECT * FROM members WHERE instance_id = ? ORDER BY id", (instance_id,)
    )
    return [_member(row) for row in rows]


async def members_with_reach(
    db: Database, instance_id: int, platforms: Iterable[str]
) -> tuple[dict[int, MemberRecord], set[int]]:
    """The plan's members by id, and those reachable on one of ``platforms`` (one query)."""
    names = tuple(sorted(platforms))

    async def load() -> tuple[dict[int, MemberRecord], frozenset[int]]:
        marks = ", ".join("?" for _ in names)
        rows = await db.fetch_all(
            "SELECT m.*, EXISTS (SELECT 1 FROM identities i WHERE i.member_id = m.id"
            f" AND i.reachable AND i.platform IN ({marks})) AS reach"
            " FROM members m WHERE m.instance_id = ? ORDER BY m.id",
            (*names, instance_id),
        )
        members = {row["id"]: _member(row) for row in rows}
        return members, frozenset(row["id"] for row in rows if row["reach"])

    members, reachable = await db.reads.get(("members_with_reach", instance_id, names), load)
    return dict(members), set(reachable)


async def get_member(db: Database, member_id: int) -> MemberRecord | None:
    row = await db.fetch_one("SELECT * FROM members WHERE id = ?", (member_id,))
    return _member(row) if row else None


async def member_by_key(db: Database, instance_id: int, key: str) -> MemberRecord | None:
    row = await db.fetch_one(
        "SELECT * FROM members WHERE instance_id = ? AND member_key = ?", (instance_id, key)
    )
    return _member(row) if row else None


async def members_for_user(db: Database, platform: str, user_id: str) -> list[MemberRecord]:
    """Every membership of one platform user, across plan instances: running plans first, newest first.

    Finished plans stay in the list (last) so that their members can still read results, the
    ledger and the documents after the plan ends.
    """

    async def load() -> tuple[MemberRecord, ...]:
        rows = await db.fetch_all(
            "SELECT m.* FROM members m JOIN identities i ON i.member_id = m.id "
            "JOIN plan_instances p ON p.id = m.instance_id "
            "WHERE i.platform = ? AND i.user_id = ? "
            "ORDER BY p.status = 'finished', m.instance_id DESC",
            (platform, user_id),
        )
        return tuple(_member(row) for row in rows)

    return list(await db.reads.get(("members_for_user", platform, user_id), load))


async def identities_of(db: Database, member_id: int) -> list[IdentityRecord]:
    rows = await db.fetch_all(
        "SELECT * FROM identities WHERE member_id = ? ORDER BY platform", (member_id,)
    )
    return [
        IdentityRecord(r["member_id"], r["platform"], r["user_id"], bool(r["reachable"]))
        for r in rows
    ]


async def identities_of_instance(db: Database, instance_id: int) -> dict[int, list[IdentityRecord]]:
    rows = await db.fetch_all(
        "SELECT i.* FROM identities i JOIN members m ON m.id = i.member_id WHERE m.instance_id = ?",
        (instance_id,),
    )
    found: dict[int, list[IdentityRecord]] = {}
    for r in rows:
        found.setdefault(r["member_id"], []).append(
            IdentityRecord(r["member_id"], r["platform"], r["user_id"], bool(r["reachable"]))
        )
    return found


async def set_identity(
    conn: aiosqlite.Connection, member_id: int, platform: str, user_id: str, *, reachable: bool
) -> None:
    await conn.execute(
        "INSERT INTO identities (member_id, platform, user_id, reachable) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (member_id, platform) DO UPDATE SET user_id = excluded.user_id, reachable = excluded.reachable",
        (member_id, platform, user_id, int(reachable)),
    )


async def mark_reachable(
    conn: aiosqlite.Connection, platform: str, user_id: str, reachable: bool
) -> int:
    """Record whether the bot can write to this user; returns how many memberships changed."""
    cursor = await conn.execute(
        "UPDATE identities SET reachable = ? WHERE platform = ? AND user_id = ? AND reachable != ?",
        (int(reachable), platform, user_id, int(reachable)),
    )
    return cursor.rowcount


async def create_invite(conn: aiosqlite.Connection, member_id: int, now: datetime) -> str:
    """A fresh single-use code for a member's personal invite link."""
    code = secrets.token_urlsafe(12)
    while code.startswith("op-"):  # that prefix marks a call for opinions' link
        code = secrets.token_urlsafe(12)
    await conn.execute(
        "INSERT INTO invites (code, member_id, created_at) VALUES (?, ?, ?)",
        (code, member_id, to_db(now)),
    )
    return code


async def open_invite_for(db: Database, member_id: int) -> str | None:
    row = await db.fetch_one(
        "SELECT code FROM invites WHERE member_id = ? AND used_at IS NULL ORDER BY created_at DESC LIMIT 1",
        (member_id,),
    )
    return str(row[0]) if row else None


async def redeem_invite(conn: aiosqlite.Connection, code: str, now: datetime) -> int | None:
    """Use an invite once; returns the member id, or None for an unknown or used code.
    Whoever redeems it is bound by the link, so offers of the same roster entry are void."""
    async with conn.execute(
        "UPDATE invites SET used_at = ? WHERE code = ? AND used_at IS NULL RETURNING member_id",
        (to_db(now), code),
    ) as cursor:
        row = await cursor.fetchone()
    if row is None:
        return None
    await conn.execute("DELETE FROM plan_offers WHERE member_id = ?", (row[0],))
    return int(row[0])


# --- plans offered to people by account, and the plan their private commands act on --------


async def offers_for_user(db: Database, platform: str, user_id: str) -> list[MemberRecord]:
    """The roster entries that plans loaded in chat offer to this account, newest first."""
    rows = await db.fetch_all(
        "SELECT m.* FROM members m JOIN plan_offers o ON o.member_id = m.id "
        "WHERE o.platform = ? AND o.user_id = ? ORDER BY m.instance_id DESC",
        (platform, user_id),
    )
    return [_member(row) for row in rows]


async def offered_members(db: Database, instance_id: int) -> list[MemberRecord]:
    """The plan's roster entries still waiting for their person to accept."""
    rows = await db.fetch_all(
        "SELECT DISTINCT m.* FROM members m JOIN plan_offers o ON o.member_id = m.id "
        "WHERE m.instance_id = ? ORDER BY m.id",
        (instance_id,),
    )
    return [_member(row) for row in rows]


async def withdraw_offer(
    conn: aiosqlite.Connection, member_id: int, platform: str, user_id: str
) -> bool:
    """Remove the offer of roster entry ``member_id`` to this account; False if there was none."""
    cursor = await conn.execute(
        "DELETE FROM plan_offers WHERE member_id = ? AND platform = ? AND user_id = ?",
        (member_id, platform, user_id),
    )
    return cursor.rowcount == 1


async def accounts_organized_by(db: Database, platform: str, user_id: str) -> set[tuple[str, str]]:
    """The accounts bound in the plans this account organises (a plan still waiting for
    acceptances does not count): its organizer may name them in a new plan directly."""
    rows = await db.fetch_all(
        "SELECT DISTINCT i.platform, i.user_id FROM identities i "
        "JOIN members m ON m.id = i.member_id "
        "WHERE m.instance_id IN (SELECT o.instance_id FROM members o "
        "  JOIN identities oi ON oi.member_id = o.id "
        "  WHERE oi.platform = ? AND oi.user_id = ? AND ',' || o.roles || ',' LIKE '%,organizer,%' "
        "  AND NOT EXISTS (SELECT 1 FROM plan_offers po JOIN members pm ON pm.id = po.member_id "
        "                  WHERE pm.instance_id = o.instance_id))",
        (platform, user_id),
    )
    return {(row[0], row[1]) for row in rows}


async def current_plan(db: Database, platform: str, user_id: str) -> int | None:
    """The plan this person chose for their private commands (None: never chose)."""
    row = await db.fetch_one(
        "SELECT instance_id FROM current_plans WHERE platform = ? AND user_id = ?",
        (platform, user_id),
    )
    return int(row[0]) if row else None


async def set_current_plan(
    conn: aiosqlite.Connection, platform: str, user_id: str, instance_id: int, now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO current_plans (platform, user_id, instance_id, chosen_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (platform, user_id) DO UPDATE SET instance_id = excluded.instance_id, "
        "chosen_at = excluded.chosen_at",
        (platform, user_id, instance_id, to_db(now)),
    )


async def keep_current_plan(
    conn: aiosqlite.Connection, platform: str, user_id: str, now: datetime
) -> None:
    """Before this account joins another plan, remember the one it uses now (if it has one
    and chose none): being named in a new plan does not switch a person's plan."""
    async with conn.execute(
        "SELECT m.instance_id FROM members m JOIN identities i ON i.member_id = m.id "
        "JOIN plan_instances p ON p.id = m.instance_id "
        "WHERE i.platform = ? AND i.user_id = ? "
        "AND NOT EXISTS (SELECT 1 FROM current_plans c WHERE c.platform = i.platform AND c.user_id = i.user_id) "
        "ORDER BY p.status = 'finished', m.instance_id DESC LIMIT 1",
        (platform, user_id),
    ) as cursor:
        row = await cursor.fetchone()
    if row is not None:
        await set_current_plan(conn, platform, user_id, int(row[0]), now)
