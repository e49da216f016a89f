"""``huiwu --help`` and argparse's own words in the operator's language (issue 16): zh_CN
unless HUIWU_LOCALE (environment, then ``.env``) says en; run for real in subprocesses."""

from __future__ import annotations

import argparse
import gettext
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot.core.i18n import use_locale
from bot.core.i18n_tools import argparse_messages
from bot.run.cli_language import argparse_in_current_locale

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
HELPS = [("--help",), ("run", "--help"), ("plan", "import", "--help"), ("export", "--help")]


def huiwu(*args: str, locale: str | None, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    environ = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("HUIWU_", "WECOM_", "TELEGRAM_", "LANG", "LC_"))
    }
    environ.update(PYTHONIOENCODING="utf-8", PYTHONPATH=str(REPO), LANG="C.UTF-8")
    if locale is not None:
        environ["HUIWU_LOCALE"] = locale
    return subprocess.run(
        [sys.executable, "-m", "bot.run.cli", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=60,
        check=False,
    )


def argparse_english(text: str) -> list[str]:
    """argparse's English words found in ``text`` (each message's words between its fields)."""
    found = []
    for msgid, entry in argparse_messages().items():
        for message in (msgid, entry.plural):
            for piece in re.split(r"%(?:\([a-z_]+\))?[sr]", message or ""):
                piece = piece.strip(" :\n()'\"")
                if re.search(r"[a-z]{3}", piece) and piece in text:
                    found.append(piece)
    return found


@pytest.mark.parametrize("args", HELPS)
@pytest.mark.parametrize("locale", ["zh_CN", None])  # None: nothing says, so zh_CN
def test_the_help_is_chinese_without_an_english_argparse_word(
    args: tuple[str, ...], locale: str | None
) -> None:
    result = huiwu(*args, locale=locale)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("用法：huiwu")
    assert "选项" in out and "显示本帮助并退出" in out
    assert argparse_english(out) == []
    for english in ("usage:", "positional arguments", "options:", "show this help message"):
        assert english not in out


def test_the_chinese_help_tells_the_commands_and_settings() -> None:
    out = huiwu("--help", locale="zh_CN").stdout
    assert "位置参数" in out and "命令" in out
    assert "在已配置的各个平台上运行机器人" in out  # run's help
    assert "HUIWU_DB" in out and "SQLite 数据库文件" in out  # the settings, in Chinese
    assert "显示版本号并退出" in out
    out = huiwu("plan", "import", "--help", locale="zh_CN").stdout
    assert "把工作方案文件（.txt / .docx）转换为方案。" in out
    assert "方案的写入位置（.toml）" in out


@pytest.mark.parametrize("args", HELPS)
def test_the_help_is_english_under_en(args: tuple[str, ...]) -> None:
    result = huiwu(*args, locale="en")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert out.startswith("usage: huiwu")
    assert "options:" in out and "show this help message and exit" in out
    assert not re.search(r"[\u4e00-\u9fff]", out), out
    assert "show this help message and exit" in argparse_english(out)  # the check can fail


def test_the_english_help_tells_the_commands_and_settings() -> None:
    out = huiwu("--help", locale="en").stdout
    assert "positional arguments:" in out
    assert "run the bot on every platform whose settings are present" in out
    assert "SQLite database file" in out
    out = huiwu("plan", "import", "--help", locale="en").stdout
    assert "where to write the plan (.toml)" in out


def test_argparse_errors_are_told_in_the_operators_language() -> None:
    result = huiwu("plan", "import", "doc.txt", locale="zh_CN")
    assert result.returncode == 2
    assert "huiwu plan import：错误：缺少以下必需参数：-o/--output" in result.stderr
    assert argparse_english(result.stderr) == []
    result = huiwu("export", "seven", locale="zh_CN")
    assert "无效的 int 值：'seven'" in result.stderr
    result = huiwu("frobnicate", locale="zh_CN")
    assert "无效的选择：'frobnicate'" in result.stderr and "error" not in result.stderr
    result = huiwu("plan", "import", "doc.txt", locale="en")
    assert "error: the following arguments are required: -o/--output" in result.stderr


def test_the_language_of_the_help_is_read_from_dot_env_too(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("HUIWU_LOCALE=en\n", encoding="utf-8")
    assert huiwu("--help", locale=None, cwd=tmp_path).stdout.startswith("usage: huiwu")
    (tmp_path / ".env").write_text("HUIWU_LOCALE=zh_CN\n", encoding="utf-8")
    assert huiwu("--help", locale="en", cwd=tmp_path).stdout.startswith("usage: huiwu")
    assert huiwu("--help", locale=None, cwd=tmp_path).stdout.startswith("用法：huiwu")


def test_argparse_speaks_gettext_again_after_the_command_line() -> None:
    with use_locale("zh_CN"), argparse_in_current_locale():
        assert argparse.ArgumentParser(prog="x").format_usage() == "用法：x [-h]\n"
    assert getattr(argparse, "_") is gettext.gettext  # noqa: B009
    assert getattr(argparse, "ngettext") is gettext.ngettext  # noqa: B009
    with use_locale("zh_CN"):
        assert argparse.ArgumentParser(prog="x").format_usage() == "usage: x [-h]\n"
