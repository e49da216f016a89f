"""Issue 22, item 2: a .docx built to exhaust the machine is refused before it is unpacked,
and every document is read in a child process under a time and memory limit.

The bombs are real zip archives built here, small enough for a shared test machine: a
.docx of ~40 KB whose document.xml unpacks to 12 MiB (the reported one: 253 KB to 165 MiB),
one compressed 400 times, one with 600 parts, one nested deeper than libxml2 allows.
"""

from __future__ import annotations

import io
import zipfile
from random import Random

import pytest
from docx import Document

from bot.core.i18n import use_locale
from bot.plan.bounded_import import import_document
from bot.plan.document import PlanImportError, document_text
from bot.plan.docx_limits import MAX_ENTRIES, MAX_PART_BYTES, DocumentTooLarge

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
PARAGRAPH = "<w:p><w:r><w:t>第一阶段：学习研讨。</w:t></w:r></w:p>"


def docx_with(document_xml: bytes, extra_parts: int = 0) -> bytes:
    """A Word document (python-docx's template) with its body replaced."""
    template = io.BytesIO()
    Document().save(template)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(template) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as target,
    ):
        for entry in source.infolist():
            data = source.read(entry)
            if entry.filename == "word/document.xml":
                data = document_xml
            target.writestr(entry.filename, data)
        for number in range(extra_parts):
            target.writestr(f"customXml/huiwu{number}.xml", b"<a/>")
    return out.getvalue()


def body(inner: bytes) -> bytes:
    return f"<w:document {W}><w:body>".encode() + inner + b"</w:body></w:document>"


def paragraphs_of(size: int) -> bytes:
    """Paragraphs repeated to ``size`` bytes: they compress hundreds of times."""
    one = PARAGRAPH.encode()
    return body(one * (size // len(one) + 1))


def varied_paragraphs_of(size: int) -> bytes:
    """Paragraphs that differ, compressing about as well as a real document's XML."""
    random = Random(22)
    parts, total = [], 0
    while total < size:
        words = "".join(chr(random.randrange(0x4E00, 0x9FA5)) for _ in range(40))
        parts.append(f"<w:p><w:r><w:t>{words}</w:t></w:r></w:p>".encode())
        total += len(parts[-1])
    return body(b"".join(parts))


def test_a_zip_bomb_is_refused_before_it_is_unpacked() -> None:
    bomb = docx_with(paragraphs_of(12 * 1024 * 1024))
    assert len(bomb) < 256 * 1024  # passes the upload's size check, as the reported one did
    with pytest.raises(DocumentTooLarge) as refused:
        document_text(bomb, "方案.docx")
    assert refused.value.code == "part"
    with use_locale("zh_CN"):
        assert refused.value.reason() == "其中一个部件解压后为 12.0 MiB（最多 8.0 MiB）"
    with use_locale("en"):
        assert refused.value.reason() == "one part of it unpacks to 12.0 MiB (at most 8.0 MiB)"


def test_a_part_compressed_far_better_than_word_compresses_is_refused() -> None:
    packed = docx_with(body(b"<w:p/>" * (3 * 1024 * 1024 // 6)))
    with pytest.raises(DocumentTooLarge) as refused:
        document_text(packed, "方案.docx")
    assert refused.value.code == "ratio"


def test_too_many_parts_are_refused() -> None:
    many = docx_with(paragraphs_of(1000), extra_parts=MAX_ENTRIES + 100)
    with pytest.raises(DocumentTooLarge) as refused:
        document_text(many, "方案.docx")
    assert refused.value.code == "entries"


def test_xml_nested_deeper_than_libxml2_allows_is_unreadable_not_a_crash() -> None:
    deep = body(b"<w:customXml>" * 5000 + PARAGRAPH.encode() + b"</w:customXml>" * 5000)
    with pytest.raises(PlanImportError):
        document_text(docx_with(deep), "方案.docx")


def test_a_document_within_the_limits_is_read() -> None:
    text = document_text(docx_with(varied_paragraphs_of(MAX_PART_BYTES // 4)), "方案.docx")
    assert len(text.splitlines()) > 10_000


@pytest.mark.slow
def test_the_child_process_is_refused_cleanly_when_it_runs_out_of_memory() -> None:
    """The limit is real: under 60 MiB of address space the interpreter cannot even start
    reading, and the caller gets a refusal, not a crash (the bot's process is untouched)."""
    ordinary = docx_with(paragraphs_of(1000))
    with use_locale("en"):
        with pytest.raises(DocumentTooLarge) as refused:
            import_document(ordinary, "方案.docx", memory=60 * 1024 * 1024)
        assert refused.value.code == "memory"
        assert refused.value.reason() == "reading it needed more than 60.0 MiB of memory"


@pytest.mark.slow
def test_the_child_process_answers_the_bomb_in_the_readers_language() -> None:
    bomb = docx_with(paragraphs_of(12 * 1024 * 1024))
    with use_locale("zh_CN"), pytest.raises(DocumentTooLarge) as refused:
        import_document(bomb, "方案.docx")
    assert refused.value.code == "part"
    assert refused.value.values == {"size": "12.0 MiB", "limit": "8.0 MiB"}
