"""The ledger and the progress table as .xlsx workbooks (openpyxl), with the red / yellow /
green marks as cell colours. Called inside the plan's locale; return the files' bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from bot.core.formatting import date_text
from bot.core.i18n import _
from bot.ledger.rules import (
    CATEGORY_LABELS,
    SOURCE_LABELS,
    STATUS_LABELS,
    Mark,
    is_overdue,
    label,
    mark,
)
from bot.reports.gather import ReportData
from bot.reports.xmltext import xml_text
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


def _sheet(
    workbook: Workbook, title: str, headers: Sequence[str], widths: Sequence[int]
) -> Worksheet:
    sheet = workbook.active
    assert sheet is not None
    sheet.title = xml_text(title)[:31]
    _append(sheet, headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(widths):
        sheet.column_dimensions[chr(ord("A") + index)].width = width
    sheet.freeze_panes = "A2"
    return sheet


def _append(sheet: Worksheet, values: Sequence[object]) -> None:
    sheet.append([xml_text(v) if isinstance(v, str) else v for v in values])


def _bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def ledger_workbook(data: ReportData) -> bytes:
    zone = data.plan.timezone
    workbook = Workbook()
    sheet = _sheet(
        workbook,
        _("Rectification ledger"),
        [
            _("No."),
            _("Problem and measure"),
            _("Source"),
            _("How"),
            _("Responsible"),
            _("Department"),
            _("Deadline"),
            _("Status"),
            _("Overdue"),
            _("Evidence"),
        ],
        [6, 50, 14, 24, 12, 14, 18, 12, 8, 40],
    )
    for item in data.items:
        _append(
            sheet,
            [
                item.id,
                item.description,
                label(SOURCE_LABELS, item.source),
                label(CATEGORY_LABELS, item.category),
                data.owners.get(item.member_id or 0, ""),
                item.department or "",
                date_text(item.due_at, zone) if item.due_at else "",
                label(STATUS_LABELS, item.status),
                _("yes") if is_overdue(item, data.now) else "",
                "\n".join(data.evidence.get(item.id, [])),
            ],
        )
        row = sheet.max_row
        for column in (2, 10):
            sheet.cell(row, column).alignment = Alignment(wrap_text=True, vertical="top")
        sheet.cell(row, 8).fill = FILLS[mark(item, data.now)]
    return _bytes(workbook)


def progress_workbook(data: ReportData) -> bytes:
    zone = data.plan.timezone
    phases = {phase.id: phase.title for phase in data.plan.phases}
    workbook = Workbook()
    sheet = _sheet(
        workbook,
        _("Progress"),
        [_("Phase"), _("Task"), _("Deadline"), _("Member"), _("State"), _("Late")],
        [16, 28, 18, 12, 14, 8],
    )
    for task_progress in data.progress:
        task = task_progress.task
        for row in task_progress.rows:
            _append(
                sheet,
                [
                    phases.get(task.phase_id, task.phase_id),
                    task.title,
                    date_text(task.due, zone),
                    row.member.name,
                    state_label(row.state),
                    _("yes") if row.late else "",
                ],
            )
            sheet.cell(sheet.max_row, 5).fill = FILLS[STATE_MARKS[row.state]]
    return _bytes(workbook)
