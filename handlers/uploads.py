"""Keeping a file a member sends: within the quotas (``bot.core.policy.Quotas``), streamed
into the files folder (``storage.files``) as it arrives, or refused with the reason in words
the member reads.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.core.formatting import file_size
from bot.core.i18n import _
from bot.core.messaging import IncomingFile
from handlers.context import HandlerContext
from storage.files import FileTooLarge
from storage.records import FileCopy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Room:
    """How much more may be kept: bytes left in the hand-in and for the member (None: no
    such bound, as for evidence), and the bytes already in each (for the message)."""

    handin_left: int | None = None
    handin_used: int = 0
    member_left: int | None = None
    member_used: int = 0


def _name(file: IncomingFile) -> str:
    return file.file_name or _("photo")


def _too_large(ctx: HandlerContext, file: IncomingFile, size: int | None, room: Room) -> str:
    """Why a file of ``size`` (None: larger than some bound) cannot be kept: the tightest bound."""
    quotas, name = ctx.app.quotas, _name(file)
    platform_limit = ctx.app.download_limit(ctx.event.platform)
    bounds = [(quotas.file_bytes, "file")]
    if platform_limit is not None:
        bounds.append((platform_limit, "platform"))
    if room.handin_left is not None:
        bounds.append((room.handin_left, "handin"))
    if room.member_left is not None:
        bounds.append((room.member_left, "member"))
    exceeded = [(limit, kind) for limit, kind in bounds if size is None or size > limit]
    _limit, kind = min(exceeded or bounds)
    if kind == "platform":
        return _(
            "“{name}” was not added: it is larger than {limit}, the most I can fetch from this app. Please send a smaller file (compress or split it)."
        ).format(name=name, limit=file_size(platform_limit or 0))
    if kind == "handin":
        return _(
            "“{name}” was not added: the files of one hand-in may total at most {limit}, and this one has {used} already."
        ).format(
            name=name,
            limit=file_size(quotas.handin_bytes),
            used=file_size(room.handin_used),
        )
    if kind == "member":
        return _(
            "“{name}” was not added: your files in this plan may total at most {limit}, and you have {used} already. Ask the organizer if you need more room."
        ).format(
            name=name,
            limit=file_size(quotas.member_bytes),
            used=file_size(room.member_used),
        )
    if size is None:
        return _("“{name}” was not added: a file may be at most {limit}, and it is larger.").format(
            name=name, limit=file_size(quotas.file_bytes)
        )
    return _("“{name}” was not added: it is {size}, and a file may be at most {limit}.").format(
        name=name, size=file_size(size), limit=file_size(quotas.file_bytes)
    )


async def keep_file(ctx: HandlerContext, file: IncomingFile, room: Room) -> FileCopy | str:
    """Fetch ``file`` into the files folder within the per-file quota, the platform's limit
    and ``room``; the copy to record, or the sentence saying why it was not kept."""
    app = ctx.app
    bounds = [app.quotas.file_bytes]
    platform_limit = app.download_limit(ctx.event.platform)
    if platform_limit is not None:
        bounds.append(platform_limit)
    bounds += [left for left in (room.handin_left, room.member_left) if left is not None]
    cap = min(bounds)
    if cap <= 0 or (file.size is not None and file.size > cap):
        return _too_large(ctx, file, file.size, room)
    try:
        stored = await app.files.store(
            lambda sink: app.download_to(ctx.event.platform, file, sink), cap
        )
    except FileTooLarge as exc:
        return _too_large(ctx, file, exc.size, room)
    except Exception as exc:  # the platform failed us: say so rather than keep a dead reference
        logger.warning("could not fetch %s: %s", file.file_ref, exc)
        return _(
            "I could not fetch “{name}” just now, so it was not added. Please send it again."
        ).format(name=_name(file))
    return FileCopy(
        ctx.event.platform,
        file.file_ref,
        file.file_name,
        file.mime_type,
        stored.size,
        stored.sha256,
    )
