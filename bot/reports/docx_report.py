"""The meeting report (情况报告) as a .docx: the meeting's facts, the members' statement
materials, the opinions collected, the rectification measures and ledger, last year's
implementation, every survey round, the heart-to-heart talks and how each task was handed
in (late, missing, reviewed), assembled from ``gather.ReportData``.

Laid out by ``layout`` (GB/T 9704 for a Chinese plan); every text written passes
``clean.xml_text``. Called inside the plan's locale; returns the file's bytes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC

import cn2an
from docx import Document
from docx.document import Document as DocumentObject
from docx.shared import Mm

from bot.core.formatting import document_date_text, due_text, names_text
from bot.core.i18n import N_, _, current_locale, ngettext
from bot.ledger.rules import CATEGORY_LABELS, STATUS_LABELS, is_overdue, label, summarize
from bot.ledger.texts import summary_line
from bot.meeting.results import percent
from bot.meeting.talks import PairState
from bot.reports import layout
from bot.reports.clean import safe_file_name, xml_text
from bot.reports.gather import Material, ReportData, days_between, review_text
from bot.reports.plan_charts import ledger_chart, progress_chart, results_chart
from bot.tasks.progress import MemberProgress, MemberState

CHART_WIDTH = Mm(150)  # inside the 156 mm type area
DONE_FILL, IN_PROGRESS_FILL, OVERDUE_FILL = "E2EFDA", "FFF2CC", "F8CBAD"
PAIR_WORDS = {
    PairState.CONFIRMED: (N_("held"), DONE_FILL),
    PairState.AWAITING: (N_("to confirm"), IN_PROGRESS_FILL),
    PairState.MISSING: (N_("not held"), OVERDUE_FILL),
}


def _paragraph(document: DocumentObject, text: str, style: str | None = None) -> None:
    document.add_paragraph(xml_text(text), style=style)


def _heading(document: DocumentObject, text: str, level: int = 1) -> None:
    document.add_heading(xml_text(text), level=level)


def _numbered(number: int, title: str) -> str:
    """A section heading numbered as the locale writes it: 七、… / 7. …"""
    if current_locale().startswith("zh"):
        return f"{cn2an.an2cn(number)}、{title}"
    return f"{number}. {title}"


def _handed_in(data: ReportData, material: Material) -> str | None:
    """When it came and whether late; or that it is missing and for how long."""
    zone = data.plan.timezone
    if material.submitted_at is not None:
        day = document_date_text(material.submitted_at, zone)
        if material.late and material.due_at is not None:
            days = days_between(material.due_at, material.submitted_at, zone)
            return ngettext(
                "Handed in {days} day late, on {date}",
                "Handed in {days} days late, on {date}",
                days,
            ).format(days=days, date=day)
        return _("Handed in on {date}").format(date=day)
    if material.due_at is not None and data.now > material.due_at:
        days = days_between(material.due_at, data.now, zone)
        return ngettext(
            "(not handed in; overdue by {days} day)",
            "(not handed in; overdue by {days} days)",
            days,
        ).format(days=days)
    return _("(not handed in)")


def _materials(
    document: DocumentObject, data: ReportData, materials: Sequence[Material], empty: str
) -> None:
    if not materials:
        if empty:
            _paragraph(document, empty)
        return
    for material in materials:
        _heading(document, f"{material.member}：{material.task}", level=2)
        if material.text:
            for paragraph in xml_text(material.text).split("\n"):
                if paragraph.strip():
                    _paragraph(document, paragraph.strip())
        for name in material.files:
            _paragraph(document, _("Attached file: {name}").format(name=safe_file_name(name)))
        status = _handed_in(data, material)
        if status:
            _paragraph(document, status)
        for note in material.reviews:
            _paragraph(document, _("Review: {verdict}").format(verdict=review_text(note)))


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


def _picture(document: DocumentObject, png: bytes) -> None:
    document.add_paragraph(style=layout.FIGURE).add_run().add_picture(
        io.BytesIO(png), width=CHART_WIDTH
    )


def _ledger_table(document: DocumentObject, data: ReportData) -> None:
    if not data.items:
        _paragraph(document, _("The rectification ledger has no items yet."))
        return
    _paragraph(document, summary_line(summarize(data.items, data.now)))
    headers = [
        _("No."),
        _("Problem and measure"),
        _("How"),
        _("Responsible"),
        _("Deadline"),
        _("Status"),
    ]
    zone = data.plan.timezone
    rows, fills = [], []
    for item in data.items:
        owner = data.owners.get(item.member_id or 0, "")
        if item.department:
            owner = f"{owner}（{item.department}）"
        status = label(STATUS_LABELS, item.status)
        fill = {"done": DONE_FILL, "in_progress": IN_PROGRESS_FILL}.get(item.status)
        if is_overdue(item, data.now) and item.due_at is not None:
            days = days_between(item.due_at, data.now, zone)
            status = ngettext(
                "{status}, overdue by {days} day",
                "{status}, overdue by {days} days",
                days,
            ).format(status=status, days=days)
            fill = OVERDUE_FILL
        rows.append(
            [
                str(item.id),
                item.description,
                label(CATEGORY_LABELS, item.category),
                owner,
                document_date_text(item.due_at, zone) if item.due_at else "",
                status,
            ]
        )
        fills.append(fill)
    table = layout.table(document, headers, [12, 46, 22, 22, 30, 24], rows)
    for table_row, fill in zip(table.rows[1:], fills, strict=True):
        if fill:
            layout.shade(table_row.cells[-1], fill)
    if data.ledger_states:
        _picture(
            document,
            ledger_chart(_("Rectification ledger over time"), data.ledger_states, zone),
        )


def _surveys(document: DocumentObject, data: ReportData) -> None:
    zone = data.plan.timezone
    for survey in data.surveys:
        _heading(document, survey.title, level=2)
        facts = _("Ballots: {count}").format(count=survey.ballots)
        if survey.closed_at is not None:
            facts += _("; closed on {date}").format(date=document_date_text(survey.closed_at, zone))
        _paragraph(document, facts)
        if not survey.shown:
            _paragraph(
                document,
                _("Fewer than {count} ballots: the results are not shown.").format(
                    count=survey.min_ballots
                ),
            )
            continue
        if survey.rate is not None:
            verdict = ""
            if survey.passed is not None:
                verdict = _("(passed)") if survey.passed else _("(not passed)")
            _paragraph(
                document,
                _("Pass rate: {rate} {verdict}")
                .format(rate=percent(survey.rate), verdict=verdict)
                .strip(),
            )
        rows = [
            [item, *(str(survey.counts.get(item, {}).get(c, 0)) for c in survey.choices)]
            for item in survey.items
        ]
        width = (156 - 60) / max(1, len(survey.choices))
        layout.table(document, ["", *survey.choices], [60] + [width] * len(survey.choices), rows)
        _picture(document, results_chart(survey.title, survey.items, survey.choices, survey.counts))


def _talks(document: DocumentObject, data: ReportData) -> None:
    """Who has held the required heart-to-heart talks: a person × person table in words."""
    pairs = data.talks
    people = []
    for pair in pairs:
        for member in (pair.a, pair.b):
            if member not in people:
                people.append(member)
    done = sum(p.state is PairState.CONFIRMED for p in pairs)
    _paragraph(
        document,
        _("Heart-to-heart talks: {done} of {total} required pairs confirmed by both sides.").format(
            done=done, total=len(pairs)
        ),
    )
    cells = {}
    for pair in pairs:
        cells[(pair.a.id, pair.b.id)] = cells[(pair.b.id, pair.a.id)] = pair.state
    rows = []
    for person in people:
        row = [person.name]
        for other in people:
            state = cells.get((person.id, other.id))
            row.append("—" if other.id == person.id else _(PAIR_WORDS[state][0]) if state else "")
        rows.append(row)
    width = (156 - 26) / max(1, len(people))
    table = layout.table(
        document, ["", *(p.name for p in people)], [26] + [width] * len(people), rows
    )
    for table_row, person in zip(table.rows[1:], people, strict=True):
        for cell, other in zip(table_row.cells[1:], people, strict=True):
            state = cells.get((person.id, other.id))
            if state is not None:
                layout.shade(cell, PAIR_WORDS[state][1])


def _hand_in_row(data: ReportData, row: MemberProgress) -> tuple[str, str | None]:
    zone = data.plan.timezone
    submission = data.latest.get(row.assignment.id)
    due = row.assignment.due_at
    if submission is None:
        if row.state is MemberState.OVERDUE:
            days = days_between(due, data.now, zone)
            return ngettext(
                "not handed in; overdue by {days} day",
                "not handed in; overdue by {days} days",
                days,
            ).format(days=days), OVERDUE_FILL
        return _("not handed in yet"), None
    day = document_date_text(submission.submitted_at, zone)
    if submission.late:
        days = days_between(due, submission.submitted_at, zone)
        text = ngettext(
            "{days} day late, on {date}",
            "{days} days late, on {date}",
            days,
        ).format(days=days, date=day)
        fill = IN_PROGRESS_FILL
    else:
        text = _("on time, on {date}").format(date=day)
        fill = DONE_FILL
    if row.state is MemberState.RETURNED or row.state is MemberState.OVERDUE:
        text += "\n" + _("returned for changes")
        fill = OVERDUE_FILL if row.state is MemberState.OVERDUE else IN_PROGRESS_FILL
    return text, fill


def _hand_ins(document: DocumentObject, data: ReportData) -> None:
    """Every task, every person: handed in on time, late (how late), or missing; the review."""
    zone = data.plan.timezone
    missing = [
        f"{row.member.name}（{progress.task.title}）"
        for progress in data.progress
        for row in progress.rows
        if row.assignment.id not in data.latest
        and row.state in (MemberState.OVERDUE, MemberState.RETURNED, MemberState.PENDING)
        and data.now > row.assignment.due_at
    ]
    _paragraph(
        document,
        _("Missing past the deadline: {names}").format(names=names_text(missing))
        if missing
        else _("Nothing is missing past its deadline."),
    )
    rows, fills = [], []
    for progress in data.progress:
        for row in progress.rows:
            text, fill = _hand_in_row(data, row)
            reviews = data.reviews.get(row.assignment.id, ())
            rows.append(
                [
                    progress.task.title,
                    row.member.name,
                    document_date_text(row.assignment.due_at, zone),
                    text,
                    "\n".join(review_text(note) for note in reviews),
                ]
            )
            fills.append(fill)
    if not rows:
        return
    table = layout.table(
        document,
        [_("Task"), _("Member"), _("Deadline"), _("Handed in"), _("Review")],
        [36, 20, 32, 34, 34],
        rows,
    )
    for table_row, fill in zip(table.rows[1:], fills, strict=True):
        if fill:
            layout.shade(table_row.cells[3], fill)
    _picture(document, progress_chart(_("Progress of the tasks"), data.progress))


def build_report(data: ReportData) -> bytes:
    plan = data.plan
    page = layout.layout_for(plan.locale)
    document = Document()
    layout.apply_layout(document, page)
    title = xml_text(
        _("Report on the {meeting}").format(
            meeting=plan.meeting.title if plan.meeting else plan.title
        )
    )
    heading = document.add_paragraph(style="Title")
    for number, line in enumerate(layout.title_lines(title, page)):
        if number:
            heading.add_run().add_break()
        heading.add_run(line)
    if not page.page_number_dashes:  # the business layout names the sender under the title
        _paragraph(document, plan.organisation, style=layout.SIGNATURE)

    _meeting(document, data)
    _heading(document, _("2. Statement materials of the members"))
    _materials(document, data, data.statements, _("No statement material has been handed in."))
    _heading(document, _("3. Opinions collected before the meeting"))
    if data.opinions or not data.opinions_collected:
        _materials(document, data, data.opinions, _("No opinions have been handed in."))
    _collected(document, data)
    _heading(document, _("4. Rectification measures"))
    _materials(document, data, data.measures, _("No rectification measures have been handed in."))
    _heading(document, _("Rectification ledger"), level=2)
    _ledger_table(document, data)
    _heading(document, _("5. Implementation of last year's rectification measures"))
    _last_year(document, data)
    number = 5
    if data.surveys:
        number += 1
        _heading(document, _numbered(number, _("Evaluation results")))
        _surveys(document, data)
    if data.talks:
        number += 1
        _heading(document, _numbered(number, _("Heart-to-heart talks")))
        _talks(document, data)
    number += 1
    _heading(document, _numbered(number, _("How the tasks were handed in")))
    _hand_ins(document, data)
    layout.signature(
        document, page, xml_text(plan.organisation), document_date_text(data.now, plan.timezone)
    )
    # The file's properties say what it is and who wrote it, not "python-docx".
    properties = document.core_properties
    properties.title = title.replace("\n", "")
    properties.author = properties.last_modified_by = xml_text(plan.organisation)
    properties.created = properties.modified = data.now.astimezone(UTC).replace(tzinfo=None)
    properties.comments = properties.subject = properties.keywords = ""
    properties.language = "zh-CN" if page.chars_per_line else "en"
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _last_year(document: DocumentObject, data: ReportData) -> None:
    if data.last_year:
        _materials(document, data, data.last_year, "")
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
