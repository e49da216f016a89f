"""Bounds on a .docx before anything unpacks it.

A .docx is a zip archive: 253 KB can unpack to 165 MiB of paragraphs, which python-docx
would hold in memory several times over. The central directory says how large each part
unpacks (and ``zipfile`` never returns more than that), so the archive is refused before a
byte is inflated if it has too many parts, a part or the whole unpacks too large, or a large
part is compressed suspiciously well. XML depth and text-node size are bounded by libxml2
itself (python-docx's parser does not ask for ``huge_tree``): a deeper document fails to parse
and is refused as unreadable.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field

from bot.core.i18n import _

MAX_ENTRIES = 500  # a Word document has a few dozen parts
MAX_PART_BYTES = 8 * 1024 * 1024  # a plan of many pages is well under 1 MiB of XML
MAX_TOTAL_BYTES = 24 * 1024 * 1024  # pictures included
MAX_RATIO = 100  # Word's XML deflates 5 to 20 times; a bomb, hundreds of times
RATIO_FLOOR = 1024 * 1024  # the ratio is checked for parts that unpack larger than this


def size_text(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MiB" if size >= 1024 * 1024 else f"{size // 1024} KiB"


@dataclass
class DocumentTooLarge(Exception):
    """The document would take too much to read; ``reason`` says what, in the reader's
    language (one of the codes below with its figures)."""

    code: str  # entries, part, total, ratio, time, memory
    values: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.code)

    def reason(self) -> str:
        texts = {
            "entries": _("it has {count} parts (at most {limit})"),
            "part": _("one part of it unpacks to {size} (at most {limit})"),
            "total": _("it unpacks to {size} (at most {limit})"),
            "ratio": _("one part of it is compressed {ratio} times (at most {limit})"),
            "time": _("reading it took longer than {seconds} seconds"),
            "memory": _("reading it needed more than {size} of memory"),
        }
        return texts[self.code].format(**self.values)

    def __str__(self) -> str:
        return self.reason()


def check_docx(data: bytes) -> None:
    """Refuse an archive that would unpack too large; a broken one is left to python-docx."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError):
        return
    with archive:
        entries = archive.infolist()
        if len(entries) > MAX_ENTRIES:
            raise DocumentTooLarge("entries", {"count": len(entries), "limit": MAX_ENTRIES})
        total = 0
        for entry in entries:
            size = entry.file_size
            if size > MAX_PART_BYTES:
                raise DocumentTooLarge(
                    "part", {"size": size_text(size), "limit": size_text(MAX_PART_BYTES)}
                )
            if size > RATIO_FLOOR and size > MAX_RATIO * max(entry.compress_size, 1):
                ratio = size // max(entry.compress_size, 1)
                raise DocumentTooLarge("ratio", {"ratio": ratio, "limit": MAX_RATIO})
            total += size
        if total > MAX_TOTAL_BYTES:
            raise DocumentTooLarge(
                "total", {"size": size_text(total), "limit": size_text(MAX_TOTAL_BYTES)}
            )
