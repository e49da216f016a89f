"""The board's downloads: one submitted file, and a zip of every latest submission named by
member and task (names made safe for every file system; a text answer becomes a .txt)."""

from __future__ import annotations

import asyncio
import io
import logging
import re
import unicodedata
import zipfile

from bot.core.app import Huiwu
from bot.core.messaging import IncomingFile
from storage import assignments, instances
from storage.records import FileRecord

logger = logging.getLogger(__name__)

MAX_NAME = 80  # characters of one part of a name in the zip
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')


def safe_name(text: str, fallback: str = "file") -> str:
    """A file name part with no path separators, control or reserved characters, not hidden,
    not a Windows device name, at most ``MAX_NAME`` characters."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("_", text).strip().strip(".").strip()
    if text.upper().split(".")[0] in {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(10)),
        *(f"LPT{i}" for i in range(10)),
    }:
        text = f"_{text}"
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        text = (
            (stem[: MAX_NAME - len(ext) - 1] + dot + ext)
            if dot and len(ext) < 10
            else text[:MAX_NAME]
        )
    return text or fallback


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
        member = safe_name(members[record.member_id].name, "member")
        task = safe_name(plan.task(record.task_id).title, record.task_id)
        prefix = f"{member}/{task} - v{submission.version}"
        if submission.text:
            entries.append((f"{prefix}.txt", submission.text.encode("utf-8")))
        for index, stored in enumerate(await assignments.files_of(app.db, submission.id), 1):
            name = f"{prefix} - {safe_name(stored.file_name or f'file-{index}')}"
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
