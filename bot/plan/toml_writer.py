"""TOML for imported plan data: the importer writes the plan a person then checks.

``tomllib`` reads TOML but does not write it; this writer knows the few shapes a plan has
(tables, arrays of tables, strings, numbers, booleans, dates, lists) and puts comments first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import Any

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\b": "\\b",
    "\t": "\\t",
    "\n": "\\n",
    "\f": "\\f",
    "\r": "\\r",
}


def dump_toml(data: dict[str, Any], comments: Iterable[str] = ()) -> str:
    """TOML for plan data: tables, arrays of tables, strings, numbers, booleans, lists."""
    out = [f"# {_one_line(comment)}" for comment in comments]
    if out:
        out.append("")
    _write_table(out, data, ())
    return "\n".join(out).strip() + "\n"


def _write_table(out: list[str], table: dict[str, Any], path: tuple[str, ...]) -> None:
    for key, value in table.items():
        if not _is_table(value) and not _is_table_array(value):
            out.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in table.items():
        dotted = ".".join(_toml_key(part) for part in (*path, key))
        if _is_table(value):
            out.extend(["", f"[{dotted}]"])
            _write_table(out, value, (*path, key))
        elif _is_table_array(value):
            for entry in value:
                out.extend(["", f"[[{dotted}]]"])
                _write_table(out, entry, (*path, key))


def _is_table(value: Any) -> bool:
    return isinstance(value, dict)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _toml_key(key: str) -> str:
    return key if _BARE_KEY.match(key) else _toml_string(key)


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _toml_string(text: str) -> str:
    return '"' + "".join(_escape(char) for char in text) + '"'


def _escape(char: str) -> str:
    if char in _ESCAPES:
        return _ESCAPES[char]
    if ord(char) < 0x20 or ord(char) == 0x7F:
        return f"\\u{ord(char):04x}"
    return char


def _one_line(text: str) -> str:
    return " ".join(text.split())
