"""What `huiwu run` loads at start-up: not the libraries only a rare command needs (charts,
documents, spreadsheets, the plan importer's Chinese tools), which cost a second and tens of
MiB of every bot's idle memory (issue 21: ``bench/province.py``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ON_FIRST_USE = ("matplotlib", "docx", "openpyxl", "pypinyin", "cn2an")


def test_the_runtime_and_the_handlers_leave_the_heavy_libraries_for_first_use() -> None:
    probe = (
        "import sys, bot.run.cli, bot.run.runtime, handlers.router\n"
        f"print(','.join(m for m in {ON_FIRST_USE!r} if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""
