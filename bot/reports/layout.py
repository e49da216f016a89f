"""The page and type of the meeting report: GB/T 9704-2012 (党政机关公文格式) for a Chinese
plan, a plain A4 business layout otherwise. ``docs/report-layout.md`` lists the rules followed
and why; tests/ledger/test_report_layout.py reads them back from the written file.

python-docx's default template is US Letter with theme fonts (Japanese for East Asian text)
and blue headings: every style the report uses is set here explicitly, theme links removed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.opc.constants import RELATIONSHIP_TYPE
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from docx.styles.style import BaseStyle
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from bot.reports.clean import xml_text

TABLE_TEXT = "Table Text"  # the paragraph style of table cells: single spacing, no indent
FIGURE = "Figure"  # a chart's paragraph: an exact line pitch would clip the picture
SIGNATURE = "Signature Block"


@dataclass(frozen=True)
class Layout:
    name: str
    margins_mm: tuple[float, float, float, float]  # top, bottom, left, right
    latin_font: str
    body_font: str  # East Asian face of the body
    body_pt: float
    title_font: str
    title_pt: float
    title_bold: bool
    heading_fonts: tuple[str, str]  # levels 1 and 2 (East Asian faces)
    heading_pt: tuple[float, float]
    heading_bold: bool
    line_pitch_twips: int | None  # exact line pitch (and the document grid), or None
    chars_per_line: int | None  # the character grid, or None
    first_line_chars: int  # first-line indent of body paragraphs, in characters
    table_pt: float
    footer_font: str
    footer_pt: float
    page_number_dashes: bool  # "— 1 —" at the outer edges, or a plain centred number
    footer_mm: float  # page bottom edge to the page number's baseline box


# GB/T 9704-2012 §5.2.1–5.2.2: A4; 天头 37 mm, 订口 28 mm, 版心 156 × 225 mm, so the bottom and
# right margins are 297 − 37 − 225 = 35 mm and 210 − 28 − 156 = 26 mm. §5.2.3: 22 lines of 28
# characters in 3号 仿宋: a line pitch of 225 mm / 22 ≈ 28.95 pt (579 twips) and a character
# pitch of 156 mm / 28 ≈ 15.79 pt. §7.5: page numbers in 4号 半角宋体, "— 1 —", 7 mm below the
# type area, odd pages right and even pages left, one character in from the edge.
GONGWEN = Layout(
    name="gb9704",
    margins_mm=(37, 35, 28, 26),
    latin_font="Times New Roman",
    body_font="仿宋_GB2312",
    body_pt=16,  # 三号
    title_font="方正小标宋简体",
    title_pt=22,  # 二号
    title_bold=False,  # 小标宋 is a heavy face already
    heading_fonts=("黑体", "楷体_GB2312"),
    heading_pt=(16, 16),
    heading_bold=False,
    line_pitch_twips=579,
    chars_per_line=28,
    first_line_chars=2,
    table_pt=10.5,  # 五号: the standard sets no table size; 三号 leaves too few characters a cell
    footer_font="宋体",
    footer_pt=14,  # 四号
    page_number_dashes=True,
    footer_mm=23,  # 35 mm margin − 7 mm gap − the 4号 line (≈ 5 mm)
)
BUSINESS = Layout(
    name="business",
    margins_mm=(25, 25, 25, 25),
    latin_font="Calibri",
    body_font="SimSun",
    body_pt=11,
    title_font="Calibri",
    title_pt=18,
    title_bold=True,
    heading_fonts=("Calibri", "Calibri"),
    heading_pt=(14, 12),
    heading_bold=True,
    line_pitch_twips=None,
    chars_per_line=None,
    first_line_chars=0,
    table_pt=10,
    footer_font="Calibri",
    footer_pt=9,
    page_number_dashes=False,
    footer_mm=12,
)

# What Word and WPS use when a face is not installed (fontTable.xml's altName): the faces
# every Chinese Windows has. 方正小标宋 and the _GB2312 faces come with WPS and with offices'
# standard installs; 宋体, 仿宋, 楷体 and 黑体 with Windows.
FONT_ALTERNATES = {
    "方正小标宋简体": "宋体",
    "仿宋_GB2312": "仿宋",
    "楷体_GB2312": "楷体",
    "黑体": "SimHei",
    "宋体": "SimSun",
}
GB2312_CHARSET = "86"

# Where a child goes in its parent (the schema's order; Word repairs a file out of order).
RUN_AFTER_SPACING = (
    "w:w", "w:kern", "w:position", "w:sz", "w:szCs", "w:highlight", "w:u", "w:effect",
    "w:bdr", "w:shd", "w:fitText", "w:vertAlign", "w:rtl", "w:cs", "w:em", "w:lang",
    "w:eastAsianLayout", "w:specVanish", "w:oMath",
)  # fmt: skip
PARAGRAPH_AFTER_SNAP = (
    "w:spacing", "w:ind", "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap",
    "w:jc", "w:textDirection", "w:textAlignment", "w:textboxTightWrap", "w:outlineLvl",
    "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange",
)  # fmt: skip
CHARS_PER_MM = 1 / 25.4 * 72  # points per millimetre
A4_MM = (210, 297)


def layout_for(locale: str) -> Layout:
    return GONGWEN if locale.startswith("zh") else BUSINESS


def char_pitch_pt(layout: Layout) -> float:
    """The width of one character cell: the grid's pitch, or the body size without a grid."""
    if layout.chars_per_line is None:
        return layout.body_pt
    left, right = layout.margins_mm[2], layout.margins_mm[3]
    return (A4_MM[0] - left - right) * CHARS_PER_MM / layout.chars_per_line


def _fonts(element: object, layout: Layout, east_asian: str, latin: str | None = None) -> None:
    """Name the faces outright (no theme link, which would win over the names)."""
    if hasattr(element, "get_or_add_rPr"):
        fonts = element.get_or_add_rPr().get_or_add_rFonts()
    else:  # docDefaults' rPrDefault: plain XML
        properties = element.find(qn("w:rPr"))  # type: ignore[attr-defined]
        if properties is None:
            properties = OxmlElement("w:rPr")
            element.append(properties)  # type: ignore[attr-defined]
        fonts = properties.find(qn("w:rFonts"))
        if fonts is None:
            fonts = OxmlElement("w:rFonts")
            properties.insert(0, fonts)
    for attribute in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(attribute), None)
    latin = latin or layout.latin_font
    fonts.set(qn("w:ascii"), latin)
    fonts.set(qn("w:hAnsi"), latin)
    fonts.set(qn("w:cs"), latin)
    fonts.set(qn("w:eastAsia"), east_asian)
    fonts.set(qn("w:hint"), "eastAsia")


def _character(
    style: BaseStyle,
    layout: Layout,
    east_asian: str,
    size: float,
    bold: bool = False,
    latin: str | None = None,
) -> None:
    font = style.font  # type: ignore[attr-defined]
    font.size = Pt(size)
    font.bold = bold
    font.italic = False
    font.color.rgb = RGBColor(0, 0, 0)
    color = style.element.rPr.find(qn("w:color"))
    for attribute in ("w:themeColor", "w:themeShade", "w:themeTint"):
        color.attrib.pop(qn(attribute), None)
    _fonts(style.element, layout, east_asian, latin)


def _paragraph(
    style: BaseStyle, layout: Layout, *, indent: bool, grid: bool = True, snap: bool | None = None
) -> None:
    """``grid``: the exact line pitch; ``snap`` (default: as ``grid``): align to the grid's
    lines (off for a line larger than the body's, which would take two)."""
    fmt = style.paragraph_format  # type: ignore[attr-defined]
    fmt.space_before = Pt(0)
    fmt.space_after = Pt(0) if layout.line_pitch_twips else Pt(6)
    if layout.line_pitch_twips and grid:
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = Pt(layout.line_pitch_twips / 20)
    else:
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE if layout.line_pitch_twips else None
        if not layout.line_pitch_twips:
            fmt.line_spacing = 1.15
    fmt.first_line_indent = (
        Pt(char_pitch_pt(layout) * layout.first_line_chars)
        if indent and layout.first_line_chars
        else Pt(0)
    )
    properties = style.element.get_or_add_pPr()
    border = properties.find(qn("w:pBdr"))
    if border is not None:
        properties.remove(border)
    if not (grid if snap is None else snap):
        element = OxmlElement("w:snapToGrid")
        element.set(qn("w:val"), "0")
        properties.insert_element_before(element, *PARAGRAPH_AFTER_SNAP)


def _style(document: DocumentObject, name: str, base: str = "Normal") -> BaseStyle:
    styles = document.styles
    if name in [s.name for s in styles]:
        return styles[name]
    style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = styles[base]
    return style


def _defaults(document: DocumentObject, layout: Layout) -> None:
    defaults = document.styles.element.find(qn("w:docDefaults"))
    if defaults is None:
        return
    run_defaults = defaults.find(qn("w:rPrDefault"))
    if run_defaults is not None:
        _fonts(run_defaults, layout, layout.body_font)
        for tag in ("w:sz", "w:szCs"):
            size = run_defaults.find(f"{qn('w:rPr')}/{qn(tag)}")
            if size is not None:
                size.set(qn("w:val"), str(round(layout.body_pt * 2)))
        # The template says East Asian text is en-US: readers then fall back to Japanese
        # glyph forms. Chinese text is Simplified Chinese.
        language = run_defaults.find(f"{qn('w:rPr')}/{qn('w:lang')}")
        if language is not None:
            language.set(qn("w:eastAsia"), "zh-CN")
            if layout.chars_per_line is not None:
                language.set(qn("w:val"), "zh-CN")


def _font_table(document: DocumentObject, layout: Layout) -> None:
    """Declare each face with its alternate and the GB2312 character set, so a reader
    without the face substitutes the right kind rather than a Latin one."""
    part = document.part.part_related_by(RELATIONSHIP_TYPE.FONT_TABLE)
    table = parse_xml(part.blob)
    present = {font.get(qn("w:name")) for font in table.findall(qn("w:font"))}
    used = {layout.body_font, layout.title_font, *layout.heading_fonts, layout.footer_font}
    for name in sorted(used & FONT_ALTERNATES.keys() - present):
        table.append(
            parse_xml(
                f'<w:font {nsdecls("w")} w:name="{name}">'
                f'<w:altName w:val="{FONT_ALTERNATES[name]}"/>'
                f'<w:charset w:val="{GB2312_CHARSET}"/><w:family w:val="modern"/>'
                '<w:pitch w:val="fixed"/></w:font>'
            )
        )
    from lxml import etree

    part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page(document: DocumentObject, layout: Layout) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(A4_MM[0]), Mm(A4_MM[1])
    top, bottom, left, right = layout.margins_mm
    section.top_margin, section.bottom_margin = Mm(top), Mm(bottom)
    section.left_margin, section.right_margin = Mm(left), Mm(right)
    section.footer_distance = Mm(layout.footer_mm)
    section.header_distance = Mm(15)
    grid = section._sectPr.find(qn("w:docGrid"))
    if grid is None:
        grid = OxmlElement("w:docGrid")
        section._sectPr.append(grid)
    if layout.line_pitch_twips:
        # Lines only: LibreOffice draws a "linesAndChars" grid as square cells (one character
        # per line pitch), so the 28 characters come from the body's condensed spacing instead.
        grid.set(qn("w:type"), "lines")
        grid.set(qn("w:linePitch"), str(layout.line_pitch_twips))
    else:
        grid.attrib.pop(qn("w:type"), None)
        grid.set(qn("w:linePitch"), "360")


def condensed_twips(layout: Layout) -> int:
    """The body's character spacing (twentieths of a point, negative: condensed) that puts
    ``chars_per_line`` characters on a line: the pitch rounded down to a twentieth, so the
    last one fits."""
    if layout.chars_per_line is None:
        return 0
    return math.floor((char_pitch_pt(layout) - layout.body_pt) * 20)


def _page_number(paragraph: Paragraph, layout: Layout) -> None:
    def run(text: str = "") -> object:
        return paragraph.add_run(text)

    if layout.page_number_dashes:
        run("— ")
    for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1")):
        piece = run()
        if kind is not None:
            field = OxmlElement("w:fldChar")
            field.set(qn("w:fldCharType"), kind)
            piece._r.append(field)  # type: ignore[attr-defined]
        elif text == " PAGE ":
            instruction = OxmlElement("w:instrText")
            instruction.set(qn("xml:space"), "preserve")
            instruction.text = text
            piece._r.append(instruction)  # type: ignore[attr-defined]
        else:
            piece.text = text  # type: ignore[attr-defined]
    end = run()
    field = OxmlElement("w:fldChar")
    field.set(qn("w:fldCharType"), "end")
    end._r.append(field)  # type: ignore[attr-defined]
    if layout.page_number_dashes:
        run(" —")


def _footers(document: DocumentObject, layout: Layout) -> None:
    footer_style = _style(document, "Page Number Footer")
    _character(footer_style, layout, layout.footer_font, layout.footer_pt, latin=layout.footer_font)
    _paragraph(footer_style, layout, indent=False, grid=False)
    section = document.sections[0]
    one_char = Pt(layout.footer_pt)
    if layout.page_number_dashes:
        document.settings.odd_and_even_pages_header_footer = True
        odd = section.footer.paragraphs[0]
        odd.style = footer_style
        odd.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        odd.paragraph_format.right_indent = one_char
        _page_number(odd, layout)
        even = section.even_page_footer.paragraphs[0]
        even.style = footer_style
        even.alignment = WD_ALIGN_PARAGRAPH.LEFT
        even.paragraph_format.left_indent = one_char
        _page_number(even, layout)
    else:
        number = section.footer.paragraphs[0]
        number.style = footer_style
        number.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _page_number(number, layout)


def apply_layout(document: DocumentObject, layout: Layout) -> None:
    """Page, grid, styles, fonts and page numbers of the whole document."""
    _page(document, layout)
    _defaults(document, layout)
    _font_table(document, layout)
    styles = document.styles
    normal = styles["Normal"]
    _character(normal, layout, layout.body_font, layout.body_pt)
    if condensed_twips(layout):
        spacing = OxmlElement("w:spacing")
        spacing.set(qn("w:val"), str(condensed_twips(layout)))
        normal.element.get_or_add_rPr().insert_element_before(spacing, *RUN_AFTER_SPACING)
    _paragraph(normal, layout, indent=True)
    normal.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
    title = styles["Title"]
    _character(title, layout, layout.title_font, layout.title_pt, layout.title_bold)
    _paragraph(title, layout, indent=False, snap=False)
    if layout.line_pitch_twips:  # two lines of 二号 one body line and a half apart
        title.paragraph_format.line_spacing = Pt(layout.title_pt * 1.5)
    title.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER
    # GB/T 9704 §7.2.3: the body starts one line below the title.
    title.paragraph_format.space_after = (
        Pt(layout.line_pitch_twips / 20) if layout.line_pitch_twips else Pt(12)
    )
    for level, (face, size) in enumerate(
        zip(layout.heading_fonts, layout.heading_pt, strict=True), 1
    ):
        heading = styles[f"Heading {level}"]
        _character(heading, layout, face, size, layout.heading_bold)
        _paragraph(heading, layout, indent=True)
        if not layout.line_pitch_twips:
            heading.paragraph_format.space_before = Pt(12 if level == 1 else 6)
    table_text = _style(document, TABLE_TEXT)
    _character(table_text, layout, layout.body_font, layout.table_pt)
    _paragraph(table_text, layout, indent=False, grid=False)
    table_text.paragraph_format.space_after = Pt(0)  # type: ignore[attr-defined]
    table_text.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.LEFT  # type: ignore[attr-defined]
    figure = _style(document, FIGURE)
    _paragraph(figure, layout, indent=False, grid=False)
    figure.paragraph_format.alignment = WD_ALIGN_PARAGRAPH.CENTER  # type: ignore[attr-defined]
    signature = _style(document, SIGNATURE)
    _paragraph(signature, layout, indent=False)
    _footers(document, layout)


def title_lines(text: str, layout: Layout) -> list[str]:
    """GB/T 9704 §7.2.3: a title too long for one line is broken where the meaning allows,
    not where the line ends: after the last "的" (关于……的 / 情况报告) when both parts fit."""
    if layout.chars_per_line is None:
        return [text]
    width_pt = (A4_MM[0] - layout.margins_mm[2] - layout.margins_mm[3]) * CHARS_PER_MM
    fits = int(width_pt // layout.title_pt) - 1  # a character's room for the reader's face
    if text_width(text) <= fits:
        return [text]
    cut = text.rfind("的") + 1
    if 0 < cut < len(text) and max(text_width(text[:cut]), text_width(text[cut:])) <= fits:
        return [text[:cut], text[cut:]]
    return [text]


def text_width(text: str) -> float:
    """Width in character cells: a CJK character is one, a half-width digit or letter half."""
    return sum(0.5 if ord(ch) < 0x2E80 else 1.0 for ch in text)


def signature(document: DocumentObject, layout: Layout, organisation: str, day: str) -> None:
    """The issuing organisation and the date. GB/T 9704 §7.3.5.2 (no seal): one line below
    the body, the organisation 右空二字, the date on the next line starting two characters
    right of the organisation's first one; a date longer than that goes 右空二字 and the
    organisation moves left. The business layout signs at the left."""
    document.add_paragraph("", style=SIGNATURE)
    if not layout.page_number_dashes:
        document.add_paragraph(organisation, style=SIGNATURE)
        document.add_paragraph(day, style=SIGNATURE)
        return
    pitch = char_pitch_pt(layout)
    org_width, day_width = text_width(organisation), text_width(day)
    day_indent = max(2.0, org_width - day_width)
    org_indent = day_indent + day_width + 2 - org_width
    for text, indent in ((organisation, org_indent), (day, day_indent)):
        paragraph = document.add_paragraph(text, style=SIGNATURE)
        paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        paragraph.paragraph_format.right_indent = Pt(pitch * indent)


def shade(cell: _Cell, fill: str) -> None:
    properties = cell._tc.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


HEADER_FILL = "D9D9D9"  # 15 % grey: reads on any printer


def table(
    document: DocumentObject, headers: list[str], widths_mm: list[float], rows: list[list[str]]
) -> Table:
    """A grid table for print: a shaded header row repeated on each page, fixed widths that
    add up to the type area, rows that do not break across pages."""
    grid = document.add_table(rows=1, cols=len(headers))
    grid.style = "Table Grid"
    grid.alignment = WD_TABLE_ALIGNMENT.CENTER
    grid.autofit = False
    header = grid.rows[0]
    header_properties = header._tr.get_or_add_trPr()
    header_properties.append(OxmlElement("w:tblHeader"))
    for _values in rows:
        grid.add_row()._tr.get_or_add_trPr().append(OxmlElement("w:cantSplit"))
    for column, width in zip(grid.columns, widths_mm, strict=True):
        column.width = Mm(width)
    for index, row in enumerate(grid.rows):
        values = headers if index == 0 else rows[index - 1]
        for cell, text, width in zip(row.cells, values, widths_mm, strict=True):
            cell.width = Mm(width)
            paragraph = cell.paragraphs[0]
            paragraph.style = document.styles[TABLE_TEXT]
            lines = xml_text(text).split("\n")
            paragraph.add_run(lines[0])
            for line in lines[1:]:
                cell.add_paragraph(line, style=TABLE_TEXT)
            if index == 0:
                shade(cell, HEADER_FILL)
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
                for run in paragraph.runs:
                    run.bold = True
    return grid
