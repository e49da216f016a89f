"""Files and pictures on the robot's long connection: WeCom's temporary media upload over the
WebSocket and the file / image messages that show it.

WeCom's "智能机器人长连接" document describes the upload in three steps, each a frame WeCom
answers by its req_id:

1. ``aibot_upload_media_init`` with the media ``type`` (file, image, voice, video), the
   ``filename`` shown, ``total_size``, ``total_chunks`` and the content's ``md5``: the answer's
   body carries an ``upload_id``;
2. ``aibot_upload_media_chunk`` × N: ``upload_id``, ``chunk_index`` from 0 and the chunk as
   ``base64_data``, at most 512 KB before encoding and at most 100 chunks;
3. ``aibot_upload_media_finish``: the answer's body carries the ``media_id``, valid three days.

A media id is then shown by an active push (``aibot_send_msg``: ``chatid``, ``msgtype`` "file"
or "image" and ``{"media_id": ...}``) or as the reply to a received frame
(``aibot_respond_msg`` with that frame's req_id).

Limits (as for the app's temporary media): more than 5 bytes; a file up to 20 MB, a picture
up to 10 MB (a larger picture goes as a file, as the app does), voice 2 MB, video 10 MB.
They are checked before anything is sent (``MediaTooLarge``), so WeCom never sees an upload it
would refuse for its size.

Memory stays bounded: the content is read from a binary stream one chunk at a time (the MD5
in a first pass, the chunks in a second), so an upload holds one chunk and its base64 text
beside whatever the caller already holds. A finished upload's media id is kept (by content,
name and type) for a little less than its three days: a message retried after a failure,
or the same chart sent to two chats, is not uploaded again.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, BinaryIO, Protocol

from bot.adapters.wecom.robot.connection import SEND_MESSAGE, RobotRefused
from bot.core.messaging import OutgoingFile

UPLOAD_INIT = "aibot_upload_media_init"
UPLOAD_CHUNK = "aibot_upload_media_chunk"
UPLOAD_FINISH = "aibot_upload_media_finish"
REPLY = "aibot_respond_msg"

CHUNK_BYTES = 512 * 1024
MAX_CHUNKS = 100
MIN_BYTES = 6  # "more than 5 bytes"
MB = 1024 * 1024
MAX_BYTES = {"file": 20 * MB, "image": 10 * MB, "voice": 2 * MB, "video": 10 * MB}
MEDIA_SECONDS = 3 * 86400.0
# A media id is reused for at most this long: an hour short of its three days, so it is
# never shown after WeCom forgot it.
REUSE_SECONDS = MEDIA_SECONDS - 3600.0
REMEMBERED_UPLOADS = 128


class MediaTooLarge(Exception):
    """Outside WeCom's limits for a robot's temporary media (too large, or under 6 bytes)."""

    def __init__(self, name: str, size: int, limit: int) -> None:
        super().__init__(f"{name}: {size} bytes, WeCom takes {MIN_BYTES} to {limit}")
        self.name = name
        self.size = size
        self.limit = limit


class FrameSender(Protocol):
    """What of ``RobotConnection`` the uploads need: one frame, WeCom's answer."""

    async def send(
        self, cmd: str, body: dict[str, Any], *, req_id: str | None = None
    ) -> dict[str, Any]: ...


def media_type(file: OutgoingFile) -> str:
    """WeCom's media type for a file: pictures up to 10 MB as images, the rest as files."""
    return "image" if file.is_photo and len(file.content) <= MAX_BYTES["image"] else "file"


def check_size(name: str, size: int, kind: str) -> None:
    limit = MAX_BYTES[kind]
    if not MIN_BYTES <= size <= limit:
        raise MediaTooLarge(name, size, limit)


def media_message(kind: str, media_id: str) -> dict[str, Any]:
    """The ``msgtype`` body that shows an uploaded media."""
    return {"msgtype": kind, kind: {"media_id": media_id}}


@dataclass
class UploadStats:
    uploads: int = 0
    chunks: int = 0
    reused: int = 0


def _md5(stream: BinaryIO) -> tuple[str, int]:
    digest = hashlib.md5(usedforsecurity=False)
    size = 0
    while block := stream.read(CHUNK_BYTES):
        digest.update(block)
        size += len(block)
    return digest.hexdigest(), size


class RobotUploader:
    """Uploads temporary media over a robot's connection and sends what was uploaded."""

    def __init__(
        self, connection: FrameSender, *, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.connection = connection
        self._monotonic = monotonic
        self._uploaded: OrderedDict[tuple[str, int, str, str], tuple[str, float]] = OrderedDict()
        self.stats = UploadStats()

    async def upload_file(self, file: OutgoingFile) -> tuple[str, str]:
        """(media type, media id) of a core file (uploaded unless it was, lately)."""
        kind = media_type(file)
        return kind, await self.upload(io.BytesIO(file.content), file.name, kind)

    async def upload(self, stream: BinaryIO, filename: str, kind: str = "file") -> str:
        """Upload what ``stream`` holds (read from where it is, twice); returns the media id.
        ``MediaTooLarge`` before anything is sent; ``RobotUnavailable`` / ``RobotRefused``
        from the connection (a retry starts a new upload: an unfinished one is abandoned)."""
        if kind not in MAX_BYTES:
            raise ValueError(f"unknown media type {kind!r}")
        start = stream.tell()
        md5, size = _md5(stream)
        check_size(filename, size, kind)
        key = (md5, size, kind, filename)
        known = self._uploaded.get(key)
        if known is not None and self._monotonic() - known[1] < REUSE_SECONDS:
            self._uploaded.move_to_end(key)
            self.stats.reused += 1
            return known[0]
        chunks = max(1, math.ceil(size / CHUNK_BYTES))
        init = await self.connection.send(
            UPLOAD_INIT,
            {
                "type": kind,
                "filename": filename,
                "total_size": size,
                "total_chunks": chunks,
                "md5": md5,
            },
        )
        upload_id = _field(init, "upload_id")
        stream.seek(start)
        for index in range(chunks):
            piece = stream.read(CHUNK_BYTES)
            body = {
                "upload_id": upload_id,
                "chunk_index": index,
                "base64_data": base64.b64encode(piece).decode("ascii"),
            }
            del piece
            await self.connection.send(UPLOAD_CHUNK, body)
            self.stats.chunks += 1
        media_id = _field(
            await self.connection.send(UPLOAD_FINISH, {"upload_id": upload_id}), "media_id"
        )
        self.stats.uploads += 1
        self._uploaded[key] = (media_id, self._monotonic())
        while len(self._uploaded) > REMEMBERED_UPLOADS:
            self._uploaded.popitem(last=False)
        return media_id

    def forget(self, media_id: str) -> None:
        """WeCom no longer knows ``media_id`` (it refused it): upload again next time."""
        for key, (known, _at) in list(self._uploaded.items()):
            if known == media_id:
                del self._uploaded[key]

    async def push(self, chatid: str, kind: str, media_id: str) -> None:
        """Show an uploaded media in a chat by active push."""
        await self.connection.send(
            SEND_MESSAGE, {"chatid": chatid, **media_message(kind, media_id)}
        )

    async def reply(self, req_id: str, kind: str, media_id: str) -> None:
        """Show an uploaded media as the reply to the received frame ``req_id``."""
        await self.connection.send(REPLY, media_message(kind, media_id), req_id=req_id)


def _field(answer: dict[str, Any], name: str) -> str:
    body = answer.get("body")
    value = body.get(name) if isinstance(body, dict) else None
    if not isinstance(value, str) or not value:
        raise RobotRefused(-1, f"WeCom's answer carries no {name}")
    return value
