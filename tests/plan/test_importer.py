"""Importing work-plan documents (.txt / .docx) into plans: issue 8."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from bot.core.i18n import use_locale
from bot.plan import Plan, Role, Task, load_plan, load_plan_text
from bot.plan.importer import (
    ImportIssue,
    ImportResult,
    PlanImportError,
    import_plan,
    import_plan_text,
    load_roster,
)

REPO = Path(__file__).resolve().parents[2]
# shared/ sits beside the repository; HUIWU_SHARED names it where it is elsewhere (a worktree).
SHARED = Path(os.environ.get("HUIWU_SHARED", REPO / "../shared"))
SEED = SHARED / "seed/000_d828633de8e0f4c1.txt"
SHIPPED = REPO / "bot/plans/democratic-life-meeting.toml"
DOCUMENTS = Path(__file__).resolve().parent / "documents"


@pytest.fixture(autouse=True)
def english_messages() -> Iterator[None]:
    """Issue messages are compared in English, whatever the catalogs translate."""
    with use_locale("en"):
        yield


@pytest.fixture
def seed_path() -> Path:
    if not SEED.exists():
        pytest.skip(
            "seed document ../shared/seed/000_d828633de8e0f4c1.txt not present "
            "(a user's clone has no shared/)"
        )
    return SEED


def plan_of(result: ImportResult) -> Plan:
    return load_plan_text(result.toml_text, source="<imported>")


def task_signature(
    plan: Plan, task: Task
) -> tuple[datetime, tuple[str, ...], tuple[str, ...], bool]:
    return (
        task.due,
        tuple(sorted(plan.names(task.assignee_ids))),
        tuple(sorted(plan.names(task.reviewer_ids))),
        task.collective,
    )


def phase_tasks(
    plan: Plan,
) -> dict[str, list[tuple[datetime, tuple[str, ...], tuple[str, ...], bool]]]:
    return {
        phase.title: sorted(task_signature(plan, task) for task in phase.tasks)
        for phase in plan.phases
    }


def issue_at(result: ImportResult, line: int, words: str) -> ImportIssue:
    for issue in result.warnings:
        if issue.line == line and words in issue.message:
            return issue
    raise AssertionError(f"no issue at line {line} about {words!r}: {result.warnings}")


def line_of(path: Path, start: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(number for number, text in enumerate(lines, 1) if text.strip().startswith(start))


# --- the seed document imports to the shipped plan ---------------------------------------------


def test_seed_imports_to_the_shipped_plan(seed_path: Path) -> None:
    imported = plan_of(import_plan(seed_path))
    shipped = load_plan(SHIPPED)

    assert [(p.title, p.start, p.end) for p in imported.phases] == [
        (p.title, p.start, p.end) for p in shipped.phases
    ]
    assert phase_tasks(imported) == phase_tasks(shipped)
    assert imported.meeting is not None and shipped.meeting is not None
    assert imported.meeting.starts_at == shipped.meeting.starts_at
    assert [imported.names(item.presenter_ids) for item in imported.meeting.agenda] == [
        shipped.names(item.presenter_ids) for item in shipped.meeting.agenda
    ]
    assert len(imported.meeting.agenda) == 9
    satisfaction = imported.survey("satisfaction")
    assert (satisfaction.threshold, satisfaction.on_fail) == (0.8, "reconvene")
    assert satisfaction.pass_choices == ("满意", "基本满意")


def test_seed_roster_matches_the_shipped_roster(seed_path: Path) -> None:
    result = import_plan(seed_path)
    imported, shipped = plan_of(result), load_plan(SHIPPED)

    def roster(plan: Plan) -> set[tuple[str, str, frozenset[str]]]:
        return {(m.id, m.name, frozenset(m.roles)) for m in plan.members}

    assert roster(imported) == roster(shipped)
    assert set(result.new_members) == {m.name for m in shipped.members}
    assert imported.theme == shipped.theme
    assert imported.title == shipped.title


def test_seed_meeting_people_and_surveys(seed_path: Path) -> None:
    plan = plan_of(import_plan(seed_path))
    assert plan.meeting is not None
    assert plan.names(plan.meeting.chair_ids) == ["党组书记"]
    assert set(plan.names(plan.meeting.invited_ids)) == {
        "市政府分管领导",
        "市纪委参会领导",
        "市委组织部参会领导",
    }
    assert plan.names(plan.meeting.attendee_ids) == ["支部书记代表"]
    evaluation = plan.survey("evaluation")
    assert evaluation.scale == ("好", "较好", "一般", "差")
    assert evaluation.items == ("会前准备情况", "会议召开情况", "上次民主生活会整改措施落实情况")
    assert plan.meeting.agenda[5].survey_id == "evaluation"
    assert plan.task("submit-plan").due.date() == date(2013, 12, 16)


def test_seed_reports_the_report_deadline_with_its_line(seed_path: Path) -> None:
    result = import_plan(seed_path)
    report_line = line_of(seed_path, "一是报送材料")
    # "会后15天内" with "时限：12月底前" and the meeting on 12-31: due 15 days after the meeting,
    # as the shipped plan has it, and the import says why.
    moved = issue_at(result, report_line, "not after the meeting")
    assert "12月底前" in moved.text and "2014-01-15" in moved.message
    assert plan_of(result).task("report").due.date() == date(2014, 1, 15)
    assert not [w for w in result.warnings if w.line == report_line and w is not moved]
    invited = issue_at(result, line_of(seed_path, "1、参会对象"), "invited")
    assert "汉滨区发改局" in invited.message


def test_seed_with_the_shipped_roster_adds_nobody(seed_path: Path) -> None:
    result = import_plan(seed_path, roster_path=SHIPPED)
    assert result.new_members == ()
    plan = plan_of(result)
    assert plan.member("fanglei").wecom_userid == "FangLei"
    assert plan.task("talks").assignee_ids == ("tangjun", "mengping")


def test_the_toml_states_its_issues_as_comments(seed_path: Path) -> None:
    result = import_plan(seed_path)
    comments = [line for line in result.toml_text.splitlines() if line.startswith("#")]
    assert any("not after the meeting" in line for line in comments)
    assert tomllib.loads(result.toml_text)["title"] == "领导班子专题民主生活会"


# --- other phrasings -----------------------------------------------------------------------------


def test_units_leaders_and_parts_of_months() -> None:
    result = import_plan(DOCUMENTS / "branch-units.txt")
    plan = plan_of(result)
    mobilise = plan.phases[0]
    assert (mobilise.start, mobilise.end) == (date(2014, 12, 1), date(2014, 12, 20))
    kickoff, study = mobilise.tasks
    # 牵头领导 answers for the task; the 责任单位 is its department, not a person.
    assert plan.names(kickoff.assignee_ids) == ["刘建国"]
    assert (kickoff.department, kickoff.reviewer_ids) == ("党政办公室", ())
    assert kickoff.due.date() == date(2014, 12, 10)  # 上旬
    assert plan.names(study.assignee_ids) == ["陈晓红", "周伟"]
    assert study.due.date() == date(2014, 12, 20)  # 中旬前
    opinions = plan.task("opinions")
    assert opinions.due.date() == date(2014, 12, 31)  # 下旬
    # Only a unit is named: the organizer holds the task, and the report asks for a person.
    assert (plan.names(opinions.assignee_ids), opinions.department) == (["陈晓红"], "人事科")
    assert "人事科" not in result.new_members and "党政办公室" not in result.new_members
    [unit] = result.warnings
    assert unit.line == line_of(DOCUMENTS / "branch-units.txt", "1. 广泛征求意见")
    assert "人事科 is a unit, not a person" in unit.message


def test_deadline_across_the_year_end() -> None:
    plan = plan_of(import_plan(DOCUMENTS / "branch-units.txt"))
    preparation = plan.phase("preparation")
    assert (preparation.start, preparation.end) == (date(2014, 12, 21), date(2015, 1, 10))
    assert plan.task("statements").due.date() == date(2015, 1, 10)


def test_named_meeting_date_time_and_agenda() -> None:
    plan = plan_of(import_plan(DOCUMENTS / "branch-units.txt"))
    assert plan.meeting is not None
    assert plan.meeting.starts_at.replace(tzinfo=None) == datetime(2015, 1, 20, 9, 30)
    assert [plan.names(item.presenter_ids) for item in plan.meeting.agenda] == [
        ["陈晓红"],
        [m.name for m in plan.members if "member" in m.roles],
        ["党委书记"],
    ]
    assert plan.names(plan.meeting.attendee_ids) == ["支部书记代表"]
    report = plan.task("report")
    assert report.window_end is not None and report.window_end.date() == date(2015, 1, 30)
    assert [m.name for m in plan.with_role(Role.ORGANIZER)] == ["陈晓红"]


def test_numbered_items_and_spaced_names_without_a_roster() -> None:
    document = DOCUMENTS / "spaced-names.txt"
    result = import_plan(document)
    plan = plan_of(result)
    assert [t.title for t in plan.phase("preparation").tasks] == [
        "学习研讨",
        "谈心谈话",
        "撰写发言提纲",
    ]
    doubtful = issue_at(result, line_of(document, "（1）学习研讨"), "spacing")
    assert "王小明" in doubtful.message
    issue_at(result, line_of(document, "（2）谈心谈话"), "“明” is not a name")


def test_a_roster_splits_spaced_names() -> None:
    result = import_plan(
        DOCUMENTS / "spaced-names.txt", roster_path=DOCUMENTS / "spaced-names-roster.toml"
    )
    plan = plan_of(result)
    assert plan.task("study").assignee_ids == ("wxm", "mp")
    assert plan.task("talks").assignee_ids == ("oym",)
    assert plan.task("rectify").assignee_ids == ("wxm",)
    assert result.new_members == ()
    assert not any("spacing" in issue.message for issue in result.warnings)
    assert plan.meeting is not None and plan.names(plan.meeting.chair_ids) == ["李书记"]


def test_meeting_relative_deadline_is_placed_by_its_date() -> None:
    plan = plan_of(import_plan(DOCUMENTS / "spaced-names.txt"))
    submit = plan.task("submit-plan")
    assert submit.phase_id == "meeting"
    assert submit.due.date() == date(2015, 12, 21)  # meeting 12-31, "召开10天前"


def test_unreadable_and_inconsistent_deadlines_are_reported() -> None:
    document = DOCUMENTS / "problems.txt"
    result = import_plan(document)
    plan = plan_of(result)
    unreadable = issue_at(result, 4, "cannot read the deadline “另行通知”")
    assert unreadable.text.startswith("一是组织学习")
    assert plan.task("study").due.date() == date(2016, 3, 31)
    issue_at(result, 5, "before its phase")
    assert plan.task("opinions").due.date() == date(2016, 2, 20)
    issue_at(result, 6, "no responsible person")
    assert plan.names(plan.task("talks").assignee_ids) == ["张华"]
    issue_at(result, 7, "after its phase")
    assert plan.phases[0].end == date(2016, 4, 15)
    assert [issue.line for issue in result.warnings] == sorted(i.line for i in result.warnings)


def test_gb18030_text_file(tmp_path: Path) -> None:
    source = (DOCUMENTS / "problems.txt").read_text(encoding="utf-8")
    legacy = tmp_path / "problems.txt"
    legacy.write_bytes(source.encode("gb18030"))
    assert (
        import_plan(legacy).toml_text.split("\n", 1)[1]
        == import_plan_text(source, source=str(legacy)).toml_text.split("\n", 1)[1]
    )


def test_docx_document_with_a_table(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    text = (DOCUMENTS / "branch-units.txt").read_text(encoding="utf-8")
    document = docx.Document()
    for line in text.splitlines():
        document.add_paragraph(line)
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "工作内容"
    table.cell(1, 0).text = "补充任务"
    path = tmp_path / "plan.docx"
    document.save(str(path))

    result = import_plan(path)
    from_text = plan_of(import_plan(DOCUMENTS / "branch-units.txt"))
    assert phase_tasks(plan_of(result)) == phase_tasks(from_text)
    table_line = len(text.splitlines()) + 1
    issue = issue_at(result, table_line, "a table without a task column")
    assert "工作内容" in issue.text


def test_a_task_table_is_read_row_by_row(tmp_path: Path) -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for line in ("某局2016年度民主生活会方案", "（一）准备阶段（2016年3月1日至3月31日）"):
        document.add_paragraph(line)
    rows = [
        ("序号", "工作任务", "具体要求", "牵头领导", "责任单位", "完成时限"),
        ("1", "组织学习", "集中学习三天", "张 华", "办公室", "3月上旬"),
        ("2", "征求意见", "", "", "人事科", "3月20日前"),
    ]
    table = document.add_table(rows=len(rows), cols=len(rows[0]))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    path = tmp_path / "table.docx"
    document.save(str(path))

    result = import_plan(path)
    plan = plan_of(result)
    study, opinions = plan.phases[0].tasks
    assert (study.title, study.description, study.department) == (
        "组织学习",
        "集中学习三天",
        "办公室",
    )
    assert plan.names(study.assignee_ids) == ["张华"]
    assert study.due.date() == date(2016, 3, 10)
    assert (opinions.department, opinions.due.date()) == ("人事科", date(2016, 3, 20))
    [unit] = [w for w in result.warnings if "unit" in w.message]
    assert unit.line == 4 and unit.text == "2. 征求意见。（责任单位：人事科；完成时限：3月20日前）"


def test_quotes_and_backslashes_survive_the_toml() -> None:
    text = '测试"引号"与\\反斜杠方案\n（一）准备阶段（2016年3月1日至3月31日）\n一是学习。学习\t文件（责任人：张华 时限：3月6日前）。\n'
    plan = plan_of(import_plan_text(text))
    assert plan.title == '测试"引号"与\\反斜杠'
    assert plan.task("study").description == "学习\t文件。"


def test_tasks_without_phase_headings_get_one_phase() -> None:
    result = import_plan_text(
        "方案\n一是学习。学习文件（责任人：张华 时限：2016年3月6日前）。\n"
        "二是谈心。开展谈心（责任人：张华 时限：2016年4月1日前）。\n"
    )
    issue_at(result, 0, "no phase headings")
    (phase,) = plan_of(result).phases
    assert (phase.start, phase.end, len(phase.tasks)) == (date(2016, 3, 6), date(2016, 4, 1), 2)


def test_a_text_without_tasks_is_refused() -> None:
    with pytest.raises(PlanImportError, match="no phases"):
        import_plan_text("通知\n请各单位认真学习。\n")


def test_a_plan_not_in_chinese_is_refused_saying_what_to_write_instead() -> None:
    english = (
        "Annual review: work plan\n1. Preparation (1 March 2027 - 20 March 2027)\n"
        "1) Study session. Responsible: Anna Schmidt. Deadline: 10 March 2027.\n"
    )
    with pytest.raises(PlanImportError, match=r"not in Chinese.*\.toml.*plan-format"):
        import_plan_text(english)
    with pytest.raises(PlanImportError) as chinese:  # Chinese, but no plan in it
        import_plan_text("通知\n请各单位认真学习。\n")
    assert "not in Chinese" not in str(chinese.value)


def test_unsupported_files_and_bad_rosters(tmp_path: Path) -> None:
    old_word = tmp_path / "plan.doc"
    old_word.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(PlanImportError, match=r"\.docx"):
        import_plan(old_word)
    roster = tmp_path / "roster.toml"
    roster.write_text('[[roster]]\nname = "方磊"\n', encoding="utf-8")
    with pytest.raises(PlanImportError, match="id and a name"):
        load_roster(roster)


def test_items_in_one_paragraph_and_a_meeting_outside_its_phase() -> None:
    text = (
        "专题会议方案\n"
        "（一）准备阶段（2016年3月1日至3月20日）\n"
        "一是组织学习。学习文件（责任人：张华 时限：3月6日前）。二是征求意见。"
        "广泛征求意见（责任人：李 强 时限：3月中旬）。\n"
        "（二）会议召开阶段（2016年3月31日前）\n"
        "1、会议时间：会议定于2016年4月2日下午3时召开。\n"
        "2、会议议程：\n"
        "（1）由张华同志通报情况。\n"
    )
    result = import_plan_text(text)
    plan = plan_of(result)
    assert [(t.title, t.due.date()) for t in plan.phases[0].tasks] == [
        ("组织学习", date(2016, 3, 6)),
        ("征求意见", date(2016, 3, 20)),
    ]
    assert plan.meeting is not None and plan.meeting.phase_id is None
    assert plan.meeting.starts_at.replace(tzinfo=None) == datetime(2016, 4, 2, 15, 0)
    assert "（二）会议召开阶段" in issue_at(result, 4, "outside the meeting phase").text
