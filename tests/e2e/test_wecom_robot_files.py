"""Files and pictures in the WeCom robot's chats, end to end: the real bot against the robot
emulator (long connection: WeCom's temporary media upload over the WebSocket; callback mode:
files through the self-built app) and the WeCom API emulator."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.adapters.wecom.robot.frames import ROBOT_CHAT_PREFIX
from bot.adapters.wecom.robot.replies import sent_privately_note
from bot.core.i18n import _, use_locale
from bot.core.messaging import OutgoingFile, OutgoingMessage
from bot.delivery import addressing
from tests.e2e.wecom_world import (
    ROBOT_GROUP,
    USERIDS,
    WeComWorld,
    WeComWorldFactory,
    wecom_worlds,
)

ORGANIZER = "方磊"


def zh(msgid: str, **values: object) -> str:
    with use_locale("zh_CN"):
        return _(msgid).format(**values) if values else _(msgid)


@pytest.fixture
async def make_wecom_world(tmp_path: Path) -> AsyncIterator[WeComWorldFactory]:
    async for factory in wecom_worlds(tmp_path):
        yield factory


async def _bound(make: WeComWorldFactory, robot: str, **options: object) -> WeComWorld:
    world = await make(bind_group=False, robot=robot, **options)
    assert await world.group_say(ORGANIZER, "/setup")
    return world


async def _export_in_single_chat(world: WeComWorld) -> str:
    """The organizer sends /export to the robot in their single chat with it."""
    assert world.robot is not None
    me = USERIDS[ORGANIZER]
    await world.robot.say_single(me, "/export")
    await world.settle_robot()
    return me


async def _to_robot_group(world: WeComWorld, message: OutgoingMessage) -> None:
    async with world.app.db.transaction() as conn:
        await addressing.to_groups(conn, world.app, world.instance_id, lambda: message)
    world.app.wake_senders()
    await world.settle_robot()


async def test_export_to_the_robot_delivers_the_documents_as_files(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world, "long")
    robot = world.robot
    assert robot is not None
    me = await _export_in_single_chat(world)
    shown = robot.messages(me)
    files = [m for m in shown if m.msgtype == "file"]
    names = [m.filename or "" for m in files]
    assert [n.rsplit(".", 1)[-1] for n in names] == ["docx", "xlsx", "xlsx", "zip"], names
    assert all(m.via == "push" for m in files)
    report = robot.media_of(files[0]).content
    assert report.startswith(b"PK")  # a real .docx (a zip package)
    # The answer's text came once; a file's name is not pushed again as a text of its own.
    texts = [m.text for m in shown if m.msgtype == "markdown"]
    progress_note = zh("Preparing the documents…")  # when the export outlasts a second
    assert [t for t in texts if t != progress_note] == [
        zh("Here are the documents of the plan ({count} files).", count=4)
    ]
    assert robot.stats.refused_media == 0
    # Nothing of it went through the app.
    assert not [m for m in world.emulator.inbox(me) if m.msgtype == "file"]


async def test_a_phase_summary_chart_arrives_in_the_robot_group_as_a_picture(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world, "long")
    robot = world.robot
    assert robot is not None
    await world.at("2013-12-03T09:00+08:00")
    before = len(robot.messages(ROBOT_GROUP))
    await world.at("2013-12-20T18:00+08:00")  # the phase ends: its summary and chart
    await world.settle_robot()
    shown = robot.messages(ROBOT_GROUP)[before:]
    pictures = [m for m in shown if m.msgtype == "image"]
    assert pictures, [m.msgtype for m in shown]
    assert robot.media_of(pictures[0]).content.startswith(b"\x89PNG")
    summary = next(i for i, m in enumerate(shown) if "会前准备阶段" in m.text)
    assert shown.index(pictures[0]) == summary + 1  # the chart follows its summary


async def test_an_oversize_file_is_explained_in_the_chat(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world, "long")
    robot = world.robot
    assert robot is not None
    huge = OutgoingFile("全部材料.zip", b"\0" * (20 * 2**20 + 1), "application/zip")
    before = len(robot.messages(ROBOT_GROUP))
    await _to_robot_group(world, OutgoingMessage("材料汇总", file=huge))
    shown = robot.messages(ROBOT_GROUP)[before:]
    assert [m.text for m in shown] == [
        "材料汇总",
        zh(
            "The file “{name}” ({size} MB) was not sent: WeCom lets the robot send files up to {limit} MB.",
            name="全部材料.zip",
            size="20.0",
            limit=20,
        ),
    ]
    # A file too small for WeCom gets its own reason.
    await _to_robot_group(world, OutgoingMessage("空.txt", file=OutgoingFile("空.txt", b"abc")))
    assert robot.messages(ROBOT_GROUP)[-1].text == zh(
        "The file “{name}” was not sent: WeCom takes no file of 5 bytes or fewer.", name="空.txt"
    )
    assert robot.stats.uploads_started == 0  # refused before anything went to WeCom
    sent = await world.rows(
        "SELECT state FROM outbox WHERE chat_id = ? ORDER BY id DESC LIMIT 1",
        (ROBOT_CHAT_PREFIX + ROBOT_GROUP,),
    )
    assert sent[0][0] == "sent"


async def test_a_reconnect_in_the_middle_of_an_upload_sends_nothing_twice(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world, "long")
    robot, connection = world.robot, world.runtime.robot_connection
    assert robot is not None and connection is not None
    content = bytes(range(256)) * (4 * 2**20 // 256 + 7)  # nine chunks of 512 KB
    robot.drop_after_chunks = 3  # the gateway goes away after the third chunk
    before = len(robot.messages(ROBOT_GROUP))
    await _to_robot_group(
        world,
        OutgoingMessage("会议材料", file=OutgoingFile("材料.pdf", content, "application/pdf")),
    )
    shown = robot.messages(ROBOT_GROUP)[before:]
    assert [(m.msgtype, m.text or m.filename) for m in shown] == [
        ("markdown", "会议材料"),
        ("file", "材料.pdf"),
    ]
    assert connection.stats.disconnects >= 1
    assert robot.stats.uploads_started == 2 and robot.stats.uploads_finished == 1
    assert (
        hashlib.sha256(robot.media_of(shown[1]).content).digest()
        == hashlib.sha256(content).digest()
    )


async def test_callback_mode_sends_the_documents_through_the_app_and_says_so(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world, "callback")
    robot = world.robot
    assert robot is not None
    world.app.progress_after = 0.0  # "Preparing the documents…" must not take the one answer
    me = await _export_in_single_chat(world)
    # The robot chat gets one answer, through the mention's one response_url.
    [answer] = robot.messages(me)
    assert answer.via == "response_url"
    # The files came through the app's message/send, to the one who asked.
    inbox = world.emulator.inbox(me)
    files = [m for m in inbox if m.msgtype == "file"]
    assert len(files) == 4
    names = [m.content["content"] for m in inbox if m.msgtype == "text"][-4:]
    with use_locale("zh_CN"):
        note = sent_privately_note(names, group=False)
    here = zh("Here are the documents of the plan ({count} files).", count=4)
    assert answer.text == f"{here}\n\n{note}"
    assert names[0].endswith(".docx") and "、" in note
    assert robot.stats.pushes == 0
    held = await world.rows("SELECT COUNT(*) FROM outbox WHERE state = 'held'")
    assert held[0][0] == 0  # nothing waits for another mention


async def test_callback_mode_tells_the_group_a_picture_cannot_be_shown(
    make_wecom_world: WeComWorldFactory,
) -> None:
    world = await _bound(make_wecom_world, "callback")
    robot = world.robot
    assert robot is not None
    chart = OutgoingFile("chart.png", b"\x89PNG" + b"0" * 64, "image/png", is_photo=True)
    await _to_robot_group(world, OutgoingMessage("阶段小结", file=chart))
    before = len(robot.messages(ROBOT_GROUP))
    await world.group_say("唐军", "/status")  # a mention's response_url releases what waited
    shown = robot.messages(ROBOT_GROUP)[before:]
    assert shown[0].text == "阶段小结\n\n" + zh(
        "(This message comes with a picture, which the robot cannot show in this chat.)"
    )
