"""The text of a work-plan document (.txt or .docx), one paragraph a line.

A .txt is UTF-8 or GB18030. In a .docx, paragraphs and tables are read in their order; a
table of tasks (a header such as 序号 | 工作任务 | 牵头领导 | 责任单位 | 完成时限) becomes one
numbered line a row, its cells written as the fields the importer reads in paragraphs:

    1. 集中学习研讨（牵头领导：张建华；责任单位：办公室；完成时限：12月下旬）

A table whose header names no task and no field is kept as one marked line, which the
importer reports as not read.
"""

from __future__ import annotations

import re
from pathlib import Path

from bot.core.i18n import _
from bot.core.oserrors import os_error_reason
from bot.plan.cn_layout import ASSIGNEE_LABELS, DEADLINE_LABELS, LEADER_LABELS, OTHER_LABELS
from bot.plan.docx_limits import check_docx
from bot.plan.model import DOCUMENT_SUFFIXES

TABLE_MARK = "【表格】"
# Header words of the column that says what is to be done, and of the fields beside it.
_TASK_COLUMN = re.compile(
    r"^(?:主要|具体|重点)?(?:工作|整改)?(?:任务|内容|事项|措施|项目)(?:名称)?$"
)
_DETAIL_COLUMN = re.compile(r"^(?:具体|工作)?(?:要求|措施|举措|内容|说明)$")
# Columns beside it: the task's field labels ("时间" alone is too common a word for a column).
_LABELS = LEADER_LABELS + ASSIGNEE_LABELS + OTHER_LABELS + DEADLINE_LABELS
FIELD_COLUMNS = (*(label for label in _LABELS if label != "时间"), "时间安排")


class PlanImportError(Exception):
    """The document or roster cannot be read at all (wrong format, unreadable file)."""


def read_document(path: str | Path) -> str:
    """The text of a .txt or .docx document, one paragraph a line."""
    return document_text(read_document_bytes(path), Path(path).name, source=str(path))


def read_document_bytes(path: str | Path) -> bytes:
    """The bytes of a .txt or .docx document on disk (refused: another kind, unreadable)."""
    path = Path(path)
    if path.suffix.lower() not in (*DOCUMENT_SUFFIXES, ""):
        raise PlanImportError(
            _(
                "{file}: only .txt and .docx documents can be imported (save a .doc or .pdf as .docx)"
            ).format(file=path)
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanImportError(
            _("{file}: cannot read the file: {reason}").format(
                file=path, reason=os_error_reason(exc)
            )
        ) from exc
    return data


def document_text(data: bytes, file_name: str, *, source: str | None = None) -> str:
    """The text of a document's bytes (a file sent in chat): .docx by content, else text."""
    if file_name.lower().endswith(".docx"):
        return _read_docx(data, source or file_name)
    return _decode(data, source or file_name)


def _decode(data: bytes, source: str) -> str:
    not_text = _("{file}: not a text document (neither UTF-8 nor GB18030 text)")
    if b"\x00" in data:  # a binary file (a .pdf, a .doc, an image) renamed
        raise PlanImportError(not_text.format(file=source))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PlanImportError(not_text.format(file=source))


def _read_docx(data: bytes, source: str) -> str:
    import io
    import zipfile

    import docx  # python-docx
    from docx.opc.exceptions import PackageNotFoundError
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from lxml import etree

    check_docx(data)  # before anything is unpacked
    try:
        document = docx.Document(io.BytesIO(data))
    except (
        PackageNotFoundError,
        KeyError,
        ValueError,
        zipfile.BadZipFile,
        etree.XMLSyntaxError,  # among others: deeper than libxml2 allows
    ) as exc:
        raise PlanImportError(
            _("{file}: not a readable .docx document").format(file=source)
        ) from exc
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(block, document).text)
        elif tag == "tbl":
            rows = [
                [cell.text.strip() for cell in row.cells] for row in Table(block, document).rows
            ]
            lines.extend(table_lines(rows))
    return "\n".join(lines)


def table_lines(rows: list[list[str]]) -> list[str]:
    """A table as lines: a task table one numbered line a row, else one marked line."""
    if not rows:
        return []
    header = ["".join(cell.split()) for cell in rows[0]]
    task_column = next((i for i, name in enumerate(header) if _TASK_COLUMN.match(name)), None)
    fields = {i: name for i, name in enumerate(header) if name in FIELD_COLUMNS}
    if task_column is None or not fields:
        return [TABLE_MARK + "  ".join(rows[0])]
    details = [
        i for i, name in enumerate(header) if i != task_column and _DETAIL_COLUMN.match(name)
    ]
    lines = []
    for number, row in enumerate((row for row in rows[1:] if any(row)), 1):
        cells = [" ".join(cell.split()) for cell in row] + [""] * len(header)
        task = cells[task_column].rstrip("。；;")
        detail = "".join(cells[i] for i in details if cells[i] and cells[i] != task)
        written = "；".join(f"{name}：{cells[i]}" for i, name in fields.items() if cells[i])
        body = f"{task}。{detail}" if detail else f"{task}。"
        lines.append(f"{number}. {body}（{written}）" if written else f"{number}. {body}")
    return lines
