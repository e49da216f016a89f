"""Message text handling of the Telegram emulator: parse modes, keyboards, command entities.

Telegram strips HTML and MarkdownV2 markup and answers ``400 Bad Request: can't parse
entities`` for markup it cannot parse — a frequent bug when user-supplied text is not
escaped.  :func:`plain_text` reproduces the common cases of that behaviour.
"""

from __future__ import annotations

import html
import re
from typing import Any

from bot.sandbox.telegram.state import ApiError, JsonDict, bad_request

MAX_CALLBACK_DATA_BYTES = 64

_HTML_TAGS = frozenset(
    {
        "a", "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span",
        "tg-spoiler", "code", "pre", "blockquote", "tg-emoji",
    }
)  # fmt: skip
_HTML_ENTITY = re.compile(r"&(#[0-9]+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")
_MARKDOWN_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_MARKDOWN_V2_ENTITY_NAMES = {
    "*": "Bold",
    "_": "Italic",
    "__": "Underline",
    "~": "Strikethrough",
    "||": "Spoiler",
    "[": "TextUrl",
}
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data", "url", "web_app", "login_url", "switch_inline_query",
        "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "copy_text",
        "callback_game", "pay",
    }
)  # fmt: skip
_BOT_COMMAND = re.compile(r"(?<![^\s])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![^\s])")


def plain_text(text: str, parse_mode: str | None) -> str:
    """The text Telegram shows for ``text`` sent with ``parse_mode``.

    Raises:
        ApiError: 400 ``can't parse entities`` for markup Telegram would reject.
    """
    mode = (parse_mode or "").lower()
    if mode == "html":
        return _strip_html(text)
    if mode == "markdownv2":
        return _strip_markdown(text, markers=("||", "__", "*", "_", "~"), strict=True)
    if mode == "markdown":
        return _strip_markdown(text, markers=("*", "_"), strict=False)
    return text


def _entity_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())


def _strip_html(text: str) -> str:
    shown: list[str] = []
    open_tags: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "&":
            entity = _HTML_ENTITY.match(text, index)
            shown.append(html.unescape(entity.group()) if entity else "&")
            index = entity.end() if entity else index + 1
            continue
        if char != "<":
            shown.append(char)
            index += 1
            continue
        end = text.find(">", index)
        if end == -1:
            raise _entity_error(f"Unclosed start tag at byte offset {_byte_offset(text, index)}")
        tag = text[index + 1 : end]
        if tag.startswith("/"):
            name = tag[1:].strip().lower()
            if not open_tags or open_tags[-1] != name:
                expected = f'"</{open_tags[-1]}>"' if open_tags else "no end tag"
                raise _entity_error(
                    f"Unmatched end tag at byte offset {_byte_offset(text, index)}, "
                    f'expected {expected}, found "</{name}>"'
                )
            open_tags.pop()
        else:
            name = tag.split(maxsplit=1)[0].lower() if tag.strip() else ""
            if name not in _HTML_TAGS:
                raise _entity_error(
                    f'Unsupported start tag "{name}" at byte offset {_byte_offset(text, index)}'
                )
            open_tags.append(name)
        index = end + 1
    if open_tags:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{open_tags[-1]}"')
    return "".join(shown)


def _strip_markdown(text: str, *, markers: tuple[str, ...], strict: bool) -> str:
    """Strips (legacy or V2) Markdown; ``strict`` rejects unescaped reserved characters."""
    shown: list[str] = []
    open_entities: list[tuple[str, int]] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            shown.append(text[index + 1])
            index += 2
            continue
        if char == "`":
            fence = "```" if text.startswith("```", index) else "`"
            end = text.find(fence, index + len(fence))
            if end == -1:
                raise _entity_error(
                    f"Can't find end of {'Pre' if fence == '```' else 'Code'} entity "
                    f"at byte offset {_byte_offset(text, index)}"
                )
            code = text[index + len(fence) : end]
            if fence == "```" and "\n" in code:
                first_line, rest = code.split("\n", 1)
                code = rest if " " not in first_line else code
            shown.append(code.replace("\\`", "`").replace("\\\\", "\\"))
            index = end + len(fence)
            continue
        marker = next((m for m in markers if text.startswith(m, index)), None)
        if marker is not None:
            if open_entities and open_entities[-1][0] == marker:
                open_entities.pop()
            else:
                open_entities.append((marker, index))
            index += len(marker)
            continue
        if char == "[":
            open_entities.append(("[", index))
            index += 1
            continue
        if char == "]" and open_entities and open_entities[-1][0] == "[":
            open_entities.pop()
            index += 1
            if text.startswith("(", index):
                url_end = text.find(")", index)
                if url_end == -1:
                    raise _entity_error(
                        f"Can't find end of a url at byte offset {_byte_offset(text, index)}"
                    )
                index = url_end + 1
            continue
        if char == ">" and strict and (index == 0 or text[index - 1] == "\n"):
            index += 1
            continue
        if strict and char in _MARKDOWN_V2_RESERVED:
            raise _entity_error(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        shown.append(char)
        index += 1
    if open_entities:
        marker, start = open_entities[-1]
        name = _MARKDOWN_V2_ENTITY_NAMES[marker] if strict else "the entity"
        raise _entity_error(f"Can't find end of {name} starting at byte offset {start}")
    return "".join(shown)


def validate_reply_markup(markup: Any) -> JsonDict | None:
    """Checks a ``reply_markup`` as Telegram does and returns it (``None`` when absent)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise bad_request("can't parse inline keyboard button: Text must be non-empty")
            if not _BUTTON_ACTIONS & button.keys():
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA_BYTES:
                raise bad_request("BUTTON_DATA_INVALID")
    return markup


def keyboard_labels(markup: JsonDict | None) -> list[list[str]]:
    """The labels of a custom reply keyboard (``ReplyKeyboardMarkup``), if the markup is one."""
    if not markup:
        return []
    return [
        [button if isinstance(button, str) else button["text"] for button in row]
        for row in markup.get("keyboard", [])
    ]


def command_entities(text: str) -> list[JsonDict]:
    """``bot_command`` entities for every ``/command`` or ``/command@bot`` word of ``text``.

    Offsets and lengths count UTF-16 code units, as in the Bot API.
    """
    return [
        {
            "type": "bot_command",
            "offset": _utf16_length(text[: match.start()]),
            "length": _utf16_length(match.group()),
        }
        for match in _BOT_COMMAND.finditer(text)
    ]


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2
