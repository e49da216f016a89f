"""Anonymity on the raw bytes of the database files (issue 15), not on the schema.

Ballots and anonymous opinions are cast in a known order through the Telegram emulator; the
database file and its ``-wal`` are copied at several moments, and the physical order of the
rows' random keys is read from the copied bytes. Who voted and when is knowable (the outbox,
``survey_voters``), so a physical order that follows the casting order would tie each voter
to their ballot. The test asks whether it does.

The statistic: for each copy, Spearman's D = Σ (casting rank − physical rank)² over the rows
of the round (or window) cast so far. Under independence every physical order is equally
likely, so the exact distribution of the sum of D over all copies is the convolution of the
per-copy distributions over all permutations (computed below, no sampling). Independence is
rejected when the two-sided p-value is below ``ALPHA`` = 1e-4: a correct store fails this
test once in ten thousand runs; storage that keeps rows in casting order (or its reverse)
gives p < 1e-15 with these sizes.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.sandbox.telegram.people import SimulatedPerson, contains
from tests.e2e.conftest import BOT_USERNAME, PLAN_TITLE, World

ALPHA = 1e-4
ROUNDS = 6  # evaluation rounds, five ballots each, copied after the 3rd, 4th and 5th cast
VOTERS = ("方磊", "唐军", "孟平", "党组书记", "市政府分管领导")
STAFF = ("县发改局干部", "县财政局干部", "县审计局干部")  # not on the roster: write by the link
EVALUATION_ITEMS, SCALE = 3, 4


@dataclass(frozen=True)
class FileCopy:
    """The database's files as they were at one moment."""

    main: bytes
    wal: bytes
    folder: Path

    def position(self, key: bytes) -> tuple[int, int]:
        """Where the key's current version sits: the write-ahead log holds later versions of
        pages than the main file, so an occurrence there comes after any in the main file."""
        found = self.wal.rfind(key)
        if found >= 0:
            return (1, found)
        found = self.main.find(key)
        assert found >= 0, "a stored key is in neither file"
        return (0, found)

    def holds(self, key: bytes) -> bool:
        return key in self.main or key in self.wal

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.folder / "copy.sqlite3") as conn:
            return conn.execute(sql, params).fetchall()


def copy_files(world: World, folder: Path) -> FileCopy:
    folder.mkdir(parents=True)
    source = Path(world.db_path)
    target = folder / "copy.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        if Path(f"{source}{suffix}").exists():
            shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
    wal = Path(f"{target}-wal")
    # Read the bytes before SQLite opens the copy (opening it may checkpoint the log).
    return FileCopy(target.read_bytes(), wal.read_bytes() if wal.exists() else b"", folder)


def rank_distance(casting_order: list[bytes], physical_order: list[bytes]) -> int:
    """Spearman's D: the sum of squared differences of each row's two ranks."""
    physical_rank = {key: rank for rank, key in enumerate(physical_order)}
    return sum((rank - physical_rank[key]) ** 2 for rank, key in enumerate(casting_order))


def null_distribution(n: int) -> Counter[int]:
    """How many of the n! physical orders give each D."""
    return Counter(
        sum((i - p) ** 2 for i, p in enumerate(order)) for order in itertools.permutations(range(n))
    )


def independence_p_value(samples: Iterable[tuple[int, int]]) -> float:
    """Exact two-sided p-value of the summed D of (n, D) samples under independence."""
    total: Counter[int] = Counter({0: 1})
    observed = mean = 0.0
    ways = 1
    for n, distance in samples:
        step = null_distribution(n)
        total = _convolve(total, step)
        observed += distance
        mean += n * (n * n - 1) / 6
        ways *= sum(step.values())
    far = abs(observed - mean)
    return sum(count for value, count in total.items() if abs(value - mean) >= far - 1e-9) / ways


def _convolve(left: Counter[int], right: Counter[int]) -> Counter[int]:
    result: Counter[int] = Counter()
    for a, count_a in left.items():
        for b, count_b in right.items():
            result[a + b] += count_a * count_b
    return result


def test_the_exact_test_rejects_casting_order_and_its_reverse_and_accepts_a_shuffle() -> None:
    rng = random.Random(15)
    sizes = [3, 4, 5] * ROUNDS
    forward = [(n, 0) for n in sizes]
    backward = [(n, n * (n * n - 1) // 3) for n in sizes]
    assert independence_p_value(forward) < 1e-15
    assert independence_p_value(backward) < 1e-15
    shuffled = []
    for n in sizes:
        order = list(range(n))
        rng.shuffle(order)
        shuffled.append((n, sum((i - p) ** 2 for i, p in enumerate(order))))
    assert independence_p_value(shuffled) > 0.01


async def press_ballot(person: SimulatedPerson, survey_id: int, answers: tuple[int, ...]) -> None:
    for item, choice in enumerate(answers):
        await person.press(f"vote:{survey_id}:{item}:{choice}", expect=contains(""))
    await person.press(f"cast:{survey_id}", expect=contains(""))


async def test_the_physical_order_of_ballots_and_anonymous_opinions_ignores_casting_order(
    world: World, tmp_path: Path
) -> None:
    rng = random.Random(2013)
    await world.bind(*(name for name in VOTERS if name != "方磊"))
    fang = world.people["方磊"]
    samples: list[tuple[int, int]] = []
    seen_keys: set[bytes] = set()

    for round_number in range(1, ROUNDS + 1):
        await fang.say("/survey open evaluation", expect=contains(str(round_number)))
        await world.app.drain()
        [(survey_id,)] = await world.rows(
            "SELECT id FROM surveys WHERE survey_key = 'evaluation' AND status = 'open'"
        )
        combinations = rng.sample(
            list(itertools.product(range(SCALE), repeat=EVALUATION_ITEMS)), len(VOTERS)
        )
        order = rng.sample(VOTERS, len(VOTERS))
        cast: list[str] = []  # the ballots' answers, in casting order
        for count, name in enumerate(order, start=1):
            answers = combinations[VOTERS.index(name)]
            await press_ballot(world.people[name], survey_id, answers)
            await world.app.drain()
            cast.append(_answers_text(answers))
            if count < 3:
                continue
            copy = copy_files(world, tmp_path / f"round{round_number}-{count}")
            stored = {
                str(json.loads(str(answers))): bytes(key)
                for key, answers in copy.rows(
                    "SELECT ballot_key, answers FROM ballots WHERE survey_id = ?", (survey_id,)
                )
            }
            assert sorted(stored) == sorted(cast)
            casting_keys = [stored[answers] for answers in cast]
            physical = sorted(casting_keys, key=copy.position)
            samples.append((count, rank_distance(casting_keys, physical)))
            # Earlier layouts leave no key behind (the keys of rewritten rows are zeroed).
            current = {bytes(key) for (key,) in copy.rows("SELECT ballot_key FROM ballots")}
            assert not [key for key in seen_keys - current if copy.holds(key)]
            seen_keys |= current
        await fang.say("/survey close evaluation", expect=contains("%"))
        await world.app.drain()
        closed = copy_files(world, tmp_path / f"round{round_number}-closed")
        current = {bytes(key) for (key,) in closed.rows("SELECT ballot_key FROM ballots")}
        assert seen_keys >= current and not [k for k in seen_keys - current if closed.holds(k)]

    # The results stay countable per ballot: every round's five ballots are there to recount.
    counts = await world.rows("SELECT survey_id, COUNT(*) FROM ballots GROUP BY survey_id")
    assert [count for _survey, count in counts] == [len(VOTERS)] * ROUNDS
    ballot_p = independence_p_value(samples)

    opinion_samples = await _anonymous_opinions(world, tmp_path, rng)
    opinion_p = independence_p_value(opinion_samples)
    print(f"p-values: ballots {ballot_p:.3g}, opinions {opinion_p:.3g}")
    assert ballot_p >= ALPHA and opinion_p >= ALPHA, (
        f"physical order follows casting order: ballots p={ballot_p:.3g} {samples}, "
        f"opinions p={opinion_p:.3g} {opinion_samples}"
    )


def _answers_text(answers: tuple[int, ...]) -> str:
    """A ballot's answers as ``str`` of their list (as the test reads the stored JSON back)."""
    scale = ["好", "较好", "一般", "差"]
    return str([scale[choice] for choice in answers])


async def _anonymous_opinions(
    world: World, tmp_path: Path, rng: random.Random
) -> list[tuple[int, int]]:
    """Eight anonymous opinions to the whole team, by members and by staff who opened the
    link; the files are copied after the 3rd to the 8th."""
    fang = world.people["方磊"]
    answer = await fang.say("/opinions 2013-12-10", expect=contains(f"https://t.me/{BOT_USERNAME}"))
    code = re.search(rf"https://t\.me/{BOT_USERNAME}\?start=(op-[A-Za-z0-9_-]+)", answer.text)
    assert code is not None
    writers: list[SimulatedPerson] = [world.people[name] for name in VOTERS]
    for name in STAFF:
        person = SimulatedPerson(world.emulator, world.emulator.add_user(name), name)
        await person.say(f"/start {code[1]}", expect=contains(PLAN_TITLE))
        writers.append(person)
    rng.shuffle(writers)
    written: list[str] = []
    samples = []
    seen_keys: set[bytes] = set()
    for count, writer in enumerate(writers, start=1):
        text = f"第{rng.randrange(10**6):06d}号意见：{writer.name}认为会风还需改进。"
        await writer.say("/opinion", expect=contains(PLAN_TITLE))
        await writer.press("op:to:", within=contains(PLAN_TITLE))
        await writer.say(text)
        await writer.press("op:send:anon")
        await world.app.drain()
        written.append(text)
        if count < 3:
            continue
        copy = copy_files(world, tmp_path / f"opinions-{count}")
        stored = {
            str(text): bytes(key)
            for key, text in copy.rows("SELECT opinion_key, text FROM opinions")
        }
        assert sorted(stored) == sorted(written)
        casting_keys = [stored[text] for text in written]
        physical = sorted(casting_keys, key=copy.position)
        samples.append((count, rank_distance(casting_keys, physical)))
        assert not [key for key in seen_keys - set(casting_keys) if copy.holds(key)]
        seen_keys |= set(casting_keys)
    return samples


async def test_a_ballot_or_an_opinion_in_progress_is_sealed_in_the_files_and_survives_a_restart(
    world: World, tmp_path: Path
) -> None:
    await world.bind("唐军")
    fang, tang = world.people["方磊"], world.people["唐军"]
    await fang.say("/survey open evaluation", expect=contains("1"))
    await world.app.drain()
    [(survey_id,)] = await world.rows("SELECT id FROM surveys WHERE status = 'open'")
    for item, choice in enumerate((3, 1)):  # 差, 较好: two of three items answered
        await tang.press(f"vote:{survey_id}:{item}:{choice}", expect=contains(""))
    await fang.say("/opinions 2013-12-10", expect=contains(f"https://t.me/{BOT_USERNAME}"))
    text = "匿名意见：第九号，会风仍需改进。"
    await tang.say("/opinion", expect=contains(PLAN_TITLE))
    await tang.press("op:to:", within=contains(PLAN_TITLE))
    await tang.say(text)
    await world.app.drain()
    copy = copy_files(world, tmp_path / "in-progress")
    files = copy.main + copy.wal
    [(draft,)] = copy.rows("SELECT answers FROM ballot_drafts")
    assert not str(draft).startswith("[")  # sealed: not the JSON list [3, 1, null]
    assert b"[3, 1, null]" not in files and text.encode() not in files

    await world.restart()  # a draft survives a restart: nothing the person sent is lost
    await tang.press(f"vote:{survey_id}:2:0", expect=contains(""))
    await tang.press(f"cast:{survey_id}", expect=contains(""))
    await tang.press("op:send:anon")
    await world.app.drain()
    assert [row[0] for row in await world.rows("SELECT answers FROM ballots")] == [
        '["差", "较好", "好"]'
    ]
    assert [tuple(row) for row in await world.rows("SELECT text, sender_name FROM opinions")] == [
        (text, None)
    ]
