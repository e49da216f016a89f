"""One .zip with everything an office files away: the report, the tables, and every file and
text handed in (the latest version at the top, earlier ones in a sub-folder) and the
ledger's evidence, named by member and task in the plan's language.

Names come from uploads, so each is reduced by ``clean.safe_file_name`` to one harmless
path component; nothing a member typed can climb out of its folder. A file kept in the files
folder (``storage.files``) is copied into the archive in pieces; an older one kept in the
database is read on its own: memory holds at most one file, not the whole plan.
"""

from __future__ import annotations

import asyncio
import mimetypes
import shutil
import zipfile
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from bot.core.app import Huiwu
from bot.core.i18n import _, use_locale
from bot.core.messaging import OutgoingFile
from bot.reports.clean import safe_file_name, xml_text
from storage import assignments, instances, ledger
from storage.files import CHUNK
from storage.timefmt import from_db

ZIP = "application/zip"


@dataclass
class BundleSummary:
    name: str  # the archive's file name
    documents: int
    files: int  # handed-in files and texts, every version
    evidence: int
    without_content: int  # files we only hold a platform reference to (not fetched, or lost)


class _Names:
    """Unique paths inside the archive: a second "x.docx" in a folder becomes "x (2).docx"."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def claim(self, folder: str, name: str) -> str:
        stem, dot, extension = name.rpartition(".")
        if not dot:
            stem, extension = name, ""
        candidate, number = f"{folder}/{name}", 1
        while candidate.casefold() in self.used:
            number += 1
            candidate = f"{folder}/{stem} ({number}){dot}{extension}"
        self.used.add(candidate.casefold())
        return candidate

    def release(self, path: str) -> None:
        self.used.discard(path.casefold())


def _stamp(moment: datetime, zone: ZoneInfo) -> tuple[int, int, int, int, int, int]:
    local = max(moment.astimezone(zone).replace(tzinfo=None), datetime(1980, 1, 1))
    return (local.year, local.month, local.day, local.hour, local.minute, local.second)


def _with_extension(name: str | None, mime: str | None) -> str:
    if name:
        return name
    extension = mimetypes.guess_extension(mime or "") or ""
    return _("file") + extension


def bundle_name(plan_title: str) -> str:
    return safe_file_name(_("{plan} - all documents.zip").format(plan=plan_title))


async def write_bundle(
    app: Huiwu, instance_id: int, documents: Iterable[OutgoingFile], target: IO[bytes]
) -> BundleSummary:
    """Write the archive to ``target`` (a file or a spooled buffer)."""
    plan = await app.plans.get(instance_id)
    zone = plan.timezone
    with use_locale(plan.locale):
        root = safe_file_name(plan.title, "plan")
        handed_in = f"{root}/{safe_file_name(_('Handed-in files'))}"
        earlier = f"{handed_in}/{safe_file_name(_('Earlier versions'))}"
        evidence_folder = f"{root}/{safe_file_name(_('Ledger evidence'))}"
        summary = BundleSummary(bundle_name(plan.title), 0, 0, 0, 0)
        version_word = _("version {number}")
    names = _Names()
    members = {m.id: m.name for m in await instances.members_of(app.db, instance_id)}
    by_assignment = {
        a.id: a for a in await assignments.assignments_of_instance(app.db, instance_id)
    }
    latest = {
        a_id: s.version
        for a_id, s in (await assignments.latest_submissions(app.db, instance_id)).items()
    }

    def label(assignment_id: int, version: int) -> tuple[str, str]:
        """The folder and the name's beginning: "方磊-撰写剖析材料" (and the version if earlier)."""
        record = by_assignment[assignment_id]
        try:
            title = plan.task(record.task_id).title
        except KeyError:
            title = record.task_id
        prefix = f"{members.get(record.member_id, '')}-{title}"
        if version == latest.get(assignment_id):
            return handed_in, prefix
        return earlier, f"{prefix}-{version_word.format(number=version)}"

    archive = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED)

    def entry(path: str, when: datetime) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(path, date_time=_stamp(when, zone))
        info.compress_type = zipfile.ZIP_DEFLATED
        return info

    async def put(path: str, content: bytes, when: datetime) -> None:
        await asyncio.to_thread(archive.writestr, entry(path, when), content)

    def copy(path: str, source: Path, when: datetime) -> None:
        with source.open("rb") as reader, archive.open(entry(path, when), "w") as writer:
            shutil.copyfileobj(reader, writer, CHUNK)

    async def put_file(
        path: str, sha256: str | None, when: datetime, read: Callable[[], Awaitable[bytes | None]]
    ) -> bool:
        """From the files folder in pieces, else the bytes kept in the database."""
        if sha256:
            source = app.files.path_of(sha256)
            if await asyncio.to_thread(source.is_file):
                await asyncio.to_thread(copy, path, source, when)
                return True
        content = await read()
        if content is None:
            return False
        await put(path, content, when)
        return True

    try:
        now = app.clock.now()
        for document in documents:
            await put(names.claim(root, safe_file_name(document.name)), document.content, now)
            summary.documents += 1
        for row in await assignments.texts_of_instance(app.db, instance_id):
            folder, prefix = label(row["assignment_id"], row["version"])
            text = xml_text(row["text"]).replace("\n", "\r\n")  # Notepad reads it too
            path = names.claim(folder, safe_file_name(f"{prefix}.txt"))
            await put(path, text.encode("utf-8-sig"), from_db(row["submitted_at"]))
            summary.files += 1
        for row in await assignments.file_index(app.db, instance_id):
            folder, prefix = label(row["assignment_id"], row["version"])
            original = safe_file_name(_with_extension(row["file_name"], row["mime_type"]))
            path = names.claim(folder, safe_file_name(f"{prefix}-{original}"))
            file_id = row["id"]
            if await put_file(
                path,
                row["sha256"],
                from_db(row["submitted_at"]),
                partial(assignments.file_content, app.db, file_id),
            ):
                summary.files += 1
            else:
                names.release(path)
                summary.without_content += 1
        for row in await ledger.evidence_file_index(app.db, instance_id):
            owner = members.get(row["member_id"] or 0, "")
            original = safe_file_name(_with_extension(row["file_name"], row["mime_type"]))
            path = names.claim(
                evidence_folder, safe_file_name(f"{row['item_id']}-{owner}-{original}")
            )
            evidence_id = row["id"]
            if await put_file(
                path,
                row["sha256"],
                from_db(row["added_at"]),
                partial(ledger.evidence_content, app.db, evidence_id),
            ):
                summary.evidence += 1
            else:
                names.release(path)
                summary.without_content += 1
    finally:
        await asyncio.to_thread(archive.close)
    return summary
