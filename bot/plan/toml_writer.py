"""Plans written as TOML: the one writer, for imported documents and for the phases Huiwu
appends to a running plan (a failed survey's next round). tomlkit writes (inline arrays,
a blank line before each table, as a person would), tomllib reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import tomlkit


def dump_toml(data: dict[str, Any], comments: Iterable[str] = ()) -> str:
    """TOML for plan data, after ``comments`` (each one line, as ``# comment``)."""
    header = [f"# {' '.join(comment.split())}" for comment in comments]
    body = tomlkit.dumps(data)
    return "\n".join([*header, "", body]).strip() + "\n" if header else body
