"""Files only their owner reads: the database and its side files, backups, exports, plans
written by ``huiwu plan import`` (the handed-in files are kept 0600 by ``storage.files``).

They hold who voted, what people wrote and every submission, so they are created 0600 (their
folders 0700) whatever the process's umask, and a database found readable by others is made
private at start. SQLite creates the ``-wal`` and ``-shm`` files with the database file's mode,
so a private database has private side files.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

FILE_MODE = 0o600
FOLDER_MODE = 0o700
SIDE_FILES = ("-wal", "-shm", "-journal")


def open_private(path: Path | str, flags: int = os.O_WRONLY) -> int:
    """Open (creating if needed) a file as 0600 and return its descriptor."""
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    try:
        if stat.S_IMODE(os.fstat(fd).st_mode) != FILE_MODE:
            os.fchmod(fd, FILE_MODE)
    except BaseException:
        os.close(fd)
        raise
    return fd


def write_private(path: Path, content: bytes) -> None:
    """Write ``content`` as the whole of a 0600 file."""
    with os.fdopen(open_private(path, os.O_WRONLY | os.O_TRUNC), "wb") as handle:
        handle.write(content)


def replace_private(path: Path, content: bytes) -> None:
    """Write ``content`` as the whole of a 0600 file, all at once: into a temporary file
    beside it, renamed over it when complete (a failure leaves the old file as it was)."""
    partial = path.with_name(path.name + ".part")
    try:
        write_private(partial, content)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def make_private_folder(path: Path) -> None:
    """Create ``path`` and its missing parents as 0700 (an existing folder is left as it is)."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(mode=FOLDER_MODE, exist_ok=True)
        os.chmod(folder, FOLDER_MODE)  # mkdir's mode is filtered by the umask


def make_database_private(path: Path | str) -> None:
    """Create the database file 0600 if it is missing; make it and its side files 0600 if
    others could read them."""
    try:
        os.close(open_private(path, os.O_RDONLY | os.O_EXCL))
    except FileExistsError:
        pass
    except OSError:  # no such folder, no right to create: SQLite says so in its own words
        return
    for candidate in (Path(path), *(Path(f"{path}{suffix}") for suffix in SIDE_FILES)):
        try:
            mode = stat.S_IMODE(candidate.stat().st_mode)
            if mode & 0o077:
                os.chmod(candidate, mode & 0o700)
                logger.warning("%s was readable by others; it is now private (0600)", candidate)
        except FileNotFoundError:
            continue
        except OSError as exc:  # another owner's file: say so, and go on
            logger.warning(
                "%s is readable by others and could not be made private: %s", candidate, exc
            )
