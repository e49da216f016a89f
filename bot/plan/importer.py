"""Import a plan from the Chinese work-plan document people already have (.txt or .docx).

The document is read line by line (a .docx paragraph is a line, a row of a task table too;
``bot.plan.document``), with the genre's grammar in ``bot.plan.cn_layout``:

* **people** first: the 参加人员 paragraph ("局党组书记、局长张建华，党组成员、副局长李明、王芳")
  gives one roster entry per person with their titles (``bot.plan.cn_people``); the first
  secretary is chair, lead and member; a title anywhere else ("会议由局党组书记张建华主持",
  "责任人：党组书记") is that person, never a second entry;
* **phases** from headings such as "（一）会前准备阶段（2013年12月3日至12月20日）", "一、…阶段（…）",
  "第一阶段：…（…）"; a phase that only says "（2013年12月31日前）" starts the day after the
  previous one ends; a phase after the meeting starts the day after the meeting;
* **tasks** from "一是…" paragraphs or numbered items ("1." "1、" "（1）" "①", "（一）" under a
  "一、" phase): the leading clause is the title, the rest the description; the fields
  "（牵头领导：… 责任人：… 责任单位：… 完成时限：…）" give the owners (the leader who answers
  for it first, then the people), the department (a unit is no person: with nobody named the
  organizer holds the task and the import asks for the unit's contact) and the deadline;
* the **meeting** from the phase whose title says the meeting is held, or that has an agenda:
  its date (the phase's last day at 09:00 unless the text names one), chair, participants,
  invited superiors, attendees and the agenda ("会议议程：" / "主要议程：", numbered or one
  item a line) with presenters;
* **surveys**: "民主测评" on the agenda is an evaluation survey; a "满意度测评" task is a
  satisfaction survey, with the threshold ("满意率未达到80%", "百分之八十五", "不足九成") and
  "重新召开" as reconvene (a failed round revises the team's rectification plan task);
* **talks**: the "交流谈心" task's "书记同/与…成员之间" and "相互之间" become ``[talks]``;
* "召开15天前…报送…" outside the phases is a task for the organizer due "meeting-15d".

The organizer is the person most often named 责任人 (leaders do not count), unless the roster
names one. Offices the text names (市政府分管领导, 支部书记代表 …) become placeholder roster
entries. Whatever cannot be read is reported as an ``ImportIssue`` with its line and text, and
the finished plan is checked with ``load_plan_text``: its warnings (a deadline before its
phase, a report due after the meeting dated on the meeting's day …) are reported too.
"""

from __future__ import annotations

import re
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.core.i18n import N_, _
from bot.core.oserrors import os_error_reason
from bot.plan.cn_dates import (
    DateSpan,
    HolidayEve,
    MeetingOffset,
    cn_number,
    find_dates,
    find_meeting_offset,
    infer_year,
    parse_clock,
    parse_deadline,
    parse_span,
)
from bot.plan.cn_layout import (
    AGENDA_HEADING,
    AGENDA_MARKER,
    ATTENDING,
    CHAIR,
    DEADLINE_LABELS,
    EXPLICIT_YEAR,
    HEADING,
    INLINE_AGENDA,
    INLINE_ITEM,
    INVITED,
    ITEM_MARKER,
    LEADER_LABELS,
    MEETING_PHASE,
    MEETING_WHEN,
    OTHER_LABELS,
    PARTICIPANTS,
    PERSON_LABELS,
    PHASE_HEADING,
    PRESENTER,
    RECIPIENT,
    REVIEW_BY,
    REVIEWER_FIRST,
    SEND_TO_SUPERIOR,
    SPLIT_TITLE,
    THRESHOLD,
    THRESHOLD_CN,
    THRESHOLD_TENTHS,
    UNIT_LABELS,
    Item,
    Line,
    clean_office,
    has_fields,
    sentences,
    split_fields,
    strip_marker,
    title_and_description,
)
from bot.plan.cn_names import (
    Group,
    group_of,
    is_unit,
    leading_group,
    preferred_title,
    split_names,
    split_superiors,
    strip_spaces,
    superior_bodies,
)
from bot.plan.cn_people import Holder, is_title, read_holders, split_title
from bot.plan.document import TABLE_MARK, PlanImportError, read_document
from bot.plan.import_roster import Roster
from bot.plan.loader import PlanError, load_plan_text
from bot.plan.toml_writer import dump_toml
from bot.plan.working_days import WorkingDays

MEETING_TIME = time(9, 0)
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

CN_WORKING_DAYS = WorkingDays("cn")  # the importer reads Chinese offices' documents


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


def load_roster(path: str | Path) -> list[dict[str, Any]]:
    """The ``[[roster]]`` entries of a TOML file (a plan, or a file with only a roster)."""
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise PlanImportError(
            _("{file}: cannot read the roster: {reason}").format(
                file=path, reason=os_error_reason(exc)
            )
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise PlanImportError(
            _("{file}: the roster is not valid TOML: {problem}").format(file=path, problem=exc)
        ) from exc
    entries = raw.get("roster")
    if not isinstance(entries, list) or not all(
        isinstance(entry, dict) and entry.get("id") and entry.get("name") for entry in entries
    ):
        raise PlanImportError(
            _("{file}: needs [[roster]] entries, each with an id and a name").format(file=path)
        )
    return [dict(entry) for entry in entries]


# --- the document as lines and items ------------------------------------------------------


@dataclass
class _Task:
    line: Line
    title: str
    description: str
    assignees: list[str]
    due: date | MeetingOffset
    window: MeetingOffset | None = None
    reviewers: list[str] = field(default_factory=list)
    department: str | None = None
    collective: bool = False
    survey: str | None = None


@dataclass
class _Phase:
    line: Line
    title: str
    dates_text: str | None
    lines: list[Line] = field(default_factory=list)
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
    line: Line
    starts_at: datetime | None = None
    chair: list[str] = field(default_factory=list)
    participants: list[str] = field(default_factory=list)
    in_phase: bool = True
    invited: list[str] = field(default_factory=list)
    attendees: list[str] = field(default_factory=list)
    agenda: list[_AgendaItem] = field(default_factory=list)


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


# --- the importer ------------------------------------------------------------------------------


class _Importer:
    def __init__(self, text: str, roster: list[dict[str, Any]], source: str):
        self.lines = [Line(number, raw.strip()) for number, raw in enumerate(text.splitlines(), 1)]
        self.title_line = next((line for line in self.lines if line.text), None)
        self.source = source
        self.roster = Roster(roster)
        self.issues: list[ImportIssue] = []
        self.phases: list[_Phase] = []
        self.loose_lines: list[Line] = []
        self.loose_tasks: list[_Task] = []
        self.needed_roles: list[str] = []
        self._phase_ids: dict[str, _Phase] = {}
        self._task_lines: dict[str, Line] = {}
        self.meeting: _Meeting | None = None
        self.surveys: list[dict[str, Any]] = []
        self.voters: list[str] = []
        self.invited_bodies: list[tuple[str, Line]] = []
        self.leaders: set[str] = set()  # named as a task's leader (牵头领导): not the organizer
        self.holders = self._read_holders()
        self.title_words = self._leader_titles()
        self.chair_name = self._chair_office()
        self.attendee_name = self._attendee_office()
        self.year = self._document_year()

    # -- reporting

    def issue(self, line: Line | None, msgid: str, **values: object) -> None:
        """Report something at a line (None: the whole document), in the current locale."""
        self._record(line, _(msgid).format(**values))

    def _record(self, line: Line | None, message: str) -> None:
        found = ImportIssue(line.number if line else 0, line.text if line else "", message)
        if found not in self.issues:
            self.issues.append(found)

    # -- whole-document facts read first

    def _body_lines(self) -> list[Line]:
        return [line for line in self.lines if line.text]

    def _read_holders(self) -> list[Holder]:
        """The people attendee paragraphs name with their titles, in the roster at once: the
        first secretary chairs and leads, everyone named is a member."""
        holders: list[Holder] = []
        for line in self._body_lines():
            match = PARTICIPANTS.search(line.text)
            if match:
                holders.extend(h for h in read_holders(match["who"]) if h not in holders)
        leader = next((holder for holder in holders if holder.leads), None)
        for holder in holders:
            roles = ["chair", "lead", "member"] if holder is leader else ["member"]
            self.roster.add(holder.name, roles)
        return holders

    def _holders_of(self, title: str) -> list[Holder]:
        """The people holding a title: "党组书记" is held by whoever is "局党组书记"."""
        compact = strip_spaces(title)
        if len(compact) < 2:
            return []
        exact = [h for h in self.holders if compact in h.titles]
        if exact:
            return exact
        return [
            h
            for h in self.holders
            if any(t.endswith(compact) and len(compact) >= 3 for t in h.titles)
        ]

    def _lead_holder(self) -> Holder | None:
        return next((holder for holder in self.holders if holder.leads), None)

    def _leader_titles(self) -> dict[str, list[str]]:
        titles: dict[str, list[str]] = {}
        for line in self._body_lines():
            for body, suffix in superior_bodies(line.text):
                titles.setdefault(body, []).append(suffix)
        return titles

    def _chair_office(self) -> str:
        for line in self._body_lines():
            match = CHAIR.search(line.text)
            if match and group_of(match["who"]) is Group.LEAD:
                return clean_office(match["who"])
        return "主要领导"

    def _attendee_office(self) -> str:
        for line in self._body_lines():
            match = ATTENDING.search(line.text)
            if match:
                first = re.split(r"[、，,和及]", clean_office(match["who"]))[0]
                return clean_office(first) + "代表"
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
        """The plan's "@role" for a group (or the person who leads, when the document names
        them); missing roles get placeholders at the end."""
        leader = self._lead_holder()
        if group is Group.LEAD and leader is not None:
            return self.person(leader.name)
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

    def refs(self, value: str, line: Line, *, presenting: bool = False) -> list[str]:
        """Members and groups a field or phrase names; what is no name is reported."""
        bodies, rest = split_superiors(value)
        found = [self.superior(body) for body, _title in bodies]
        chunks = [chunk.strip() for chunk in re.split(r"[、，,；;/／]+", rest)]
        for chunk, following in zip(chunks, [*chunks[1:], ""], strict=True):
            if is_title(chunk) and self._names_a_person(following):
                continue  # "党组成员、副院长邱敏": the titles are 邱敏's, not a group
            found.extend(self._chunk_refs(chunk, line, presenting=presenting))
        return list(dict.fromkeys(found))

    def _names_a_person(self, chunk: str) -> bool:
        title, name = split_title(chunk)
        return bool(title) or any(holder.name == name for holder in self.holders)

    def _chunk_refs(self, chunk: str, line: Line, *, presenting: bool) -> list[str]:
        if not chunk:
            return []
        title, name = split_title(chunk)
        if title:  # "局长张建华": the title is the person's office, not another person
            return [self.person(name)]
        holders = self._holders_of(chunk) if is_title(chunk) else []
        if len(holders) > 1 and chunk.endswith(("成员", "委员", "常委")):
            return [self.group(Group.MEMBERS)]  # "党组成员": the body's members, as a group
        if holders:
            return [self.person(holder.name) for holder in holders]
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
        self._start_after_the_meeting()
        self._place_loose_tasks()
        self._settle_phase_ends()
        self._ensure_roles()
        self._ensure_organizer()
        self._report_invited()
        return self._result()

    def _split_phases(self) -> None:
        current: _Phase | None = None
        in_agenda = False
        nested = False  # the phase is headed "一、…" or "第一阶段": "（一）…" are its items
        for line in self.lines:
            if not line.text or line is self.title_line:
                continue
            heading = PHASE_HEADING.match(line.text)
            is_phase = bool(heading and self._is_phase_heading(line.text, heading))
            if current is not None and AGENDA_HEADING.match(strip_marker(line.text)):
                in_agenda = True
            elif (
                current is not None
                and in_agenda
                and not is_phase
                and AGENDA_MARKER.match(line.text)
            ):
                current.lines.append(line)  # an agenda item numbered （一）, not a heading
                continue
            if current is not None and nested and not is_phase and AGENDA_MARKER.match(line.text):
                current.lines.append(line)
            elif heading and is_phase:
                in_agenda = False
                nested = not heading["marker"].startswith(("（", "("))
                title = heading["title"] or heading["marker"].rstrip("：:、")
                current = _Phase(line, title.strip(), heading["dates"])
                self.phases.append(current)
            elif HEADING.match(line.text):
                current, in_agenda = None, False
                self.loose_lines.append(line)
            elif current is not None:
                current.lines.append(line)
            else:
                self.loose_lines.append(line)
        for phase in self.phases:
            agenda = any(AGENDA_HEADING.match(strip_marker(line.text)) for line in phase.lines)
            phase.is_meeting = bool(MEETING_PHASE.search(phase.title)) or agenda
        if not self.phases:
            self.issue(None, "no phase headings such as “（一）会前准备阶段（…）” were found")

    @staticmethod
    def _is_phase_heading(text: str, heading: re.Match[str]) -> bool:
        if has_fields(text):
            return False  # a task numbered like a heading, with its 责任人 / 时限
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
        explicit = EXPLICIT_YEAR.search(phase.dates_text)
        if span and previous_end and not explicit and span.end < previous_end:
            span = parse_span(phase.dates_text, default_year=year + 1)
        return span

    def _start_after(self, previous_end: date | None, phase: _Phase) -> date:
        if previous_end is not None and previous_end < phase.end:
            return previous_end + timedelta(days=1)
        self.issue(phase.line, "the phase gives only its end; it is taken to start on that day")
        return phase.end

    # -- tasks

    def _read_tasks(self, lines: list[Line], phase: _Phase | None) -> list[_Task]:
        tasks: list[_Task] = []
        for item in self._items(lines):
            tasks.extend(self._tasks_from_item(item, phase))
        return tasks

    def _items(self, lines: list[Line]) -> list[Item]:
        items: list[Item] = []
        current: Item | None = None
        for line in lines:
            if line.text.startswith(TABLE_MARK):
                self.issue(
                    line,
                    "a table without a task column and 责任人 / 完成时限 columns is not read; "
                    "write its rows as numbered paragraphs",
                )
                continue
            for piece in INLINE_ITEM.split(line.text):
                starts_item = (
                    ITEM_MARKER.match(piece)
                    or AGENDA_MARKER.match(piece)
                    or (has_fields(piece) and (current is None or has_fields(current.text)))
                )
                if starts_item:
                    current = Item(line, piece)
                    items.append(current)
                elif current is not None:
                    current.text += piece
        return items

    def _tasks_from_item(self, item: Item, phase: _Phase | None) -> list[_Task]:
        body, fields = split_fields(strip_marker(item.text))
        title, description = title_and_description(body)
        assignees, department = self._responsible(fields, item.line, title)
        due, window = self._deadline(fields, body, item.line, phase)
        reviews = self._reviews(body, item.line)
        extra = [f"{label}：{value}" for label, value in fields if label in OTHER_LABELS]
        description = "".join([description, *extra])
        split = SPLIT_TITLE.match(title)
        if split and "个人" in split["a"] and "班子" in split["b"]:
            tasks = self._personal_and_team(item, split, description, assignees, due, reviews)
            for task in tasks:
                task.window, task.department = window, department
            return tasks
        task = _Task(item.line, title, description, assignees, due, window)
        task.department = department
        task.reviewers = list(dict.fromkeys(ref for _obj, ref in reviews))
        if re.search(r"满意度测评|满意度调查", body):
            task.survey = self._satisfaction_survey(title, body)
        return [task]

    def _personal_and_team(
        self,
        item: Item,
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
        self, fields: list[tuple[str, str]], line: Line, title: str
    ) -> tuple[list[str], str | None]:
        """Who answers for a task (its leader first, then the people named) and its unit.

        A unit (责任单位 / 责任部门, or an office named as 责任人) is no person: it is the task's
        department, and when no person is named the organizer holds the task until the
        unit's contact is named."""
        leaders: list[str] = []
        people: list[str] = []
        units: list[str] = []
        for label, value in fields:
            answers = label in LEADER_LABELS + PERSON_LABELS
            if label in UNIT_LABELS or (answers and is_unit(value)):
                units.extend(u for u in re.split(r"[、，,/／]+", strip_spaces(value)) if u)
            elif label in LEADER_LABELS:
                leaders.extend(self.refs(value, line))
            elif answers:
                people.extend(self.refs(value, line))
        self.leaders.update(leaders)
        assignees = leaders + people
        department = units[0] if units else None
        if not assignees and department:
            self.issue(
                line,
                "“{title}”: {unit} is a unit, not a person; the task is given to the organizer "
                "until you name the person who answers for {unit}",
                title=title,
                unit=department,
            )
        elif not assignees:
            self.issue(line, "no responsible person is named; the task is given to the organizer")
        return list(dict.fromkeys(assignees)) or ["@organizer"], department

    def _deadline(
        self, fields: list[tuple[str, str]], body: str, line: Line, phase: _Phase | None
    ) -> tuple[date | MeetingOffset, MeetingOffset | None]:
        stated = next((value for label, value in fields if label in DEADLINE_LABELS), None)
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
        if isinstance(deadline, HolidayEve):
            eve = deadline.nearest(near)
            if eve is None:
                self.issue(
                    line,
                    "cannot tell when “{value}” is in that year; it is set to the phase's end, {end}",
                    value=stated,
                    end=fallback,
                )
                return fallback, None
            return eve, None
        window = offset if offset is not None and offset.days > 0 else None
        return infer_year(deadline, near), window

    def _reviews(self, body: str, line: Line) -> list[tuple[str, str]]:
        """(what is reviewed, who reviews) from "X由Y负责审阅" or "Y负责审阅X"."""
        found: list[tuple[str, str]] = []
        for sentence in re.split(r"[。；;]", body):
            match = REVIEW_BY.search(sentence) or REVIEWER_FIRST.search(sentence)
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
        numbered: bool | None = None  # whether the agenda's items are numbered
        agenda_items: list[Item] = []
        task_lines: list[Line] = []
        surveyed: list[Line] = []  # "会上开展民主测评，满意率须达到85%" beside a numbered agenda
        for line in phase.lines:
            text = line.text
            if not in_agenda and self._read_meeting_people(line, meeting):
                continue
            marked = bool(ITEM_MARKER.match(text) or AGENDA_MARKER.match(text))
            inline = INLINE_AGENDA.match(strip_marker(text))
            if inline and not has_fields(text):  # "主要议程：一是…；二是…；三是…。"
                in_agenda, numbered = True, True
                for piece in re.split(r"[；;]", inline["items"]):
                    if piece.strip(" 。"):
                        agenda_items.append(Item(line, piece.strip()))
            elif AGENDA_HEADING.match(strip_marker(text)):
                in_agenda = True
            elif chair := CHAIR.search(text):
                meeting.chair = self.refs(chair["who"], line, presenting=True)
            elif in_agenda and marked and not has_fields(text):
                numbered = True if numbered is None else numbered
                agenda_items.append(Item(line, text))
            elif in_agenda and numbered is not True and not has_fields(text):
                numbered = False  # unnumbered lines under "主要议程：", one item each
                agenda_items.append(Item(line, text))
            elif in_agenda and agenda_items and not marked:
                if numbered and "测评" in text:
                    surveyed.append(line)  # a paragraph of its own, not the last item's
                else:
                    agenda_items[-1].text += text
            elif MEETING_WHEN.search(text):
                continue
            elif has_fields(text) or task_lines:
                task_lines.append(line)
            else:
                self.issue(line, "this line of the meeting phase was not read")
        meeting.agenda = [self._agenda_item(item) for item in agenda_items]
        for line in surveyed:
            meeting.agenda.append(self._survey_on_site(line))
        phase.tasks.extend(self._read_tasks(task_lines, phase))
        if not meeting.agenda:
            self.issue(phase.line, "the meeting phase has no numbered agenda （1）（2）…")

    def _read_meeting_people(self, line: Line, meeting: _Meeting) -> bool:
        text = line.text
        participants = PARTICIPANTS.search(text)
        invited = INVITED.search(text)
        attending = ATTENDING.search(text)
        if participants:
            meeting.participants = self._participants(participants["who"], line)
        if invited:
            named = invited["who"] or invited["guide"]
            who = named if named.endswith("领导") else named + "领导"
            for body, _title in superior_bodies(who):
                self.invited_bodies.append((body, line))
            meeting.invited = [self.group(Group.SUPERIOR)] if self.invited_bodies else []
        if attending:
            meeting.attendees = [self.group(Group.ATTENDEE)]
            others = re.split(r"[、，,和及]", clean_office(attending["who"]))[1:]
            if others:
                self.issue(
                    line,
                    "列席 also names {others}; the roster has one placeholder, {placeholder}, "
                    "for those attending",
                    others="、".join(others),
                    placeholder=self.attendee_name,
                )
        return bool(participants or invited or attending)

    def _participants(self, who: str, line: Line) -> list[str]:
        plain = re.sub(r"[（(][^）)]*[）)]", "", who)
        refs: list[str] = []
        held = {holder.name for holder in self.holders}
        for chunk in re.split(r"[、，,及和与]", plain):
            _title, name = split_title(chunk)
            if name in held or (is_title(chunk) and self._holders_of(chunk)):
                refs.append(self.group(Group.MEMBERS))  # named people are the members
                continue
            group = group_of(chunk)
            if group is not None:
                refs.append(self.group(group))
            elif chunk.strip():
                self.issue(
                    line,
                    "参会对象 “{who}” is no roster role; add them to the roster if they take part",
                    who=chunk.strip(),
                )
        return list(dict.fromkeys(refs)) or [self.group(Group.MEMBERS)]

    def _agenda_item(self, item: Item) -> _AgendaItem:
        text = AGENDA_MARKER.sub("", strip_marker(item.text), count=1).strip()
        first = sentences(text)[0].rstrip("。；;！!") if text else ""
        agenda = _AgendaItem(first, self._presenters(first, item.line))
        agenda.speaking_order = bool(re.search(r"互相批评|相互批评", first))
        if "民主测评" in text:
            agenda.survey = self._evaluation_survey(text, item.line)
        return agenda

    def _survey_on_site(self, line: Line) -> _AgendaItem:
        """A survey the meeting holds that its numbered agenda does not list ("会上开展民主
        测评，满意率须达到85%以上；达不到的，重新召开"): the agenda's last item. With a
        satisfaction threshold it is the satisfaction survey and its rule, else the evaluation."""
        text = line.text
        first = re.split(r"[，,。；;]", text, maxsplit=1)[0]
        title = re.sub(r"^(?:会上|会议上|会议期间|会中)", "", first).strip() or "民主测评"
        item = _AgendaItem(title, [])
        if "满意" in text and _threshold(text) is not None:
            item.survey = self._satisfaction_survey(title, text, rates="会议召开情况总体评价")
        else:
            item.survey = self._evaluation_survey(text, line)
        self.issue(
            line, "the numbered agenda does not list this survey; it is added as its last item"
        )
        return item

    def _presenters(self, first_sentence: str, line: Line) -> list[str]:
        people = PRESENTER.search(first_sentence)
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

    def _start_after_the_meeting(self) -> None:
        """A phase after the meeting's starts the day after the meeting: "2024年1月至3月"
        for rectification after a meeting on 01-18 is 01-19 to 03-31, never overlapping it."""
        phase = self._meeting_phase()
        if phase is None or self.meeting is None or self.meeting.starts_at is None:
            return
        meeting_day = self.meeting.starts_at.date()
        for later in self.phases[self.phases.index(phase) + 1 :]:
            if later.start <= meeting_day < later.end:
                later.start = meeting_day + timedelta(days=1)
                self.issue(
                    later.line,
                    "the phase would start before the meeting ({meeting}) is held; it starts the "
                    "day after it, {start}",
                    meeting=meeting_day,
                    start=later.start,
                )

    def _named_meeting_date(self) -> datetime | None:
        for line in self._body_lines():
            match = MEETING_WHEN.search(line.text)
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

    def _evaluation_survey(self, text: str, line: Line) -> str:
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

    def _voters(self, text: str, line: Line) -> list[str]:
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

    def _satisfaction_survey(self, title: str, body: str, rates: str = "整改落实总体评价") -> str:
        survey: dict[str, Any] = {
            "id": "satisfaction",
            "kind": "satisfaction",
            "title": re.sub(r"^(?:进行|开展|组织)", "", title),
            "voters": self.voters or ["@all"],
            "scale": _SATISFACTION_SCALE,
            "items": [rates],
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
            for sentence in sentences(line.text):
                self._read_loose_sentence(sentence, line)
        field_lines = [line for line in self.loose_lines if has_fields(line.text)]
        for task in self._read_tasks(field_lines, None):
            self.loose_tasks.append(task)

    def _read_loose_sentence(self, sentence: str, line: Line) -> None:
        offset = find_meeting_offset(sentence)
        send = SEND_TO_SUPERIOR.search(sentence)
        if offset is None or offset.days >= 0 or send is None or has_fields(sentence):
            return
        recipient = RECIPIENT.search(sentence)
        to_superior = "向上级" if "上级" in sentence else ""
        if not to_superior and recipient and len(recipient["to"]) <= 10:
            to_superior = f"向{recipient['to']}"
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
            if not self._written_in_chinese():
                raise PlanImportError(
                    _(
                        "{source}: the importer reads Chinese work-plan documents, and this one is not in Chinese; write the plan as a .toml file instead (see docs/plan-format.md)"
                    ).format(source=self.source)
                )
            raise PlanImportError(
                _("{source}: no phases or tasks with deadlines were found").format(
                    source=self.source
                )
            )
        line = self.loose_tasks[0].line
        self.phases.append(_Phase(line, "工作安排", None, start=min(days), end=max(days)))

    def _written_in_chinese(self) -> bool:
        """At least a fifth of the document's letters are Chinese characters (a document with
        no letters at all is not said to be in another language)."""
        text = "".join(line.text for line in self.lines)
        letters = sum(1 for char in text if char.isalpha())
        chinese = sum(1 for char in text if "\u4e00" <= char <= "\u9fff")
        return chinese * 5 >= letters

    def _has_meeting_date(self) -> bool:
        return self.meeting is not None and self.meeting.starts_at is not None

    def _due_day(self, task: _Task) -> date | None:
        if isinstance(task.due, date):
            return task.due
        if self.meeting is None or self.meeting.starts_at is None:
            return None
        return task.due.day_after(self.meeting.starts_at.date(), CN_WORKING_DAYS)

    def _due_after_the_meeting(self, task: _Task) -> None:
        """A task due "会后N天内" whose stated 时限 is not after the meeting (the seed's report:
        "会后15天内" with "12月底前", the meeting on 12-31) is due N days after the meeting: the
        stated date is when the meeting is held, and a report on it cannot be due before it."""
        if task.window is None or task.window.days <= 0 or not isinstance(task.due, date):
            return
        if self.meeting is None or self.meeting.starts_at is None:
            return
        meeting_day = self.meeting.starts_at.date()
        if task.due > meeting_day:
            return
        rule = (
            N_(
                "the deadline {due} is not after the meeting ({meeting}), but the task is due "
                "within {days} working days after it; it is due on {day}"
            )
            if task.window.working
            else N_(
                "the deadline {due} is not after the meeting ({meeting}), but the task is due "
                "within {days} days after it; it is due on {day}"
            )
        )
        self.issue(
            task.line,
            rule,
            due=task.due,
            meeting=meeting_day,
            days=task.window.days,
            day=task.window.day_after(meeting_day, CN_WORKING_DAYS),
        )
        task.due, task.window = task.window, None

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
                self._due_after_the_meeting(task)
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
            if not ref.startswith("@") and "member" in self._roles(ref) and ref not in self.leaders
        )
        if counts:
            # Of those most often responsible, one who does not chair or lead the meeting:
            # the 书记 chairs it, the person doing its paperwork organizes it.
            ranked = sorted(
                counts.items(),
                key=lambda pair: (-pair[1], bool({"chair", "lead"} & set(self._roles(pair[0])))),
            )
            organizer = ranked[0][0]
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
                _("{file}: the imported plan does not check: {problem}").format(
                    file=self.source, problem=exc
                )
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

    def _line_named_in(self, message: str) -> Line | None:
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
        # A Chinese office's deadlines and reminders fall on its working days (调休 included).
        data["reminders"] = {"calendar": CN_WORKING_DAYS.calendar}
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
        if task.department:
            data["department"] = task.department
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
    match = THRESHOLD.search(text)
    if match:
        return float(match["number"]) / 100
    match = THRESHOLD_CN.search(text)
    if match:
        return cn_number(match["number"]) / 100
    match = THRESHOLD_TENTHS.search(text)
    if match:
        return cn_number(match["number"]) / 10
    return None


def _theme(lines: list[Line]) -> str:
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


def _talks_data(tasks: list[dict[str, Any]]) -> dict[str, Any] | None:
    """交流谈心: "主要负责人同班子成员之间" is the chair with every member, "相互之间" pairwise."""
    task = next((t for t in tasks if t["kind"] == "talks"), None)
    if task is None:
        return None
    text = task["description"]
    required = []
    if re.search(r"(主要负责人|主要领导|书记)(?:同|与|和)[^。；]*成员", text):
        required.append("chair-with-members")
    if "相互" in text:
        required.append("members-pairwise")
    return {"required": required, "task": task["id"]} if required else None
