"""The ``huiwu`` console script, run for real in a subprocess (issue 2)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
SHIPPED = "plans/democratic-life-meeting.toml"
SEED = REPO.parent / "shared/seed/000_d828633de8e0f4c1.txt"
PHASE_TITLES = ["会前准备阶段", "会议进行阶段", "会后整改阶段"]
TASK_TITLES = [
    "组织学习",
    "征求意见",
    "交流谈心",
    "向上级报送民主生活会方案",
    "撰写剖析材料",
    "报送民主生活会情况报告",
    "制定个人整改措施",
    "制定班子整改方案",
    "组织集中整改",
    "整改落实情况满意度测评",
]
ROSTER_NAMES = [
    "方磊",
    "唐军",
    "孟平",
    "党组书记",
    "市政府分管领导",
    "市纪委参会领导",
    "市委组织部参会领导",
    "支部书记代表",
]


def run_cli(
    *args: str, db: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``python -m bot.run.cli ARGS`` from the repository root, in English, on a scratch database."""
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HUIWU_", "WECOM_", "TELEGRAM_"))
    }
    environ.update(HUIWU_LOCALE="en", HUIWU_DB=str(db), PYTHONIOENCODING="utf-8")
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "bot.run.cli", *args],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "huiwu.sqlite3"


def check_json(path: str | Path, db: Path) -> dict[str, Any]:
    result = run_cli("plan", "check", "--json", str(path), db=db)
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_plan_check_prints_the_timeline_in_the_plans_language(db: Path) -> None:
    result = run_cli("plan", "check", SHIPPED, db=db)  # the operator's locale is en
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for title in PHASE_TITLES + TASK_TITLES:
        assert title in out
    # phases appear in order, each with its span
    assert out.index("会前准备阶段（2013-12-03 至 2013-12-20）") < out.index(
        "会议进行阶段（2013-12-21 至 2013-12-31）"
    )
    assert "会后整改阶段（2014-01-01 至 2014-06-30）" in out
    # names and weekday dates, in the plan's Chinese
    assert "交流谈心——唐军、孟平；截止时间：2013年12月15日 星期日 23:59" in out
    assert "组织学习——方磊；截止时间：2013年12月6日 星期五 23:59" in out
    assert "报送民主生活会情况报告——方磊；截止时间：2014年1月15日 星期三 23:59" in out
    assert "审阅人：市政府分管领导" in out
    # the shipped plan runs clean: no warning at all
    assert result.stderr == ""


def test_plan_check_prints_an_english_plan_in_english(db: Path, tmp_path: Path) -> None:
    english = tmp_path / "english.toml"
    text = (REPO / SHIPPED).read_text(encoding="utf-8").replace('locale = "zh_CN"', 'locale = "en"')
    english.write_text(text, encoding="utf-8")
    result = run_cli("plan", "check", str(english), db=db, env={"HUIWU_LOCALE": "zh_CN"})
    assert result.returncode == 0, result.stderr
    assert "交流谈心 — 唐军, 孟平; due Sunday, 15 December 2013 23:59" in result.stdout
    assert "reviewed by 市政府分管领导" in result.stdout
    assert "Meeting: 领导班子专题民主生活会, Tue 31 Dec 2013, 9 agenda items" in result.stdout


def test_plan_check_json_is_the_normalised_plan(db: Path) -> None:
    data = check_json(SHIPPED, db)
    assert data["timezone"] == "Asia/Shanghai"
    assert [p["id"] for p in data["phases"]] == ["preparation", "meeting", "rectification"]
    assert [p["title"] for p in data["phases"]] == PHASE_TITLES
    assert data["phases"][2]["start"] == "2014-01-01"
    tasks = {t["id"]: t for p in data["phases"] for t in p["tasks"]}
    assert [t["title"] for t in tasks.values()] == TASK_TITLES
    assert tasks["talks"]["assignees"] == ["唐军", "孟平"]
    assert tasks["talks"]["due"] == "2013-12-15T23:59:00+08:00"
    assert tasks["submit-plan"]["due"] == "2013-12-16T23:59:00+08:00"
    assert tasks["statements"]["assignees"] == ["方磊", "唐军", "孟平", "党组书记"]
    assert tasks["team-plan"]["reviewers"] == ["市政府分管领导"]
    assert tasks["team-plan"]["collective"] is True
    assert tasks["satisfaction"]["due"] == "2014-06-30T23:59:00+08:00"

    meeting = data["meeting"]
    assert meeting["starts_at"] == "2013-12-31T09:00:00+08:00"
    assert len(meeting["agenda"]) == 9
    assert [item["number"] for item in meeting["agenda"]] == list(range(1, 10))
    assert meeting["agenda"][0]["presenters"] == ["唐军"]

    surveys = {s["id"]: s for s in data["surveys"]}
    assert surveys["satisfaction"]["threshold"] == 0.8
    assert surveys["satisfaction"]["on_fail"] == "reconvene"
    assert surveys["evaluation"]["scale"] == ["好", "较好", "一般", "差"]
    assert data["warnings"] == []


BROKEN = """title = "坏计划"

[[roster]]
id = "a"
name = "甲"

[[phases]]
id = "p1"
title = "阶段"
start = "2024-03-01"
end = "2024-03-31"

[[phases.tasks]]
id = "t1"
title = "任务"
assignees = ["zhang"]
due = "2024-03-10"
"""


def test_plan_check_of_a_broken_plan_exits_2_naming_file_and_problem(
    tmp_path: Path, db: Path
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(BROKEN, encoding="utf-8")
    result = run_cli("plan", "check", str(broken), db=db)
    assert result.returncode == 2
    assert result.stdout == ""
    assert f"{broken}: error: task 't1': unknown member 'zhang'" in result.stderr


def test_plan_check_of_a_plan_in_a_year_the_calendar_does_not_know_warns(
    tmp_path: Path, db: Path
) -> None:
    from bot.sandbox.demo.telegram import seed_plan_text
    from tests.e2e.test_reminders_calendar import in_2027

    plan = tmp_path / "2027.toml"
    plan.write_text(in_2027(seed_plan_text()), encoding="utf-8")
    result = run_cli("plan", "check", str(plan), db=db)
    assert result.returncode == 0, result.stderr
    assert (
        f"{plan}: warning: [reminders]: the calendar 'cn' knows the years 2004–2026 only; in 2027 "
        "only Saturdays and Sundays count as non-working days" in result.stderr
    )
    assert "会前准备阶段" in result.stdout


def test_plan_check_of_a_missing_file_exits_2(tmp_path: Path, db: Path) -> None:
    missing = tmp_path / "absent.toml"
    result = run_cli("plan", "check", str(missing), db=db)
    assert result.returncode == 2
    assert f"{missing}: error: cannot read the file" in result.stderr


def test_plan_load_stores_the_plan_and_prints_invite_codes(db: Path) -> None:
    result = run_cli("plan", "load", SHIPPED, db=db)
    assert result.returncode == 0, result.stderr
    assert f"Loaded “领导班子专题民主生活会” as plan instance 1 into {db}." in result.stdout
    assert "/setup 1" in result.stdout
    printed = dict(re.findall(r"^  (\S+): (\S+)$", result.stdout, flags=re.MULTILINE))
    # nobody in the shipped roster has a telegram_id, so everybody gets a code
    assert sorted(printed) == sorted(ROSTER_NAMES)
    assert len(set(printed.values())) == len(ROSTER_NAMES)

    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] >= 1
        title, toml_text = conn.execute("SELECT title, plan_toml FROM plan_instances").fetchone()
        stored = dict(
            conn.execute(
                "SELECT m.name, i.code FROM invites i JOIN members m ON m.id = i.member_id "
                "WHERE i.used_at IS NULL"
            ).fetchall()
        )
        wecom = dict(
            conn.execute(
                "SELECT m.member_key, i.user_id FROM identities i JOIN members m ON m.id = i.member_id "
                "WHERE i.platform = 'wecom'"
            ).fetchall()
        )
    assert title == "领导班子专题民主生活会"
    assert toml_text == (REPO / SHIPPED).read_text(encoding="utf-8")
    assert stored == printed
    assert wecom["fanglei"] == "FangLei"

    again = run_cli("plan", "load", SHIPPED, db=db)
    assert again.returncode == 0, again.stderr
    assert "as plan instance 2 into" in again.stdout


def test_plan_load_of_a_broken_plan_stores_nothing(tmp_path: Path, db: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text(BROKEN, encoding="utf-8")
    result = run_cli("plan", "load", str(broken), db=db)
    assert result.returncode == 2
    assert "unknown member 'zhang'" in result.stderr
    assert not db.exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [("HUIWU_CLOCK_SPEED", "abc"), ("HUIWU_TZ", "Mars/Base"), ("HUIWU_LOCALE", "fr")],
)
def test_a_bad_setting_exits_2_naming_the_variable(db: Path, variable: str, value: str) -> None:
    result = run_cli("plan", "check", SHIPPED, db=db, env={variable: value})
    assert result.returncode == 2
    assert result.stdout == ""
    # one line naming the variable and the value it refused, no traceback
    assert f"{variable}='{value}'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_a_bad_setting_is_reported_in_the_configured_language(db: Path) -> None:
    result = run_cli("plan", "check", SHIPPED, db=db, env={"HUIWU_TZ": "Mars/Base"})
    assert result.returncode == 2
    assert "Configuration error: HUIWU_TZ='Mars/Base' is not valid" in result.stderr


def test_plan_import_of_the_seed_matches_the_shipped_plan(tmp_path: Path, db: Path) -> None:
    if not SEED.exists():
        pytest.skip(f"the seed document {SEED} is not present (a clone without shared/)")
    output = tmp_path / "imported.toml"
    result = run_cli("plan", "import", str(SEED), "-o", str(output), db=db)
    assert result.returncode == 0, result.stderr
    assert f"Wrote {output}" in result.stdout
    assert output.is_file()

    imported, shipped = check_json(output, db), check_json(SHIPPED, db)

    def phases(data: dict[str, Any]) -> list[tuple[Any, ...]]:
        return [
            (
                phase["id"],
                phase["start"],
                phase["end"],
                [
                    (task["id"], task["due"], sorted(task["assignees"]), sorted(task["reviewers"]))
                    for task in phase["tasks"]
                ],
            )
            for phase in data["phases"]
        ]

    assert phases(imported) == phases(shipped)
    assert imported["meeting"]["starts_at"] == shipped["meeting"]["starts_at"]
    assert [i["presenters"] for i in imported["meeting"]["agenda"]] == [
        i["presenters"] for i in shipped["meeting"]["agenda"]
    ]
    assert imported["surveys"] == shipped["surveys"]
