"""Import a plan from the Chinese work-plan document people already have (.txt or .docx).

The document is read line by line (a .docx paragraph is a line):

* **phases** from headings such as "（一）会前准备阶段（2013年12月3日至12月20日）"; a phase that
  only says "（2013年12月31日前）" starts the day after the previous one ends;
* **tasks** from "一是…二是…" paragraphs or numbered items ("1." "1、" "（1）"): the leading
  clause is the title, the rest the description; the responsible people and the deadline come
  from fields such as "（责任人：方 磊  时限：12月6日前）" (责任单位, 牵头领导, 牵头单位,
  完成时限, 时间 …). 牵头领导 is an assignee, or the reviewer when a 责任人/责任单位 is named too;
* the **meeting** from the phase whose title says the meeting is held ("会议进行阶段"): its
  date (the phase's last day at 09:00 unless the text names one), chair, participants,
  invited superiors, attendees and the numbered agenda with presenters;
* **surveys**: "民主测评" on the agenda is an evaluation survey; a "满意度测评" task is a
  satisfaction survey, with the threshold ("满意率未达到80%") and "重新召开" as reconvene
  (a failed round revises the team's rectification plan task);
* **talks**: the "交流谈心" task's "主要负责人同…成员之间" and "相互之间" become ``[talks]``;
* "召开15天前…报送…" outside the phases is a task for the organizer due "meeting-15d".

The organizer is the person most often named responsible, unless the roster names one.
Offices the text names (党组书记, 市政府分管领导, 支部书记代表 …) become placeholder roster
entries. Whatever cannot be read is reported as an ``ImportIssue`` with its line and text, and
the finished plan is checked with ``load_plan_text``: its warnings (a deadline before its
phase, a report due after the meeting dated on the meeting's day …) are reported too.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.core.i18n import _
from bot.plan.cn_dates import (
    DateSpan,
    MeetingOffset,
    cn_number,
    find_dates,
    find_meeting_offset,
    infer_year,
    parse_clock,
    parse_deadline,
    parse_span,
)
from bot.plan.cn_names import (
    Group,
    group_of,
    is_unit,
    leading_group,
    member_id_for,
    preferred_title,
    split_names,
    split_superiors,
    strip_spaces,
    superior_bodies,
)
from bot.plan.docx_limits import check_docx
from bot.plan.loader import PlanError, load_plan_text
from bot.plan.model import DOCUMENT_SUFFIXES
from bot.plan.toml_writer import dump_toml

MEETING_TIME = time(9, 0)
TABLE_MARK = "【表格】"
_CN_NUMERAL = "一二三四五六七八九十"
_ASSIGNEE_LABELS = ("责任人", "负责人", "责任单位", "责任部门", "牵头单位", "牵头部门")
_LEADER_LABELS = ("牵头领导", "责任领导", "分管领导")
_DEADLINE_LABELS = ("完成时限", "完成时间", "截止时间", "时限", "时间")
_OTHER_LABELS = ("配合单位", "协助单位", "参与单位")
_LABEL = "|".join(
    sorted(_ASSIGNEE_LABELS + _LEADER_LABELS + _DEADLINE_LABELS + _OTHER_LABELS, key=len)[::-1]
)
_FIELDS_IN_PARENS = re.compile(rf"[（(](?P<fields>\s*(?:{_LABEL})\s*[：:][^（()）]*)[）)]")
_FIELDS_TRAILING = re.compile(rf"(?P<fields>(?:{_LABEL})\s*[：:].*)$")
_FIELD = re.compile(
    rf"(?P<label>{_LABEL})\s*[：:]\s*(?P<value>.*?)\s*[；;，,。]?\s*(?=(?:{_LABEL})\s*[：:]|$)"
)
_ITEM_MARKER = re.compile(rf"^\s*(?:[{_CN_NUMERAL}]+是|[（(]\d+[）)]|\d+\s*[.．、)）](?!\d))\s*")
_INLINE_ITEM = re.compile(rf"(?<=[。；;])\s*(?=[{_CN_NUMERAL}]+是)")
_HEADING = re.compile(
    rf"^(?:[（(][{_CN_NUMERAL}]+[）)]|第[{_CN_NUMERAL}]+(?:阶段|步)[：:、]?|[{_CN_NUMERAL}]+[、.．])"
)
_PHASE_HEADING = re.compile(
    rf"^(?P<marker>[（(][{_CN_NUMERAL}]+[）)]|第[{_CN_NUMERAL}]+(?:阶段|步)[：:、]?"
    rf"|[{_CN_NUMERAL}]+[、.．])\s*(?P<title>[^（(。]*?)\s*"
    r"(?:[（(](?P<dates>[^（()）]*)[）)])?\s*[。：:]?$"
)
_EXPLICIT_YEAR = re.compile(r"\d{4}\s*年|[〇零一二三四五六七八九]{4}\s*年")
_MEETING_PHASE = re.compile(r"会议(?:进行|召开|举行)|召开.*会|进行阶段")
_CHAIR = re.compile(r"会议由(?P<who>[^，。；,;]+?)主持")
_ATTENDING = re.compile(r"(?P<who>[^，。；：,;:]+?)列席(?:会议)?(?=[。；;，,]|$)")
_INVITED = re.compile(r"邀请(?P<who>[^，。；,;]+?)(?:参加|出席|列席|指导)")
_PARTICIPANTS = re.compile(r"(?:参会对象|参会人员|参加人员|与会人员)[：:](?P<who>[^；;。]+)")
_MEETING_WHEN = re.compile(r"(?:定于|会议时间[：:])\s*(?P<when>[^，。；,;]+)")
_AGENDA_HEADING = re.compile(r"^(?:\d+\s*[.．、]\s*)?(?:会议)?议程[：:]?$")
_PRESENTER = re.compile(r"(?:^(?:由|请)?|由|请)(?P<who>[\u4e00-\u9fff 、]{2,20}?)同志")
_OFFICE_PREFIX = re.compile(r"^(?:本委|我委|委|本单位|本局|我局|本部门|各)")
_REVIEW_BY = re.compile(r"^(?P<object>.*?)由(?P<who>.+?)(?:负责)?(?:审阅|审核|审定)")
_REVIEWER_FIRST = re.compile(r"^(?P<who>[^，,]+?)负责(?:审阅|审核|审定)(?P<object>.*)$")
_SPLIT_TITLE = re.compile(r"^(?P<verb>制定|撰写|起草|形成|制订)(?P<a>.+?)和(?P<b>.+)$")
_THRESHOLD = re.compile(r"满意率[^，。；]*?(?P<number>\d+(?:\.\d+)?)\s*[%％]")
_THRESHOLD_CN = re.compile(r"满意率[^，。；]*?百分之(?P<number>[零一二三四五六七八九十]+)")
_SEND_TO_SUPERIOR = re.compile(r"(?P<verb>报送|上报|提交)(?P<object>[^，。；]+)")
_SENTENCE_END = re.compile(r"(?<=[。；;！!])")
_TASK_KINDS: tuple[tuple[str, str, str, str], ...] = (
    # (pattern in the title, id, kind, submission)
    ("满意度测评|满意度调查", "satisfaction", "survey", "none"),
    ("个人整改", "personal-measures", "rectification-personal", "both"),
    ("班子整改方案", "team-plan", "rectification-team", "both"),
    ("整改", "rectify", "rectification", "both"),
    ("学习", "study", "study", "both"),
    ("征求意见|征集意见|听取意见", "opinions", "opinions", "both"),
    ("谈心", "talks", "talks", "text"),
    ("剖析材料|对照检查|发言材料|发言提纲", "statements", "statement", "both"),
    ("(?:报送|上报).*方案", "submit-plan", "report", "files"),
    ("报送|上报|报告", "report", "report", "files"),
)
_PHASE_IDS = (
    ("准备", "preparation"),
    ("会议|召开|进行", "meeting"),
    ("整改", "rectification"),
    ("动员|部署", "mobilisation"),
    ("学习", "study"),
    ("总结", "summary"),
)
_EVALUATION_SCALE = ["好", "较好", "一般", "差"]
_SATISFACTION_SCALE = ["满意", "基本满意", "不满意"]
_SATISFACTION_PASS = ["满意", "基本满意"]
_ROLE_ORDER = ("organizer", "member", "chair", "lead", "superior", "attendee")


@dataclass(frozen=True)
class ImportIssue:
    """Something the importer could not read, or an inconsistency, with where it was found."""

    line: int
    text: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.message}" + (f" — “{self.text}”" if self.text else "")


@dataclass(frozen=True)
class ImportResult:
    """The imported plan as TOML, what to check in it, and the roster entries it added."""

    toml_text: str
    warnings: tuple[ImportIssue, ...]
    new_members: tuple[str, ...]


class PlanImportError(Exception):
    """The document or roster cannot be read at all (wrong format, unreadable file)."""


def import_plan(path: str | Path, *, roster_path: str | Path | None = None) -> ImportResult:
    """Import a .txt (UTF-8 or GB18030) or .docx work-plan document."""
    roster = load_roster(roster_path) if roster_path is not None else None
    text = read_document(path)
    return import_plan_text(text, roster=roster, source=str(path))


def import_plan_text(
    text: str, *, roster: list[dict[str, Any]] | None = None, source: str = "<document>"
) -> ImportResult:
    """Import a work-plan document's text; ``roster`` entries are used as they are."""
    return _Importer(text, roster or [], source).run()


def read_document(path: str | Path) -> str:
    """The text of a .txt or .docx document, one paragraph a line."""
    path = Path(path)
    if path.suffix.lower() not in (*DOCUMENT_SUFFIXES, ""):
        raise PlanImportError(
            f"{path}: only .txt and .docx documents can be imported (save .doc as .docx)"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise PlanImportError(f"{path}: cannot read the file: {exc.strerror}") from exc
    return document_text(data, path.name, source=str(path))


def document_text(data: bytes, file_name: str, *, source: str | None = None) -> str:
    """The text of a document's bytes (a file sent in chat): .docx by content, else text."""
    if file_name.lower().endswith(".docx"):
        return _read_docx(data, source or file_name)
    return _decode(data)


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PlanImportError("the text is neither UTF-8 nor GB18030")


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
        raise PlanImportError(f"{source}: not a readable .docx document") from exc
    lines: list[str] = []
    for block in document.element.body.iterchildren():
        tag = block.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(block, document).text)
        elif tag == "tbl":
            rows = Table(block, document).rows
            first_row = "  ".join(cell.text.strip() for cell in rows[0].cells) if rows else ""
            lines.append(TABLE_MARK + first_row)
    return "\n".join(lines)


def load_roster(path: str | Path) -> list[dict[str, Any]]:
    """The ``[[roster]]`` entries of a TOML file (a plan, or a file with only a roster)."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanImportError(f"{path}: cannot read the roster: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PlanImportError(f"{path}: the roster is not valid TOML: {exc}") from exc
    entries = raw.get("roster")
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict) and entry.get("id") and entry.get("name") for entry in entries
    ):
        raise PlanImportError(f"{path}: needs [[roster]] entries, each with an id and a name")
    return [dict(entry) for entry in entries]


# --- the document as lines and items ------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    number: int
    text: str


@dataclass
class _Item:
    """A task or agenda item: a numbered paragraph and its continuation lines."""

    line: _Line
    text: str


@dataclass
class _Task:
    line: _Line
    title: str
    description: str
    assignees: list[str]
    due: date | MeetingOffset
    window: MeetingOffset | None = None
    reviewers: list[str] = field(default_factory=list)
    collective: bool = False
    survey: str | None = None


@dataclass
class _Phase:
    line: _Line
    title: str
    dates_text: str | None
    lines: list[_Line] = field(default_factory=list)
    start: date = date.min
    end: date = date.min
    end_known: bool = True
    is_meeting: bool = False
    tasks: list[_Task] = field(default_factory=list)


@dataclass
class _AgendaItem:
    title: str
    presenters: list[str]
    speaking_order: bool = False
    survey: str | None = None


@dataclass
class _Meeting:
    line: _Line
    starts_at: datetime | None = None
    chair: list[str] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    in_phase: bool = True
    invited: list[str] = field(default_factory=list)
    attendees: list[str] = field(default_factory=list)
    agenda: list[_AgendaItem] = field(default_factory=list)


def _strip_marker(text: str) -> str:
    return _ITEM_MARKER.sub("", text, count=1).strip()


def _split_fields(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The text without its field group, and the (label, value) fields, in order."""
    match = _FIELDS_IN_PARENS.search(text) or _FIELDS_TRAILING.search(text)
    if not match:
        return text.strip(), []
    body = (text[: match.start()] + text[match.end() :]).strip()
    fields = [
        (found["label"], found["value"].strip(" ；;，,。"))
        for found in _FIELD.finditer(match["fields"].strip())
    ]
    return body, fields


def _has_fields(text: str) -> bool:
    return bool(_FIELDS_IN_PARENS.search(text) or _FIELDS_TRAILING.search(text))


def _title_and_description(body: str) -> tuple[str, str]:
    """The leading clause is the title; the rest of the paragraph is the description."""
    title = re.split(r"[。；;！!：:]", body, maxsplit=1)[0]
    rest = body[len(title) + 1 :].strip()
    title = title.strip()
    if len(title) > 24 and "，" in title:
        return title.split("，", 1)[0], body
    return title, (rest or body)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _task_style(title: str) -> tuple[str, str, str]:
    for pattern, task_id, kind, submission in _TASK_KINDS:
        if re.search(pattern, title):
            return task_id, kind, submission
    return "task", "task", "both"


def _unique(base: str, taken: set[str]) -> str:
    candidate, number = base, 2
    while candidate in taken:
        candidate, number = f"{base}-{number}", number + 1
    taken.add(candidate)
    return candidate


def _clean_office(phrase: str) -> str:
    return _OFFICE_PREFIX.sub("", strip_spaces(phrase))


# --- the roster ------------------------------------------------------------------------------


class _Roster:
    """The given roster plus the entries the document adds (people, units, placeholders)."""

    def __init__(self, given: list[dict[str, Any]]):
        self.entries = [dict(entry) for entry in given]
        self.added: list[dict[str, Any]] = []

    @property
    def all(self) -> list[dict[str, Any]]:
        return self.entries + self.added

    def names(self) -> list[str]:
        return [str(entry["name"]) for entry in self.all]

    def find(self, name: str) -> dict[str, Any] | None:
        wanted = strip_spaces(name)
        for entry in self.all:
            if strip_spaces(str(entry["name"])) == wanted:
                return entry
        return None

    def add(self, name: str, roles: Iterable[str]) -> str:
        """The id of the entry called ``name``, adding it with ``roles`` when it is new."""
        existing = self.find(name)
        if existing is not None:
            return str(existing["id"])
        entry_id = member_id_for(name, (str(entry["id"]) for entry in self.all))
        self.added.append({"id": entry_id, "name": strip_spaces(name), "roles": list(roles)})
        return entry_id

    def roles_of(self, entry: dict[str, Any]) -> list[str]:
        roles = entry.get("roles", ["member"])
        return [roles] if isinstance(roles, str) else list(roles)

    def has_role(self, role: str) -> bool:
        return any(role in self.roles_of(entry) for entry in self.all)

    def give_role(self, entry_id: str, role: str) -> None:
        for entry in self.all:
            if entry["id"] == entry_id and role not in self.roles_of(entry):
                entry["roles"] = [role, *self.roles_of(entry)]

    def is_added(self, entry_id: str) -> bool:
        return any(entry["id"] == entry_id for entry in self.added)

    def ordered(self) -> list[dict[str, Any]]:
        """Given entries first, then people, then placeholders by their main role."""

        def rank(entry: dict[str, Any]) -> int:
            roles = self.roles_of(entry)
            main = next((r for r in _ROLE_ORDER if r in roles), "member")
            person = roles in (["member"], ["organizer", "member"])
            return 0 if person else 1 + _ROLE_ORDER.index(main)

        return self.entries + sorted(self.added, key=rank)


# --- the importer ------------------------------------------------------------------------------


class _Importer:
    def __init__(self, text: str, roster: list[dict[str, Any]], source: str):
        self.lines = [_Line(number, raw.strip()) for number, raw in enumerate(text.splitlines(), 1)]
        self.title_line = next((line for line in self.lines if line.text), None)
        self.source = source
        self.roster = _Roster(roster)
        self.issues: list[ImportIssue] = []
        self.phases: list[_Phase] = []
        self.loose_lines: list[_Line] = []
        self.loose_tasks: list[_Task] = []
        self.needed_roles: list[str] = []
        self._phase_ids: dict[str, _Phase] = {}
        self._task_lines: dict[str, _Line] = {}
        self.meeting: _Meeting | None = None
        self.surveys: list[dict[str, Any]] = []
        self.voters: list[str] = []
        self.invited_bodies: list[tuple[str, _Line]] = []
        self.title_words = self._leader_titles()
        self.chair_name = self._chair_office()
        self.attendee_name = self._attendee_office()
        self.year = self._document_year()

    # -- reporting

    def issue(self, line: _Line | None, msgid: str, **values: object) -> None:
        """Report something at a line (None: the whole document), in the current locale."""
        self._record(line, _(msgid).format(**values))

    def _record(self, line: _Line | None, message: str) -> None:
        found = ImportIssue(line.number if line else 0, line.text if line else "", message)
        if found not in self.issues:
            self.issues.append(found)

    # -- whole-document facts read first

    def _body_lines(self) -> list[_Line]:
        return [line for line in self.lines if line.text]

    def _leader_titles(self) -> dict[str, list[str]]:
        titles: dict[str, list[str]] = {}
        for line in self._body_lines():
            for body, suffix in superior_bodies(line.text):
                titles.setdefault(body, []).append(suffix)
        return titles

    def _chair_office(self) -> str:
        for line in self._body_lines():
            match = _CHAIR.search(line.text)
            if match and group_of(match["who"]) is Group.LEAD:
                return _clean_office(match["who"])
        return "主要领导"

    def _attendee_office(self) -> str:
        for line in self._body_lines():
            match = _ATTENDING.search(line.text)
            if match:
                first = re.split(r"[、，,和及]", _clean_office(match["who"]))[0]
                return _clean_office(first) + "代表"
        return "列席代表"

    def _document_year(self) -> int:
        for line in self._body_lines():
            match = re.search(r"(\d{4})\s*年", line.text)
            if match:
                return int(match[1])
        self.issue(None, "the document names no year; dates are read as this year")
        return date.today().year

    # -- references to people

    def person(self, name: str) -> str:
        return self.roster.add(name, ["member"])

    def group(self, group: Group, *, presenting: bool = False) -> str:
        """The plan's "@role" for a group; missing roles get placeholders at the end."""
        role = group.value.removesuffix("s")
        if group is Group.LEAD:
            role = "chair" if presenting else "lead"
        if role not in self.needed_roles:
            self.needed_roles.append(role)
        return f"@{group.value}" if group is Group.MEMBERS else f"@{role}"

    def _ensure_roles(self) -> None:
        """Placeholders for the role groups the plan uses but nobody in the roster holds."""
        for role in self.needed_roles:
            if self.roster.has_role(role) or role == "organizer":
                continue
            if role in ("chair", "lead", "member"):
                self.roster.add(self.chair_name, ["chair", "lead", "member"])
            elif role == "attendee":
                self.roster.add(self.attendee_name, ["attendee"])
            elif role == "superior" and self.invited_bodies:
                for body, _line in self.invited_bodies:
                    self.superior(body)
            elif role == "superior":
                self.roster.add("上级参会领导", ["superior"])

    def superior(self, body: str) -> str:
        title = preferred_title(self.title_words.get(body, []))
        return self.roster.add(body + title, ["superior"])

    def refs(self, value: str, line: _Line, *, presenting: bool = False) -> list[str]:
        """Members and groups a field or phrase names; what is no name is reported."""
        bodies, rest = split_superiors(value)
        found = [self.superior(body) for body, _title in bodies]
        for chunk in re.split(r"[、，,；;/／]+", rest):
            found.extend(self._chunk_refs(chunk.strip(), line, presenting=presenting))
        return list(dict.fromkeys(found))

    def _chunk_refs(self, chunk: str, line: _Line, *, presenting: bool) -> list[str]:
        if not chunk:
            return []
        group = group_of(chunk)
        if group is not None:
            return [self.group(group, presenting=presenting)]
        if is_unit(chunk):
            return [self.roster.add(chunk, [])]
        reading = split_names(chunk, self.roster.names())
        for note in reading.doubtful:
            self.issue(line, "names read by their spacing: {note}; check them", note=note)
        for piece in reading.unreadable:
            self.issue(
                line, "“{piece}” is not a name, a unit or a role the importer knows", piece=piece
            )
        return [self.person(name) for name in reading.names]

    # -- structure

    def run(self) -> ImportResult:
        self._split_phases()
        self._resolve_phase_spans()
        for phase in self.phases:
            if phase.is_meeting:
                self._read_meeting_phase(phase)
            else:
                phase.tasks.extend(self._read_tasks(phase.lines, phase))
        self._read_loose_lines()
        self._settle_meeting_date()
        self._place_loose_tasks()
        self._settle_phase_ends()
        self._ensure_roles()
        self._ensure_organizer()
        self._report_invited()
        return self._result()

    def _split_phases(self) -> None:
        current: _Phase | None = None
        for line in self.lines:
            if not line.text or line is self.title_line:
                continue
            heading = _PHASE_HEADING.match(line.text)
            if heading and self._is_phase_heading(line.text, heading):
                title = heading["title"] or heading["marker"].rstrip("：:、")
                current = _Phase(line, title.strip(), heading["dates"])
                self.phases.append(current)
            elif _HEADING.match(line.text):
                current = None
                self.loose_lines.append(line)
            elif current is not None:
                current.lines.append(line)
            else:
                self.loose_lines.append(line)
        for phase in self.phases:
            agenda = any(_AGENDA_HEADING.match(_strip_marker(line.text)) for line in phase.lines)
            phase.is_meeting = bool(_MEETING_PHASE.search(phase.title)) or agenda
        if not self.phases:
            self.issue(None, "no phase headings such as “（一）会前准备阶段（…）” were found")

    @staticmethod
    def _is_phase_heading(text: str, heading: re.Match[str]) -> bool:
        dates = heading["dates"] or ""
        return "阶段" in text or bool(dates and find_dates(dates))

    def _resolve_phase_spans(self) -> None:
        previous_end: date | None = None
        for phase in self.phases:
            span = self._phase_span(phase, previous_end)
            if span is None:
                phase.start = (
                    previous_end + timedelta(days=1) if previous_end else date(self.year, 1, 1)
                )
                phase.end, phase.end_known = phase.start, False
                self.issue(
                    phase.line, "cannot read the phase's dates; they are taken from its tasks"
                )
            else:
                phase.end = span.end
                phase.start = span.start or self._start_after(previous_end, phase)
            if phase.end < phase.start:
                self.issue(
                    phase.line, "the phase ends before it starts; its end is taken from its tasks"
                )
                phase.end, phase.end_known = phase.start, False
            previous_end = phase.end

    def _phase_span(self, phase: _Phase, previous_end: date | None) -> DateSpan | None:
        if not phase.dates_text:
            return None
        year = previous_end.year if previous_end else self.year
        span = parse_span(phase.dates_text, default_year=year)
        explicit = _EXPLICIT_YEAR.search(phase.dates_text)
        if span and previous_end and not explicit and span.end < previous_end:
            span = parse_span(phase.dates_text, default_year=year + 1)
        return span

    def _start_after(self, previous_end: date | None, phase: _Phase) -> date:
        if previous_end is not None and previous_end < phase.end:
            return previous_end + timedelta(days=1)
        self.issue(phase.line, "the phase gives only its end; it is taken to start on that day")
        return phase.end

    # -- tasks

    def _read_tasks(self, lines: list[_Line], phase: _Phase | None) -> list[_Task]:
        tasks: list[_Task] = []
        for item in self._items(lines):
            tasks.extend(self._tasks_from_item(item, phase))
        return tasks

    def _items(self, lines: list[_Line]) -> list[_Item]:
        items: list[_Item] = []
        current: _Item | None = None
        for line in lines:
            if line.text.startswith(TABLE_MARK):
                self.issue(line, "tables are not read; write their rows as numbered paragraphs")
                continue
            for piece in _INLINE_ITEM.split(line.text):
                starts_item = _ITEM_MARKER.match(piece) or (
                    _has_fields(piece) and (current is None or _has_fields(current.text))
                )
                if starts_item:
                    current = _Item(line, piece)
                    items.append(current)
                elif current is not None:
                    current.text += piece
        return items

    def _tasks_from_item(self, item: _Item, phase: _Phase | None) -> list[_Task]:
        body, fields = _split_fields(_strip_marker(item.text))
        title, description = _title_and_description(body)
        assignees, leaders = self._responsible(fields, item.line)
        due, window = self._deadline(fields, body, item.line, phase)
        reviews = self._reviews(body, item.line)
        extra = [f"{label}：{value}" for label, value in fields if label in _OTHER_LABELS]
        description = "".join([description, *extra])
        split = _SPLIT_TITLE.match(title)
        if split and "个人" in split["a"] and "班子" in split["b"]:
            tasks = self._personal_and_team(item, split, description, assignees, due, reviews)
            for task in tasks:
                task.window = window
                task.reviewers = list(dict.fromkeys(leaders + task.reviewers))
            return tasks
        task = _Task(item.line, title, description, assignees, due, window)
        task.reviewers = list(dict.fromkeys(leaders + [ref for _obj, ref in reviews]))
        if re.search(r"满意度测评|满意度调查", body):
            task.survey = self._satisfaction_survey(title, body)
        return [task]

    def _personal_and_team(
        self,
        item: _Item,
        split: re.Match[str],
        description: str,
        assignees: list[str],
        due: date | MeetingOffset,
        reviews: list[tuple[str, str]],
    ) -> list[_Task]:
        personal = _Task(item.line, split["verb"] + split["a"], description, assignees, due)
        team = _Task(item.line, split["verb"] + split["b"], description, assignees, due)
        team.collective = True
        for review_object, ref in reviews:
            target = personal if "个人" in review_object else team
            target.reviewers.append(ref)
        return [personal, team]

    def _responsible(
        self, fields: list[tuple[str, str]], line: _Line
    ) -> tuple[list[str], list[str]]:
        """Assignees, and the leaders who review (牵头领导 beside a 责任人 or 责任单位)."""
        named = [value for label, value in fields if label in _ASSIGNEE_LABELS]
        leaders = [value for label, value in fields if label in _LEADER_LABELS]
        if not named:
            named, leaders = leaders, []
        assignees = [ref for value in named for ref in self.refs(value, line)]
        reviewers = [ref for value in leaders for ref in self.refs(value, line)]
        if not assignees:
            self.issue(line, "no responsible person is named; the task is given to the organizer")
            assignees = ["@organizer"]
        return list(dict.fromkeys(assignees)), reviewers

    def _deadline(
        self, fields: list[tuple[str, str]], body: str, line: _Line, phase: _Phase | None
    ) -> tuple[date | MeetingOffset, MeetingOffset | None]:
        stated = next((value for label, value in fields if label in _DEADLINE_LABELS), None)
        offset = find_meeting_offset(body)
        fallback = phase.end if phase else date(self.year, 12, 31)
        if stated is None:
            if offset is not None:
                return offset, None
            self.issue(
                line, "no deadline is given; it is set to the phase's end, {end}", end=fallback
            )
            return fallback, None
        deadline = parse_deadline(stated)
        if deadline is None:
            self.issue(
                line,
                "cannot read the deadline “{value}”; it is set to the phase's end, {end}",
                value=stated,
                end=fallback,
            )
            return fallback, None
        if isinstance(deadline, MeetingOffset):
            return deadline, None
        near = (phase.start, phase.end) if phase else (date(self.year, 1, 1), fallback)
        window = offset if offset is not None and offset.days > 0 else None
        return infer_year(deadline, near), window

    def _reviews(self, body: str, line: _Line) -> list[tuple[str, str]]:
        """(what is reviewed, who reviews) from "X由Y负责审阅" or "Y负责审阅X"."""
        found: list[tuple[str, str]] = []
        for sentence in re.split(r"[。；;]", body):
            match = _REVIEW_BY.search(sentence) or _REVIEWER_FIRST.search(sentence)
            if match:
                for ref in self.refs(match["who"], line):
                    found.append((match["object"], ref))
        return found

    # -- the meeting

    def _read_meeting_phase(self, phase: _Phase) -> None:
        meeting = self.meeting = _Meeting(phase.line)
        meeting.chair = [self.group(Group.LEAD, presenting=True)]
        meeting.participants = [self.group(Group.MEMBERS)]
        in_agenda = False
        agenda_items: list[_Item] = []
        task_lines: list[_Line] = []
        for line in phase.lines:
            text = line.text
            if not in_agenda and self._read_meeting_people(line, meeting):
                continue
            if _AGENDA_HEADING.match(_strip_marker(text)):
                in_agenda = True
            elif chair := _CHAIR.search(text):
                meeting.chair = self.refs(chair["who"], line, presenting=True)
            elif in_agenda and _ITEM_MARKER.match(text) and not _has_fields(text):
                agenda_items.append(_Item(line, text))
            elif in_agenda and agenda_items and not _ITEM_MARKER.match(text):
                agenda_items[-1].text += text
            elif _MEETING_WHEN.search(text):
                continue
            elif _has_fields(text) or task_lines:
                task_lines.append(line)
            else:
                self.issue(line, "this line of the meeting phase was not read")
        meeting.agenda = [self._agenda_item(item) for item in agenda_items]
        phase.tasks.extend(self._read_tasks(task_lines, phase))
        if not meeting.agenda:
            self.issue(phase.line, "the meeting phase has no numbered agenda （1）（2）…")

    def _read_meeting_people(self, line: _Line, meeting: _Meeting) -> bool:
        text = line.text
        participants = _PARTICIPANTS.search(text)
        invited = _INVITED.search(text)
        attending = _ATTENDING.search(text)
        if participants:
            meeting.participants = self._participants(participants["who"], line)
        if invited:
            who = invited["who"] if invited["who"].endswith("领导") else invited["who"] + "领导"
            for body, _title in superior_bodies(who):
                self.invited_bodies.append((body, line))
            meeting.invited = [self.group(Group.SUPERIOR)] if self.invited_bodies else []
        if attending:
            meeting.attendees = [self.group(Group.ATTENDEE)]
            others = re.split(r"[、，,和及]", _clean_office(attending["who"]))[1:]
            if others:
                self.issue(
                    line,
                    "列席 also names {others}; the roster has one placeholder, {placeholder}, "
                    "for those attending",
                    others="、".join(others),
                    placeholder=self.attendee_name,
                )
        return bool(participants or invited or attending)

    def _participants(self, who: str, line: _Line) -> list[str]:
        plain = re.sub(r"[（(][^）)]*[）)]", "", who)
        refs: list[str] = []
        for chunk in re.split(r"[、，,及和与]", plain):
            group = group_of(chunk)
            if group is not None:
                refs.append(self.group(group))
            elif chunk.strip():
                self.issue(
                    line,
                    "参会对象 “{who}” is no roster role; add them to the roster if they take part",
                    who=chunk.strip(),
                )
        return refs or [self.group(Group.MEMBERS)]

    def _agenda_item(self, item: _Item) -> _AgendaItem:
        text = _strip_marker(item.text)
        first = _sentences(text)[0].rstrip("。；;！!") if text else ""
        agenda = _AgendaItem(first, self._presenters(first, item.line))
        agenda.speaking_order = bool(re.search(r"互相批评|相互批评", first))
        if "民主测评" in text:
            agenda.survey = self._evaluation_survey(text, item.line)
        return agenda

    def _presenters(self, first_sentence: str, line: _Line) -> list[str]:
        people = _PRESENTER.search(first_sentence)
        if people:
            return self.refs(people["who"], line)
        bodies = superior_bodies(first_sentence)
        if bodies:
            return [self.superior(body) for body, _title in bodies]
        group = leading_group(first_sentence)
        return [self.group(group, presenting=True)] if group else []

    def _settle_meeting_date(self) -> None:
        if self.meeting is None:
            return
        named = self._named_meeting_date()
        phase = self._meeting_phase()
        if named is not None:
            self.meeting.starts_at = named
            if phase and not phase.start <= named.date() <= phase.end:
                self.meeting.in_phase = False
                self.issue(
                    self.meeting.line,
                    "the meeting date {date} is outside the meeting phase",
                    date=f"{named:%Y-%m-%d}",
                )
        elif phase is not None:
            self.meeting.starts_at = datetime.combine(phase.end, MEETING_TIME)

    def _named_meeting_date(self) -> datetime | None:
        for line in self._body_lines():
            match = _MEETING_WHEN.search(line.text)
            if not match:
                continue
            dates = [d for _m, d in find_dates(match["when"]) if d.day is not None]
            phase = self._meeting_phase()
            near = (
                (phase.start, phase.end)
                if phase
                else (date(self.year, 1, 1), date(self.year, 12, 31))
            )
            if dates:
                day = infer_year(dates[0], near)
                return datetime.combine(day, parse_clock(match["when"]) or MEETING_TIME)
            self.issue(line, "cannot read the meeting's date here")
        return None

    def _meeting_phase(self) -> _Phase | None:
        return next((phase for phase in self.phases if phase.is_meeting), None)

    # -- surveys

    def _evaluation_survey(self, text: str, line: _Line) -> str:
        self.voters = self._voters(text, line)
        items = []
        if "准备" in text:
            items.append("会前准备情况")
        if "召开" in text:
            items.append("会议召开情况")
        earlier = re.search(r"(?:上次|上年度|上一年度)[\u4e00-\u9fff]*?整改措施落实情况", text)
        if earlier:
            items.append(earlier[0])
        if not items:
            self.issue(
                line, "the evaluation names nothing to rate; it rates the meeting as a whole"
            )
            items = ["总体评价"]
        meeting_word = "民主生活会" if "民主生活会" in text else "会议"
        self.surveys.append(
            {
                "id": "evaluation",
                "kind": "evaluation",
                "title": f"{meeting_word}现场民主测评",
                "voters": self.voters or ["@all"],
                "scale": _EVALUATION_SCALE,
                "items": items,
                "min_ballots": 3,
            }
        )
        return "evaluation"

    def _voters(self, text: str, line: _Line) -> list[str]:
        match = re.search(r"(?:参与|参加)测评(?:的)?人员[^。]*?(?:包括|为|是)(?P<who>[^。]+)", text)
        if not match:
            return []
        voters = []
        for chunk in re.split(r"[、，,]|以及|及|和", match["who"]):
            group = group_of(chunk)
            if group is not None:
                voters.append(self.group(group))
            elif chunk.strip():
                self.issue(line, "the voters “{who}” are no roster role", who=chunk.strip())
        return list(dict.fromkeys(voters))

    def _satisfaction_survey(self, title: str, body: str) -> str:
        survey: dict[str, Any] = {
            "id": "satisfaction",
            "kind": "satisfaction",
            "title": re.sub(r"^(?:进行|开展|组织)", "", title),
            "voters": self.voters or ["@all"],
            "scale": _SATISFACTION_SCALE,
            "items": ["整改落实总体评价"],
            "pass_choices": _SATISFACTION_PASS,
        }
        threshold = _threshold(body)
        if threshold is not None:
            survey["threshold"] = threshold
            survey["on_fail"] = "reconvene" if "重新召开" in body else "none"
        survey["min_ballots"] = 3
        self.surveys.append(survey)
        return "satisfaction"

    # -- lines outside the phases

    def _read_loose_lines(self) -> None:
        for line in self.loose_lines:
            for sentence in _sentences(line.text):
                self._read_loose_sentence(sentence, line)
        field_lines = [line for line in self.loose_lines if _has_fields(line.text)]
        for task in self._read_tasks(field_lines, None):
            self.loose_tasks.append(task)

    def _read_loose_sentence(self, sentence: str, line: _Line) -> None:
        offset = find_meeting_offset(sentence)
        send = _SEND_TO_SUPERIOR.search(sentence)
        if offset is None or offset.days >= 0 or send is None or _has_fields(sentence):
            return
        to_superior = "向上级" if "上级" in sentence else ""
        title = f"{to_superior}{send['verb']}{send['object'].strip()}"
        self.issue(
            line, "“{title}” names nobody responsible; it is given to the organizer", title=title
        )
        task = _Task(line, title, sentence, ["@organizer"], offset)
        self.loose_tasks.append(task)

    def _place_loose_tasks(self) -> None:
        if not self.phases:
            self._phase_from_loose_tasks()
        for task in self.loose_tasks:
            day = self._due_day(task)
            if day is None or not self.phases:
                self.issue(task.line, "the task could not be placed in a phase and is left out")
                continue
            phase = min(self.phases, key=lambda p: _distance(day, p.start, p.end))
            position = next(
                (i for i, other in enumerate(phase.tasks) if (self._due_day(other) or day) > day),
                len(phase.tasks),
            )
            phase.tasks.insert(position, task)

    def _phase_from_loose_tasks(self) -> None:
        days = [day for task in self.loose_tasks if (day := self._due_day(task)) is not None]
        if not days:
            raise PlanImportError(
                _("{source}: no phases or tasks with deadlines were found").format(
                    source=self.source
                )
            )
        line = self.loose_tasks[0].line
        self.phases.append(_Phase(line, "工作安排", None, start=min(days), end=max(days)))

    def _has_meeting_date(self) -> bool:
        return self.meeting is not None and self.meeting.starts_at is not None

    def _due_day(self, task: _Task) -> date | None:
        if isinstance(task.due, date):
            return task.due
        if self.meeting is None or self.meeting.starts_at is None:
            return None
        return self.meeting.starts_at.date() + timedelta(days=task.due.days)

    def _settle_phase_ends(self) -> None:
        for phase in self.phases:
            for task in list(phase.tasks):
                if task.window is not None and not self._has_meeting_date():
                    self.issue(
                        task.line,
                        "the rule “{rule}” is relative to the meeting, which the document does "
                        "not define; it is left out",
                        rule=task.window.as_plan_value(),
                    )
                    task.window = None
                day = self._due_day(task)
                if day is None:
                    self.issue(
                        task.line,
                        "the deadline is relative to the meeting, which the document does not "
                        "define; it is set to the phase's end",
                    )
                    task.due = phase.end
                elif day > phase.end:
                    if phase.end_known:
                        self.issue(
                            task.line,
                            "due {due} is after its phase “{phase}” ends ({end}); "
                            "the phase is made to end on {due}",
                            due=day,
                            phase=phase.title,
                            end=phase.end,
                        )
                    phase.end = day

    def _ensure_organizer(self) -> None:
        if self.roster.has_role("organizer"):
            return
        counts = Counter(
            ref
            for phase in self.phases
            for task in phase.tasks
            for ref in task.assignees
            if not ref.startswith("@") and "member" in self._roles(ref)
        )
        if counts:
            organizer = counts.most_common(1)[0][0]
            if not self.roster.is_added(organizer):
                self.issue(
                    None,
                    "the roster names no organizer; {id}, most often responsible, is made organizer",
                    id=organizer,
                )
        else:
            self.issue(None, "nobody is named responsible; a placeholder 组织者 is the organizer")
            organizer = self.roster.add("组织者", [])
        self.roster.give_role(organizer, "organizer")

    def _roles(self, entry_id: str) -> list[str]:
        entry = next(e for e in self.roster.all if e["id"] == entry_id)
        return self.roster.roles_of(entry)

    def _report_invited(self) -> None:
        for body, line in self.invited_bodies:
            title = preferred_title(self.title_words.get(body, []))
            if self.roster.find(body + title) is None:
                self.issue(
                    line,
                    "{body}领导 are invited but have no part in the plan; add them to the roster "
                    "as superiors if they vote or speak",
                    body=body,
                )

    # -- output

    def _result(self) -> ImportResult:
        data = self._plan_data()
        header = [f"Imported from {Path(self.source).name} by Huiwu. Check it before use."]
        toml_text = dump_toml(data, header)
        try:
            plan = load_plan_text(toml_text, source=self.source)
        except PlanError as exc:
            raise PlanImportError(
                f"{self.source}: the imported plan does not check: {exc}"
            ) from exc
        for warning in plan.warnings:
            self._record(self._line_named_in(warning), warning)
        issues = sorted(self.issues, key=lambda issue: issue.line)
        if self.roster.added:
            names = "、".join(str(entry["name"]) for entry in self.roster.added)
            header.append(_("New roster entries to complete: {names}").format(names=names))
        header += [_("Check: {issue}").format(issue=issue) for issue in issues]
        return ImportResult(
            toml_text=dump_toml(data, header),
            warnings=tuple(issues),
            new_members=tuple(
                str(entry["name"]) for entry in self.roster.ordered() if entry in self.roster.added
            ),
        )

    def _line_named_in(self, message: str) -> _Line | None:
        quoted = re.findall(r"['‘“「]([^'’”」]+)['’”」]", message)
        for task_id, line in self._task_lines.items():
            if task_id in quoted:
                return line
        for phase_id, phase in self._phase_ids.items():
            if phase_id in quoted:
                return phase.line
        return None

    def _plan_data(self) -> dict[str, Any]:
        heading = strip_spaces(self.title_line.text) if self.title_line else ""
        title = re.sub(r"(?:工作|实施)?方案$", "", heading)
        data: dict[str, Any] = {"title": title or "导入的工作方案"}
        theme = _theme(self.lines)
        if theme:
            data["theme"] = theme
        data |= {"timezone": "Asia/Shanghai", "locale": "zh_CN"}
        phases = self._phases_data()
        meeting = self._meeting_data(title)
        data["roster"] = self.roster.ordered()
        data["phases"] = phases
        if meeting:
            data["meeting"] = meeting
        tasks = [task for phase in phases for task in phase.get("tasks", [])]
        team_plan = next((t["id"] for t in tasks if t["kind"] == "rectification-team"), None)
        for survey in self.surveys:
            if survey.get("on_fail") == "reconvene" and team_plan is not None:
                survey["revise"] = team_plan
        if self.surveys:
            data["surveys"] = self.surveys
        talks = _talks_data(tasks)
        if talks:
            data["talks"] = talks
        return data

    def _phases_data(self) -> list[dict[str, Any]]:
        phase_ids: set[str] = set()
        task_ids: set[str] = set()
        self._phase_ids.clear()
        self._task_lines.clear()
        result = []
        for number, phase in enumerate(self.phases, 1):
            base = "meeting" if phase.is_meeting else _phase_id(phase.title, number)
            phase_id = _unique(base, phase_ids)
            self._phase_ids[phase_id] = phase
            tasks = []
            for task in phase.tasks:
                task_data = self._task_data(task, task_ids)
                self._task_lines[task_data["id"]] = task.line
                tasks.append(task_data)
            entry: dict[str, Any] = {
                "id": phase_id,
                "title": phase.title,
                "start": phase.start.isoformat(),
                "end": phase.end.isoformat(),
            }
            if tasks:
                entry["tasks"] = tasks
            result.append(entry)
        return result

    def _task_data(self, task: _Task, taken: set[str]) -> dict[str, Any]:
        base, kind, submission = _task_style(task.title)
        if task.survey:
            base, kind, submission = task.survey, "survey", "none"
        data: dict[str, Any] = {
            "id": _unique(base, taken),
            "title": task.title,
            "kind": kind,
            "description": task.description or task.title,
            "assignees": task.assignees,
        }
        if task.collective:
            data["collective"] = True
        due = (
            task.due.as_plan_value()
            if isinstance(task.due, MeetingOffset)
            else task.due.isoformat()
        )
        data["due"] = due
        if task.window is not None:
            data["window"] = task.window.as_plan_value()
        data["submission"] = submission
        if task.reviewers:
            data["reviewer"] = _one_or_list(task.reviewers)
        if task.survey:
            data["survey"] = task.survey
        return data

    def _meeting_data(self, title: str) -> dict[str, Any] | None:
        meeting = self.meeting
        if meeting is None or meeting.starts_at is None:
            return None
        data: dict[str, Any] = {
            "title": title,
            "date": meeting.starts_at.strftime("%Y-%m-%dT%H:%M"),
        }
        phase_id = next((pid for pid, phase in self._phase_ids.items() if phase.is_meeting), None)
        if phase_id and meeting.in_phase:
            data["phase"] = phase_id
        data["chair"] = _one_or_list(meeting.chair)
        data["participants"] = meeting.participants
        for key, refs in (("invited", meeting.invited), ("attendees", meeting.attendees)):
            if refs:
                data[key] = refs
        data["agenda"] = [_agenda_data(item) for item in meeting.agenda]
        return data


def _agenda_data(item: _AgendaItem) -> dict[str, Any]:
    data: dict[str, Any] = {"title": item.title}
    if item.presenters:
        data["presenter"] = _one_or_list(item.presenters)
    if item.speaking_order:
        data["speaking_order"] = True
    if item.survey:
        data["survey"] = item.survey
    return data


def _one_or_list(refs: list[str]) -> str | list[str]:
    return refs[0] if len(refs) == 1 else refs


def _phase_id(title: str, number: int) -> str:
    for pattern, phase_id in _PHASE_IDS:
        if re.search(pattern, title):
            return phase_id
    return f"phase-{number}"


def _distance(day: date, start: date, end: date) -> int:
    if day < start:
        return (start - day).days
    return max(0, (day - end).days)


def _threshold(text: str) -> float | None:
    match = _THRESHOLD.search(text)
    if match:
        return float(match["number"]) / 100
    match = _THRESHOLD_CN.search(text)
    if match:
        return cn_number(match["number"]) / 100
    return None


def _theme(lines: list[_Line]) -> str:
    for line in lines:
        match = re.search(r"主题(?:为|是)[：:]?(?P<theme>[^。]+)", line.text)
        if match:
            return _balance_quotes(match["theme"].strip())
    return ""


def _balance_quotes(text: str) -> str:
    """Drop the outer “…” of a quoted phrase, keeping inner quotes paired.

    Documents often leave the outer quote unclosed: “反对“四风”和“狠刹五股歪风” reads as
    反对“四风”和“狠刹五股歪风”.
    """
    if text.startswith("“") and text.count("“") > text.count("”"):
        return text[1:]
    if text.startswith("“") and text.endswith("”") and _outer_quotes_pair(text):
        return text[1:-1]
    return text


def _outer_quotes_pair(text: str) -> bool:
    depth = 0
    for position, char in enumerate(text):
        depth += (char == "“") - (char == "”")
        if depth == 0 and position < len(text) - 1:
            return False
    return depth == 0


# --- TOML ------------------------------------------------------------------------------------


def _talks_data(tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """交流谈心: "主要负责人同班子成员之间" is the chair with every member, "相互之间" pairwise."""
    task = next((t for t in tasks if t["kind"] == "talks"), None)
    if task is None:
        return None
    text = task["description"]
    required = []
    if re.search(r"(主要负责人|主要领导|书记)同.*成员", text):
        required.append("chair-with-members")
    if "相互" in text:
        required.append("members-pairwise")
    return {"required": required, "task": task["id"]} if required else None
