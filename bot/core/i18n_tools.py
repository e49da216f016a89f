"""Keep the message catalogs in step with the code: extract, merge, check.

Usage, from the repository root::

    python -m bot.core.i18n_tools update   # extract msgids from bot/ and handlers/, merge into both .po files
    python -m bot.core.i18n_tools check    # exit 1 and list every problem; exit 0 when the catalogs are clean

The workflow when strings change:

1. ``update`` scans ``bot/`` and ``handlers/`` (not the emulators in ``bot/sandbox/``, which are test tools)
   with Babel's Python extractor for ``_("...")`` and ``N_("...")`` (plus the helpers listed
   in ``EXTRA_KEYWORDS``, such as the plan importer's ``self.issue(line, "...")``), then rewrites
   ``locales/zh_CN/LC_MESSAGES/huiwu.po`` and ``locales/en/LC_MESSAGES/huiwu.po``:
   new msgids are added with an empty msgstr and their source locations as ``#:`` comments,
   msgids no longer in the code are dropped, existing translations are kept. Output is sorted
   by msgid and never wrapped, and the header block of each file is kept as it is, so running
   ``update`` twice gives no diff (apart from ``#:`` line numbers when code moves).
2. Translate the new entries in the zh_CN file (search for ``msgstr ""`` followed by a blank
   line). The en file may keep empty msgstrs: gettext falls back to the English msgid.
3. ``check`` (also run by ``tests/test_locales.py`` through ``catalog_problems()``) reports:

   * msgids in the code but missing from either catalog (run ``update``);
   * zh_CN entries with an empty translation, or marked ``#, fuzzy`` (fuzzy entries are
     ignored at run time, see ``bot.core.i18n.catalog``);
   * translations whose ``{placeholders}`` differ from the msgid's (a ``.format()``
     KeyError, or a lost value, waiting to happen), or that are not valid format strings;
   * translations that drop or add the msgid's leading indentation (two or more spaces)
     or leading/trailing newlines (the messages are joined line by line). A single leading
     space joins an English fragment to its sentence; Chinese may drop it;
   * ``_()`` / ``N_()`` calls whose argument is not a plain string literal but an f-string,
     a ``.format()`` result or a ``+`` / ``%`` expression: the lookup key then never matches
     the catalog. (``_(variable)`` is fine: that is how ``N_``-marked strings are translated.)
   * a .po file Babel cannot parse.

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
from babel.messages.pofile import read_po, write_po

from bot.core.i18n import DEFAULT_LOCALE, DOMAIN, SUPPORTED_LOCALES

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGES = ("bot", "handlers")
EXCLUDED_DIRS = ("bot/sandbox/telegram", "bot/sandbox/wecom")
KeywordSpec = tuple[int, ...] | None  # Babel's: which argument(s) hold the msgid; None = the first
KEYWORDS: dict[str, KeywordSpec] = {"_": None, "N_": None}
# Helpers that take a msgid and call _() on it themselves, per file: name -> Babel keyword spec
# (``(2,)``: the msgid is the second argument as written, e.g. ``self.issue(line, "...")``).
# Wrapping the literals in N_() at the call sites would make an entry here unnecessary.
EXTRA_KEYWORDS: dict[str, dict[str, KeywordSpec]] = {
    "bot/plan/importer.py": {"issue": (2,)},
}
COMMENT_TAGS = ("TRANSLATORS:",)
# Languages whose every msgid needs a translation; others may fall back to the English msgid.
MUST_TRANSLATE = (DEFAULT_LOCALE,)

_PLACEHOLDER_RE = re.compile(r"\{[^{}]*\}")


@dataclass
class Extracted:
    """One msgid found in the code, with every place it appears."""

    msgid: str
    locations: list[tuple[str, int]] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)


def po_path(locale: str, root: Path = ROOT) -> Path:
    return root / "locales" / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


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


def _extract_file(path: Path, relative: str) -> list[tuple[int, object, list[str], object]]:
    # Babel writes a warning to stderr for every f-string argument, even one that is only a
    # .format() value; source_problems() reports the f-strings that matter, so drop those.
    captured = io.StringIO()
    with contextlib.redirect_stderr(captured):
        found = list(
            extract_from_file(
                "python", str(path), keywords=keywords_for(relative), comment_tags=COMMENT_TAGS
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
            if not isinstance(message, str) or not message:
                continue
            entry = found.setdefault(message, Extracted(message))
            entry.locations.append((relative, lineno))
            entry.comments.extend(c for c in comments if c not in entry.comments)
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
            index = spec[0] - 1 if spec else 0
            if len(node.args) <= index:
                continue
            arg = node.args[index]
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
                problems.append(
                    f"{relative}:{node.lineno}: {name}() is given {what}; "
                    "it will never be translated"
                )
    return problems


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
    )


def read_catalog(locale: str, root: Path = ROOT, *, strict: bool = False) -> Catalog:
    path = po_path(locale, root)
    if not path.exists():
        return Catalog(locale=locale, domain=DOMAIN)
    with path.open("rb") as handle:
        return read_po(handle, locale=locale, domain=DOMAIN, abort_invalid=strict)


def merge(
    existing: Catalog, extracted: dict[str, Extracted]
) -> tuple[Catalog, list[str], list[str]]:
    """A new catalog holding exactly the extracted msgids, with the existing translations.

    Returns (catalog, added msgids, dropped msgids).
    """
    merged = Catalog(locale=existing.locale, domain=DOMAIN)
    old: dict[str, Message] = {str(m.id): m for m in existing if m.id and isinstance(m.id, str)}
    added: list[str] = []
    for msgid in sorted(extracted):
        entry = extracted[msgid]
        previous = old.get(msgid)
        if previous is None:
            added.append(msgid)
        merged.add(
            msgid,
            string=previous.string if previous else "",
            locations=sorted(entry.locations),
            auto_comments=entry.comments,
            user_comments=list(previous.user_comments) if previous else [],
            flags=sorted(previous.flags) if previous else (),
        )
    dropped = sorted(set(old) - set(extracted))
    return merged, added, dropped


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


def _indent(text: str) -> str:
    """Leading indentation; a lone leading space is a word separator, not indentation.

    English fragments such as " (version {version})" start with a space to join the
    sentence they are appended to; Chinese needs no space there, so it may drop it.
    """
    indent = text[: len(text) - len(text.lstrip(" \t"))]
    return "" if indent == " " else indent


def _shape_problems(msgid: str, translation: str) -> Iterator[str]:
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
    if _indent(msgid) != _indent(translation):
        yield "leading indentation differs from the msgid's"
    if msgid.startswith("\n") != translation.startswith("\n"):
        yield "leading newline differs from the msgid's"
    if msgid.endswith("\n") != translation.endswith("\n"):
        yield "trailing newline differs from the msgid's"


def _short(msgid: str) -> str:
    return repr(msgid if len(msgid) <= 90 else msgid[:87] + "...")


def problems_in(
    code_msgids: Iterable[str],
    catalogs: dict[str, Catalog],
    must_translate: Sequence[str] = MUST_TRANSLATE,
) -> list[str]:
    """Every problem of the catalogs against the code's msgids (pure: no file access)."""
    wanted = sorted(set(code_msgids))
    problems: list[str] = []
    for locale, parsed in catalogs.items():
        entries: dict[str, Message] = {
            str(m.id): m for m in parsed if m.id and isinstance(m.id, str)
        }
        for msgid in wanted:
            message = entries.get(msgid)
            if message is None:
                problems.append(
                    f"[{locale}] missing from the catalog (run update): {_short(msgid)}"
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
            for problem in _shape_problems(msgid, translation):
                problems.append(f"[{locale}] {problem}: {_short(msgid)} -> {_short(translation)}")
    return problems


def catalog_problems(root: Path = ROOT) -> list[str]:
    """Everything ``check`` fails on, as one line per problem; empty when all is well."""
    problems = source_problems(root)
    catalogs: dict[str, Catalog] = {}
    for locale in SUPPORTED_LOCALES:
        path = po_path(locale, root)
        if not path.exists():
            problems.append(f"[{locale}] no catalog at {path.relative_to(root)} (run update)")
            continue
        try:
            catalogs[locale] = read_catalog(locale, root, strict=True)
        except Exception as exc:  # Babel's PoFileError, or a decoding error
            problems.append(f"[{locale}] {path.relative_to(root)} cannot be read: {exc}")
    problems.extend(problems_in(extract_messages(root), catalogs))
    return problems


def unused_msgids(root: Path = ROOT) -> dict[str, list[str]]:
    """locale -> msgids in the catalog that the code no longer uses (``update`` drops them)."""
    code = set(extract_messages(root))
    result: dict[str, list[str]] = {}
    for locale in SUPPORTED_LOCALES:
        if po_path(locale, root).exists():
            ids = {str(m.id) for m in read_catalog(locale, root) if m.id and isinstance(m.id, str)}
            result[locale] = sorted(ids - code)
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
