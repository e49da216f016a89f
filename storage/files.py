"""The files members hand in, kept in a folder beside the database and named by the SHA-256
of their content (the same file handed in twice is kept once).

A file arrives piece by piece (``FileSink.write``) into a temporary file in the same folder,
hashed as it comes, and is renamed to its content address when complete, so memory stays flat
whatever the size and a crash leaves at most a ``.part`` file, never a wrong one. Folders are
0700 and files 0600: submissions are private. The database row keeps the hash; a row from
before (``content`` filled) is read as it is.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

CHUNK = 64 * 1024
PART_SUFFIX = ".part"


class FileTooLarge(Exception):
    """A file is larger than may be kept (``size``: its size, or None if only known to exceed)."""

    def __init__(self, size: int | None, limit: int) -> None:
        super().__init__(f"file of {size if size is not None else 'more than ' + str(limit)} bytes")
        self.size = size
        self.limit = limit


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    size: int


class FileSink:
    """Where a download writes, one piece at a time; refuses to go past ``limit`` bytes."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        self.size = 0
        self._hash = hashlib.sha256()
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self._handle = os.fdopen(descriptor, "wb")

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise FileTooLarge(None, self.limit)
        self._hash.update(chunk)
        self._handle.write(chunk)

    def close(self) -> str:
        """Flush to disk; returns the content's SHA-256 (hex)."""
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        return self._hash.hexdigest()

    def discard(self) -> None:
        self._handle.close()
        self.path.unlink(missing_ok=True)


class FileStore:
    """The files folder of one database."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def beside(cls, db_path: str | Path) -> FileStore:
        """The folder ``<database file>.files`` next to the database."""
        path = Path(db_path)
        return cls(path.with_name(path.name + ".files"))

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _folder(self, path: Path) -> Path:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.chmod(0o700)  # whatever the umask
        return path

    async def store(self, fetch: Callable[[FileSink], Awaitable[None]], limit: int) -> StoredFile:
        """Let ``fetch`` write the file into a sink of at most ``limit`` bytes, then keep it
        under its content address. Anything ``fetch`` raises (``FileTooLarge`` past the limit)
        leaves nothing behind."""
        part = self._folder(self.root) / f"{secrets.token_hex(8)}{PART_SUFFIX}"
        sink = FileSink(part, limit)
        try:
            await fetch(sink)
            sha256 = sink.close()
        except BaseException:
            sink.discard()
            raise
        target = self.path_of(sha256)
        self._folder(target.parent)
        os.replace(part, target)  # the same content already kept: replaced by equal bytes
        return StoredFile(sha256, sink.size)

    def read(self, sha256: str) -> bytes:
        return self.path_of(sha256).read_bytes()
