"""Message catalogs and the locale of the event being handled.

Source strings are English msgids wrapped in ``_()``; ``locales/<lang>/LC_MESSAGES/huiwu.po``
holds each language. Catalogs are read with Babel straight from the .po files once per
process, so there is no compile step to forget. The current locale lives in a ContextVar,
set once per event (``use_locale``), so concurrent events in different languages never mix.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from functools import cache
from importlib import resources

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
def catalog(locale: str) -> dict[str, str]:
    """msgid -> translation for one locale (empty translations fall back to the msgid)."""
    po_file = resources.files("locales").joinpath(locale, "LC_MESSAGES", f"{DOMAIN}.po")
    with po_file.open("rb") as handle:
        parsed = read_po(handle, locale=locale)
    return {
        str(message.id): str(message.string)
        for message in parsed
        if message.id and isinstance(message.id, str) and not message.fuzzy
    }


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


def N_(message: str) -> str:
    """Mark a string for extraction without translating it now."""
    return message
