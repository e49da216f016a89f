"""The process's logging: what is never written to a log, at any level.

A log is read by more people, and kept longer, than the database. So it holds neither what
people voted or wrote nor the secrets of the settings:

- the libraries that see contents log them below WARNING (aiosqlite every statement with its
  values, python-telegram-bot and httpx every request and update, wechatpy every call): their
  records below WARNING are dropped (``LibraryDetailFilter``);
- the secrets of the settings, and the shapes of secrets in URLs (the Telegram token in the
  Bot API path, WeCom's ``access_token`` and ``corpsecret`` parameters), are replaced by
  ``***`` in everything written, tracebacks included (``PrivateFormatter``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from bot.run.failures import RedactingFormatter

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries whose records below WARNING carry statements, requests or updates.
DETAILED_LIBRARIES = (
    "aiosqlite",
    "telegram",
    "httpx",
    "httpcore",
    "hpack",
    "wechatpy",
    "urllib3",
    "aiohttp",
    "apscheduler",
)
REDACTED = "***"
SECRET_SHAPES = (
    re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+"),  # a Telegram token in a Bot API URL
    re.compile(r"([?&](?:access_token|corpsecret|secret)=)[^&\s'\"]+", re.IGNORECASE),
)


class LibraryDetailFilter(logging.Filter):
    """Drops the records below WARNING of the libraries that log contents."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        name = record.name
        return not any(name == lib or name.startswith(lib + ".") for lib in DETAILED_LIBRARIES)


class PrivateFormatter(RedactingFormatter):
    """Formats as usual and hides the settings' secrets (``RedactingFormatter``), then the
    secret-shaped parts of URLs."""

    def __init__(self, fmt: str = FORMAT, secrets: Iterable[str] = ()) -> None:
        super().__init__(fmt, secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def redact(text: str) -> str:
    """Hide the secret-shaped parts of URLs in ``text``."""
    for shape in SECRET_SHAPES:
        text = shape.sub(r"\1" + REDACTED, text)
    return text


def make_private(handler: logging.Handler, secrets: Iterable[str] = ()) -> logging.Handler:
    handler.addFilter(LibraryDetailFilter())
    handler.setFormatter(PrivateFormatter(secrets=secrets))
    return handler


def configure(level: str, secrets: Iterable[str] = ()) -> None:
    """Log to standard error at ``level``, privately (``huiwu`` calls this at start)."""
    logging.basicConfig(level=level, handlers=[make_private(logging.StreamHandler(), secrets)])
