"""The meeting report (情况报告) as a .docx: the meeting's facts, the members' statement
materials, the opinions collected, the rectification measures and ledger, last year's
implementation and the survey results, assembled from ``gather.ReportData``.
Called inside the plan's locale; returns the file's bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Inches, Pt
from docx.table import _Cell
from docx.text.paragraph import Paragraph

from bot.core.formatting import date_text, due_text, names_text
from bot.core.i18n import _
from bot.ledger.rules import CATEGORY_LABELS, STATUS_LABELS, label, mark
from bot.reports.charts import completion_chart
from bot.reports.gather import Material, ReportData
from bot.reports.plan_charts import results_chart
from bot.reports.xmltext import xml_text

CHART_WIDTH = Inches(6)
BODY_FONT = "SimSun"  # 宋体: what Chinese official documents are set in; Word substitutes elsewhere
HEADING_FONT = "SimHei"


def _set_font(style: object, name: str, size: float | None = None) -> None:
    font = style.font  # type: ignore[attr-defined]
    font.name = name
    if size:
        font.size = Pt(size)
    properties = style.element.get_or_add_rPr()  # type: ignore[attr-defined]
    properties.get_or_add_rFonts().set(qn("w:eastAsia"), name)


def _heading(document: DocumentObject, text: str, level: int = 1) -> None:
    document.add_heading(xml_text(text), level=level)


def _paragraph(document: DocumentObject, text: str) -> Paragraph:
    return document.add_paragraph(xml_text(text))


def _fill(cells: Sequence[_Cell], texts: Sequence[str]) -> None:
    for cell, text in zip(cells, texts, strict=True):
        cell.text = xml_text(text)


def _materials(document: DocumentObject, materials: Sequence[Material], empty: str) -> None:
    if not materials:
        _paragraph(document, empty)
        return
    for material in materials:
        _heading(document, f"{material.member}：{material.task}", level=2)
        if material.text:
            for paragraph in material.text.split("\n"):
                if paragraph.strip():
                    _paragraph(document, paragraph.strip())
        for name in material.files:
            _paragraph(document, _("Attached file: {name}").format(name=name))
        if not material.text and not material.files:
            _paragraph(document, _("(not handed in)"))


def _collected(document: DocumentObject, data: ReportData) -> None:
    """The opinions received through the opinion links, word for word, by addressee."""
    for section in data.opinions_collected:
        heading = (
            _("To {name}").format(name=section.addressee)
            if section.addressee
            else _("To the whole team")
        )
        _heading(document, heading, level=2)
        for number, (text, sender) in enumerate(section.opinions, 1):
            _paragraph(document, f"{number}. {text} —— {sender or _('anonymous')}")


def _meeting(document: DocumentObject, data: ReportData) -> None:
    plan = data.plan
    meeting = plan.meeting
    _heading(document, _("1. How the meeting was held"))
    if plan.theme:
        _paragraph(document, _("Theme: {theme}").format(theme=plan.theme))
    if meeting is None:
        _paragraph(document, _("The plan names no meeting."))
        return
    facts = [
        _("Time: {when}").format(when=due_text(meeting.starts_at, plan.timezone)),
        _("Chaired by: {names}").format(names=names_text(plan.names(meeting.chair_ids))),
        _("Participants: {names}").format(names=names_text(plan.names(meeting.participant_ids))),
        _("Invited: {names}").format(names=names_text(plan.names(meeting.invited_ids))),
        _("Attending: {names}").format(names=names_text(plan.names(meeting.attendee_ids))),
    ]
    for fact in facts:
        _paragraph(document, fact)
    _paragraph(document, _("Agenda:"))
    for item in meeting.agenda:
        who = names_text(plan.names(item.presenter_ids)) if item.presenter_ids else ""
        line = f"{item.number}. {item.title}" + (f"（{who}）" if who else "")
        _paragraph(document, line)


def _ledger_table(document: DocumentObject, data: ReportData) -> None:
    if not data.items:
        _paragraph(document, _("The rectification ledger has no items yet."))
        return
    headers = [
        _("No."),
        _("Problem and measure"),
        _("How"),
        _("Responsible"),
        _("Deadline"),
        _("Status"),
    ]
    table = document.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    _fill(table.rows[0].cells, headers)
    zone = data.plan.timezone
    for item in data.items:
        owner = data.owners.get(item.member_id or 0, "")
        if item.department:
            owner = f"{owner}（{item.department}）"
        values = [
            str(item.id),
            item.description,
            label(CATEGORY_LABELS, item.category),
            owner,
            date_text(item.due_at, zone) if item.due_at else "",
            f"{mark(item, data.now).value} {label(STATUS_LABELS, item.status)}",
        ]
        _fill(table.add_row().cells, values)
    if data.completion:
        chart = completion_chart(
            _("Rectification ledger: completion over time"), data.completion, _("items done")
        )
        document.add_picture(io.BytesIO(chart), width=CHART_WIDTH)


def _surveys(document: DocumentObject, data: ReportData) -> None:
    for survey in data.surveys:
        _heading(document, survey.title, level=2)
        _paragraph(document, _("Ballots: {count}").format(count=survey.ballots))
        table = document.add_table(rows=1, cols=len(survey.choices) + 1)
        table.style = "Table Grid"
        _fill(table.rows[0].cells, ["", *survey.choices])
        for item in survey.items:
            counts = [str(survey.counts.get(item, {}).get(c, 0)) for c in survey.choices]
            _fill(table.add_row().cells, [item, *counts])
        chart = results_chart(survey.title, survey.items, survey.choices, survey.counts)
        document.add_picture(io.BytesIO(chart), width=CHART_WIDTH)


def build_report(data: ReportData) -> bytes:
    plan = data.plan
    document = Document()
    _set_font(document.styles["Normal"], BODY_FONT, 12)
    for level in (1, 2):
        _set_font(document.styles[f"Heading {level}"], HEADING_FONT)
    title = document.add_heading(
        xml_text(
            _("Report on the {meeting}").format(
                meeting=plan.meeting.title if plan.meeting else plan.title
            )
        ),
        level=0,
    )
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _set_font(document.styles["Title"], HEADING_FONT)
    _paragraph(document, plan.organisation).alignment = WD_ALIGN_PARAGRAPH.CENTER

    _meeting(document, data)
    _heading(document, _("2. Statement materials of the members"))
    _materials(document, data.statements, _("No statement material has been handed in."))
    _heading(document, _("3. Opinions collected before the meeting"))
    if data.opinions or not data.opinions_collected:
        _materials(document, data.opinions, _("No opinions have been handed in."))
    _collected(document, data)
    _heading(document, _("4. Rectification measures"))
    _materials(document, data.measures, _("No rectification measures have been handed in."))
    _heading(document, _("Rectification ledger"), level=2)
    _ledger_table(document, data)
    _heading(document, _("5. Implementation of last year's rectification measures"))
    _last_year(document, data)
    if data.surveys:
        _heading(document, _("6. Evaluation results"))
        _surveys(document, data)
    _paragraph(document, "")
    closing = _paragraph(document, f"{plan.organisation}\n{date_text(data.now, plan.timezone)}")
    closing.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _last_year(document: DocumentObject, data: ReportData) -> None:
    if data.last_year:
        _materials(document, data.last_year, "")
        return
    plan = data.plan
    agenda = plan.meeting.agenda if plan.meeting else ()
    told = next(
        (item for item in agenda if "上一年度" in item.title or "last year" in item.title.lower()),
        None,
    )
    if told is not None and told.presenter_ids:
        _paragraph(
            document,
            _("Reported at the meeting by {names} (agenda item {number}: {title}).").format(
                names=names_text(plan.names(told.presenter_ids)),
                number=told.number,
                title=told.title,
            ),
        )
    _paragraph(document, _("No written material has been handed in."))
