"""Mechanical checks of what a reader sees in a message (issue 16's text audit).

Each check returns the problems it finds in one rendered text; ``problems`` runs them all.
They look for what a reader notices at once: an empty slot, doubled or nested brackets,
doubled punctuation, a placeholder left unfilled, English words in a Chinese message
(outside names, commands, settings and file types), Chinese in an English one.
"""

from __future__ import annotations

import re

# Words a Chinese message may hold: commands, settings, file types, platform and format names.
ALLOWED_LATIN = re.compile(
    r"https?://\S+"
    r"|/[a-z_]+(?: [a-z_-]+)*"  # /commands with their arguments
    r"|\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b"  # settings: HUIWU_DB, WECOM_SECRET ...
    r"|\.(?:docx|doc|txt|pdf|xlsx|toml|png|json|zip)\b|\bDIR\b|\b(?:KB|MB|GB)\b"  # file types, sizes"
    r"|\[\[roster\]\]|--[a-z]+\b"
    r"|wss?://\S*|“[A-Za-z_.-]+”|\b[a-z]+_[a-z_]+\b|\b[A-Z]+_\*"  # plan keys and setting families
    r"|\bhuiwu(?: [a-z-]+)*"  # the command line's own commands
    r"|(?<![\w.])\.{1,2}/[\w./-]+"  # relative paths: ./huiwu.sqlite3, ./.env
    r"|\b(?:Telegram|WeCom|TOML|UTF-8|GB18030|IANA|ISO|CorpID|Secret|AgentId|EncodingAESKey"
    r"|Token|ID|id|name|errcode|HTTP|URL|TCP|SQLite|JSON|Huiwu|BotFather|Asia/Shanghai|API|WebSocket"
    r"|Bot API|BotId|webhook|HTTPS|Ctrl-C|SIGTERM"
    r"|zh_CN|en|DEBUG|INFO|WARNING|ERROR|CRITICAL|meeting|d|OK|Word|true|false|table|text"
    r"|files|both|none|evaluation|satisfaction|reconvene|threshold|scale)\b|\.env\.example"
)
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
CJK = re.compile(r"[\u3400-\u9fff]")
PLACEHOLDER = re.compile(r"\{[a-z_]+(?:![rs])?(?::[^{}]*)?\}")
EMPTY_SLOT = re.compile(r"（\s*）|\(\s*\)|“\s*”|【\s*】|：\s*[。，；]|:\s*[.,;]|——\s*[；;。]")
DOUBLED = re.compile(r"([。，、；：！？,;:!?])\1|[。，；：][。，；：]|(?<![.\w])\.\.(?!\.)")
NESTED = re.compile(r"（[^（）\n]*（|）[^（）\n]*）(?![^（\n]*（)")
ADJACENT = re.compile(r"）（")
# What a reader trips over though no bracket or comma is wrong:
ONE_AS_ALL = re.compile(r"(?<!\d)1项均|(?<!\d)1项任务已全部|\bAll 1\b|\bEach of the 1\b")
ZERO_STATED = re.compile(r"共0项|(?<!\d)0段文字|(?<!\d)0个文件|\b0 of 0\b|\b0 text|\b0 file")
POINT_ZERO = re.compile(r"\d\.0%")
ASCII_OPERATOR_ZH = re.compile(r" \+ ")
VERB_GLUED = re.compile(
    r"发送无需|Send nothing|周[一二三四五六日](?![至、，。；：）\s])[\u4e00-\u9fff]"
)
STATE_LINE = re.compile(r"^\s+([^：:\n]{1,20})[：:]\s*(.+)$")


FORM_ONLY = "form"  # the checks a template can fail whatever values fill it


def problems(text: str, locale: str, *, prose: str | None = None, scope: str = "all") -> list[str]:
    """What reads wrong in ``text``; the language checks read ``prose`` if given (the text
    without the values filled in, which are names and titles in any language)."""
    found = []
    if PLACEHOLDER.search(text):
        found.append("unfilled placeholder")
    if match := EMPTY_SLOT.search(text):
        found.append(f"empty slot {match[0]!r}")
    if match := DOUBLED.search(text):
        found.append(f"doubled punctuation {match[0]!r}")
    if match := ADJACENT.search(text):
        found.append(f"adjacent brackets {match[0]!r}")
    if _nested(text):
        found.append("nested brackets")
    if scope == FORM_ONLY:
        return found + _language(prose if prose is not None else text, locale)
    for name, pattern in (
        ("one counted as all", ONE_AS_ALL),
        ("a zero count stated", ZERO_STATED),
        ("a whole percentage with .0", POINT_ZERO),
        ("a template glued to a verb", VERB_GLUED),
    ):
        if match := pattern.search(text):
            found.append(f"{name} {match[0]!r}")
    if twice := _listed_twice(text):
        found.append(f"{twice} listed under two states of one item")
    return found + _language(prose if prose is not None else text, locale)


def _language(text: str, locale: str) -> list[str]:
    found = []
    if locale == "zh_CN":
        rest = ALLOWED_LATIN.sub(" ", text)
        if match := LATIN_WORD.search(rest):
            found.append(f"English word {match[0]!r} in Chinese")
        if ASCII_OPERATOR_ZH.search(text):
            found.append("an ASCII '+' in Chinese prose")
    elif match := CJK.search(text):
        found.append(f"Chinese {match[0]!r} in English")
    return found


def _listed_twice(text: str) -> str | None:
    """A name on two indented "state: names" lines of one block (blocks are split by blank lines)."""
    for block in text.split("\n\n"):
        seen: set[str] = set()
        for line in block.splitlines():
            match = STATE_LINE.match(line)
            if not match or any(word in match[1] for word in ("送达", "unreachable")):
                continue  # who cannot be reached is another question than where they stand
            for name in re.split(r"、|, ", match[2]):
                name = re.sub(r"（.*?）|\s*\(.*?\)", "", name).strip()
                if name in seen:
                    return name
                seen.add(name)
    return None


def _nested(text: str) -> bool:
    for line in text.splitlines():
        depth = 0
        for char in line:
            if char == "（":
                depth += 1
                if depth > 1:
                    return True
            elif char == "）":
                depth = max(0, depth - 1)
    return False
