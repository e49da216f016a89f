"""The documents the organizer gets with /export and ``huiwu export``: the meeting report
(.docx), the ledger and the progress table (.xlsx), built in the plan's locale."""

from __future__ import annotations

import asyncio

from bot.core.app import Huiwu
from bot.core.i18n import _, use_locale
from bot.core.messaging import OutgoingFile
from bot.reports.gather import ReportData, gather

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _render(data: ReportData) -> list[OutgoingFile]:
    # Loaded on first use: matplotlib, python-docx and openpyxl cost a second and 60 MiB at
    # every start-up of a bot that may never export (bench/province.py, bench/startup.py).
    from bot.reports.docx_report import build_report
    from bot.reports.xlsx import ledger_workbook, progress_workbook

    title = data.plan.title
    with use_locale(data.plan.locale):
        return [
            OutgoingFile(_("{plan} - report.docx").format(plan=title), build_report(data), DOCX),
            OutgoingFile(_("{plan} - ledger.xlsx").format(plan=title), ledger_workbook(data), XLSX),
            OutgoingFile(
                _("{plan} - progress.xlsx").format(plan=title), progress_workbook(data), XLSX
            ),
        ]


async def export_documents(app: Huiwu, instance_id: int) -> list[OutgoingFile]:
    data = await gather(app, instance_id)
    return await asyncio.to_thread(_render, data)
