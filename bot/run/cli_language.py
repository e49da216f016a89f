"""argparse's own words ("usage:", "options", "the following arguments are required: ...")
in the operator's language.

argparse builds them with ``gettext.gettext`` / ``gettext.ngettext``, imported into its module
as ``_`` and ``ngettext`` and called each time a parser is built, a help is formatted or an
error is told. ``argparse_in_current_locale()`` points those two names at
``locales/<lang>/LC_MESSAGES/argparse.po`` (read like our own catalogs, in the current
locale) while the command line builds and parses, and puts gettext's back afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator

from bot.core.i18n import catalog, current_locale, plural_gettext

DOMAIN = "argparse"


def argparse_gettext(message: str) -> str:
    return catalog(current_locale(), DOMAIN).get(message) or message


def argparse_ngettext(singular: str, plural: str, n: int) -> str:
    return plural_gettext(singular, plural, n, current_locale(), DOMAIN)


@contextlib.contextmanager
def argparse_in_current_locale() -> Iterator[None]:
    """Build and run parsers in this block with argparse speaking the current locale."""
    # Not a documented hook, but how argparse has looked its words up since Python 3.2 (the
    # check in bot.core.i18n_tools fails if a new Python brings a message without a
    # translation); setattr because typeshed does not declare the two names.
    saved = {name: getattr(argparse, name) for name in ("_", "ngettext")}
    setattr(argparse, "_", argparse_gettext)  # noqa: B010
    setattr(argparse, "ngettext", argparse_ngettext)  # noqa: B010
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(argparse, name, value)
