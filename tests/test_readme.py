"""The README's command table and Quick start stay true to the code and to CI."""

from __future__ import annotations

import re
from pathlib import Path

from handlers.commands import COMMANDS, markdown_table

ROOT = Path(__file__).resolve().parents[1]


def test_readme_command_table_is_generated_from_the_command_table() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"<!-- commands:start.*?-->\n(.*?)\n<!-- commands:end -->", readme, re.S)
    assert block is not None, "README has no generated command table"
    assert block.group(1).strip() == markdown_table()
    assert len(COMMANDS) >= 10


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.findall(
        r"```sh\n(.*?)\n```", readme.split("## Quick start", 1)[1].split("\n## ", 1)[0], re.S
    )
    assert len(commands) == 2, "Quick start must hold exactly two commands"
    assert "huiwu demo" in commands[0]
    assert f"TEST_COMMAND='{commands[1]}'" in ci


def test_env_example_lists_every_setting() -> None:
    example = (ROOT / ".env.example").read_text(encoding="utf-8")
    source = (ROOT / "bot" / "core" / "config.py").read_text(encoding="utf-8")
    names = set(re.findall(r'get\("([A-Z_]+)"', source))
    assert names, "no settings found in bot/core/config.py"
    missing = sorted(name for name in names if f"\n{name}=" not in example)
    assert not missing, f".env.example lacks {missing}"
