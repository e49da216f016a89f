"""The report's layout read back from the written .docx with python-docx: GB/T 9704-2012 for a
Chinese plan (docs/report-layout.md lists the rules), a plain A4 business layout in English."""

from __future__ import annotations

import dataclasses
import io
import math
import re

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import parse_xml
from docx.oxml.ns import qn
from docx.shared import Length, Pt

from bot.core.i18n import use_locale
from bot.reports.docx_report import build_report
from bot.reports.gather import gather
from tests.ledger.conftest import Filled

MM_PER_PT = 25.4 / 72
EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")


async def _report(filled: Filled, locale: str | None = None) -> DocumentObject:
    data = await gather(filled.app, filled.instance_id)
    if locale is not None:
        data = dataclasses.replace(data, plan=dataclasses.replace(data.plan, locale=locale))
    with use_locale(data.plan.locale):
        return Document(io.BytesIO(build_report(data)))


def _mm(length: Length | None) -> float:
    assert length is not None
    return round(length.mm, 1)


def _east_asian(style: object) -> str | None:
    fonts = style.element.rPr.rFonts  # type: ignore[attr-defined]
    assert fonts.get(qn("w:eastAsiaTheme")) is None  # a theme link would win over the name
    return fonts.get(qn("w:eastAsia"))


def _every_text(document: DocumentObject) -> list[str]:
    texts = [p.text for p in document.paragraphs]
    for table in document.tables:
        texts += [cell.text for row in table.rows for cell in row.cells]
    return texts


async def test_a_chinese_report_is_laid_out_as_gb_t_9704(filled: Filled) -> None:
    document = await _report(filled)
    section = document.sections[0]
    # A4; 天头 37 mm, 订口 28 mm; type area 156 × 225 mm.
    assert (_mm(section.page_width), _mm(section.page_height)) == (210, 297)
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [_mm(m) for m in margins] == [37, 35, 28, 26]
    width_pt = (210 - 28 - 26) / MM_PER_PT
    height_pt = (297 - 37 - 35) / MM_PER_PT
    assert round(width_pt * MM_PER_PT) == 156 and round(height_pt * MM_PER_PT) == 225

    styles = document.styles
    normal = styles["Normal"]
    # Body: 仿宋_GB2312 三号 (16 pt), Latin in Times New Roman.
    assert _east_asian(normal) == "仿宋_GB2312"
    assert normal.font.name == "Times New Roman"
    assert normal.font.size == Pt(16)
    # 22 lines: an exact line pitch of 28.95 pt, and the document grid says the same.
    body = normal.paragraph_format
    assert body.line_spacing_rule == WD_LINE_SPACING.EXACTLY
    assert body.line_spacing == Pt(28.95)
    assert math.floor(height_pt / body.line_spacing.pt) == 22
    grid = section._sectPr.find(qn("w:docGrid"))
    assert (grid.get(qn("w:type")), grid.get(qn("w:linePitch"))) == ("lines", "579")
    # 28 characters: 16 pt condensed so that 28 fit the 156 mm line and 29 do not.
    spacing = int(normal.element.rPr.find(qn("w:spacing")).get(qn("w:val"))) / 20
    pitch = 16 + spacing
    assert 28 * pitch <= width_pt < 29 * pitch
    # Paragraphs start two characters in.
    assert abs(body.first_line_indent.pt - 2 * width_pt / 28) < 0.1

    title = styles["Title"]
    assert (_east_asian(title), title.font.size, title.font.bold) == (
        "方正小标宋简体",
        Pt(22),
        False,
    )
    assert title.paragraph_format.alignment == WD_ALIGN_PARAGRAPH.CENTER
    for level, face in ((1, "黑体"), (2, "楷体_GB2312")):
        heading = styles[f"Heading {level}"]
        assert (_east_asian(heading), heading.font.size) == (face, Pt(16))
        assert heading.font.bold is False
        assert heading.font.color.rgb == (0, 0, 0)  # not Word's blue
    # Each face is declared with an installed alternate and the GB2312 character set.
    part = document.part.part_related_by(RELATIONSHIP_TYPE.FONT_TABLE)
    fonts = {font.get(qn("w:name")): font for font in parse_xml(part.blob).findall(qn("w:font"))}
    for face, alternate in (
        ("仿宋_GB2312", "仿宋"),
        ("方正小标宋简体", "宋体"),
        ("楷体_GB2312", "楷体"),
        ("黑体", "SimHei"),
        ("宋体", "SimSun"),
    ):
        assert fonts[face].find(qn("w:altName")).get(qn("w:val")) == alternate
        assert fonts[face].find(qn("w:charset")).get(qn("w:val")) == "86"

    # Page numbers "— 1 —" in 4号 宋体: odd pages at the right, even pages at the left.
    assert document.settings.odd_and_even_pages_header_footer
    odd, even = section.footer.paragraphs[0], section.even_page_footer.paragraphs[0]
    for footer, side in ((odd, WD_ALIGN_PARAGRAPH.RIGHT), (even, WD_ALIGN_PARAGRAPH.LEFT)):
        assert footer.text == "— 1 —"
        assert footer.alignment == side
        assert "PAGE" in footer._p.xml
        assert (_east_asian(footer.style), footer.style.font.size) == ("宋体", Pt(14))
    assert odd.paragraph_format.right_indent == Pt(14)  # 一字 from the edge
    assert even.paragraph_format.left_indent == Pt(14)

    # Signed at the end: the organisation 右空二字, the date two characters further right.
    organisation, day = document.paragraphs[-2:]
    assert (organisation.text, day.text) == ("市发展和改革委员会党组", "2014年3月1日")
    assert organisation.alignment == day.alignment == WD_ALIGN_PARAGRAPH.RIGHT
    cell = width_pt / 28
    org_indent = organisation.paragraph_format.right_indent.pt / cell
    day_indent = day.paragraph_format.right_indent.pt / cell
    assert round(org_indent, 1) == 2.0
    # The date "2014年3月1日" is 6 characters wide (half-width digits), the name 11.
    assert round(day_indent, 1) == 11 - 6
    assert not any(EMOJI.search(text) for text in _every_text(document))
    properties = document.core_properties
    assert (properties.title, properties.author) == (
        "关于召开领导班子专题民主生活会的情况报告",
        "市发展和改革委员会党组",
    )
    # Pictures sit in paragraphs of their own, not clipped by the exact line pitch.
    for shape_paragraph in (p for p in document.paragraphs if p._p.xpath(".//w:drawing")):
        assert shape_paragraph.style.name == "Figure"
        assert shape_paragraph.style.paragraph_format.line_spacing_rule == WD_LINE_SPACING.SINGLE


async def test_an_english_report_is_a_plain_a4_business_document(filled: Filled) -> None:
    document = await _report(filled, "en")
    section = document.sections[0]
    assert (_mm(section.page_width), _mm(section.page_height)) == (210, 297)
    margins = [section.top_margin, section.bottom_margin, section.left_margin, section.right_margin]
    assert [_mm(m) for m in margins] == [25, 25, 25, 25]
    normal = document.styles["Normal"]
    assert (normal.font.name, normal.font.size) == ("Calibri", Pt(11))
    assert normal.paragraph_format.line_spacing_rule != WD_LINE_SPACING.EXACTLY
    assert document.styles["Heading 1"].font.bold is True
    assert document.styles["Heading 1"].font.color.rgb == (0, 0, 0)
    assert document.paragraphs[0].text == "Report on the 领导班子专题民主生活会"
    assert document.paragraphs[1].text == "市发展和改革委员会党组"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings[-3:] == [
        "6. Evaluation results",
        "7. Heart-to-heart talks",
        "8. How the tasks were handed in",
    ]
    footer = section.footer.paragraphs[0]
    assert footer.text == "1" and footer.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert not document.settings.odd_and_even_pages_header_footer
    ledger = [[c.text for c in row.cells] for row in document.tables[0].rows]
    assert ledger[2][5] == "in progress, overdue by 14 days"


@pytest.mark.parametrize("locale", ["zh_CN", "en"])
async def test_the_tables_fit_the_type_area(filled: Filled, locale: str) -> None:
    document = await _report(filled, locale)
    section = document.sections[0]
    area = section.page_width - section.left_margin - section.right_margin
    for table in document.tables:
        total = sum(column.width for column in table.columns)
        assert abs(total - area) < Pt(2) or total < area


def test_a_long_title_is_broken_after_its_last_de_and_a_short_one_is_not() -> None:
    from bot.reports.layout import BUSINESS, GONGWEN, title_lines

    assert title_lines("关于召开领导班子专题民主生活会的情况报告", GONGWEN) == [
        "关于召开领导班子专题民主生活会的",
        "情况报告",
    ]
    assert title_lines("关于民主生活会的情况报告", GONGWEN) == ["关于民主生活会的情况报告"]
    long = "关于" + "很长" * 20 + "的情况报告"  # the first part would not fit: Word wraps it
    assert title_lines(long, GONGWEN) == [long]
    assert title_lines("关于召开领导班子专题民主生活会的情况报告", BUSINESS) == [
        "关于召开领导班子专题民主生活会的情况报告"
    ]
