"""Quotas a member can read (issue 22, item 5): files per hand-in, bytes per file, per hand-in
and per member, text per hand-in; a file the platform will not hand out is refused, not
"handed in" as a dead reference; files are kept beside the database, not in it. On the
Telegram emulator, over real HTTP.
"""

from __future__ import annotations

import stat
from pathlib import Path

from bot.core.i18n import use_locale
from bot.core.policy import MIB, Quotas
from bot.sandbox.telegram.people import SimulatedPerson, contains
from handlers.tasks import received_text
from storage.files import LOCK_NAME
from tests.e2e.conftest import World, WorldFactory, zh


async def open_draft(world: World) -> SimulatedPerson:
    """方磊 starts handing in 组织学习 (text and files) on its first day."""
    await world.at("2013-12-03T09:10+08:00")
    fang = world.people["方磊"]
    study = await world.assignment_id("方磊", "study")
    await fang.press(f"submit:{study}")
    return fang


def so_far(texts: int, files: int) -> str:
    with use_locale("zh_CN"):
        return received_text(texts, files)


async def test_a_file_over_telegrams_download_limit_is_refused_not_handed_in(
    world: World,
) -> None:
    fang = await open_draft(world)
    answer = await fang.send_file("会议录像.mp4", b"\0" * (21 * MIB))
    refusal = zh(
        "“{name}” was not added: it is {size}, and a file may be at most {limit}.",
        name="会议录像.mp4",
        size="21 MB",
        limit="20 MB",
    )
    assert answer.text == refusal + "\n" + so_far(0, 0)
    nothing = await fang.press("draft:send")
    assert "会议录像" not in nothing.text
    assert await world.rows("SELECT * FROM submission_files") == []


async def test_a_hand_in_takes_at_most_ten_files_and_says_so(world: World) -> None:
    fang = await open_draft(world)
    for number in range(1, 11):
        answer = await fang.send_file(f"记录{number}.pdf", b"%PDF" + bytes([number]) * 100)
        assert answer.text == so_far(0, number)
    answer = await fang.send_file("记录11.pdf", b"%PDF eleven")
    assert answer.text == (
        zh(
            "“{name}” was not added: one hand-in holds at most {limit} files. Press Submit to hand in what you have sent.",
            name="记录11.pdf",
            limit=10,
        )
        + "\n"
        + so_far(0, 10)
    )
    await fang.press("draft:send", expect=contains("组织学习"))
    [count] = await world.rows("SELECT COUNT(*) FROM submission_files")
    assert count[0] == 10


async def test_the_text_of_a_hand_in_is_bounded_like_a_command(world: World) -> None:
    fang = await open_draft(world)
    answer = await fang.say("学" * 4001)  # Telegram takes 4,096; a command may hold 4,000
    assert answer.text == (
        zh(
            "That message is too long ({length} characters; at most {limit}).",
            length=4001,
            limit=4000,
        )
        + "\n"
        + so_far(0, 0)
    )
    for number in range(1, 6):
        answer = await fang.say("学" * 4000)
        assert answer.text == so_far(number, 0)
    answer = await fang.say("再多一个字")
    assert answer.text.startswith(
        zh(
            "That text was not added: one hand-in holds at most {limit} characters of text, and it would have {length}.",
            limit=20000,
            length=20005,
        )
    )
    await fang.press("draft:send", expect=contains("组织学习"))
    [stored] = await world.rows("SELECT text FROM submissions")
    assert len(stored[0]) == 5 * 4000 + 4 * len("\n\n")


async def test_files_are_kept_beside_the_database_privately_and_once(world: World) -> None:
    fang = await open_draft(world)
    content = b"%PDF-1.7 minutes of the study session " * 20_000  # 760 KB
    await fang.send_file("学习记录.pdf", content)
    await fang.send_file("学习记录-副本.pdf", content)
    await fang.press("draft:send", expect=contains("组织学习"))
    rows = await world.rows("SELECT content, sha256, size FROM submission_files")
    assert [(row[0], row[2]) for row in rows] == [(None, len(content))] * 2
    assert rows[0][1] == rows[1][1]
    kept = world.app.files.path_of(rows[0][1])
    assert kept.read_bytes() == content
    assert kept.parent.parent == Path(world.db_path + ".files")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(kept.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(kept.parent.parent.stat().st_mode) == 0o700
    kept_files = [p.name for p in kept.parent.parent.rglob("*") if p.is_file()]
    assert [name for name in kept_files if name != LOCK_NAME] == [kept.name]
    assert Path(world.db_path).stat().st_size < len(content)  # noqa: ASYNC240


async def test_per_hand_in_and_per_member_quotas_are_told_with_what_is_used(
    make_world: WorldFactory,
) -> None:
    world = await make_world(quotas=Quotas(handin_bytes=3000, member_bytes=5000))
    fang = await open_draft(world)
    assert (await fang.send_file("一.pdf", b"1" * 2000)).text == so_far(0, 1)
    refused = await fang.send_file("二.pdf", b"2" * 2000)
    assert refused.text.startswith(
        zh(
            "“{name}” was not added: the files of one hand-in may total at most {limit}, and this one has {used} already.",
            name="二.pdf",
            limit="2.9 KB",
            used="2 KB",
        )
    )
    await fang.press("draft:send", expect=contains("组织学习"))
    # Two more tasks: 2,000 bytes in 征求意见, then the member's 5,000 are nearly used.
    for task_id, name, fill in (("opinions", "三.pdf", b"3"), ("submit-plan", "四.pdf", b"4")):
        await fang.say("/submit")
        await fang.press(f"submit:{await world.assignment_id('方磊', task_id)}")
        answer = await fang.send_file(name, fill * 2000)
        if task_id == "opinions":
            assert answer.text == so_far(0, 1)
            await fang.press("draft:send", expect=contains("征求意见"))
    assert answer.text.startswith(
        zh(
            "“{name}” was not added: your files in this plan may total at most {limit}, and you have {used} already. Ask the organizer if you need more room.",
            name="四.pdf",
            limit="4.9 KB",
            used="3.9 KB",
        )
    )
