"""The message catalogs match the code, and the runtime really translates.

When this fails after strings changed: ``python -m bot.core.i18n_tools update``, translate the new
zh_CN entries, then ``python -m bot.core.i18n_tools check`` until it is clean.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.core import i18n
from bot.core.i18n_tools import (
    catalog_problems,
    extract_messages,
    placeholders,
    po_path,
    problems_in,
    source_problems,
    update,
)


def test_catalogs_are_complete_and_consistent() -> None:
    problems = catalog_problems()
    assert not problems, (
        "message catalogs out of step with the code "
        "(run `python -m bot.core.i18n_tools update`, translate, then `check`):\n"
        + "\n".join(problems)
    )


def test_extraction_finds_known_messages_and_skips_emulators() -> None:
    found = extract_messages()
    assert "Submit" in found  # _()
    assert "approved" in found  # N_()
    assert all(
        not path.startswith(("bot/sandbox/telegram/", "bot/sandbox/wecom/"))
        for entry in found.values()
        for path, _line in entry.locations
    )


# The checker itself: each kind of problem is caught.


def _catalog(locale: str, entries: dict[str, str], fuzzy: tuple[str, ...] = ()) -> Catalog:
    catalog = Catalog(locale=locale)
    for msgid, msgstr in entries.items():
        catalog.add(msgid, msgstr, flags=("fuzzy",) if msgid in fuzzy else ())
    return catalog


def test_checker_reports_a_message_missing_from_either_language() -> None:
    code = ["Submit", "Cancel"]
    problems = problems_in(
        code,
        {
            "zh_CN": _catalog("zh_CN", {"Submit": "提交"}),
            "en": _catalog("en", {"Cancel": ""}),
        },
    )
    assert any("[zh_CN] missing" in p and "'Cancel'" in p for p in problems)
    assert any("[en] missing" in p and "'Submit'" in p for p in problems)


def test_checker_reports_an_empty_zh_cn_translation_but_not_an_empty_en_one() -> None:
    problems = problems_in(
        ["Submit"],
        {"zh_CN": _catalog("zh_CN", {"Submit": ""}), "en": _catalog("en", {"Submit": ""})},
    )
    assert problems == ["[zh_CN] empty translation: 'Submit'"]


def test_checker_reports_a_fuzzy_zh_cn_translation() -> None:
    problems = problems_in(
        ["Submit"], {"zh_CN": _catalog("zh_CN", {"Submit": "提交"}, ("Submit",))}
    )
    assert len(problems) == 1 and "fuzzy" in problems[0]


@pytest.mark.parametrize(
    ("msgid", "translation"),
    [
        ("New task: {title}", "新任务：{name}"),  # renamed: KeyError at .format()
        ("New task: {title}", "新任务"),  # dropped
        ("{done} of {total}", "已完成{done}项"),
        ("Deadline: {due}", "截止时间：{due"),  # not a format string
        ("{name}={value!r}", "{name}={value}"),  # conversion changed
        ("  • {title}", "• {title}"),  # indentation lost
        ("Line\n", "一行"),  # trailing newline lost
    ],
)
def test_checker_reports_mismatched_placeholders_and_shape(msgid: str, translation: str) -> None:
    for locale in ("zh_CN", "en"):
        problems = problems_in([msgid], {locale: _catalog(locale, {msgid: translation})})
        assert len(problems) == 1, problems
        assert problems[0].startswith(f"[{locale}] ")


def test_checker_accepts_reordered_placeholders_and_a_dropped_joining_space() -> None:
    entries = {
        "{done} of {total} task(s) complete.": "共{total}项任务，已完成{done}项。",
        " (version {version})": "（第{version}版）",
        "      reviewed by {names}": "      审阅人：{names}",
    }
    assert problems_in(entries, {"zh_CN": _catalog("zh_CN", entries)}) == []


def test_placeholders() -> None:
    assert placeholders("{b} and {a} and {a}") == ["{a}", "{b}"]
    assert placeholders("{{literal}} {x:>3}") == ["{x:>3}"]
    assert placeholders("lone { brace") is None


# The runtime side: bot.core.i18n.


def test_gettext_follows_the_current_locale() -> None:
    with i18n.use_locale("zh_CN"):
        assert i18n.gettext("Submit") == "提交"
        assert i18n._("approved") == "已通过"
        assert i18n.gettext("New task: {title}").format(title="述职报告") == "新任务：述职报告"
        with i18n.use_locale("en"):
            assert i18n.gettext("Submit") == "Submit"
            assert i18n.gettext("New task: {title}") == "New task: {title}"
        assert i18n.current_locale() == "zh_CN"
    with i18n.use_locale("en"):
        assert i18n.gettext("approved") == "approved"


def test_gettext_falls_back_to_the_msgid_for_unknown_text() -> None:
    with i18n.use_locale("zh_CN"):
        assert i18n.gettext("no such message, surely") == "no such message, surely"


def test_every_zh_cn_translation_is_chinese() -> None:
    catalog = i18n.catalog("zh_CN")
    assert catalog
    not_chinese = [
        msgid
        for msgid, msgstr in catalog.items()
        if re.search(r"[A-Za-z]{2}", re.sub(r"\{[^{}]*\}", "", msgid))  # has English words
        and not re.search(r"[\u4e00-\u9fff]", msgstr)
    ]
    assert not not_chinese, not_chinese


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("zh-hans", "zh_CN"),
        ("zh-Hans-CN", "zh_CN"),
        ("zh_CN", "zh_CN"),
        ("zh", "zh_CN"),
        ("zh_TW", "zh_CN"),  # the only Chinese catalog is Simplified; better than English
        ("en-US", "en"),
        ("en_GB", "en"),
        ("EN", "en"),
        ("fr-FR", "zh_CN"),  # unsupported: the default
        ("", "zh_CN"),
        (None, "zh_CN"),
    ],
)
def test_normalise_locale(value: str | None, expected: str) -> None:
    assert i18n.normalise_locale(value) == expected


def test_normalise_locale_uses_the_given_fallback() -> None:
    assert i18n.normalise_locale(None, fallback="en") == "en"
    assert i18n.normalise_locale("de", fallback="en") == "en"


# The update command, on a scratch project.


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_update_adds_keeps_and_drops_and_writes_valid_catalogs(tmp_path: Path) -> None:
    _write(tmp_path / "bot" / "a.py", 'from bot.core.i18n import _\n\n_("Old")\n_("Kept {n}")\n')
    _write(tmp_path / "bot" / "sandbox" / "telegram" / "fake.py", '_("Test tool text")\n')
    _write(tmp_path / "handlers" / "h.py", 'N_("Marked")\n')
    assert update(tmp_path) == {"zh_CN": (3, 3, 0), "en": (3, 3, 0)}

    zh = po_path("zh_CN", tmp_path)
    text = zh.read_text(encoding="utf-8")
    assert "#: bot/a.py:4" in text and "Test tool text" not in text
    zh.write_text(text.replace('msgid "Kept {n}"\nmsgstr ""', 'msgid "Kept {n}"\nmsgstr "保留{n}"'))

    _write(tmp_path / "bot" / "a.py", 'from bot.core.i18n import _\n\n_("Kept {n}")\n_("New")\n')
    assert update(tmp_path)["zh_CN"] == (3, 1, 1)
    for locale in ("zh_CN", "en"):
        with po_path(locale, tmp_path).open("rb") as handle:
            catalog = read_po(handle, abort_invalid=True)
        assert sorted(str(m.id) for m in catalog if m.id) == ["Kept {n}", "Marked", "New"]
    with zh.open("rb") as handle:
        kept = read_po(handle).get("Kept {n}")
    assert kept is not None and kept.string == "保留{n}"

    before = zh.read_text(encoding="utf-8")
    update(tmp_path)
    assert zh.read_text(encoding="utf-8") == before  # idempotent
    assert catalog_problems(tmp_path) == [
        "[zh_CN] empty translation: 'Marked'",
        "[zh_CN] empty translation: 'New'",
    ]


def test_source_problems_catches_text_that_can_never_be_translated(tmp_path: Path) -> None:
    _write(
        tmp_path / "handlers" / "h.py",
        'name = "x"\n_(f"Hello {name}")\n_("Hello {n}".format(n=name))\n_("a" + name)\n'
        '_(name)\n_("Hello {n}").format(n=name)\n',
    )
    problems = source_problems(tmp_path)
    assert [p.split(":")[1] for p in problems] == ["2", "3", "4"]


# Plural entries (ngettext): every form in every catalog.


def _plural_catalog(locale: str, forms: tuple[str, ...], plural: str = "{n} ballots") -> Catalog:
    catalog = Catalog(locale=locale)
    catalog.add(("{n} ballot", plural), forms)
    return catalog


@pytest.mark.parametrize(
    ("locale", "forms", "plural", "problem"),
    [
        ("en", ("{n} ballot", ""), "{n} ballots", "needs all 2 forms"),
        ("en", ("{n} ballot",), "{n} ballots", "needs all 2 forms"),
        ("zh_CN", ("",), "{n} ballots", "needs all 1 forms"),
        ("zh_CN", ("{n}张选票",), "{n} votes", "msgid_plural differs"),
        ("zh_CN", ("{count}张选票",), "{n} ballots", "placeholders differ"),
    ],
)
def test_checker_reports_a_plural_entry_without_every_form(
    locale: str, forms: tuple[str, ...], plural: str, problem: str
) -> None:
    problems = problems_in(
        ["{n} ballot"],
        {locale: _plural_catalog(locale, forms, plural)},
        plurals={"{n} ballot": "{n} ballots"},
    )
    assert len(problems) == 1 and problem in problems[0], problems


def test_checker_accepts_complete_plural_entries() -> None:
    catalogs = {
        "en": _plural_catalog("en", ("{n} ballot", "{n} ballots")),
        "zh_CN": _plural_catalog("zh_CN", ("{n}张选票",)),
    }
    assert problems_in(["{n} ballot"], catalogs, plurals={"{n} ballot": "{n} ballots"}) == []


def test_checker_reports_plural_and_singular_entries_used_the_other_way() -> None:
    singular = {"zh_CN": _catalog("zh_CN", {"{n} ballot": "{n}张选票"})}
    problems = problems_in(["{n} ballot"], singular, plurals={"{n} ballot": "{n} ballots"})
    assert len(problems) == 1 and "not a plural entry" in problems[0]
    plural = {"zh_CN": _plural_catalog("zh_CN", ("{n}张选票",))}
    problems = problems_in(["{n} ballot"], plural)
    assert len(problems) == 1 and "without ngettext" in problems[0]


def test_checker_compares_percent_fields_for_argparse_messages() -> None:
    entries = {"unrecognized arguments: %s": "无法识别的参数"}
    problems = problems_in(entries, {"zh_CN": _catalog("zh_CN", entries)}, percent=True)
    assert len(problems) == 1 and "% fields differ" in problems[0]
    entries = {"invalid choice: %(value)r": "无效的选择：%(value)r"}
    assert problems_in(entries, {"zh_CN": _catalog("zh_CN", entries)}, percent=True) == []


def test_argparse_words_of_this_python_are_all_translated() -> None:
    from bot.core.i18n_tools import argparse_messages, argparse_problems

    words = argparse_messages()
    assert "usage: " in words and "positional arguments" in words
    assert words["expected %s argument"].plural == "expected %s arguments"
    assert argparse_problems() == []


def test_update_writes_plural_entries_and_check_wants_every_form(tmp_path: Path) -> None:
    _write(
        tmp_path / "bot" / "a.py",
        "from bot.core.i18n import ngettext\n\n"
        'ngettext("{n} ballot", "{n} ballots", 3)\nngettext("{n} day", f"{x} days", 3)\n',
    )
    assert update(tmp_path) == {"zh_CN": (1, 1, 0), "en": (1, 1, 0)}
    en = po_path("en", tmp_path).read_text(encoding="utf-8")
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in en
    assert 'msgstr[0] "{n} ballot"\nmsgstr[1] "{n} ballots"' in en  # English: the msgids
    zh = po_path("zh_CN", tmp_path)
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in zh.read_text(encoding="utf-8")
    assert catalog_problems(tmp_path) == [
        "bot/a.py:4: ngettext() is given an f-string; it will never be translated",
        "[zh_CN] plural entry needs all 1 forms translated: '{n} ballot'",
    ]
    zh.write_text(
        zh.read_text(encoding="utf-8").replace('msgstr[0] ""', 'msgstr[0] "{n}张选票"'),
        encoding="utf-8",
    )
    assert catalog_problems(tmp_path)[1:] == []
    before = zh.read_text(encoding="utf-8")
    update(tmp_path)
    assert zh.read_text(encoding="utf-8") == before  # the translation is kept
    zh.write_text(before.replace('"Plural-Forms: nplurals=1; plural=0;\\n"\n', ""), "utf-8")
    assert catalog_problems(tmp_path)[1:] == [
        '[zh_CN] huiwu.po: the header must declare "Plural-Forms: nplurals=1; plural=0;"'
    ]


def test_ngettext_follows_the_current_locale_and_the_plural_rule() -> None:
    with i18n.use_locale("en"):
        assert i18n.ngettext("{count} ballot", "{count} ballots", 1) == "{count} ballot"
        assert i18n.ngettext("{count} ballot", "{count} ballots", 0) == "{count} ballots"
    with i18n.use_locale("zh_CN"):
        for n in (0, 1, 5):
            assert i18n.ngettext("{count} ballot", "{count} ballots", n) == "{count}张选票"
    assert i18n.plural_rule("en")(1) == 0 and i18n.plural_rule("en")(2) == 1
    assert i18n.plural_rule("zh_CN")(1) == 0 and i18n.plural_rule("zh_CN")(2) == 0
