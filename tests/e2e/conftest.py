"""End-to-end fixtures: the real bot (Runtime) on the Telegram emulator, over real HTTP.

``world`` gives a running Huiwu with the shipped seed plan loaded into a SQLite file in
``tmp_path``, a ManualClock at 2013-12-02 10:00 (Asia/Shanghai), the simulated people
方磊 / 唐军 / 孟平 / 党组书记 / 市政府分管领导, and the plan's group. 方磊 has bound himself
with an invite code and sent /setup in the group, as in ``bot/sandbox/demo/telegram.py``.
``make_world`` builds variants (injected faults, an edited plan).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.adapters.guarded_site import ConnectionLimits
from bot.core.app import Huiwu
from bot.core.clock import ManualClock
from bot.core.i18n import _, plural_catalog, use_locale
from bot.core.policy import PlanLoaders, Quotas
from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.run import scheduler
from bot.run.runtime import BoardOptions, Runtime, TelegramOptions
from bot.sandbox.demo.telegram import hand_in, seed_plan_text
from bot.sandbox.telegram.api import TelegramEmulator
from bot.sandbox.telegram.limits import FaultPlan
from bot.sandbox.telegram.people import SimulatedPerson, contains
from bot.sandbox.telegram.transcript import TranscriptEntry
from bot.sandbox.virtual_time import VirtualTime
from storage import instances

TOKEN = "123456:HUIWU-E2E"
BOT_USERNAME = "huiwu_e2e_bot"
START = "2013-12-02T10:00+08:00"
PLAN_TITLE = "领导班子专题民主生活会"
NAMES = ("方磊", "唐军", "孟平", "党组书记", "市政府分管领导")
MEMBER_KEYS = {
    "方磊": "fanglei",
    "唐军": "tangjun",
    "孟平": "mengping",
    "党组书记": "secretary",
    "市政府分管领导": "city-leader",
}

PlanEditor = Callable[[str, dict[str, int]], str]


def zh(msgid: str, **values: object) -> str:
    """A message as the bot writes it to a zh_CN reader (from the shipped catalog); for an
    ``ngettext`` message give its singular msgid: Chinese has one form for every number."""
    with use_locale("zh_CN"):
        (text,) = plural_catalog("zh_CN").get(msgid) or (_(msgid),)
    return text.format(**values) if values else text


def en(msgid: str, **values: object) -> str:
    with use_locale("en"):
        text = _(msgid)
    return text.format(**values) if values else text


def outgoing(entries: list[TranscriptEntry]) -> list[TranscriptEntry]:
    return [entry for entry in entries if entry.direction == "out"]


class PlanDatabaseViews:
    """Reads of the running bot's database that both platforms' worlds share."""

    instance_id: int

    @property
    def app(self) -> Huiwu:
        raise NotImplementedError

    async def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return await self.app.db.fetch_all(sql, params)

    async def row_counts(self) -> dict[str, int]:
        counts = {}
        tables = await self.app.db.fetch_all(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        for (table,) in tables:
            row = await self.app.db.fetch_one(f"SELECT COUNT(*) FROM {table}")
            counts[table] = int(row[0]) if row else -1
        return counts

    async def member_id(self, name: str) -> int:
        member = await instances.member_by_key(self.app.db, self.instance_id, MEMBER_KEYS[name])
        assert member is not None
        return member.id

    async def assignment_id(self, name: str, task_id: str) -> int:
        rows = await self.rows(
            "SELECT id FROM assignments WHERE member_id = ? AND task_id = ?",
            (await self.member_id(name), task_id),
        )
        assert len(rows) == 1, f"{name} has {len(rows)} assignments of {task_id}"
        return int(rows[0]["id"])


@dataclass
class World(PlanDatabaseViews):
    emulator: TelegramEmulator
    runtime: Runtime
    clock: ManualClock
    people: dict[str, SimulatedPerson]
    group: int
    instance_id: int
    db_path: str
    options: TelegramOptions
    user_ids: dict[str, int] = field(default_factory=dict)
    board: BoardOptions | None = None

    @property
    def board_url(self) -> str:
        assert self.board is not None
        return self.board.public_url

    @property
    def app(self) -> Huiwu:
        return self.runtime.app

    async def at(self, iso: str) -> None:
        """Move the clock, run what the plan has due, and wait until it is all sent."""
        await self.clock.set(datetime.fromisoformat(iso))
        await scheduler.tick(self.app)
        await self.app.drain()

    async def travel(
        self, iso: str, on_step: Callable[[datetime], Awaitable[None]] | None = None
    ) -> None:
        """Move the clock to ``iso`` through every reminder and phase step on the way."""
        await scheduler.run_until(self.app, self.clock, datetime.fromisoformat(iso), on_step)

    async def hand_in(
        self,
        name: str,
        title: str,
        *,
        text: str | None = None,
        file: tuple[str, bytes] | None = None,
    ) -> str:
        """/submit, choose the task, send, confirm (as in the demo)."""
        done = await hand_in(self.people[name], title, text=text, file=file)
        await self.app.drain()
        return done

    async def restart(self) -> None:
        """Stop the bot and start a new one on the same database file."""
        await self.app.drain()
        await self.runtime.stop()
        self.runtime = Runtime(
            self.db_path,
            self.clock,
            telegram=self.options,
            plan_loaders=self.app.plan_loaders,
            quotas=self.app.quotas,
            board=self.board,
        )
        await self.runtime.start()

    # --- database ------------------------------------------------------------------

    # --- people --------------------------------------------------------------------

    async def invite_codes(self) -> dict[str, str]:
        """The codes in 方磊's /invites answer, by member name."""
        answer = await self.people["方磊"].say("/invites", expect=contains("https://t.me/"))
        pattern = rf"• (\S+): https://t\.me/{BOT_USERNAME}\?start=(\S+)"
        return dict(re.findall(pattern, answer.text))

    async def bind(self, *names: str) -> None:
        """Each person opens the bot with a fresh personal invite code."""
        codes = {}
        for name in names:
            async with self.app.db.transaction() as conn:
                codes[name] = await instances.create_invite(
                    conn, await self.member_id(name), self.clock.now()
                )
        await asyncio.gather(
            *(
                self.people[name].say(f"/start {code}", expect=contains(name, PLAN_TITLE))
                for name, code in codes.items()
            )
        )

    async def hand_in_from_push(self, name: str, title: str, text: str) -> TranscriptEntry:
        """Press Submit on the task's push, send a text, confirm."""
        person = self.people[name]
        await person.press("submit:", within=contains(zh("New task: {title}", title=title)))
        await person.say(text)
        return await person.press("draft:send", expect=contains(title))


WorldFactory = Callable[..., Awaitable[World]]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def make_world(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[WorldFactory]:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    opened: list[tuple[TelegramEmulator, World | None]] = []

    async def factory(
        *,
        faults: FaultPlan | None = None,
        edit_plan: PlanEditor | None = None,
        webhook_secret: str | None = None,
        webhook_limits: ConnectionLimits | None = None,
        plan_loaders: PlanLoaders = PlanLoaders.ORGANIZERS,
        quotas: Quotas | None = None,
        board: bool = False,
    ) -> World:
        """A world with the seed plan loaded and bound to its group; with ``webhook_secret``
        the bot takes updates by webhook (on a free loopback port) instead of polling."""
        # Flood limits are kept and checked on a virtual time the bot's limiter shares, so a
        # week of reminders costs no wall time waiting for Telegram's one-a-second per chat.
        limits_time = VirtualTime()
        emulator = TelegramEmulator(faults=faults, clock=limits_time)
        await emulator.start()
        opened.append((emulator, None))
        emulator.add_bot(TOKEN, username=BOT_USERNAME)
        user_ids = {name: emulator.add_user(name) for name in NAMES}
        group = emulator.add_group("民主生活会工作群", list(user_ids.values()))
        clock = ManualClock(datetime.fromisoformat(START))
        options = TelegramOptions(
            TOKEN,
            base_url=emulator.base_url,
            base_file_url=emulator.base_file_url,
            rate_clock=limits_time,
            rate_sleep=limits_time.sleep,
        )
        if webhook_secret is not None:
            port = free_port()
            options = dataclasses.replace(
                options,
                webhook_url=f"http://127.0.0.1:{port}/telegram",
                webhook_secret=webhook_secret,
                listen_port=port,
                connection_limits=webhook_limits or ConnectionLimits(),
            )
        db_path = str(tmp_path / f"huiwu-{len(opened)}.sqlite3")
        board_options = None
        if board:  # on the webhook's port when there is one: one server, one port
            port = options.listen_port if webhook_secret is not None else free_port()
            board_options = BoardOptions(f"http://127.0.0.1:{port}/board", listen_port=port)
        runtime = Runtime(
            db_path,
            clock,
            telegram=options,
            plan_loaders=plan_loaders,
            quotas=quotas or Quotas(),
            board=board_options,
        )
        await runtime.start()
        text = seed_plan_text()
        if edit_plan is not None:
            text = edit_plan(text, user_ids)
        plan = load_plan_text(text)
        async with runtime.app.db.transaction() as conn:
            instance_id = await store_plan(conn, plan, text, loaded_by="e2e", now=clock.now())
            organizer = await instances.member_by_key(runtime.app.db, instance_id, "fanglei")
            assert organizer is not None
            code = await instances.create_invite(conn, organizer.id, clock.now())
        people = {name: SimulatedPerson(emulator, uid, name) for name, uid in user_ids.items()}
        world = World(
            emulator,
            runtime,
            clock,
            people,
            group,
            instance_id,
            db_path,
            options,
            user_ids,
            board_options,
        )
        opened[-1] = (emulator, world)
        await people["方磊"].say(f"/start {code}", expect=contains("方磊", PLAN_TITLE))
        await people["方磊"].say("/setup", group=group, expect=contains(PLAN_TITLE))
        return world

    yield factory
    for emulator, world in reversed(opened):
        try:
            if world is not None:
                await world.runtime.stop()
        finally:
            await emulator.stop()


@pytest.fixture
async def world(make_world: WorldFactory) -> World:
    return await make_world()
