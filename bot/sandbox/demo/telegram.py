"""``huiwu demo``: the seed plan from first push to last summary, on the built-in Telegram
emulator, with simulated members and a clock that jumps from step to step. The story itself
is ``bot.sandbox.demo.story`` (shared with the WeCom demo); this module is its Telegram side.

Nothing leaves the machine: the emulator listens on 127.0.0.1 and python-telegram-bot
talks real HTTP to it. The story: the organizer loads the plan and binds the group, the
members open the bot by invite (one late, and shown as unreachable until then), tasks are
pushed, handed in as text and files, one late, one returned by the reviewer and handed in
again; every phase ends with its summary in the group. The meeting itself: a call for
opinions (a department's staff member writes anonymously through its link), heart-to-heart
talks confirmed by both sides, the chair running the agenda in the group with the on-site
anonymous evaluation, and the satisfaction survey failing its 80% in round 1, so the
meeting is reconvened, the team plan revised, and round 2 passes and completes the plan.
The clock runs through every due time, so the plan's reminders go out as they would: days
before each deadline, on the due day (a Sunday deadline is announced on the Friday: the plan
uses the Chinese working-day calendar), daily when overdue, escalated to the organizer after
two days; a member looks at /reminders, and the organizer pauses one on leave and resumes.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.core.clock import ManualClock
from bot.core.i18n import _, use_locale
from bot.plan import load_plan_text
from bot.plan.loading import store_plan
from bot.run.runtime import Runtime, TelegramOptions
from bot.sandbox.demo.story import (
    EVALUATION_BALLOTS,
    DemoPerson,
    DemoPlatform,
    evaluation_choices,
    seed_plan_text,
    tell,
)
from bot.sandbox.telegram.api import TelegramEmulator
from bot.sandbox.telegram.people import SimulatedPerson, contains
from bot.sandbox.telegram.transcript import TranscriptEntry
from bot.sandbox.virtual_time import VirtualTime
from storage import instances

TOKEN = "123456:HUIWU-DEMO"
GROUP_BACKLOG_SECONDS = 120.0  # the meeting's answers in the group, at 19 a minute


class TelegramDemoPerson:
    """The story's ``DemoPerson`` on Telegram: a ``SimulatedPerson`` in the private chat."""

    def __init__(self, person: SimulatedPerson) -> None:
        self.person = person

    async def say(self, text: str, *, expect: str | None = None) -> str:
        answer = await self.person.say(text, expect=contains(expect) if expect else None)
        return answer.text

    async def press(self, button: str, *, within: str | None = None) -> None:
        await self.person.press(button, within=contains(within) if within else None)

    async def send_file(self, name: str, content: bytes) -> None:
        await self.person.send_file(name, content)

    async def wait_for_button(self, button: str, *, within: str) -> None:
        await self.person.expect(_with_button(button, within), since=0)


class Demo(DemoPlatform):
    meeting_caption = "the meeting: the chair runs the agenda in the group"

    def __init__(
        self,
        emulator: TelegramEmulator,
        runtime: Runtime,
        clock: ManualClock,
        group: int,
        members: dict[str, SimulatedPerson],
    ) -> None:
        super().__init__(runtime, clock)
        self.emulator = emulator
        self.group = group
        self.members = members
        self.people = {name: TelegramDemoPerson(person) for name, person in members.items()}
        self.invites: dict[str, str] = {}

    async def set_up(self) -> None:
        """The organizer loads the plan, opens the bot, binds the group and invites."""
        app = self.runtime.app
        text = seed_plan_text()
        plan = load_plan_text(text)
        async with app.db.transaction() as conn:
            instance_id = await store_plan(conn, plan, text, loaded_by="demo", now=self.clock.now())
            organizer = await instances.member_by_key(app.db, instance_id, "fanglei")
            assert organizer is not None
            code = await instances.create_invite(conn, organizer.id, self.clock.now())
        self.timeline.append(
            "2013-12-02 10:00  方磊 loads the plan (huiwu plan load) and opens the bot"
        )
        fang = self.members["方磊"]
        await fang.say(f"/start {code}")
        await fang.say("/setup", group=self.group)
        links = (await fang.say("/invites")).text
        self.invites = dict(re.findall(r"• (\S+): https://t\.me/\S+\?start=(\S+)", links))
        for name in ("唐军", "党组书记", "市政府分管领导"):
            await self.members[name].say(f"/start {self.invites[name]}")

    async def first_days(self) -> None:
        await self.members["方磊"].say("/status", group=self.group)
        await self.at("2013-12-04T10:00+08:00", "孟平 opens the bot; his held task messages follow")
        await self.members["孟平"].say(f"/start {self.invites['孟平']}")
        await self.runtime.app.drain()

    async def add_staff(self, name: str) -> DemoPerson:
        person = self.members[name] = SimulatedPerson(
            self.emulator, self.emulator.add_user(name), name
        )
        return TelegramDemoPerson(person)

    async def vote(self, name: str, *choices: str) -> None:
        await self.runtime.app.drain()
        person = self.members[name]
        for choice in choices:
            step = await person.press(choice, expect=_ballot_step)
        await person.press("cast:", within=contains(step.text))

    def group_command(self, name: str, command: str) -> None:
        """Send a command in the group without waiting: a group takes 19 messages a minute,
        so the bot's answers follow at that pace (``drain`` waits for them)."""
        self.emulator.send_text(self.members[name].user_id, command, chat_id=self.group)

    async def hand_in(
        self,
        name: str,
        task_title: str,
        *,
        text: str | None = None,
        file: tuple[str, bytes] | None = None,
    ) -> None:
        await hand_in(self.members[name], task_title, text=text, file=file)
        await self.runtime.app.drain()

    async def meeting(self) -> None:
        """/meeting, /next through the agenda (speaker by speaker on mutual criticism), the
        on-site evaluation on item 6 with results when the chair moves on."""
        self.group_command("党组书记", "/meeting")
        for _step in range(4 + 3):  # items 2-5, then the three speakers after the chair
            self.group_command("党组书记", "/next")
        mark = len(self.emulator.transcript(self.group))
        self.group_command("党组书记", "/next")  # item 6: the evaluation opens
        await self.emulator.wait_for_bot_message(
            self.group,
            contains("民主生活会现场民主测评"),
            timeout=GROUP_BACKLOG_SECONDS,
            since=mark,
        )
        await self.runtime.app.drain()
        for name, answers in EVALUATION_BALLOTS.items():
            await self.vote(name, *evaluation_choices(answers))
        self.group_command("党组书记", "/next")  # item 7: the evaluation closes, results
        mark = len(self.emulator.transcript(self.group))
        for _step in range(3):
            self.group_command("党组书记", "/next")
        with use_locale("zh_CN"):
            closed = _("The agenda is complete: the meeting is closed.")
        await self.emulator.wait_for_bot_message(
            self.group, contains(closed), timeout=GROUP_BACKLOG_SECONDS, since=mark
        )
        await self.runtime.app.drain(GROUP_BACKLOG_SECONDS)


async def hand_in(
    person: SimulatedPerson,
    task_title: str,
    *,
    text: str | None = None,
    file: tuple[str, bytes] | None = None,
) -> str:
    """A person hands in a task the way a member does: /submit, choose, send, confirm."""
    answer = await person.say("/submit")
    if any(label == task_title for row in answer.buttons for label, _data in row):
        await person.press(task_title)
    if text:
        await person.say(text)
    if file:
        await person.send_file(file[0], file[1])
    done = await person.press("draft:send", expect=contains(task_title))
    return done.text


async def run_demo(*, quiet: bool = False) -> int:
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="huiwu-demo-") as folder:
        # Telegram's flood limits are kept (and checked by the emulator) on virtual time.
        limits_time = VirtualTime()
        async with TelegramEmulator(clock=limits_time) as emulator:
            emulator.add_bot(TOKEN, username="huiwu_demo_bot")
            names = ["方磊", "唐军", "孟平", "党组书记", "市政府分管领导"]
            user_ids = {name: emulator.add_user(name) for name in names}
            group = emulator.add_group("民主生活会工作群", list(user_ids.values()))
            clock = ManualClock(datetime.fromisoformat("2013-12-02T10:00+08:00"))
            runtime = Runtime(
                str(Path(folder) / "demo.sqlite3"),
                clock,
                telegram=TelegramOptions(
                    TOKEN,
                    base_url=emulator.base_url,
                    base_file_url=emulator.base_file_url,
                    rate_clock=limits_time,
                    rate_sleep=limits_time.sleep,
                ),
            )
            await runtime.start()
            try:
                members = {
                    name: SimulatedPerson(emulator, uid, name) for name, uid in user_ids.items()
                }
                demo = Demo(emulator, runtime, clock, group, members)
                await demo.set_up()
                await tell(demo)
            finally:
                await runtime.stop()
            elapsed = time.perf_counter() - started
            if not quiet:
                _print_transcripts(emulator, demo, group)
            stats = emulator.stats
            print(
                f"\n== {len(demo.timeline)} steps, simulated 2013-12-02 → 2014-07-21, wall time {elapsed:.1f} s"
            )
            print(
                f"== messages sent by the bot: {stats.messages_sent}; 429 answers: {stats.too_many_requests}"
            )
    return 0


def _ballot_step(entry: TranscriptEntry) -> bool:
    """The bot's next ballot prompt: an item's choices or the Cast button."""
    return any(
        (data or "").startswith(("vote:", "cast:")) for row in entry.buttons for _l, data in row
    )


def _with_button(button: str, within: str) -> Callable[[TranscriptEntry], bool]:
    def matches(entry: TranscriptEntry) -> bool:
        data = [d or "" for row in entry.buttons for _label, d in row]
        return within in entry.text and any(d.startswith(button) for d in data)

    return matches


def _print_transcripts(emulator: TelegramEmulator, demo: Demo, group: int) -> None:
    print("== Timeline (simulated clock)")
    for line in demo.timeline:
        print("   " + line)
    print("\n== Group chat: 民主生活会工作群")
    print(emulator.render_transcript(group, with_time=False))
    for name, person in demo.members.items():
        print(f"\n== Private chat with {name}")
        print(emulator.render_transcript(person.user_id, with_time=False))
