"""The plan loader: the shipped plan, every validation error, timezones (issue 2)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.i18n import use_locale
from bot.plan import Plan, PlanError, Role, SubmissionKind, load_plan, load_plan_text

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "bot/plans/democratic-life-meeting.toml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MEMBERS = ["方磊", "唐军", "孟平", "党组书记"]


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Problems are compared in English, whatever the catalogs translate."""
    with use_locale("en"):
        yield


@pytest.fixture(scope="module")
def plan() -> Plan:
    with use_locale("en"):  # warnings are worded when the plan is loaded
        return load_plan(SHIPPED)


def eod(year: int, month: int, day: int, zone: ZoneInfo = SHANGHAI) -> datetime:
    """23:59 on a day, in a zone: the time a date-only deadline means."""
    return datetime(year, month, day, 23, 59, tzinfo=zone)


# --- the shipped plan -----------------------------------------------------------------------


def test_shipped_plan_has_its_three_phases_with_the_seed_dates(plan: Plan) -> None:
    assert plan.title == "领导班子专题民主生活会"
    assert plan.timezone.key == "Asia/Shanghai"
    assert [(p.id, p.title, p.start, p.end) for p in plan.phases] == [
        ("preparation", "会前准备阶段", date(2013, 12, 3), date(2013, 12, 20)),
        ("meeting", "会议进行阶段", date(2013, 12, 21), date(2013, 12, 31)),
        ("rectification", "会后整改阶段", date(2014, 1, 1), date(2014, 6, 30)),
    ]


EXPECTED_TASKS = [
    # (phase, task id, assignee names in order, due day)
    ("preparation", "study", ["方磊"], (2013, 12, 6)),
    ("preparation", "opinions", ["方磊"], (2013, 12, 10)),
    ("preparation", "talks", ["唐军", "孟平"], (2013, 12, 15)),
    ("preparation", "submit-plan", ["方磊"], (2013, 12, 16)),
    ("preparation", "statements", MEMBERS, (2013, 12, 20)),
    ("rectification", "report", ["方磊"], (2014, 1, 15)),
    ("rectification", "personal-measures", MEMBERS, (2014, 2, 28)),
    ("rectification", "team-plan", MEMBERS, (2014, 2, 28)),
    ("rectification", "rectify", MEMBERS, (2014, 4, 30)),
    ("rectification", "satisfaction", ["方磊"], (2014, 6, 30)),
]


def test_shipped_plan_lists_every_task_in_order(plan: Plan) -> None:
    assert [(t.phase_id, t.id) for t in plan.tasks] == [(p, t) for p, t, _n, _d in EXPECTED_TASKS]
    assert plan.phase("meeting").tasks == ()


@pytest.mark.parametrize(
    ("phase_id", "task_id", "names", "due"), EXPECTED_TASKS, ids=[t[1] for t in EXPECTED_TASKS]
)
def test_shipped_task_assignees_and_due_at_2359_shanghai(
    plan: Plan, phase_id: str, task_id: str, names: list[str], due: tuple[int, int, int]
) -> None:
    task = plan.task(task_id)
    assert task.phase_id == phase_id
    assert plan.names(task.assignee_ids) == names
    assert task.due == eod(*due)
    # the deadline is kept in the plan's own zone, not converted to UTC
    assert task.due.tzinfo is not None and task.due.utcoffset() == timedelta(hours=8)
    assert (task.due.hour, task.due.minute) == (23, 59)


def test_submit_plan_is_fifteen_days_before_the_meeting(plan: Plan) -> None:
    assert plan.meeting is not None
    assert plan.meeting.starts_at == datetime(2013, 12, 31, 9, 0, tzinfo=SHANGHAI)
    submit = plan.task("submit-plan")
    assert submit.due.date() == plan.meeting.starts_at.date() - timedelta(days=15)
    assert submit.submission is SubmissionKind.FILES


def test_report_is_due_fifteen_days_after_the_meeting(plan: Plan) -> None:
    # "会后15天内": due within its phase, never pushed already overdue (issue 16).
    report = plan.task("report")
    assert report.due == eod(2014, 1, 15)
    assert report.due.date() >= plan.phase("rectification").start


def test_reviewers_collective_and_survey_tasks(plan: Plan) -> None:
    personal = plan.task("personal-measures")
    assert plan.names(personal.reviewer_ids) == ["党组书记"]
    assert personal.needs_review and not personal.collective

    team = plan.task("team-plan")
    assert plan.names(team.reviewer_ids) == ["市政府分管领导"]
    assert team.collective

    assert not plan.task("rectify").needs_review
    satisfaction = plan.task("satisfaction")
    assert satisfaction.survey_id == "satisfaction"
    assert satisfaction.submission is SubmissionKind.NONE
    assert plan.task("talks").submission is SubmissionKind.TEXT


def test_roster_roles(plan: Plan) -> None:
    assert [m.name for m in plan.with_role(Role.MEMBER)] == MEMBERS
    assert [m.id for m in plan.with_role(Role.ORGANIZER)] == ["fanglei"]
    assert [m.name for m in plan.with_role(Role.CHAIR)] == ["党组书记"]
    assert plan.member("fanglei").wecom_userid == "FangLei"


def test_shipped_meeting_has_nine_agenda_items_in_order(plan: Plan) -> None:
    meeting = plan.meeting
    assert meeting is not None
    assert meeting.phase_id == "meeting"
    assert plan.names(meeting.chair_ids) == ["党组书记"]
    assert plan.names(meeting.participant_ids) == MEMBERS
    assert plan.names(meeting.invited_ids) == [
        "市政府分管领导",
        "市纪委参会领导",
        "市委组织部参会领导",
    ]
    assert plan.names(meeting.attendee_ids) == ["支部书记代表"]
    agenda = [(i.number, i.title, plan.names(i.presenter_ids)) for i in meeting.agenda]
    assert agenda == [
        (1, "上一年度民主生活会整改落实情况说明", ["唐军"]),
        (2, "通报会前征求意见情况", ["方磊"]),
        (3, "主要领导代表班子作对照检查", ["党组书记"]),
        (4, "班子成员依次对照检查", MEMBERS),
        (5, "班子成员互相批评（主要领导先点评）", MEMBERS),
        (6, "现场民主测评", []),
        (7, "市政府领导讲话", ["市政府分管领导"]),
        (8, "市纪委、市委组织部参会领导讲话", ["市纪委参会领导", "市委组织部参会领导"]),
        (9, "主要领导作总结表态发言", ["党组书记"]),
    ]
    assert [i.number for i in meeting.agenda if i.speaking_order] == [5]
    assert meeting.agenda[5].survey_id == "evaluation"


def test_shipped_surveys(plan: Plan) -> None:
    evaluation = plan.survey("evaluation")
    assert evaluation.kind == "evaluation"
    assert evaluation.scale == ("好", "较好", "一般", "差")
    assert len(evaluation.items) == 3
    assert evaluation.threshold is None
    # members, the attendee and the three superiors vote
    assert len(evaluation.voter_ids) == 8

    satisfaction = plan.survey("satisfaction")
    assert satisfaction.kind == "satisfaction"
    assert satisfaction.scale == ("满意", "基本满意", "不满意")
    assert satisfaction.pass_choices == ("满意", "基本满意")
    assert satisfaction.threshold == pytest.approx(0.8)
    assert satisfaction.on_fail == "reconvene"
    assert satisfaction.min_ballots == 3


def test_the_shipped_plan_runs_clean(plan: Plan) -> None:
    assert plan.warnings == ()
    for task in plan.tasks:  # no task is given already overdue
        assert task.due.date() >= plan.phase(task.phase_id).start, task.id


# --- validation: one small plan per problem -------------------------------------------------

HEAD = 'title = "小计划"\n'
ROSTER = """
[[roster]]
id = "a"
name = "甲"
roles = ["organizer", "chair", "member"]
telegram_id = 111

[[roster]]
id = "b"
name = "乙"
telegram_id = 222
"""
PHASE = """
[[phases]]
id = "p1"
title = "第一阶段"
start = "2024-03-01"
end = "2024-03-31"
"""
TASK = """
[[phases.tasks]]
id = "t1"
title = "任务一"
assignees = ["a", "b"]
due = "2024-03-10"
"""
SURVEY = """
[[surveys]]
id = "s1"
title = "测评"
scale = ["好", "差"]
items = ["总体"]
pass_choices = ["好"]
threshold = 0.5
"""


def small_plan(
    *,
    head: str = HEAD,
    roster: str = ROSTER,
    phases: str = PHASE + TASK,
    rest: str = "",
) -> str:
    return head + roster + phases + rest


def test_the_small_plan_itself_is_valid() -> None:
    """The base every error case below changes one thing in."""
    plan = load_plan_text(small_plan(rest=SURVEY))
    assert plan.warnings == ()
    assert plan.names(plan.task("t1").assignee_ids) == ["甲", "乙"]
    assert plan.survey("s1").threshold == 0.5


MEETING_IN_APRIL = """
[meeting]
date = "2024-04-02T09:00"
phase = "p1"
"""

ERROR_CASES = [
    pytest.param(
        small_plan(phases=PHASE + TASK.replace('["a", "b"]', '["a", "zhang"]')),
        "task 't1': unknown member 'zhang'",
        id="unknown-member",
    ),
    pytest.param(
        small_plan(phases=PHASE + TASK.replace('["a", "b"]', '["@wizards"]')),
        "task 't1': unknown role group '@wizards'",
        id="unknown-role-group",
    ),
    pytest.param(
        small_plan(phases=PHASE + TASK.replace("2024-03-10", "2024-04-02")),
        "task 't1': due 2024-04-02 is after its phase 'p1' ends (2024-03-31)",
        id="due-after-phase-end",
    ),
    pytest.param(
        small_plan(roster=ROSTER + '\n[[roster]]\nid = "a"\nname = "丙"\n'),
        "duplicate member id 'a'",
        id="duplicate-member",
    ),
    pytest.param(
        small_plan(phases=PHASE + TASK + PHASE.replace("第一阶段", "重复")),
        "duplicate phase id 'p1'",
        id="duplicate-phase",
    ),
    pytest.param(
        small_plan(phases=PHASE + TASK + TASK.replace("任务一", "任务二")),
        "duplicate task id 't1'",
        id="duplicate-task",
    ),
    pytest.param(
        small_plan(rest=SURVEY + SURVEY),
        "duplicate survey id 's1'",
        id="duplicate-survey",
    ),
    pytest.param(
        small_plan(head=HEAD + 'timezone = "Mars/Base"\n'),
        "unknown timezone 'Mars/Base'",
        id="bad-timezone",
    ),
    pytest.param(
        small_plan(rest=SURVEY.replace("0.5", "1.5")),
        "survey 1: threshold must be a number between 0 and 1 (0.8 means 80%), not '1.5'",
        id="threshold-above-one",
    ),
    pytest.param(
        small_plan(rest=SURVEY.replace("0.5", "-0.1")),
        "survey 1: threshold must be a number between 0 and 1 (0.8 means 80%), not '-0.1'",
        id="threshold-below-zero",
    ),
    pytest.param(
        small_plan(rest=SURVEY.replace('pass_choices = ["好"]', 'pass_choices = ["优"]')),
        "survey 1: pass choice '优' is not on the scale",
        id="pass-choice-off-scale",
    ),
    pytest.param(
        small_plan(phases=PHASE + TASK.replace('due = "', 'reviwer = "a"\ndue = "')),
        "task 't1': unknown setting 'reviwer'",
        id="typo-in-task-key",
    ),
    pytest.param(
        small_plan(head=HEAD + 'timezon = "Asia/Shanghai"\n'),
        "the plan: unknown setting 'timezon'",
        id="typo-in-plan-key",
    ),
    pytest.param(
        small_plan(phases=PHASE + TASK.replace('"2024-03-10"', '"next friday"')),
        "task 't1': cannot read the deadline 'next friday'",
        id="bad-due-string",
    ),
    pytest.param(
        small_plan(phases=PHASE + TASK.replace('"2024-03-10"', '"kickoff+3d"')),
        "task 't1': the deadline 'kickoff+3d' refers to 'kickoff', which the plan does not define",
        id="relative-to-undefined-anchor",
    ),
    pytest.param(
        small_plan(phases=PHASE + TASK.replace('"2024-03-10"', '"meeting-3d"')),
        "task 't1': the deadline 'meeting-3d' refers to 'meeting', which the plan does not define",
        id="relative-to-missing-meeting",
    ),
    pytest.param(
        small_plan(rest=MEETING_IN_APRIL),
        "meeting: its date 2024-04-02 is outside its phase 'p1' (2024-03-01 to 2024-03-31)",
        id="meeting-outside-its-phase",
    ),
    pytest.param(
        small_plan(roster="", phases=PHASE),
        "the plan has no roster of members",
        id="missing-roster",
    ),
    pytest.param(
        small_plan(roster=ROSTER.replace("222", "111")),
        "members 'a' and 'b' share the telegram_id 111",
        id="duplicate-telegram-id",
    ),
]


@pytest.mark.parametrize(("text", "expected"), ERROR_CASES)
def test_each_validation_error_is_reported(text: str, expected: str) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan_text(text, source="small.toml")
    problems = caught.value.problems
    assert any(expected in problem for problem in problems), problems
    # the one change makes the one problem: nothing unrelated is reported with it
    assert len(problems) == 1, problems
    assert str(caught.value).startswith("small.toml: ")


def test_not_valid_toml_names_the_line() -> None:
    text = 'title = "小计划"\n\n[[roster]]\nid = "a"\nname = 甲\n'
    with pytest.raises(PlanError) as caught:
        load_plan_text(text)
    (problem,) = caught.value.problems
    assert problem.startswith("not valid TOML")
    assert "line 5" in problem


def test_every_problem_is_listed_in_one_run() -> None:
    text = small_plan(
        head=HEAD + 'timezone = "Mars/Base"\n',
        phases=PHASE + TASK.replace('["a", "b"]', '["zhang"]'),
        rest=SURVEY.replace("0.5", "1.5"),
    )
    with pytest.raises(PlanError) as caught:
        load_plan_text(text)
    problems = "\n".join(caught.value.problems)
    assert "Mars/Base" in problems
    assert "unknown member 'zhang'" in problems
    assert "not '1.5'" in problems


def test_due_before_its_phase_starts_is_only_a_warning() -> None:
    plan = load_plan_text(small_plan(phases=PHASE + TASK.replace("2024-03-10", "2024-02-20")))
    assert plan.task("t1").due == eod(2024, 2, 20)
    assert plan.warnings == (
        "task 't1': due 2024-02-20 is before its phase 'p1' begins (2024-03-01)",
    )


def test_load_plan_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text(small_plan(roster="", phases=PHASE), encoding="utf-8")
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert caught.value.source == str(path)
    assert str(caught.value) == f"{path}: the plan has no roster of members"


def test_load_plan_of_a_missing_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError) as caught:
        load_plan(tmp_path / "absent.toml")
    (problem,) = caught.value.problems
    assert problem.startswith("cannot read the file")


# --- timezones ------------------------------------------------------------------------------


def test_a_berlin_plan_keeps_its_due_times_in_berlin() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    tasks = (
        TASK
        + TASK.replace("t1", "t2").replace('"2024-03-10"', '"2024-03-31T18:30"')
        + TASK.replace("t1", "t3").replace('"2024-03-10"', '"meeting-1d"')
    )
    meeting = '\n[meeting]\ndate = "2024-03-20T10:00"\nphase = "p1"\n'
    plan = load_plan_text(
        small_plan(head=HEAD + 'timezone = "Europe/Berlin"\n', phases=PHASE + tasks, rest=meeting)
    )
    assert plan.timezone == berlin

    winter = plan.task("t1").due
    assert winter == eod(2024, 3, 10, berlin)
    assert winter.tzinfo == berlin
    assert winter.utcoffset() == timedelta(hours=1)  # CET

    summer = plan.task("t2").due  # clocks went forward at 02:00 that morning
    assert summer == datetime(2024, 3, 31, 18, 30, tzinfo=berlin)
    assert summer.utcoffset() == timedelta(hours=2)  # CEST

    assert plan.meeting is not None
    assert plan.meeting.starts_at == datetime(2024, 3, 20, 10, 0, tzinfo=berlin)
    assert plan.task("t3").due == eod(2024, 3, 19, berlin)
    # the same wall time in Shanghai would be seven hours earlier
    assert plan.task("t1").due != eod(2024, 3, 10)


@pytest.mark.parametrize(
    ("calendar", "due"),
    [
        ('\n[reminders]\ncalendar = "cn"\n', date(2024, 4, 3)),  # two weekends
        ('\n[reminders]\ncalendar = "DE-BY"\n', date(2024, 4, 5)),  # and Good Friday, Easter Monday
        ("", date(2024, 3, 30)),  # no calendar: every day is a working day
    ],
)
def test_a_deadline_in_working_days_after_the_meeting_follows_the_calendar(
    calendar: str, due: date
) -> None:
    """ "meeting+10wd" (会后10个工作日内): ten working days after the meeting's day, by the
    plan's calendar."""
    task = TASK.replace('"2024-03-10"', '"meeting+10wd"')
    meeting = '\n[meeting]\ndate = "2024-03-20T10:00"\nphase = "p1"\n'
    phase = PHASE.replace("2024-03-31", "2024-04-30")
    plan = load_plan_text(small_plan(phases=phase + task, rest=meeting + calendar))
    assert plan.task("t1").due == eod(*due.timetuple()[:3])


def test_a_deadline_too_many_working_days_away_is_refused() -> None:
    task = TASK.replace('"2024-03-10"', '"meeting+401wd"')
    meeting = '\n[meeting]\ndate = "2024-03-20T10:00"\nphase = "p1"\n'
    with pytest.raises(PlanError) as refused:
        load_plan_text(small_plan(phases=PHASE + task, rest=meeting))
    assert "meeting+401wd" in str(refused.value)
