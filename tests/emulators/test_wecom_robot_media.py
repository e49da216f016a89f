"""Temporary media on the robot's long connection: the bot's client (``RobotConnection`` and
``RobotUploader``) against the emulator's gateway over the loopback WebSocket, and the
gateway refusing what WeCom refuses (sizes, chunk order, unknown upload ids, wrong types,
expired media ids)."""

from __future__ import annotations

import asyncio
import base64
import io
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from bot.adapters.wecom.robot.connection import RobotConnection, RobotRefused
from bot.adapters.wecom.robot.media import (
    CHUNK_BYTES,
    UPLOAD_CHUNK,
    UPLOAD_FINISH,
    UPLOAD_INIT,
    MediaTooLarge,
    RobotUploader,
)
from bot.sandbox.wecom.robot import RobotEmulator

GROUP = "wrkMediaGroup"


@dataclass
class Gateway:
    emulator: RobotEmulator
    connection: RobotConnection
    uploader: RobotUploader
    now: list[float]
    frames: list[tuple[dict[str, Any], str]]


@pytest.fixture
async def gateway() -> AsyncIterator[Gateway]:
    now = [1_700_000_000.0]
    frames: list[tuple[dict[str, Any], str]] = []

    async def on_frame(body: dict[str, Any], req_id: str) -> None:
        frames.append((body, req_id))

    emulator = RobotEmulator(bot_id="b", secret="s", clock=lambda: now[0])
    await emulator.start()
    connection = RobotConnection(
        bot_id="b", secret="s", on_frame=on_frame, url=emulator.ws_url, heartbeat=5.0
    )
    await connection.start()
    try:
        await connection.wait_connected(10)
        yield Gateway(emulator, connection, RobotUploader(connection), now, frames)
    finally:
        await connection.stop()
        await emulator.stop()


async def test_a_file_is_uploaded_in_chunks_and_pushed(gateway: Gateway) -> None:
    content = os.urandom(CHUNK_BYTES * 2 + 1234)  # three chunks, the last short
    media_id = await gateway.uploader.upload(io.BytesIO(content), "报告.docx")
    assert gateway.emulator.stats.chunks == 3
    await gateway.uploader.push(GROUP, "file", media_id)
    [shown] = gateway.emulator.messages(GROUP)
    assert (shown.msgtype, shown.filename, shown.via) == ("file", "报告.docx", "push")
    assert gateway.emulator.media_of(shown).content == content
    # The same content under the same name is not uploaded again while its id is valid.
    assert await gateway.uploader.upload(io.BytesIO(content), "报告.docx") == media_id
    assert gateway.emulator.stats.uploads_finished == 1


async def test_a_picture_is_the_reply_to_a_received_frame(gateway: Gateway) -> None:
    await gateway.emulator.mention(GROUP, "u1", "/summary")
    async with asyncio.timeout(5):
        while not gateway.frames:  # noqa: ASYNC110 (the frame comes from the gateway)
            await asyncio.sleep(0.01)
    _body, req_id = gateway.frames[0]
    media_id = await gateway.uploader.upload(io.BytesIO(b"\x89PNG" + b"0" * 100), "c.png", "image")
    await gateway.uploader.reply(req_id, "image", media_id)
    [shown] = gateway.emulator.messages(GROUP)
    assert (shown.msgtype, shown.via) == ("image", "reply")
    with pytest.raises(RobotRefused) as refused:  # no frame was received with this req_id
        await gateway.uploader.reply("cb_unknown", "image", media_id)
    assert refused.value.errcode == 40058


async def test_limits_are_kept_before_anything_is_sent(gateway: Gateway) -> None:
    with pytest.raises(MediaTooLarge):
        await gateway.uploader.upload(io.BytesIO(b"tiny"), "t.txt")  # 5 bytes or fewer
    with pytest.raises(MediaTooLarge):
        await gateway.uploader.upload(io.BytesIO(b"x" * (10 * 2**20 + 1)), "big.png", "image")
    assert gateway.emulator.stats.uploads_started == 0


async def _init(gateway: Gateway, **body: Any) -> dict[str, Any]:
    fields = {"type": "file", "filename": "a.bin", "total_size": 10, "total_chunks": 1}
    return await gateway.connection.send(UPLOAD_INIT, {**fields, **body})


async def _refused(gateway: Gateway, cmd: str, body: dict[str, Any]) -> int:
    with pytest.raises(RobotRefused) as refused:
        await gateway.connection.send(cmd, body)
    return refused.value.errcode


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def test_the_gateway_refuses_what_wecom_refuses(gateway: Gateway) -> None:
    init = {"type": "file", "filename": "a.bin", "total_size": 10, "total_chunks": 1}
    # Oversize, undersize, wrong type, too many chunks, too few chunks for the size.
    assert await _refused(gateway, UPLOAD_INIT, {**init, "total_size": 20 * 2**20 + 1}) == 40006
    assert await _refused(gateway, UPLOAD_INIT, {**init, "total_size": 5}) == 40006
    assert await _refused(gateway, UPLOAD_INIT, {**init, "type": "pdf"}) == 40004
    assert await _refused(gateway, UPLOAD_INIT, {**init, "total_chunks": 101}) == 40058
    assert await _refused(gateway, UPLOAD_INIT, {**init, "total_size": CHUNK_BYTES + 1}) == 40058
    # An unknown upload id.
    chunk = {"upload_id": "up_nope", "chunk_index": 0, "base64_data": _b64(b"0123456789")}
    assert await _refused(gateway, UPLOAD_CHUNK, chunk) == 40058
    # Chunks out of order, and a finish before every chunk is there.
    upload_id = (await _init(gateway, total_size=20, total_chunks=2))["body"]["upload_id"]
    second = {"upload_id": upload_id, "chunk_index": 1, "base64_data": _b64(b"0123456789")}
    assert await _refused(gateway, UPLOAD_CHUNK, second) == 40058
    assert await _refused(gateway, UPLOAD_FINISH, {"upload_id": upload_id}) == 40058
    # A chunk over 512 KB once decoded.
    upload_id = (await _init(gateway, total_size=CHUNK_BYTES + 1, total_chunks=2))["body"][
        "upload_id"
    ]
    big = {"upload_id": upload_id, "chunk_index": 0, "base64_data": _b64(b"x" * (CHUNK_BYTES + 1))}
    assert await _refused(gateway, UPLOAD_CHUNK, big) == 40006
    # A wrong MD5 at the finish.
    upload_id = (await _init(gateway, md5="0" * 32))["body"]["upload_id"]
    await gateway.connection.send(
        UPLOAD_CHUNK, {"upload_id": upload_id, "chunk_index": 0, "base64_data": _b64(b"x" * 10)}
    )
    assert await _refused(gateway, UPLOAD_FINISH, {"upload_id": upload_id}) == 40058
    assert gateway.emulator.messages(GROUP) == []


async def test_a_media_is_shown_only_as_its_type_and_for_three_days(gateway: Gateway) -> None:
    media_id = await gateway.uploader.upload(io.BytesIO(b"\x89PNG" + b"0" * 100), "c.png", "image")
    with pytest.raises(RobotRefused) as wrong_type:
        await gateway.uploader.push(GROUP, "file", media_id)
    assert wrong_type.value.errcode == 40008
    with pytest.raises(RobotRefused) as unknown:
        await gateway.uploader.push(GROUP, "image", "media_nope")
    assert unknown.value.errcode == 40007
    gateway.now[0] += 3 * 86400 + 1
    with pytest.raises(RobotRefused) as expired:
        await gateway.uploader.push(GROUP, "image", media_id)
    assert expired.value.errcode == 40007
    assert gateway.emulator.messages(GROUP) == []


async def test_an_unfinished_upload_is_forgotten_after_half_an_hour(gateway: Gateway) -> None:
    upload_id = (await _init(gateway))["body"]["upload_id"]
    gateway.now[0] += 1801
    chunk = {"upload_id": upload_id, "chunk_index": 0, "base64_data": _b64(b"x" * 10)}
    assert await _refused(gateway, UPLOAD_CHUNK, chunk) == 40058
