"""Counted words read as a native speaker writes them: "1 ballot", "2 ballots", never
"ballot(s)" (issue 16). Every ``ngettext`` message is rendered with 0, 1 and 2 in English and
must pick its singular or plural form; Chinese has one form for every number.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from babel.messages.pofile import read_po

from bot.core.formatting import days_left_text
from bot.core.i18n import ngettext, plural_catalog, use_locale
from bot.core.i18n_tools import extract_messages, po_path
from handlers.tasks import received_text

PLURALS = {
    msgid: entry.plural for msgid, entry in sorted(extract_messages().items()) if entry.plural
}
# The counted nouns of the plural messages: the word right after the number must agree.
NOUNS = {
    "ballot", "day", "file", "item", "message", "member", "opinion", "row", "task", "text",
}  # fmt: skip
NUMBER_FIELD = re.compile(r"\{(count|days|total|done|texts|files|in_progress|todo|overdue)\}")
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _render(template: str, n: int) -> str:
    """The text with every number field set to ``n`` and every other field to a word."""
    text = NUMBER_FIELD.sub(str(n), template)
    text = re.sub(r"\{rate:[^{}]*\}", "50%", text)
    return re.sub(r"\{[a-z_]+\}", "Fang Lei", text)


def _counted_nouns(text: str, n: int) -> list[str]:
    return [
        word
        for word in re.findall(rf"(?<![\d.]){n} ([a-z]+)", text)
        if word in NOUNS or word.removesuffix("s") in NOUNS
    ]


def test_no_english_text_says_s_in_brackets() -> None:
    with po_path("en").open("rb") as handle:
        english = read_po(handle, locale="en")
    texts: list[str] = []
    for message in english:
        for part in (message.id, message.string):
            texts += [part] if isinstance(part, str) else list(part or ())
    texts += [text for entry in extract_messages().values() for text in (entry.msgid, entry.plural)]
    with_s = sorted({text for text in texts if text and "(s)" in text})
    assert with_s == []
    assert len(texts) > 1000  # the catalog and the code were read


def test_the_plural_messages_were_found_and_their_nouns_counted() -> None:
    assert len(PLURALS) >= 25
    assert PLURALS["{count} ballot"] == "{count} ballots"
    counted = [msgid for msgid, plural in PLURALS.items() if _counted_nouns(_render(plural, 2), 2)]
    assert len(counted) >= 20, counted
    assert _counted_nouns("2 ballot, 1 days, 12 rows, 2 tasks", 2) == [
        "ballot",
        "tasks",
    ]  # the check can fail


@pytest.mark.parametrize("msgid", sorted(PLURALS))
def test_english_picks_the_singular_for_one_and_the_plural_otherwise(msgid: str) -> None:
    plural = PLURALS[msgid]
    with use_locale("en"):
        chosen = {n: ngettext(msgid, plural, n) for n in (0, 1, 2)}
    assert chosen == {0: plural, 1: msgid, 2: plural}
    one = _render(chosen[1], 1)
    assert all(noun in NOUNS for noun in _counted_nouns(one, 1)), one
    for n in (0, 2):
        rendered = _render(chosen[n], n)
        assert all(noun not in NOUNS for noun in _counted_nouns(rendered, n)), rendered


@pytest.mark.parametrize("msgid", sorted(PLURALS))
def test_chinese_has_one_form_for_every_number(msgid: str) -> None:
    (form,) = plural_catalog("zh_CN")[msgid]
    with use_locale("zh_CN"):
        assert {ngettext(msgid, PLURALS[msgid], n) for n in (0, 1, 2)} == {form}
    assert re.search(r"[\u4e00-\u9fff]", form)


def test_the_english_catalog_holds_both_forms_of_every_plural_message() -> None:
    forms = plural_catalog("en")
    assert {msgid: forms.get(msgid) for msgid in PLURALS} == {
        msgid: (msgid, plural) for msgid, plural in PLURALS.items()
    }


def test_a_message_missing_from_the_catalog_falls_back_to_the_english_rule() -> None:
    for locale in ("zh_CN", "en"):
        with use_locale(locale):
            assert ngettext("{n} apple, surely", "{n} apples, surely", 1) == "{n} apple, surely"
            assert ngettext("{n} apple, surely", "{n} apples, surely", 0) == "{n} apples, surely"


def test_composed_messages_count_right_in_english() -> None:
    now = datetime(2013, 12, 20, 18, tzinfo=SHANGHAI)
    with use_locale("en"):
        assert received_text(1, 1) == "Received so far: 1 text, 1 file. Send more, or press Submit."
        assert received_text(2, 3) == (
            "Received so far: 2 texts, 3 files. Send more, or press Submit."
        )
        assert days_left_text(now + timedelta(days=1), now, SHANGHAI) == "1 day left"
        assert days_left_text(now + timedelta(days=2), now, SHANGHAI) == "2 days left"
        assert days_left_text(now - timedelta(days=1), now, SHANGHAI) == "overdue by 1 day"
        assert days_left_text(now - timedelta(days=3), now, SHANGHAI) == "overdue by 3 days"
    with use_locale("zh_CN"):
        assert days_left_text(now + timedelta(days=1), now, SHANGHAI) == "还剩1天"
        assert received_text(2, 3).startswith("目前已收到2段文字、3个文件。")
