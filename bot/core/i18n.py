"""Message catalogs and the locale of the event being handled.

Source strings are English msgids wrapped in ``_()``, or, where a number decides the words,
``ngettext(singular, plural, n)``; ``locales/<lang>/LC_MESSAGES/huiwu.po`` holds each language
(a plural entry has one form per the catalog's ``Plural-Forms`` header: one in Chinese, two in
English). Catalogs are read with Babel straight from the .po files once per
process, so there is no compile step to forget. The current locale lives in a ContextVar,
set once per event (``use_locale``), so concurrent events in different languages never mix.
"""

from __future__ import annotations

import contextlib
import contextvars
import gettext as stdlib_gettext
from collections.abc import Callable, Iterator
from functools import cache
from importlib import resources

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

DOMAIN = "huiwu"
DEFAULT_LOCALE = "zh_CN"
SUPPORTED_LOCALES = ("zh_CN", "en")

_current_locale: contextvars.ContextVar[str] = contextvars.ContextVar(
    "huiwu_locale", default=DEFAULT_LOCALE
)


def normalise_locale(value: str | None, fallback: str = DEFAULT_LOCALE) -> str:
    """Map what a platform or a user says ("zh-hans", "en-US", "zh") to a supported locale."""
    if not value:
        return fallback
    tag = value.replace("-", "_").lower()
    if tag.startswith("zh"):
        return "zh_CN"
    if tag.startswith("en"):
        return "en"
    return fallback


def supported_locale(value: str | None) -> str | None:
    """The supported locale a platform's language tag names, or None ("de", no tag)."""
    return normalise_locale(value, "") or None


@cache
def _parsed(locale: str, domain: str) -> Catalog | None:
    po_file = resources.files("locales").joinpath(locale, "LC_MESSAGES", f"{domain}.po")
    if not po_file.is_file():
        return None
    with po_file.open("rb") as handle:
        return read_po(handle, locale=locale, domain=domain)


@cache
def catalog(locale: str, domain: str = DOMAIN) -> dict[str, str]:
    """msgid -> translation for one locale (empty translations fall back to the msgid)."""
    parsed = _parsed(locale, domain)
    return {
        str(message.id): str(message.string)
        for message in parsed or ()
        if message.id and isinstance(message.id, str) and not message.fuzzy
    }


@cache
def plural_catalog(locale: str, domain: str = DOMAIN) -> dict[str, tuple[str, ...]]:
    """singular msgid -> the translation's forms, for the entries with a ``msgid_plural``
    whose every form is translated (others fall back to the English msgids)."""
    parsed = _parsed(locale, domain)
    found: dict[str, tuple[str, ...]] = {}
    for message in parsed or ():
        if message.pluralizable and not message.fuzzy and isinstance(message.string, tuple):
            forms = tuple(str(form) for form in message.string)
            if forms and all(forms):
                found[str(message.id[0])] = forms
    return found


@cache
def plural_rule(locale: str, domain: str = DOMAIN) -> Callable[[int], int]:
    """n -> the index of the form to use, from the catalog's ``Plural-Forms`` header."""
    parsed = _parsed(locale, domain)
    expression = parsed.plural_expr if parsed else "(n != 1)"
    rule = stdlib_gettext.c2py(expression)  # the C expression, checked and compiled safely
    return lambda n: int(rule(n))


def current_locale() -> str:
    return _current_locale.get()


@contextlib.contextmanager
def use_locale(locale: str | None) -> Iterator[str]:
    """Run a block in one locale; nested blocks restore the outer one."""
    token = _current_locale.set(normalise_locale(locale))
    try:
        yield _current_locale.get()
    finally:
        _current_locale.reset(token)


def set_default_locale(locale: str | None) -> None:
    """Set the locale for this context (the CLI calls it once from HUIWU_LOCALE)."""
    _current_locale.set(normalise_locale(locale))


def gettext(message: str) -> str:
    """Translate a msgid into the current locale."""
    return catalog(_current_locale.get()).get(message) or message


_ = gettext


def ngettext(singular: str, plural: str, n: int) -> str:
    """The form of a message that suits the number ``n``, in the current locale.

    Used like ``_()``: ``ngettext("{count} ballot", "{count} ballots", count).format(count=count)``.
    ``n`` is the number that decides the words, which need not be a placeholder of the text.
    """
    return plural_gettext(singular, plural, n, current_locale())


def plural_gettext(singular: str, plural: str, n: int, locale: str, domain: str = DOMAIN) -> str:
    """``ngettext`` for a given locale and catalog domain."""
    forms = plural_catalog(locale, domain).get(singular)
    if forms:
        index = plural_rule(locale, domain)(n)
        if 0 <= index < len(forms):
            return forms[index]
    return singular if n == 1 else plural  # the msgids are English


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message
