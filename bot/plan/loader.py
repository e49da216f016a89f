"""Read a plan from TOML, check it, and normalise it into ``bot.plan.model``.

Every problem is collected before failing, so one run of ``huiwu plan check`` lists them
all. Problems are errors (the plan cannot run) or warnings (legal but suspicious).
"""

from __future__ import annotations

import itertools
import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.i18n import SUPPORTED_LOCALES, _
from bot.core.oserrors import os_error_reason
from bot.plan.model import (
    AgendaItem,
    Meeting,
    Member,
    Phase,
    Plan,
    Role,
    SubmissionKind,
    Survey,
    Task,
)
from bot.plan.reminders_table import build_policy, warn_unknown_years
from bot.plan.working_days import MAX_WORKING_DAYS, WorkingDays

END_OF_DAY = time(23, 59)
DEFAULT_TIMEZONE = "Asia/Shanghai"
_RELATIVE = re.compile(
    r"^\s*(?P<anchor>[A-Za-z0-9_.:-]+?)\s*(?P<sign>[+-])\s*(?P<days>\d+)\s*(?P<unit>wd|d)\s*$"
)

_KEYS = {
    "plan": {
        "title",
        "theme",
        "organisation",
        "timezone",
        "locale",
        "roster",
        "phases",
        "meeting",
        "surveys",
        "talks",
        "reminders",
    },
    "member": {"id", "name", "roles", "telegram_id", "wecom_userid", "locale", "department"},
    "phase": {"id", "title", "start", "end", "tasks"},
    "task": {
        "id",
        "title",
        "kind",
        "description",
        "assignees",
        "due",
        "submission",
        "reviewer",
        "collective",
        "survey",
        "window",
        "department",
    },
    "meeting": {
        "title",
        "date",
        "phase",
        "chair",
        "participants",
        "invited",
        "attendees",
        "agenda",
    },
    "agenda": {"title", "presenter", "speaking_order", "survey"},
    "survey": {
        "id",
        "kind",
        "title",
        "voters",
        "scale",
        "items",
        "pass_choices",
        "threshold",
        "on_fail",
        "min_ballots",
        "revise",
    },
    "talks": {"required", "pairs", "task"},
}
TALK_RULES = ("chair-with-members", "members-pairwise")
MAX_SCALE = 10


class PlanError(Exception):
    """A plan that cannot be used; ``problems`` lists every error in plain words."""

    def __init__(self, source: str, problems: list[str], warnings: list[str] | None = None):
        self.source = source
        self.problems = problems
        self.warnings = warnings or []
        super().__init__("\n".join(f"{source}: {problem}" for problem in problems))


@dataclass
class _Checker:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        self.errors.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)

    def unknown_keys(self, table: dict[str, Any], kind: str, where: str) -> None:
        for key in sorted(set(table) - _KEYS[kind]):
            self.error(_("{where}: unknown setting '{key}'").format(where=where, key=key))


def load_plan(path: str | Path) -> Plan:
    """Read and check a plan file; raise PlanError naming the file on any error."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(
            source, [_("cannot read the file: {reason}").format(reason=os_error_reason(exc))]
        ) from exc
    except UnicodeDecodeError as exc:
        raise PlanError(source, [_("not a plan: a plan is a TOML text file in UTF-8")]) from exc
    return load_plan_text(text, source=source)


def load_plan_text(text: str, *, source: str = "<plan>") -> Plan:
    """Read and check a plan from TOML text."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PlanError(source, [_("not valid TOML: {reason}").format(reason=exc)]) from exc
    checker = _Checker()
    plan = _build_plan(raw, checker)
    if checker.errors or plan is None:
        raise PlanError(source, checker.errors, checker.warnings)
    return plan


def _text(
    table: dict[str, Any], key: str, where: str, checker: _Checker, *, required: bool = True
) -> str:
    value = table.get(key)
    if value is None:
        if required:
            checker.error(_("{where}: '{key}' is missing").format(where=where, key=key))
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        checker.error(_("{where}: '{key}' must be a non-empty text").format(where=where, key=key))
        return ""
    return value.strip()


def _date(value: Any, where: str, key: str, checker: _Checker) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    checker.error(
        _("{where}: '{key}' must be a date like 2013-12-06, not '{value}'").format(
            where=where, key=key, value=value
        )
    )
    return None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


class _Resolver:
    """Turns member ids and role groups ("@members", "@all") into member ids."""

    def __init__(self, members: dict[str, Member], checker: _Checker):
        self.members = members
        self.checker = checker

    def resolve(self, refs: Any, where: str) -> tuple[str, ...]:
        ids: dict[str, None] = {}  # ordered and de-duplicated in linear time (large rosters)
        for ref in _as_list(refs):
            if not isinstance(ref, str):
                self.checker.error(
                    _("{where}: '{ref}' is not a member id").format(where=where, ref=ref)
                )
                continue
            ids.update(dict.fromkeys(self._one(ref.strip(), where)))
        return tuple(ids)

    def _one(self, ref: str, where: str) -> list[str]:
        if not ref.startswith("@"):
            if ref not in self.members:
                self.checker.error(
                    _("{where}: unknown member '{ref}'").format(where=where, ref=ref)
                )
                return []
            return [ref]
        group = ref[1:]
        if group == "all":
            return list(self.members)
        role_name = (
            group[:-1] if group.endswith("s") and group[:-1] in Role._value2member_map_ else group
        )
        if role_name not in Role._value2member_map_:
            self.checker.error(
                _("{where}: unknown role group '{ref}'").format(where=where, ref=ref)
            )
            return []
        found = [m.id for m in self.members.values() if Role(role_name) in m.roles]
        if not found:
            self.checker.error(
                _("{where}: nobody in the roster has the role '{role}'").format(
                    where=where, role=role_name
                )
            )
        return found


def _build_members(raw: dict[str, Any], checker: _Checker) -> dict[str, Member]:
    members: dict[str, Member] = {}
    seen_telegram: dict[int, str] = {}
    seen_wecom: dict[str, str] = {}
    roster = raw.get("roster")
    if not isinstance(roster, list) or not roster:
        checker.error(_("the plan has no roster of members"))
        return members
    for index, entry in enumerate(roster, start=1):
        where = _("roster entry {number}").format(number=index)
        if not isinstance(entry, dict):
            checker.error(_("{where}: must be a table").format(where=where))
            continue
        checker.unknown_keys(entry, "member", where)
        member_id = _text(entry, "id", where, checker)
        name = _text(entry, "name", where, checker)
        if member_id in members:
            checker.error(_("duplicate member id '{id}'").format(id=member_id))
            continue
        roles: set[Role] = set()
        for role in _as_list(entry.get("roles", ["member"])):
            if role in Role._value2member_map_:
                roles.add(Role(role))
            else:
                checker.error(
                    _("member '{id}': unknown role '{role}'").format(id=member_id, role=role)
                )
        telegram_id = entry.get("telegram_id")
        if telegram_id is not None and not isinstance(telegram_id, int):
            checker.error(_("member '{id}': telegram_id must be a number").format(id=member_id))
            telegram_id = None
        if telegram_id is not None:
            if telegram_id in seen_telegram:
                checker.error(
                    _("members '{a}' and '{b}' share the telegram_id {value}").format(
                        a=seen_telegram[telegram_id], b=member_id, value=telegram_id
                    )
                )
            seen_telegram[telegram_id] = member_id
        wecom_userid = entry.get("wecom_userid")
        if wecom_userid is not None:
            if wecom_userid in seen_wecom:
                checker.error(
                    _("members '{a}' and '{b}' share the wecom_userid {value}").format(
                        a=seen_wecom[wecom_userid], b=member_id, value=wecom_userid
                    )
                )
            seen_wecom[wecom_userid] = member_id
        locale = entry.get("locale")
        if locale is not None and locale not in SUPPORTED_LOCALES:
            checker.error(
                _("member '{id}': unsupported locale '{locale}'").format(
                    id=member_id, locale=locale
                )
            )
        if member_id and name:
            members[member_id] = Member(
                id=member_id,
                name=name,
                roles=frozenset(roles),
                telegram_id=telegram_id,
                wecom_userid=wecom_userid,
                locale=locale,
            )
    return members


def _meeting_start(raw: dict[str, Any], zone: ZoneInfo, checker: _Checker) -> datetime | None:
    meeting = raw.get("meeting")
    if not isinstance(meeting, dict) or "date" not in meeting:
        return None
    value = meeting["date"]
    if isinstance(value, datetime):
        return value.replace(tzinfo=zone) if value.tzinfo is None else value
    if isinstance(value, date):
        return datetime.combine(value, time(9, 0), zone)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            parsed = None
        if parsed is not None:
            return parsed.replace(tzinfo=zone) if parsed.tzinfo is None else parsed
    checker.error(
        _("meeting: 'date' must be a date and time like 2013-12-31T09:00, not '{value}'").format(
            value=value
        )
    )
    return None


class _Deadlines:
    """Resolves a task's 'due' (a date, a date-time, or 'meeting-15d') in the plan's zone."""

    def __init__(
        self,
        zone: ZoneInfo,
        meeting_start: datetime | None,
        phases: dict[str, tuple[date, date]],
        working_days: WorkingDays,
    ):
        self.zone = zone
        self.meeting_start = meeting_start
        self.phases = phases
        self.working_days = working_days  # for "meeting+10wd": ten working days after

    def anchor(self, name: str) -> date | None:
        if name == "meeting":
            return self.meeting_start.astimezone(self.zone).date() if self.meeting_start else None
        phase_id, _dot, edge = name.rpartition(".")
        if phase_id in self.phases and edge in ("start", "end"):
            start, end = self.phases[phase_id]
            return start if edge == "start" else end
        return None

    def resolve(self, value: Any, where: str, checker: _Checker) -> datetime | None:
        if isinstance(value, datetime):
            return value.replace(tzinfo=self.zone) if value.tzinfo is None else value
        if isinstance(value, date):
            return datetime.combine(value, END_OF_DAY, self.zone)
        if isinstance(value, str):
            relative = _RELATIVE.match(value)
            if relative:
                anchor = self.anchor(relative["anchor"])
                if anchor is None:
                    checker.error(
                        _(
                            "{where}: the deadline '{value}' refers to '{anchor}', which the plan does not define"
                        ).format(where=where, value=value, anchor=relative["anchor"])
                    )
                    return None
                days = int(relative["days"]) * (1 if relative["sign"] == "+" else -1)
                if relative["unit"] == "d":
                    return datetime.combine(anchor + timedelta(days=days), END_OF_DAY, self.zone)
                if abs(days) <= MAX_WORKING_DAYS:
                    day = self.working_days.add(anchor, days)
                    return datetime.combine(day, END_OF_DAY, self.zone)
            try:
                parsed = datetime.fromisoformat(value.strip())
            except ValueError:
                parsed = None
            if parsed is not None:
                if len(value.strip()) == 10:
                    return datetime.combine(parsed.date(), END_OF_DAY, self.zone)
                return parsed.replace(tzinfo=self.zone) if parsed.tzinfo is None else parsed
        checker.error(
            _(
                "{where}: cannot read the deadline '{value}' (use 2013-12-06, 2013-12-06T18:00 or meeting+15d)"
            ).format(where=where, value=value)
        )
        return None


def _build_plan(raw: dict[str, Any], checker: _Checker) -> Plan | None:
    checker.unknown_keys(raw, "plan", _("the plan"))
    title = _text(raw, "title", _("the plan"), checker)
    zone_name = raw.get("timezone", DEFAULT_TIMEZONE)
    try:
        zone = ZoneInfo(str(zone_name))
    except (ZoneInfoNotFoundError, ValueError):
        checker.error(
            _("unknown timezone '{zone}' (use an IANA name such as Asia/Shanghai)").format(
                zone=zone_name
            )
        )
        zone = ZoneInfo(DEFAULT_TIMEZONE)
    locale = raw.get("locale", "zh_CN")
    if locale not in SUPPORTED_LOCALES:
        checker.error(
            _("unsupported locale '{locale}' (use one of: {choices})").format(
                locale=locale, choices=", ".join(SUPPORTED_LOCALES)
            )
        )
    members = _build_members(raw, checker)
    resolver = _Resolver(members, checker)

    raw_phases = raw.get("phases")
    if not isinstance(raw_phases, list) or not raw_phases:
        checker.error(_("the plan has no phases"))
        raw_phases = []
    phase_spans: dict[str, tuple[date, date]] = {}
    for index, raw_phase in enumerate(raw_phases, start=1):
        if not isinstance(raw_phase, dict):
            continue
        where = _("phase {number}").format(number=index)
        phase_id = _text(raw_phase, "id", where, checker)
        start = _date(raw_phase.get("start"), where, "start", checker)
        end = _date(raw_phase.get("end"), where, "end", checker)
        if phase_id in phase_spans:
            checker.error(_("duplicate phase id '{id}'").format(id=phase_id))
        elif phase_id and start and end:
            if start > end:
                checker.error(
                    _("phase '{id}': it ends ({end}) before it starts ({start})").format(
                        id=phase_id, start=start, end=end
                    )
                )
            phase_spans[phase_id] = (start, end)

    meeting_start = _meeting_start(raw, zone, checker)
    reminders = build_policy(raw.get("reminders"), checker.error, checker.warn)
    deadlines = _Deadlines(zone, meeting_start, phase_spans, reminders.working_days)
    survey_ids = {s.get("id") for s in _as_list(raw.get("surveys")) if isinstance(s, dict)}

    phases: list[Phase] = []
    task_ids: set[str] = set()
    for index, raw_phase in enumerate(raw_phases, start=1):
        if not isinstance(raw_phase, dict):
            checker.error(_("phase {number}: must be a table").format(number=index))
            continue
        where = _("phase {number}").format(number=index)
        checker.unknown_keys(raw_phase, "phase", where)
        phase_id = str(raw_phase.get("id", ""))
        if phase_id not in phase_spans:
            continue
        start, end = phase_spans[phase_id]
        tasks: list[Task] = []
        for raw_task in _as_list(raw_phase.get("tasks")):
            task = _build_task(
                raw_task,
                phase_id,
                start,
                end,
                resolver,
                deadlines,
                survey_ids,
                meeting_start,
                zone,
                checker,
            )
            if task is None:
                continue
            if task.id in task_ids:
                checker.error(_("duplicate task id '{id}'").format(id=task.id))
                continue
            task_ids.add(task.id)
            tasks.append(task)
        phases.append(
            Phase(
                id=phase_id,
                title=_text(raw_phase, "title", where, checker),
                start=start,
                end=end,
                tasks=tuple(tasks),
            )
        )
    ordered = sorted(phases, key=lambda p: p.start)
    for earlier, later in itertools.pairwise(ordered):
        if later.start <= earlier.end:
            checker.warn(_("phases '{a}' and '{b}' overlap").format(a=earlier.id, b=later.id))

    surveys = _build_surveys(raw, resolver, checker)
    for survey in surveys:
        if survey.revise_task_id is not None and survey.revise_task_id not in task_ids:
            checker.error(
                _("survey '{id}': unknown task '{task}' to revise").format(
                    id=survey.id, task=survey.revise_task_id
                )
            )
    meeting = _build_meeting(raw, meeting_start, phase_spans, resolver, survey_ids, zone, checker)
    warn_unknown_years(
        reminders,
        [task.due.astimezone(zone).date() for phase in phases for task in phase.tasks],
        checker.warn,
    )
    talk_pairs = _build_talks(raw, resolver, meeting, task_ids, checker)
    if not title:
        return None
    return Plan(
        title=title,
        theme=str(raw.get("theme", "")),
        organisation=str(raw.get("organisation", "")),
        timezone=zone,
        locale=locale if locale in SUPPORTED_LOCALES else "zh_CN",
        members=tuple(members.values()),
        phases=tuple(phases),
        meeting=meeting,
        surveys=surveys,
        talk_pairs=talk_pairs,
        talks_task_id=raw["talks"].get("task") if isinstance(raw.get("talks"), dict) else None,
        warnings=tuple(checker.warnings),
        reminders=reminders,
    )


def _build_task(
    raw_task: Any,
    phase_id: str,
    phase_start: date,
    phase_end: date,
    resolver: _Resolver,
    deadlines: _Deadlines,
    survey_ids: set[Any],
    meeting_start: datetime | None,
    zone: ZoneInfo,
    checker: _Checker,
) -> Task | None:
    if not isinstance(raw_task, dict):
        checker.error(_("phase '{id}': every task must be a table").format(id=phase_id))
        return None
    task_id = raw_task.get("id") or "?"
    where = _("task '{id}'").format(id=task_id)
    checker.unknown_keys(raw_task, "task", where)
    _text(raw_task, "id", where, checker)
    title = _text(raw_task, "title", where, checker)
    assignee_ids = resolver.resolve(raw_task.get("assignees"), where)
    if not assignee_ids and "assignees" not in raw_task:
        checker.error(_("{where}: 'assignees' is missing").format(where=where))
    submission_value = raw_task.get("submission", "both")
    if submission_value not in SubmissionKind._value2member_map_:
        checker.error(
            _("{where}: 'submission' must be one of text, files, both, none").format(where=where)
        )
        submission_value = "both"
    reviewer_ids = resolver.resolve(raw_task.get("reviewer"), where)
    survey_id = raw_task.get("survey")
    if survey_id is not None and survey_id not in survey_ids:
        checker.error(_("{where}: unknown survey '{survey}'").format(where=where, survey=survey_id))
    if "due" not in raw_task:
        checker.error(_("{where}: 'due' is missing").format(where=where))
        return None
    due = deadlines.resolve(raw_task["due"], where, checker)
    if due is None:
        return None
    due_day = due.astimezone(zone).date()
    if due_day > phase_end:
        checker.error(
            _("{where}: due {due} is after its phase '{phase}' ends ({end})").format(
                where=where, due=due_day, phase=phase_id, end=phase_end
            )
        )
    elif due_day < phase_start:
        checker.warn(
            _("{where}: due {due} is before its phase '{phase}' begins ({start})").format(
                where=where, due=due_day, phase=phase_id, start=phase_start
            )
        )
    window_end = None
    if "window" in raw_task:
        window_end = deadlines.resolve(raw_task["window"], where, checker)
        relative = _RELATIVE.match(str(raw_task["window"]))
        if window_end is not None and relative is not None:
            anchor_day = deadlines.anchor(relative["anchor"])
            if relative["anchor"] == "meeting" and anchor_day == due_day:
                checker.warn(
                    _(
                        "{where}: the plan says it is due within {days} days after the meeting, but its deadline {due} is the meeting's own day"
                    ).format(where=where, days=relative["days"], due=due_day)
                )
            elif due > window_end:
                checker.warn(
                    _(
                        "{where}: due {due} is later than the plan's own rule '{rule}' allows"
                    ).format(where=where, due=due_day, rule=raw_task["window"])
                )
    return Task(
        id=str(task_id),
        phase_id=phase_id,
        title=title,
        kind=str(raw_task.get("kind", "task")),
        description=str(raw_task.get("description", "")).strip(),
        assignee_ids=assignee_ids,
        due=due,
        submission=SubmissionKind(submission_value),
        reviewer_ids=reviewer_ids,
        collective=bool(raw_task.get("collective", False)),
        survey_id=survey_id,
        window_end=window_end,
        department=_text(raw_task, "department", where, checker, required=False) or None,
    )


def _build_surveys(
    raw: dict[str, Any], resolver: _Resolver, checker: _Checker
) -> tuple[Survey, ...]:
    surveys: list[Survey] = []
    seen: set[str] = set()
    for index, entry in enumerate(_as_list(raw.get("surveys")), start=1):
        where = _("survey {number}").format(number=index)
        if not isinstance(entry, dict):
            checker.error(_("{where}: must be a table").format(where=where))
            continue
        checker.unknown_keys(entry, "survey", where)
        survey_id = _text(entry, "id", where, checker)
        if survey_id in seen:
            checker.error(_("duplicate survey id '{id}'").format(id=survey_id))
            continue
        seen.add(survey_id)
        kind = entry.get("kind", "evaluation")
        if kind not in ("evaluation", "satisfaction"):
            checker.error(
                _("{where}: 'kind' must be evaluation or satisfaction").format(where=where)
            )
        scale = tuple(str(choice) for choice in _as_list(entry.get("scale")))
        if len(scale) < 2:
            checker.error(_("{where}: 'scale' needs at least two choices").format(where=where))
        elif len(scale) > MAX_SCALE:
            checker.error(
                _("{where}: 'scale' has at most {count} choices").format(
                    where=where, count=MAX_SCALE
                )
            )
        items = tuple(str(item) for item in _as_list(entry.get("items")))
        if not items:
            checker.error(_("{where}: 'items' is empty").format(where=where))
        pass_choices = tuple(str(choice) for choice in _as_list(entry.get("pass_choices")))
        for choice in pass_choices:
            if choice not in scale:
                checker.error(
                    _("{where}: pass choice '{choice}' is not on the scale").format(
                        where=where, choice=choice
                    )
                )
        threshold = entry.get("threshold")
        if threshold is not None:
            if (
                not isinstance(threshold, int | float)
                or isinstance(threshold, bool)
                or not 0 <= threshold <= 1
            ):
                checker.error(
                    _(
                        "{where}: threshold must be a number between 0 and 1 (0.8 means 80%), not '{value}'"
                    ).format(where=where, value=threshold)
                )
                threshold = None
            elif not pass_choices:
                checker.error(_("{where}: a threshold needs 'pass_choices'").format(where=where))
        on_fail = entry.get("on_fail")
        if on_fail not in (None, "reconvene", "none"):
            checker.error(_("{where}: 'on_fail' must be reconvene or none").format(where=where))
        min_ballots = entry.get("min_ballots", 3)
        if not isinstance(min_ballots, int) or min_ballots < 1:
            checker.error(
                _("{where}: 'min_ballots' must be a whole number of at least 1").format(where=where)
            )
            min_ballots = 3
        surveys.append(
            Survey(
                id=survey_id,
                kind=str(kind),
                title=_text(entry, "title", where, checker),
                voter_ids=resolver.resolve(entry.get("voters", "@all"), where),
                scale=scale,
                items=items,
                pass_choices=pass_choices,
                threshold=float(threshold) if threshold is not None else None,
                on_fail=on_fail,
                min_ballots=min_ballots,
                revise_task_id=entry.get("revise"),
            )
        )
    return tuple(surveys)


def _build_meeting(
    raw: dict[str, Any],
    starts_at: datetime | None,
    phase_spans: dict[str, tuple[date, date]],
    resolver: _Resolver,
    survey_ids: set[Any],
    zone: ZoneInfo,
    checker: _Checker,
) -> Meeting | None:
    entry = raw.get("meeting")
    if entry is None:
        return None
    where = _("meeting")
    if not isinstance(entry, dict):
        checker.error(_("{where}: must be a table").format(where=where))
        return None
    checker.unknown_keys(entry, "meeting", where)
    if starts_at is None:
        if "date" not in entry:
            checker.error(_("{where}: 'date' is missing").format(where=where))
        return None
    phase_id = entry.get("phase")
    if phase_id is not None:
        if phase_id not in phase_spans:
            checker.error(_("{where}: unknown phase '{phase}'").format(where=where, phase=phase_id))
        else:
            start, end = phase_spans[phase_id]
            if not start <= starts_at.astimezone(zone).date() <= end:
                checker.error(
                    _(
                        "{where}: its date {date} is outside its phase '{phase}' ({start} to {end})"
                    ).format(
                        where=where, date=starts_at.date(), phase=phase_id, start=start, end=end
                    )
                )
    agenda: list[AgendaItem] = []
    for number, item in enumerate(_as_list(entry.get("agenda")), start=1):
        item_where = _("agenda item {number}").format(number=number)
        if not isinstance(item, dict):
            checker.error(_("{where}: must be a table").format(where=item_where))
            continue
        checker.unknown_keys(item, "agenda", item_where)
        survey_id = item.get("survey")
        if survey_id is not None and survey_id not in survey_ids:
            checker.error(
                _("{where}: unknown survey '{survey}'").format(where=item_where, survey=survey_id)
            )
        agenda.append(
            AgendaItem(
                number=number,
                title=_text(item, "title", item_where, checker),
                presenter_ids=resolver.resolve(item.get("presenter"), item_where),
                speaking_order=bool(item.get("speaking_order", False)),
                survey_id=survey_id,
            )
        )
    return Meeting(
        title=str(entry.get("title", raw.get("title", ""))),
        starts_at=starts_at,
        phase_id=phase_id,
        chair_ids=resolver.resolve(entry.get("chair", "@chair"), where),
        participant_ids=resolver.resolve(entry.get("participants", "@members"), where),
        invited_ids=resolver.resolve(entry.get("invited"), where),
        attendee_ids=resolver.resolve(entry.get("attendees"), where),
        agenda=tuple(agenda),
    )


def _build_talks(
    raw: dict[str, Any],
    resolver: _Resolver,
    meeting: Meeting | None,
    task_ids: set[str],
    checker: _Checker,
) -> tuple[tuple[str, str], ...]:
    """The required heart-to-heart pairs, each ordered as in the roster, without repeats."""
    entry = raw.get("talks")
    if entry is None:
        return ()
    where = _("talks")
    if not isinstance(entry, dict):
        checker.error(_("{where}: must be a table").format(where=where))
        return ()
    checker.unknown_keys(entry, "talks", where)
    order = list(resolver.members)
    members = [m.id for m in resolver.members.values() if Role.MEMBER in m.roles]
    chairs = (
        meeting.chair_ids
        if meeting
        else tuple(m.id for m in resolver.members.values() if Role.CHAIR in m.roles)
    )
    wanted: list[tuple[str, str]] = []
    for rule in _as_list(entry.get("required")):
        if rule == "chair-with-members":
            wanted += [(chair, member) for chair in chairs for member in members]
        elif rule == "members-pairwise":
            wanted += list(itertools.combinations(members, 2))
        else:
            checker.error(
                _("{where}: unknown rule '{rule}' (known: {known})").format(
                    where=where, rule=rule, known=", ".join(TALK_RULES)
                )
            )
    for pair in _as_list(entry.get("pairs")):
        ids = resolver.resolve(pair, where)
        if not isinstance(pair, list) or len(pair) != 2 or len(ids) != 2:
            checker.error(
                _("{where}: each pair must name two different members, not '{pair}'").format(
                    where=where, pair=pair
                )
            )
            continue
        wanted.append((ids[0], ids[1]))
    task = entry.get("task")
    if task is not None and task not in task_ids:
        checker.error(_("{where}: unknown task '{task}'").format(where=where, task=task))
    pairs: list[tuple[str, str]] = []
    for a, b in wanted:
        if a == b:
            continue
        pair = (a, b) if order.index(a) < order.index(b) else (b, a)
        if pair not in pairs:
            pairs.append(pair)
    if entry.get("required") is None and entry.get("pairs") is None:
        checker.error(_("{where}: give 'required' rules or a list of 'pairs'").format(where=where))
    return tuple(pairs)
