"""One .zip with everything an office files away: the report, the tables, and every file and
text handed in (the latest version at the top, earlier ones in a sub-folder) and the
ledger's evidence, named by member and task in the plan's language.

Names come from uploads, so each is reduced by ``clean.safe_file_name`` to one harmless
path component; nothing a member typed can climb out of its folder. Contents are read from
the database one file at a time and streamed into the archive: memory holds one file, not
the whole plan.
"""

from __future__ import annotations

import asyncio
import mimetypes
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import IO
from zoneinfo import ZoneInfo

from bot.core.app import Huiwu
from bot.core.i18n import _, use_locale
from bot.core.messaging import OutgoingFile
from bot.reports.clean import safe_file_name, xml_text
from storage import assignments, instances, ledger
from storage.timefmt import from_db

ZIP = "application/zip"


@dataclass
class BundleSummary:
    name: str  # the archive's file name
    documents: int
    files: int  # handed-in files and texts, every version
    evidence: int
    without_content: int  # files we only hold a platform reference to (not downloaded)


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

    async def put(path: str, content: bytes, when: datetime) -> None:
        info = zipfile.ZipInfo(path, date_time=_stamp(when, zone))
        info.compress_type = zipfile.ZIP_DEFLATED
        await asyncio.to_thread(archive.writestr, info, content)

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
            content = await assignments.file_content(app.db, row["id"])
            if content is None:
                summary.without_content += 1
                continue
            folder, prefix = label(row["assignment_id"], row["version"])
            original = safe_file_name(_with_extension(row["file_name"], row["mime_type"]))
            path = names.claim(folder, safe_file_name(f"{prefix}-{original}"))
            await put(path, content, from_db(row["submitted_at"]))
            summary.files += 1
        for item in await ledger.items_of_instance(app.db, instance_id):
            owner = members.get(item.member_id or 0, "")
            for entry in await ledger.evidence_of(app.db, item.id):
                if entry.content is None:
                    continue
                original = safe_file_name(_with_extension(entry.file_name, entry.mime_type))
                path = names.claim(evidence_folder, safe_file_name(f"{item.id}-{owner}-{original}"))
                await put(path, entry.content, entry.added_at)
                summary.evidence += 1
    finally:
        await asyncio.to_thread(archive.close)
    return summary
