"""Keep the message catalogs in step with the code: extract, merge, check.

Usage, from the repository root::

    python -m bot.core.i18n_tools update   # extract msgids from bot/ and handlers/, merge into both .po files
    python -m bot.core.i18n_tools check    # exit 1 and list every problem; exit 0 when the catalogs are clean

The workflow when strings change:

1. ``update`` scans ``bot/`` and ``handlers/`` (not the emulators in ``bot/sandbox/``, which are test tools)
   with Babel's Python extractor for ``_("...")``, ``N_("...")`` and
   ``ngettext("...", "...", n)`` (plus the helpers listed
   in ``EXTRA_KEYWORDS``, such as the plan importer's ``self.issue(line, "...")``), then rewrites
   ``locales/zh_CN/LC_MESSAGES/huiwu.po`` and ``locales/en/LC_MESSAGES/huiwu.po``:
   new msgids are added with an empty msgstr and their source locations as ``#:`` comments
   (a plural entry gets one empty form per the catalog's ``Plural-Forms``, except in English,
   the source language, whose two forms are the msgid and the msgid_plural),
   msgids no longer in the code are dropped, existing translations are kept. Output is sorted
   by msgid and never wrapped, and the header block of each file is kept as it is, so running
   ``update`` twice gives no diff (apart from ``#:`` line numbers when code moves).
2. Translate the new entries in the zh_CN file (search for ``msgstr ""`` followed by a blank
   line). The en file may keep empty msgstrs: gettext falls back to the English msgid.
3. ``check`` (also run by ``tests/test_locales.py`` through ``catalog_problems()``) reports:

   * msgids in the code but missing from either catalog (run ``update``);
   * zh_CN entries with an empty translation, or marked ``#, fuzzy`` (fuzzy entries are
     ignored at run time, see ``bot.core.i18n.catalog``);
   * plural entries (``ngettext``) that are missing a form in any catalog, whose
     ``msgid_plural`` differs from the code's, or that the code uses the other way (with or
     without a plural); a catalog whose header does not declare the ``Plural-Forms`` of its
     language (zh_CN ``nplurals=1; plural=0;``, en ``nplurals=2; plural=(n != 1);``);
   * translations whose ``{placeholders}`` differ from the msgid's (a ``.format()``
     KeyError, or a lost value, waiting to happen), or that are not valid format strings;
   * translations that drop or add the msgid's leading indentation (two or more spaces)
     or leading/trailing newlines (the messages are joined line by line). A single leading
     space joins an English fragment to its sentence; Chinese may drop it;
   * ``_()`` / ``N_()`` calls whose argument is not a plain string literal but an f-string,
     a ``.format()`` result or a ``+`` / ``%`` expression: the lookup key then never matches
     the catalog. (``_(variable)`` is fine: that is how ``N_``-marked strings are translated.)
   * a .po file Babel cannot parse;
   * in ``locales/zh_CN/LC_MESSAGES/argparse.po`` (the command line's own words, see
     ``bot.run.cli_language``): a message of this Python's ``argparse`` without a translation,
     or with other ``%`` fields than the original.

   Msgids in a catalog that the code no longer uses are mentioned but do not fail the check.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import io
import re
import string
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_file
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po, write_po

from bot.core.i18n import DEFAULT_LOCALE, DOMAIN, SUPPORTED_LOCALES

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("bot", "handlers")
EXCLUDED_DIRS = ("bot/sandbox/telegram", "bot/sandbox/wecom")
KeywordSpec = tuple[int, ...] | None  # Babel's: which argument(s) hold the msgid; None = the first
KEYWORDS: dict[str, KeywordSpec] = {"_": None, "N_": None, "ngettext": (1, 2)}
# Helpers that take a msgid and call _() on it themselves, per file: name -> Babel keyword spec
# (``(2,)``: the msgid is the second argument as written, e.g. ``self.issue(line, "...")``).
# Wrapping the literals in N_() at the call sites would make an entry here unnecessary.
EXTRA_KEYWORDS: dict[str, dict[str, KeywordSpec]] = {
    "bot/plan/importer.py": {"issue": (2,)},
}
COMMENT_TAGS = ("TRANSLATORS:",)
# Languages whose every msgid needs a translation; others may fall back to the English msgid.
MUST_TRANSLATE = (DEFAULT_LOCALE,)
SOURCE_LOCALE = "en"  # the msgids' language: its plural forms are the msgid and msgid_plural
ARGPARSE_DOMAIN = "argparse"  # argparse's own words (usage:, options, errors), per Python version
ARGPARSE_KEYWORDS: dict[str, KeywordSpec] = {"_": None, "ngettext": (1, 2)}

_PLACEHOLDER_RE = re.compile(r"\{[^{}]*\}")


@dataclass
class Extracted:
    """One msgid found in the code, with every place it appears."""

    msgid: str
    locations: list[tuple[str, int]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    plural: str | None = None  # the msgid_plural of an ``ngettext`` message


def po_path(locale: str, root: Path = ROOT, domain: str = DOMAIN) -> Path:
    return root / "locales" / locale / "LC_MESSAGES" / f"{domain}.po"


def source_files(root: Path = ROOT) -> list[Path]:
    """The Python files that may hold user-facing text, in a stable order."""
    excluded = [root / name for name in EXCLUDED_DIRS]
    files: list[Path] = []
    for package in SOURCE_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            if any(path.is_relative_to(skip) for skip in excluded):
                continue
            files.append(path)
    return files


def keywords_for(relative: str) -> dict[str, KeywordSpec]:
    return {**KEYWORDS, **EXTRA_KEYWORDS.get(relative, {})}


def _extract_file(
    path: Path, relative: str, keywords: dict[str, KeywordSpec] | None = None
) -> list[tuple[int, object, list[str], object]]:
    # Babel writes a warning to stderr for every f-string argument, even one that is only a
    # .format() value; source_problems() reports the f-strings that matter, so drop those.
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        found = list(
            extract_from_file(
                "python",
                str(path),
                keywords=keywords if keywords is not None else keywords_for(relative),
                comment_tags=COMMENT_TAGS,
            )
        )
    for line in captured.getvalue().splitlines():
        if "Skipping f-string" not in line:
            print(line, file=sys.stderr)
    return [
        (lineno, message, list(comments), context) for lineno, message, comments, context in found
    ]


TEMPLATE_DIRS = ("bot/board/templates",)  # Jinja2 pages: ``{{ _("...") }}``


def _extract_template(path: Path) -> list[tuple[int, object, list[str], object]]:
    from jinja2.ext import babel_extract

    with path.open("rb") as handle:
        # ``_("… {n}", n=...)``: the keyword arguments come as Nones after the msgid.
        return [
            (lineno, message[0] if isinstance(message, tuple) else message, list(comments), None)
            for lineno, _function, message, comments in babel_extract(
                handle, ("_",), list(COMMENT_TAGS), {"trim_blocks": "true"}
            )
        ]


def extract_messages(root: Path = ROOT) -> dict[str, Extracted]:
    """msgid -> where it is used, for every ``_()`` / ``N_()`` string literal in the sources
    and the board's templates."""
    found: dict[str, Extracted] = {}
    sources = [
        (path, _extract_file(path, path.relative_to(root).as_posix()))
        for path in source_files(root)
    ]
    for folder in TEMPLATE_DIRS:
        sources += [
            (path, _extract_template(path)) for path in sorted((root / folder).glob("*.html"))
        ]
    for path, extracted in sources:
        relative = path.relative_to(root).as_posix()
        for lineno, message, comments, _context in extracted:
            _add_found(found, message, (relative, lineno), comments)
    return found


def _add_found(
    found: dict[str, Extracted], message: object, location: tuple[str, int], comments: list[str]
) -> None:
    plural = None
    if isinstance(message, tuple):  # ngettext(singular, plural, n)
        if len(message) != 2 or not all(isinstance(part, str) and part for part in message):
            return  # not literals: source_problems() reports it
        message, plural = message
    if not isinstance(message, str) or not message:
        return
    entry = found.setdefault(message, Extracted(message, plural=plural))
    entry.locations.append(location)
    entry.comments.extend(c for c in comments if c not in entry.comments)


def argparse_messages() -> dict[str, Extracted]:
    """The words of this Python's ``argparse`` (its ``_()`` and ``ngettext()`` calls)."""
    import argparse

    path = Path(argparse.__file__)
    found: dict[str, Extracted] = {}
    for lineno, message, comments, _context in _extract_file(
        path, "argparse.py", ARGPARSE_KEYWORDS
    ):
        _add_found(found, message, ("argparse.py", lineno), comments)
    return found


def source_problems(root: Path = ROOT) -> list[str]:
    """``_()`` / ``N_()`` calls whose argument can never match a catalog key."""
    problems: list[str] = []
    for path in source_files(root):
        relative = path.relative_to(root).as_posix()
        keywords = keywords_for(relative)
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=relative)
        except SyntaxError as exc:
            problems.append(f"{relative}:{exc.lineno}: cannot parse: {exc.msg}")
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            if isinstance(node.func, ast.Name):
                name = node.func.id
            elif isinstance(node.func, ast.Attribute) and node.func.attr not in KEYWORDS:
                name = node.func.attr  # a method such as self.issue(); not obj._()
            else:
                continue
            if name not in keywords:
                continue
            spec = keywords[name]
            for index in [number - 1 for number in spec] if spec else [0]:
                if len(node.args) > index:
                    problems.extend(_argument_problem(relative, node, name, node.args[index]))
    return problems


def _argument_problem(relative: str, node: ast.Call, name: str, arg: ast.expr) -> Iterator[str]:
    """Whether one msgid argument of a call can match a catalog key."""
    what = None
    if isinstance(arg, ast.JoinedStr):
        what = "an f-string"
    elif isinstance(arg, ast.BinOp):
        what = "a + or % expression"
    elif (
        isinstance(arg, ast.Call)
        and isinstance(arg.func, ast.Attribute)
        and arg.func.attr == "format"
    ):
        what = "an already formatted string (call .format() after _())"
    if what:
        yield (f"{relative}:{node.lineno}: {name}() is given {what}; it will never be translated")


def _split_header(text: str) -> tuple[str, str]:
    """(header block, rest) of a .po file's text; the header is kept verbatim by ``update``."""
    match = re.search(r'^msgid ""\nmsgstr ""\n(?:".*"\n)*', text, re.MULTILINE)
    if not match or any(
        line.strip() and not line.startswith("#") for line in text[: match.start()].splitlines()
    ):
        return "", text
    return text[: match.end()], text[match.end() :]


def _default_header(locale: str) -> str:
    return (
        'msgid ""\n'
        'msgstr ""\n'
        '"Content-Type: text/plain; charset=UTF-8\\n"\n'
        f'"Language: {locale}\\n"\n'
        f'"Plural-Forms: {expected_plural_forms(locale)}\\n"\n'
    )


def expected_plural_forms(locale: str) -> str:
    """The ``Plural-Forms`` header a language's catalog must declare (CLDR's rule, via Babel)."""
    count, expression = get_plural(locale)
    return f"nplurals={count}; plural={expression};"


def read_catalog(
    locale: str, root: Path = ROOT, *, strict: bool = False, domain: str = DOMAIN
) -> Catalog:
    path = po_path(locale, root, domain)
    if not path.exists():
        return Catalog(locale=locale, domain=domain)
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=domain, abort_invalid=strict)


def _entries(catalog: Catalog) -> dict[str, Message]:
    """singular msgid -> entry (a plural entry's key is its singular msgid, as in gettext)."""
    found: dict[str, Message] = {}
    for message in catalog:
        key = message.id[0] if isinstance(message.id, tuple) else message.id
        if key and isinstance(key, str):
            found[key] = message
    return found


def _new_string(entry: Extracted, catalog: Catalog) -> str | tuple[str, ...]:
    if entry.plural is None:
        return ""
    if catalog.locale is not None and str(catalog.locale) == SOURCE_LOCALE:
        return (entry.msgid, entry.plural)
    return ("",) * catalog.num_plurals


def merge(
    existing: Catalog, extracted: dict[str, Extracted]
) -> tuple[Catalog, list[str], list[str]]:
    """A new catalog holding exactly the extracted msgids, with the existing translations.

    Returns (catalog, added msgids, dropped msgids). An entry that gains or loses a plural
    keeps its translation as the first form (or its first form as the translation).
    """
    merged = Catalog(locale=existing.locale, domain=DOMAIN)
    old = _entries(existing)
    added: list[str] = []
    for msgid in sorted(extracted):
        entry = extracted[msgid]
        previous = old.get(msgid)
        if previous is None:
            added.append(msgid)
        string = _new_string(entry, merged)
        if previous is not None and previous.string:
            string = _reshaped(previous.string, entry, merged)
        merged.add(
            (msgid, entry.plural) if entry.plural is not None else msgid,
            string=string,
            locations=sorted(entry.locations),
            auto_comments=entry.comments,
            user_comments=list(previous.user_comments) if previous else [],
            flags=sorted(previous.flags) if previous else (),
        )
    dropped = sorted(set(old) - set(extracted))
    return merged, added, dropped


def _forms(string: object) -> tuple[str, ...]:
    """A message's translation as a tuple of forms (one for a singular entry)."""
    parts = string if isinstance(string, (tuple, list)) else (string,)
    return tuple(part if isinstance(part, str) else "" for part in parts)


def _reshaped(previous: object, entry: Extracted, catalog: Catalog) -> str | tuple[str, ...]:
    forms = _forms(previous)
    if entry.plural is None:
        return forms[0]
    if isinstance(previous, (tuple, list)):
        return forms
    return forms + ("",) * (catalog.num_plurals - 1)


def render(catalog: Catalog, header: str) -> str:
    buffer = io.BytesIO()
    write_po(
        buffer,
        catalog,
        width=0,
        omit_header=True,
        sort_output=True,
        ignore_obsolete=True,
        include_previous=False,
    )
    body = buffer.getvalue().decode("utf-8")
    return header.rstrip("\n") + "\n\n" + body.lstrip("\n")


def update(
    root: Path = ROOT, locales: Sequence[str] = SUPPORTED_LOCALES
) -> dict[str, tuple[int, int, int]]:
    """Merge the code's msgids into each catalog; returns locale -> (total, added, dropped)."""
    extracted = extract_messages(root)
    summary: dict[str, tuple[int, int, int]] = {}
    for locale in locales:
        path = po_path(locale, root)
        text = path.read_text(encoding="utf-8") if path.exists() else ""
        header, _rest = _split_header(text)
        merged, added, dropped = merge(read_catalog(locale, root), extracted)
        new_text = render(merged, header or _default_header(locale))
        if new_text != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(new_text, encoding="utf-8")
        summary[locale] = (len(extracted), len(added), len(dropped))
    return summary


def placeholders(text: str) -> list[str] | None:
    """The ``{...}`` fields of a ``str.format`` string, sorted; None if it is not one."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        return None
    fields: list[str] = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        fields.append(
            "{"
            + name
            + (f"!{conversion}" if conversion else "")
            + (f":{spec}" if spec else "")
            + "}"
        )
    return sorted(set(fields))


_PERCENT_FIELD_RE = re.compile(r"%(?:\([a-z_]+\))?[-#0 +]*\d*(?:\.\d+)?[a-z%]")


def percent_fields(text: str) -> list[str]:
    """The ``%`` fields of a ``%``-format string (argparse's messages), sorted."""
    return sorted(_PERCENT_FIELD_RE.findall(text))


def _indent(text: str) -> str:
    """Leading indentation; a lone leading space is a word separator, not indentation.

    English fragments such as " (version {version})" start with a space to join the
    sentence they are appended to; Chinese needs no space there, so it may drop it.
    """
    indent = text[: len(text) - len(text.lstrip(" \t"))]
    return "" if indent == " " else indent


def _field_problems(msgid: str, translation: str) -> Iterator[str]:
    expected = placeholders(msgid)
    got = placeholders(translation)
    if expected is None:
        # The msgid is not a format string (it has a lone brace); compare the braces literally.
        if sorted(_PLACEHOLDER_RE.findall(msgid)) != sorted(_PLACEHOLDER_RE.findall(translation)):
            yield "braces differ from the msgid's"
    elif got is None:
        yield "translation is not a valid format string (a lone { or }?)"
    elif expected != got:
        missing = sorted(set(expected) - set(got))
        extra = sorted(set(got) - set(expected))
        detail = []
        if missing:
            detail.append("missing " + " ".join(missing))
        if extra:
            detail.append("unknown " + " ".join(extra))
        yield "placeholders differ: " + "; ".join(detail)


def _shape_problems(msgid: str, translation: str, *, percent: bool = False) -> Iterator[str]:
    if percent:
        if percent_fields(msgid) != percent_fields(translation):
            yield "% fields differ from the msgid's"
    else:
        yield from _field_problems(msgid, translation)
    if _indent(msgid) != _indent(translation):
        yield "leading indentation differs from the msgid's"
    if msgid.startswith("\n") != translation.startswith("\n"):
        yield "leading newline differs from the msgid's"
    if msgid.endswith("\n") != translation.endswith("\n"):
        yield "trailing newline differs from the msgid's"


def _plural_shape_problems(
    msgid: str, plural: str, forms: tuple[str, ...], *, percent: bool
) -> Iterator[str]:
    """Each form against the msgid it stands for: with two or more forms the first is the
    singular's; with one (Chinese) it serves every number, so it may match either."""
    for index, form in enumerate(forms):
        natural = msgid if index == 0 and len(forms) > 1 else plural
        other = plural if natural is msgid else msgid
        found = list(_shape_problems(natural, form, percent=percent))
        if found and list(_shape_problems(other, form, percent=percent)):
            yield from (f"form {index}: {problem}" for problem in found)


def _short(msgid: str) -> str:
    return repr(msgid if len(msgid) <= 90 else msgid[:87] + "...")


def problems_in(
    code_msgids: Iterable[str],
    catalogs: dict[str, Catalog],
    must_translate: Sequence[str] = MUST_TRANSLATE,
    *,
    plurals: dict[str, str] | None = None,
    percent: bool = False,
) -> list[str]:
    """Every problem of the catalogs against the code's msgids (pure: no file access).

    ``plurals`` maps the msgids the code uses with ``ngettext`` to their msgid_plural;
    ``percent``: the messages are ``%``-format strings (argparse's), not ``str.format`` ones.
    """
    wanted = sorted(set(code_msgids))
    plurals = plurals or {}
    problems: list[str] = []
    for locale, parsed in catalogs.items():
        entries = _entries(parsed)
        for msgid in wanted:
            message = entries.get(msgid)
            if message is None:
                problems.append(
                    f"[{locale}] missing from the catalog (run update): {_short(msgid)}"
                )
                continue
            if msgid in plurals or message.pluralizable:
                problems.extend(
                    _plural_problems(locale, parsed, message, plurals.get(msgid), percent=percent)
                )
                continue
            translation = message.string if isinstance(message.string, str) else ""
            if not translation:
                if locale in must_translate:
                    problems.append(f"[{locale}] empty translation: {_short(msgid)}")
                continue
            if message.fuzzy:
                problems.append(
                    f"[{locale}] fuzzy (ignored at run time; review it and remove the flag): {_short(msgid)}"
                )
            for problem in _shape_problems(msgid, translation, percent=percent):
                problems.append(f"[{locale}] {problem}: {_short(msgid)} -> {_short(translation)}")
    return problems


def _plural_problems(
    locale: str, catalog: Catalog, message: Message, plural: str | None, *, percent: bool
) -> Iterator[str]:
    """A plural entry needs every form its language has, in every catalog (English too)."""
    msgid = message.id[0] if isinstance(message.id, tuple) else str(message.id)
    if plural is None:
        yield f"[{locale}] a plural entry, but the code uses it without ngettext: {_short(msgid)}"
        return
    if not isinstance(message.id, tuple):
        yield f"[{locale}] not a plural entry (run update): {_short(msgid)}"
        return
    if message.id[1] != plural:
        yield f"[{locale}] msgid_plural differs from the code's (run update): {_short(msgid)}"
        return
    forms = _forms(message.string)
    if len(forms) != catalog.num_plurals or not all(forms):
        yield (
            f"[{locale}] plural entry needs all {catalog.num_plurals} forms translated: "
            f"{_short(msgid)}"
        )
        return
    if message.fuzzy:
        yield f"[{locale}] fuzzy (ignored at run time; review it and remove the flag): {_short(msgid)}"
    for problem in _plural_shape_problems(msgid, plural, forms, percent=percent):
        yield f"[{locale}] {problem}: {_short(msgid)} -> {_short(' | '.join(forms))}"


def _plural_forms_problem(locale: str, path: Path) -> str | None:
    header, _rest = _split_header(path.read_text(encoding="utf-8"))
    declared = re.search(r"^\"Plural-Forms: *(.*?)\\n\"$", header, re.MULTILINE)
    expected = expected_plural_forms(locale)
    if declared is None or declared[1].strip() != expected:
        return f'[{locale}] {path.name}: the header must declare "Plural-Forms: {expected}"'
    return None


def _read_catalogs(
    root: Path, domain: str, locales: Sequence[str]
) -> tuple[dict[str, Catalog], list[str]]:
    catalogs: dict[str, Catalog] = {}
    problems: list[str] = []
    for locale in locales:
        path = po_path(locale, root, domain)
        if not path.exists():
            problems.append(f"[{locale}] no catalog at {path.relative_to(root)} (run update)")
            continue
        try:
            catalogs[locale] = read_catalog(locale, root, strict=True, domain=domain)
        except Exception as exc:  # Babel's PoFileError, or a decoding error
            problems.append(f"[{locale}] {path.relative_to(root)} cannot be read: {exc}")
            continue
        if problem := _plural_forms_problem(locale, path):
            problems.append(problem)
    return catalogs, problems


def catalog_problems(root: Path = ROOT) -> list[str]:
    """Everything ``check`` fails on, as one line per problem; empty when all is well."""
    problems = source_problems(root)
    catalogs, read_problems = _read_catalogs(root, DOMAIN, SUPPORTED_LOCALES)
    problems += read_problems
    extracted = extract_messages(root)
    plurals = {msgid: entry.plural for msgid, entry in extracted.items() if entry.plural}
    problems.extend(problems_in(extracted, catalogs, plurals=plurals))
    if (root / "locales" / DEFAULT_LOCALE / "LC_MESSAGES" / f"{ARGPARSE_DOMAIN}.po").exists() or (
        root == ROOT
    ):
        problems.extend(argparse_problems(root))
    return problems


def argparse_problems(root: Path = ROOT) -> list[str]:
    """The command line's own words: every message of this Python's argparse has its zh_CN
    translation (English needs no catalog: the msgids are argparse's English)."""
    words = argparse_messages()
    catalogs, problems = _read_catalogs(root, ARGPARSE_DOMAIN, (DEFAULT_LOCALE,))
    plurals = {msgid: entry.plural for msgid, entry in words.items() if entry.plural}
    found = problems_in(words, catalogs, plurals=plurals, percent=True)
    return problems + [f"{ARGPARSE_DOMAIN}.po: {problem}" for problem in found]


def unused_msgids(root: Path = ROOT) -> dict[str, list[str]]:
    """locale -> msgids in the catalog that the code no longer uses (``update`` drops them)."""
    code = set(extract_messages(root))
    result: dict[str, list[str]] = {}
    for locale in SUPPORTED_LOCALES:
        if po_path(locale, root).exists():
            result[locale] = sorted(set(_entries(read_catalog(locale, root))) - code)
    return result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.core.i18n_tools",
        description="Extract msgids into the .po catalogs (update) or check them (check).",
    )
    parser.add_argument("command", choices=("update", "check"))
    args = parser.parse_args(argv)

    if args.command == "update":
        for locale, (total, added, dropped) in update().items():
            print(
                f"{po_path(locale).relative_to(ROOT)}: {total} msgids, {added} added, {dropped} dropped"
            )
        untranslated = [p for p in catalog_problems() if "empty translation" in p]
        if untranslated:
            print(f"{len(untranslated)} zh_CN msgids need a translation; run check for the list")
        return 0

    problems = catalog_problems()
    for locale, ids in unused_msgids().items():
        if ids:
            print(f"note: [{locale}] {len(ids)} msgids no longer in the code (update drops them)")
    if problems:
        for problem in problems:
            print(problem)
        print(f"{len(problems)} problems", file=sys.stderr)
        return 1
    print(f"catalogs OK: {len(extract_messages())} msgids in {', '.join(SUPPORTED_LOCALES)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
