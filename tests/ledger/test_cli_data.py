"""``huiwu backup``, ``huiwu export`` and ``huiwu restore`` run for real in a subprocess."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SHIPPED = "bot/plans/democratic-life-meeting.toml"


def run_cli(*args: str, db: Path) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HUIWU_", "WECOM_", "TELEGRAM_"))
    }
    environ.update(HUIWU_LOCALE="en", HUIWU_DB=str(db), PYTHONIOENCODING="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "bot.run.cli", *args],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_export_backup_and_restore_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "huiwu.sqlite3"
    assert run_cli("plan", "load", SHIPPED, db=db).returncode == 0
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO rectification_items (instance_id, description, source, category, "
            "created_at, updated_at) VALUES (1, '精简会议文件', 'opinion', 'immediate', "
            "'2014-01-05T02:00:00+00:00', '2014-01-05T02:00:00+00:00')"
        )

    out = tmp_path / "out"
    result = run_cli("export", "1", "--out", str(out), "--json", db=db)
    assert result.returncode == 0, result.stderr
    # The documents are in the plan's language (zh_CN), whatever the command line speaks.
    assert sorted(p.name for p in out.iterdir()) == [
        "instance-1.json",
        "领导班子专题民主生活会-任务进度表.xlsx",
        "领导班子专题民主生活会-全部材料.zip",
        "领导班子专题民主生活会-情况报告.docx",
        "领导班子专题民主生活会-整改台账.xlsx",
    ]
    report = Document(io.BytesIO((out / "领导班子专题民主生活会-情况报告.docx").read_bytes()))
    cells = [c.text for row in report.tables[0].rows for c in row.cells]
    assert "精简会议文件" in cells
    printed = run_cli("export", "1", "--json", db=db)
    assert (
        json.loads(printed.stdout)["tables"]["rectification_items"][0]["description"]
        == "精简会议文件"
    )
    assert run_cli("export", "7", "--json", db=db).returncode == 2
    assert run_cli("export", "1", db=db).returncode == 2  # neither --out nor --json

    backup = tmp_path / "backup.sqlite3"
    result = run_cli("backup", str(backup), db=db)
    assert result.returncode == 0, result.stderr
    assert f"Backed up {db} to {backup}" in result.stdout

    restored = tmp_path / "restored.sqlite3"
    result = run_cli("restore", str(backup), db=restored)
    assert result.returncode == 0, result.stderr
    assert run_cli("restore", str(backup), db=restored).returncode == 2  # exists: needs --force
    assert run_cli("restore", str(backup), "--force", db=restored).returncode == 0
    with sqlite3.connect(restored) as conn:
        assert conn.execute("SELECT description FROM rectification_items").fetchall() == [
            ("精简会议文件",)
        ]

    from_json = tmp_path / "from-json.sqlite3"
    result = run_cli("restore", str(out / "instance-1.json"), db=from_json)
    assert result.returncode == 0, result.stderr
    assert "as instance 1" in result.stdout
    with sqlite3.connect(from_json) as conn:
        assert conn.execute("SELECT COUNT(*) FROM members").fetchone()[0] == 8
        assert conn.execute("SELECT description FROM rectification_items").fetchall() == [
            ("精简会议文件",)
        ]
    bad = tmp_path / "bad.json"
    bad.write_text("{}", encoding="utf-8")
    assert run_cli("restore", str(bad), db=from_json).returncode == 2
