"""One ``huiwu run`` per database: an OS lock on a file beside it, held for the process's life.

Two processes on one database both send: on Telegram the second re-queues the first one's
messages in flight, on WeCom each keeps its own per-member limit and WeCom drops the excess.
So ``huiwu run`` takes ``<database>.lock`` with ``flock`` before anything else; the operating
system releases it when the process ends, however it ends (SIGKILL, a crash), so a stale lock
file never blocks a restart.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from storage.private_files import open_private


class DatabaseInUse(RuntimeError):
    """Another process holds the database's lock."""

    def __init__(self, lock_path: Path, holder: str) -> None:
        super().__init__(f"{lock_path} is held by process {holder or '?'}")
        self.lock_path = lock_path
        self.holder = holder


def lock_path(db_path: Path | str) -> Path:
    return Path(f"{db_path}.lock")


class DatabaseLock:
    """``DatabaseLock.take(db)`` … ``lock.release()`` (or let the process end)."""

    def __init__(self, fd: int, path: Path) -> None:
        self._fd: int | None = fd
        self.path = path

    @classmethod
    def take(cls, db_path: Path | str) -> DatabaseLock:
        """Take the lock of the database at ``db_path``, or raise ``DatabaseInUse``."""
        path = lock_path(db_path)
        fd = open_private(path, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip()
            os.close(fd)
            raise DatabaseInUse(path, holder) from None
        except BaseException:
            os.close(fd)
            raise
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)  # who holds it, for the message
        return cls(fd, path)

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing the descriptor releases the lock
            self._fd = None
