"""The board's downloads: one handed-in file (a submission's or a piece of ledger evidence),
streamed from the files folder, and a zip of every latest submission named by member and task
(names made safe for every file system by ``bot.reports.clean.safe_file_name``; a text answer
becomes a .txt)."""

from __future__ import annotations

import asyncio
import io
import logging
import mimetypes
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from bot.core.app import Huiwu
from bot.core.i18n import _
from bot.core.messaging import IncomingFile
from bot.reports.clean import safe_file_name
from storage import assignments, instances
from storage.ledger import EvidenceFile
from storage.records import FileRecord

logger = logging.getLogger(__name__)

CHUNK = 64 * 1024  # what a download sends at a time from the files folder
# Types a browser would render or run if it ever ignored "attachment": sent as plain bytes.
_ACTIVE_TYPES = {"text/html", "text/xml", "application/xml", "text/javascript"}
_ACTIVE_TYPES |= {"application/javascript", "application/ecmascript", "text/ecmascript"}
_ACTIVE_TYPES |= {"application/x-shockwave-flash", "text/xsl"}
OCTET_STREAM = "application/octet-stream"
_MIME = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,63}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")


@dataclass(frozen=True)
class Stored:
    """A file a member handed in (a submission's or a piece of ledger evidence), wherever it
    is: our copy in the files folder (``sha256``), bytes in its row (rows from before the
    folder), or only the platform's reference."""

    name: str | None
    mime_type: str | None
    sha256: str | None = None
    content: bytes | None = None
    platform: str | None = None
    file_ref: str | None = None

    @classmethod
    def of(cls, record: FileRecord | EvidenceFile) -> Stored:
        """A submission's file or a ledger item's evidence: the same fields."""
        return cls(
            record.file_name,
            record.mime_type,
            record.sha256,
            record.content,
            record.platform,
            record.file_ref,
        )


def download_name(stored: Stored) -> str:
    """The original name made harmless (one path part, no quotes or controls), with an
    extension from its type when it came without a name."""
    if stored.name:
        return safe_file_name(stored.name)
    extension = mimetypes.guess_extension(stored.mime_type or "") or ""
    return safe_file_name(_("file") + extension)


def download_type(mime_type: str | None, name: str) -> str:
    """The type to send: the one recorded when it says more than "bytes", is well formed and
    cannot be rendered as a page or script; else the one the name suggests, under the same
    rule; else plain bytes."""
    for candidate in ((mime_type or "").split(";")[0].strip().lower(), _guess(name)):
        if (
            candidate != OCTET_STREAM
            and _MIME.fullmatch(candidate)
            and candidate not in _ACTIVE_TYPES
            and not candidate.endswith("+xml")
            and not candidate.startswith("multipart/")
        ):
            return candidate
    return OCTET_STREAM


def _guess(name: str) -> str:
    return (mimetypes.guess_type(name, strict=False)[0] or "").lower()


def content_disposition(name: str) -> str:
    """``attachment`` with the name twice: RFC 5987's ``filename*`` (UTF-8, every browser
    today) and a plain-ASCII ``filename`` for the rest. ``name`` is already a safe name
    (no quotes, backslashes or controls: nothing can break out of the header)."""
    plain = "".join(c if " " <= c < "\x7f" and c not in '"\\%' else "_" for c in name)
    return f"attachment; filename=\"{plain}\"; filename*=UTF-8''{quote(name, safe='')}"


async def local_copy(app: Huiwu, stored: Stored) -> Path | None:
    """Our copy in the files folder. Without one, the platform's copy is fetched into the
    folder first (streamed, within the file quota and the platform's limit); None when
    neither can be had."""
    if stored.sha256:
        path = app.files.path_of(stored.sha256)
        if await asyncio.to_thread(path.is_file):
            return path
        logger.warning("a handed-in file is missing from the files folder")
    platform = stored.platform
    if not platform or not stored.file_ref or platform not in app.platforms:
        return None
    bounds = [app.quotas.file_bytes, app.download_limit(platform) or app.quotas.file_bytes]
    incoming = IncomingFile(stored.file_ref, stored.name, stored.mime_type)
    try:
        kept = await app.files.store(
            lambda sink: app.download_to(platform, incoming, sink), min(bounds)
        )
    except Exception as exc:  # an expired reference, or larger than may be kept
        logger.warning("a handed-in file could not be fetched: %s", type(exc).__name__)
        return None
    return app.files.path_of(kept.sha256)


async def file_content(app: Huiwu, record: FileRecord) -> bytes | None:
    """The stored copy, or the platform's (when the bot could not keep one); None if gone."""
    if record.content is not None:
        return record.content
    if record.sha256:
        try:
            return await asyncio.to_thread(app.files.read, record.sha256)
        except OSError:
            logger.warning("a submitted file is missing from the files folder")
    if record.platform not in app.platforms:
        return None
    try:
        return await app.download(
            record.platform, IncomingFile(record.file_ref, record.file_name, record.mime_type)
        )
    except Exception as exc:  # an expired platform reference: the zip says so
        logger.warning("a submitted file could not be fetched: %s", type(exc).__name__)
        return None


async def submissions_zip(app: Huiwu, instance_id: int) -> bytes:
    """Every assignment's latest submission: ``member/task - vN - file``."""
    plan = await app.plans.get(instance_id)
    members = {m.id: m for m in await instances.members_of(app.db, instance_id)}
    latest = await assignments.latest_submissions(app.db, instance_id)
    entries: list[tuple[str, bytes]] = []
    missing: list[str] = []
    for record in await assignments.assignments_of_instance(app.db, instance_id):
        submission = latest.get(record.id)
        if submission is None:
            continue
        member = safe_file_name(members[record.member_id].name, "member")
        task = safe_file_name(plan.task(record.task_id).title, record.task_id)
        prefix = f"{member}/{task} - v{submission.version}"
        if submission.text:
            entries.append((f"{prefix}.txt", submission.text.encode("utf-8")))
        for index, stored in enumerate(await assignments.files_of(app.db, submission.id), 1):
            name = f"{prefix} - {safe_file_name(stored.file_name or f'file-{index}')}"
            content = await file_content(app, stored)
            if content is None:
                missing.append(name)
            else:
                entries.append((name, content))
    return await asyncio.to_thread(_build_zip, entries, missing)


def _build_zip(entries: list[tuple[str, bytes]], missing: list[str]) -> bytes:
    buffer = io.BytesIO()
    seen: set[str] = set()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in entries:
            unique, n = name, 1
            while unique in seen:
                n += 1
                stem, dot, ext = name.rpartition(".")
                unique = f"{stem} ({n}){dot}{ext}" if dot else f"{name} ({n})"
            seen.add(unique)
            archive.writestr(unique, content)
        if missing:
            archive.writestr("MISSING.txt", "\n".join(missing).encode("utf-8"))
    return buffer.getvalue()
