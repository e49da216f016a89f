"""Text pasted from Word and names uploaded by anyone, made safe for the documents and the
.zip: what XML may hold, and one path component that cannot leave its folder."""

from __future__ import annotations

import io
import re

from docx import Document
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from bot.reports.clean import MAX_NAME_CHARS, safe_file_name, xml_text

XML_CHAR = re.compile("^[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]*$")


def test_word_breaks_become_newlines_and_forbidden_characters_go() -> None:
    assert xml_text("一、\x0b二、\x0c三、\r\n四\x00\x07、") == "一、\n二、\n三、\n四、"
    assert xml_text(None) == ""
    assert xml_text("tab\tstays") == "tab\tstays"


@settings(deadline=None, max_examples=60)  # a Document() each time: slow on a loaded machine
@given(st.text())
def test_any_text_can_be_written_to_a_docx_and_an_xlsx(text: str) -> None:
    cleaned = xml_text(text)
    assert XML_CHAR.match(cleaned)
    document = Document()
    document.add_paragraph(cleaned)  # python-docx raises ValueError on what XML forbids
    document.save(io.BytesIO())
    sheet = Workbook().active
    assert sheet is not None
    sheet["A1"] = cleaned  # openpyxl raises IllegalCharacterError
    assert sheet["A1"].value == cleaned


def test_the_raw_text_would_have_broken_both() -> None:
    """The control for the test above."""
    import pytest
    from openpyxl.utils.exceptions import IllegalCharacterError

    with pytest.raises(ValueError):
        Document().add_paragraph("a\x0bb\x00")
    sheet = Workbook().active
    assert sheet is not None
    with pytest.raises(IllegalCharacterError):
        sheet["A1"] = "a\x0bb"


def test_names_that_try_to_leave_their_folder_stay_in_it() -> None:
    assert safe_file_name("../../etc/passwd") == "_.._etc_passwd"
    assert safe_file_name("..\\..\\boot.ini") == "_.._boot.ini"
    assert safe_file_name("/abs/path.txt") == "_abs_path.txt"
    assert safe_file_name("..") == "file"
    assert safe_file_name("") == "file"
    assert safe_file_name(None, "材料") == "材料"
    assert safe_file_name("con.txt") == "_con.txt"
    assert safe_file_name("a\x00b\x0bc.docx") == "ab c.docx"
    assert safe_file_name("发言材料.docx") == "发言材料.docx"
    long = safe_file_name("长" * 300 + ".docx")
    assert len(long) == MAX_NAME_CHARS and long.endswith(".docx")


@given(st.text())
def test_any_name_is_one_harmless_path_component(name: str) -> None:
    safe = safe_file_name(name)
    assert safe and len(safe) <= MAX_NAME_CHARS
    assert "/" not in safe and "\\" not in safe
    assert safe not in (".", "..") and not safe.startswith(".")
    assert not re.search("[\x00-\x1f\x7f]", safe)
    assert XML_CHAR.match(safe)
