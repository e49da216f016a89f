"""What an operator sees when Huiwu cannot do its work: one localised line, never a traceback.

Each failure the README's failure table lists is raised as an :class:`OperatorError` whose
text names the setting to fix (never its secret value); the command line prints it and
exits 2. A platform that cannot be reached is not such a failure: :func:`until_reachable`
keeps trying with backoff, one log line per attempt, until it answers or the process is
stopped. :class:`RedactingFormatter` blanks every secret from every log line at any level.
"""

from __future__ import annotations

import asyncio
import errno
import logging
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import TypeVar

from bot.core.i18n import _
from bot.core.oserrors import os_error_reason
from storage.db import Database, DatabaseUnusableError, SchemaTooNewError

logger = logging.getLogger(__name__)

T = TypeVar("T")

FIRST_RETRY_DELAY = 1.0
MAX_RETRY_DELAY = 60.0


class OperatorError(Exception):
    """A failure the operator must fix; ``str()`` is one localised line naming the setting."""


def database_error(path: str | Path, exc: Exception) -> OperatorError:
    """Why ``HUIWU_DB`` cannot be used, said with the variable and the path."""
    target = Path(path)
    if target.is_dir():
        reason = _("this is a folder; give the path of a database file")
    elif not target.parent.is_dir():
        reason = _("the folder {folder} does not exist").format(folder=target.parent)
    elif isinstance(exc, SchemaTooNewError):
        reason = _(
            "a newer version of Huiwu wrote this database; upgrade Huiwu or restore a backup"
        )
    elif isinstance(exc, DatabaseUnusableError) and "not a database" in exc.reason:
        reason = _("this file is not a database")
    else:
        reason = _("cannot open it ({error})").format(
            error=getattr(exc, "reason", None) or exc.__class__.__name__
        )
    return OperatorError(
        _("The database HUIWU_DB={path} cannot be used: {reason}").format(path=path, reason=reason)
    )


async def open_database(path: str | Path) -> Database:
    """``Database.open`` with its failures told as :class:`OperatorError`."""
    try:
        return await Database.open(path)
    except (DatabaseUnusableError, SchemaTooNewError) as exc:
        raise database_error(path, exc) from None


def os_error_text(path: str | Path, exc: OSError) -> str:
    """A file error as one localised phrase naming the path."""
    return _("{file}: {reason}").format(file=exc.filename or path, reason=os_error_reason(exc))


def telegram_token_rejected() -> OperatorError:
    return OperatorError(
        _(
            "TELEGRAM_BOT_TOKEN was rejected by Telegram: copy the bot's token again from @BotFather."
        )
    )


# WeCom's answers to gettoken that mean a setting is wrong (the rest are told by code).
WECOM_CORP_ID_ERRORS = frozenset({40013})
WECOM_SECRET_ERRORS = frozenset({40001, 40091, 41004, 42009})


def wecom_credentials_rejected(errcode: int | None) -> OperatorError:
    if errcode in WECOM_CORP_ID_ERRORS:
        return OperatorError(
            _("WECOM_CORP_ID was rejected by WeCom (errcode {code}): check the CorpID.").format(
                code=errcode
            )
        )
    if errcode in WECOM_SECRET_ERRORS:
        return OperatorError(
            _(
                "WECOM_SECRET was rejected by WeCom (errcode {code}): copy the app's Secret again from the admin console."
            ).format(code=errcode)
        )
    return OperatorError(
        _(
            "WeCom refused the app's credentials (errcode {code}): check WECOM_CORP_ID and WECOM_SECRET."
        ).format(code=errcode)
    )


def listen_error(host: str, port: int, exc: OSError) -> OperatorError:
    if exc.errno == errno.EADDRINUSE:
        return OperatorError(
            _(
                "HUIWU_HTTP_PORT={port}: the port is already in use on {host}; stop what uses it or choose another port."
            ).format(port=port, host=host)
        )
    return OperatorError(
        _("HUIWU_HTTP_HOST={host}, HUIWU_HTTP_PORT={port}: cannot listen there ({error}).").format(
            host=host, port=port, error=exc.strerror or exc.__class__.__name__
        )
    )


async def until_reachable(
    platform: str,
    attempt: Callable[[], Awaitable[T]],
    unreachable: Callable[[BaseException], bool],
    *,
    first_delay: float = FIRST_RETRY_DELAY,
    max_delay: float = MAX_RETRY_DELAY,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> T:
    """Run ``attempt`` until it does not fail as unreachable; back off between tries.

    Other errors propagate at once. Cancel the caller to stop trying (SIGTERM does).
    """
    delay = first_delay
    tries = 0
    while True:
        tries += 1
        try:
            return await attempt()
        except Exception as exc:
            if not unreachable(exc):
                raise
            logger.warning(
                "%s is unreachable (attempt %d: %s); trying again in %.0f s",
                platform,
                tries,
                _describe(exc),
                delay,
            )
        await sleep(delay)
        delay = min(max_delay, delay * 2)


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class RedactingFormatter(logging.Formatter):
    """A formatter that replaces each secret value in the finished line (traceback included)."""

    def __init__(self, fmt: str, secrets: Iterable[str | None]) -> None:
        super().__init__(fmt)
        # Longest first, so a secret containing another is blanked whole.
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text
