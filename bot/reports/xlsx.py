"""The ledger and the progress table as .xlsx workbooks (openpyxl), with the red / yellow /
green marks as cell colours: a title row and the compilation date above a frozen, filtered
header; deadlines as real dates (sortable, filterable) in the plan's date format; printed on
A4 landscape, one page wide, the header repeated on every page. Text passes
``clean.xml_text`` (openpyxl refuses control characters). Called inside the plan's locale;
return the files' bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.core.formatting import document_date_text
from bot.core.i18n import _, current_locale
from bot.ledger.rules import (
    CATEGORY_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    Mark,
    is_overdue,
    label,
    mark,
)
from bot.reports.clean import xml_text
from bot.reports.gather import ReportData, days_between, review_text
from bot.tasks.progress import MemberState
from bot.tasks.texts import state_label

FILLS = {
    Mark.RED: PatternFill("solid", fgColor="F4C7C3"),
    Mark.YELLOW: PatternFill("solid", fgColor="FCE8B2"),
    Mark.GREEN: PatternFill("solid", fgColor="B7E1CD"),
}
STATE_MARKS = {
    MemberState.APPROVED: Mark.GREEN,
    MemberState.SUBMITTED: Mark.GREEN,
    MemberState.RETURNED: Mark.YELLOW,
    MemberState.PENDING: Mark.YELLOW,
    MemberState.OVERDUE: Mark.RED,
}


HEADER_ROW = 3  # row 1 the title, row 2 the compilation date
HEADER_FILL = PatternFill("solid", fgColor="D9D9D9")


def date_format() -> str:
    """Excel's number format for a day in the reader's language."""
    return 'yyyy"年"m"月"d"日"' if current_locale() == "zh_CN" else "d mmm yyyy"


def local_day(moment: datetime | None, zone: ZoneInfo) -> date | None:
    return moment.astimezone(zone).date() if moment is not None else None


def _sheet(
    workbook: Workbook,
    title: str,
    heading: str,
    compiled: str,
    headers: Sequence[str],
    widths: Sequence[int],
) -> Worksheet:
    sheet = workbook.active
    assert sheet is not None
    sheet.title = xml_text(title)[:31]
    last = get_column_letter(len(headers))
    sheet["A1"] = xml_text(heading)
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.merge_cells(f"A1:{last}1")
    sheet["A2"] = compiled
    sheet.merge_cells(f"A2:{last}2")
    sheet.append(list(headers))
    for cell in sheet[HEADER_ROW]:
        cell.font = Font(bold=True)
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for index, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # as many pages down as it takes
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_options.gridLines = True
    sheet.page_margins.left = sheet.page_margins.right = 0.5
    return sheet


def _append(sheet: Worksheet, values: Sequence[Any]) -> int:
    sheet.append([xml_text(v) if isinstance(v, str) else v for v in values])
    row = sheet.max_row
    for cell in sheet[row]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if isinstance(cell.value, date):
            cell.number_format = date_format()
    return row


def _finish(sheet: Worksheet, columns: int) -> None:
    sheet.auto_filter.ref = (
        f"A{HEADER_ROW}:{get_column_letter(columns)}{max(sheet.max_row, HEADER_ROW)}"
    )


def _compiled(data: ReportData) -> str:
    return _("Compiled on {date}").format(date=document_date_text(data.now, data.plan.timezone))


def _bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ledger_workbook(data: ReportData) -> bytes:
    zone = data.plan.timezone
    workbook = Workbook()
    headers = [
        _("No."),
        _("Problem and measure"),
        _("Source"),
        _("How"),
        _("Responsible"),
        _("Department"),
        _("Deadline"),
        _("Status"),
        _("Days overdue"),
        _("Evidence"),
    ]
    sheet = _sheet(
        workbook,
        _("Rectification ledger"),
        _("{plan}: rectification ledger").format(plan=data.plan.title),
        _compiled(data),
        headers,
        [6, 50, 14, 24, 12, 14, 16, 12, 10, 40],
    )
    for item in data.items:
        overdue = is_overdue(item, data.now) and item.due_at is not None
        row = _append(
            sheet,
            [
                item.id,
                item.description,
                label(SOURCE_LABELS, item.source),
                label(CATEGORY_LABELS, item.category),
                data.owners.get(item.member_id or 0, ""),
                item.department or "",
                local_day(item.due_at, zone),
                label(STATUS_LABELS, item.status),
                days_between(item.due_at, data.now, zone) if overdue and item.due_at else None,
                "\n".join(data.evidence.get(item.id, [])),
            ],
        )
        sheet.cell(row, 8).fill = FILLS[mark(item, data.now)]
        if overdue:
            sheet.cell(row, 9).fill = FILLS[Mark.RED]
    _finish(sheet, len(headers))
    return _bytes(workbook)


def progress_workbook(data: ReportData) -> bytes:
    zone = data.plan.timezone
    phases = {phase.id: phase.title for phase in data.plan.phases}
    workbook = Workbook()
    headers = [
        _("Phase"),
        _("Task"),
        _("Deadline"),
        _("Member"),
        _("State"),
        _("Date handed in"),
        _("Days late"),
        _("Review"),
    ]
    sheet = _sheet(
        workbook,
        _("Progress"),
        _("{plan}: progress of the tasks").format(plan=data.plan.title),
        _compiled(data),
        headers,
        [16, 28, 16, 12, 14, 16, 10, 40],
    )
    for task_progress in data.progress:
        task = task_progress.task
        for row in task_progress.rows:
            submission = data.latest.get(row.assignment.id)
            due = row.assignment.due_at
            late = None
            if submission is not None and submission.late:
                late = days_between(due, submission.submitted_at, zone)
            elif submission is None and data.now > due:
                late = days_between(due, data.now, zone)  # missing: late so far
            reviews = data.reviews.get(row.assignment.id, ())
            number = _append(
                sheet,
                [
                    phases.get(task.phase_id, task.phase_id),
                    task.title,
                    local_day(due, zone),
                    row.member.name,
                    state_label(row.state),
                    local_day(submission.submitted_at if submission else None, zone),
                    late,
                    "\n".join(review_text(review) for review in reviews),
                ],
            )
            sheet.cell(number, 5).fill = FILLS[STATE_MARKS[row.state]]
            if late:
                sheet.cell(number, 7).fill = FILLS[Mark.RED if submission is None else Mark.YELLOW]
    _finish(sheet, len(headers))
    return _bytes(workbook)
