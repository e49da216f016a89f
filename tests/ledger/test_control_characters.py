"""Issue 22, item 4: a control character pasted from Word (``\\x0b``, Word's manual line
break) in a hand-in, or a NUL in a file name, must not break /export or ``huiwu export``:
the documents are written with the text cleaned for XML, the database keeps the original."""

from __future__ import annotations

import io
from datetime import datetime

from docx import Document
from openpyxl import load_workbook

from bot.reports.clean import xml_text
from bot.reports.export import export_documents
from storage import assignments, instances, ledger
from storage.ledger import NewItem
from tests.ledger.conftest import Filled

WORD_TEXT = "第一行\x0b第二行\x0c第三行"
NUL_NAME = "材料\x00.docx"
LEDGER_TEXT = "整改\x01措施\x1f落实"


def test_xml_text_keeps_what_xml_can_hold_and_turns_word_breaks_into_lines() -> None:
    assert xml_text("a\tb\nc") == "a\tb\nc"
    assert xml_text(WORD_TEXT) == "第一行\n第二行\n第三行"
    assert xml_text(NUL_NAME) == "材料.docx"
    assert xml_text("x\ud800y\ufffez\uffff") == "xyz"
    assert xml_text("表情😀") == "表情😀"
    assert xml_text("") == ""


async def _add_hostile_text(filled: Filled) -> None:
    db = filled.app.db
    members = {m.member_key: m for m in await instances.members_of(db, filled.instance_id)}
    found = await assignments.assignments_of_instance(db, filled.instance_id)
    record = next(
        a for a in found if a.member_id == members["fanglei"].id and a.task_id == "statements"
    )
    when = datetime.fromisoformat("2014-01-10T10:00+08:00")
    async with db.transaction() as conn:
        await assignments.add_submission(
            conn,
            record.id,
            text=WORD_TEXT,
            files=[("telegram", "f7", NUL_NAME, "application/msword", 4, b"PK\x03\x04")],
            now=when,
            late=False,
        )
        await assignments.set_assignment_status(conn, record, "submitted")
        await ledger.add_item(
            conn,
            filled.instance_id,
            NewItem(LEDGER_TEXT, "opinion", "immediate", members["fanglei"].id, "办\x0b公室", None),
            members["fanglei"].id,
            when,
        )


async def test_export_writes_documents_from_text_with_control_characters(filled: Filled) -> None:
    await _add_hostile_text(filled)
    files = {f.name: f.content for f in await export_documents(filled.app, filled.instance_id)}

    report = Document(io.BytesIO(files["领导班子专题民主生活会-情况报告.docx"]))
    paragraphs = [p.text for p in report.paragraphs]
    # The line breaks, as Word showed them: each line its own paragraph of the report.
    start = paragraphs.index("第一行")
    assert paragraphs[start : start + 3] == ["第一行", "第二行", "第三行"]
    assert "附件：材料.docx" in paragraphs
    cells = [c.text for table in report.tables for row in table.rows for c in row.cells]
    assert "整改措施落实" in cells

    ledger_book = load_workbook(io.BytesIO(files["领导班子专题民主生活会-整改台账.xlsx"]))
    sheet = ledger_book.active
    assert sheet is not None
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "整改措施落实" in values and "办\n公室" in values

    # The database keeps what was handed in, byte for byte.
    row = await filled.app.db.fetch_one("SELECT text FROM submissions WHERE text LIKE '第一行%'")
    assert row is not None and row[0] == WORD_TEXT
    name = await filled.app.db.fetch_one(
        "SELECT file_name FROM submission_files WHERE file_ref = 'f7'"
    )
    assert name is not None and name[0] == NUL_NAME
