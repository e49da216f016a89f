"""When the database cannot be written (disk full, read-only file, I/O error, locked too
long): how a loop knows, says so once, and waits before trying again.

Every long-running loop (the outbox senders, the scheduler, the WeCom callback journal, the
router's answers) keeps one ``Outage``: the first error of each kind is logged as one line
(no traceback: it is the machine, not a bug), repeats are counted silently, the wait before
the next try doubles up to a ceiling, and the first success afterwards logs that the database
is writable again with how many tries failed.
"""

from __future__ import annotations

import logging
import sqlite3

# SQLite's primary result codes that say "the storage refused", not "the statement is wrong".
STORAGE_ERRORS = frozenset(
    {
        "SQLITE_FULL",  # disk full, or max_page_count reached
        "SQLITE_READONLY",  # the file (or the connection: PRAGMA query_only) cannot be written
        "SQLITE_IOERR",
        "SQLITE_CANTOPEN",
        "SQLITE_BUSY",  # another process holds the write lock beyond busy_timeout
        "SQLITE_LOCKED",
        "SQLITE_NOMEM",
        "SQLITE_PROTOCOL",
    }
)


def storage_error_kind(exc: BaseException) -> str | None:
    """SQLite's name for a storage failure (``SQLITE_FULL``...), None for anything else."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return None
    name = getattr(exc, "sqlite_errorname", None) or ""
    primary = "_".join(name.split("_")[:2])  # SQLITE_READONLY_DBMOVED -> SQLITE_READONLY
    return primary if primary in STORAGE_ERRORS else None


def is_storage_error(exc: BaseException) -> bool:
    return storage_error_kind(exc) is not None


class Outage:
    """One loop's view of a storage outage: log once per kind, back off, note recovery."""

    def __init__(
        self, logger: logging.Logger, where: str, first_wait: float = 0.5, max_wait: float = 30.0
    ) -> None:
        self.logger = logger
        self.where = where
        self.first_wait = first_wait
        self.max_wait = max_wait
        self.failures = 0
        self._kinds: set[str] = set()

    @property
    def active(self) -> bool:
        return self.failures > 0

    def failed(self, exc: BaseException) -> float:
        """Note a storage error; return how long to wait (seconds) before trying again."""
        kind = storage_error_kind(exc) or type(exc).__name__
        if kind not in self._kinds:
            self._kinds.add(kind)
            self.logger.error(
                "%s: the database cannot be written (%s: %s); trying again until it can",
                self.where,
                kind,
                exc,
            )
        self.failures += 1
        return min(self.first_wait * 2 ** min(self.failures - 1, 30), self.max_wait)

    def succeeded(self) -> None:
        """A write went through: log the recovery once, reset the backoff."""
        if self.failures:
            self.logger.warning(
                "%s: the database is writable again (after %d failed tries)",
                self.where,
                self.failures,
            )
        self.failures = 0
        self._kinds.clear()
