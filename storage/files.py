"""The files members hand in, kept in a folder beside the database and named by the SHA-256
of their content (the same file handed in twice is kept once).

A file arrives piece by piece (``FileSink.write``) into a temporary file in the same folder,
hashed as it comes, and is renamed to its content address when complete, so memory stays flat
whatever the size and a crash leaves at most a ``.part`` file, never a wrong one. Folders are
0700 and files 0600: submissions are private. The database row keeps the hash; a row from
before (``content`` filled) is read as it is.

A file no row refers to any more (a draft cancelled or replaced) is deleted by
``storage.file_refs``; two guards keep it from deleting one that is about to be referred to:
a file stored while an event is handled (``holding``) is pinned in this process until the
event's transactions are over, and other processes (a backup, a plan restored from its
export) hold the folder's lock shared while they rely on its files (``locked``).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

from storage.private_files import FILE_MODE, FOLDER_MODE, open_private

CHUNK = 64 * 1024
PART_SUFFIX = ".part"
LOCK_NAME = ".lock"  # in the folder: held exclusively to delete, shared to rely on the files
CONTENT_NAME = re.compile(r"[0-9a-f]{64}")


def is_content_name(name: str) -> bool:
    return CONTENT_NAME.fullmatch(name) is not None


@dataclass
class Held:
    """What one event did to the files: the files it stored, and those its drafts let go of
    (``storage.conversations``); each may now be unreferenced."""

    stored: set[str] = field(default_factory=set)
    dropped: set[str] = field(default_factory=set)


_HELD: ContextVar[Held | None] = ContextVar("files_held", default=None)


def watching() -> bool:
    """Whether an event's ``holding`` is open (what its drafts let go of is worth noting)."""
    return _HELD.get() is not None


def note_dropped(hashes: set[str]) -> None:
    """A draft no longer refers to these files (they may still be referred to elsewhere)."""
    held = _HELD.get()
    if held is not None:
        held.dropped |= hashes


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
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
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
        self._pins: Counter[str] = Counter()

    @classmethod
    def beside(cls, db_path: str | Path) -> FileStore:
        """The folder ``<database file>.files`` next to the database."""
        path = Path(db_path)
        return cls(path.with_name(path.name + ".files"))

    def path_of(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def _folder(self, path: Path) -> Path:
        path.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        path.chmod(FOLDER_MODE)  # whatever the umask
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
        held = _HELD.get()
        if held is not None and sha256 not in held.stored:
            held.stored.add(sha256)
            self._pins[sha256] += 1  # before the file is there, in the same step of the loop
        os.replace(part, target)  # the same content already kept: replaced by equal bytes
        return StoredFile(sha256, sink.size)

    def read(self, sha256: str) -> bytes:
        return self.path_of(sha256).read_bytes()

    @contextlib.contextmanager
    def holding(self) -> Iterator[Held]:
        """While an event is handled: the files it stores are pinned (never deleted) until
        the block ends, when its transactions have committed or rolled back."""
        held = Held()
        token = _HELD.set(held)
        try:
            yield held
        finally:
            _HELD.reset(token)
            for sha256 in held.stored:
                self._pins[sha256] -= 1
                if self._pins[sha256] <= 0:
                    del self._pins[sha256]

    def is_pinned(self, sha256: str) -> bool:
        return self._pins.get(sha256, 0) > 0

    def contents(self) -> list[str]:
        """The content addresses of the files kept (blocking: call from a thread)."""
        if not self.root.is_dir():
            return []
        return sorted(
            path.name
            for path in self.root.glob("*/*")
            if is_content_name(path.name) and path.parent.name == path.name[:2]
        )

    def parts(self) -> list[Path]:
        """Files being written (or left by a crash while being written)."""
        if not self.root.is_dir():
            return []
        return sorted(self.root.glob(f"*{PART_SUFFIX}")) + sorted(
            self.root.glob(f"*/*{PART_SUFFIX}")
        )

    def delete(self, sha256: str) -> bool:
        """Unlink the file unless an event in this process holds it (call holding
        ``locked(exclusive=True)``, after checking that no row refers to it, with no await
        in between the check of the pin and the unlink); False if kept."""
        if self.is_pinned(sha256):
            return False
        try:
            self.path_of(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    @contextlib.contextmanager
    def locked(self, *, exclusive: bool, wait: bool = True) -> Iterator[bool]:
        """The folder's lock, between processes: exclusive to delete, shared to rely on the
        files being there (a backup copying them, a restore about to refer to them). Yields
        False when ``wait`` is False and another process holds it."""
        fd = self.take_lock(exclusive=exclusive, wait=wait)
        try:
            yield fd is not None
        finally:
            if fd is not None:
                os.close(fd)  # releases the lock

    def take_lock(self, *, exclusive: bool, wait: bool = True) -> int | None:
        """``locked`` without the block: the descriptor holding the lock (close it to let
        go), or None when ``wait`` is False and another process holds it. Blocking: from
        async code, call it in a thread."""
        self._folder(self.root)
        fd = open_private(self.root / LOCK_NAME, os.O_RDWR)
        flags = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
        try:
            fcntl.flock(fd, flags if wait else flags | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return None
        except BaseException:
            os.close(fd)
            raise
        return fd

    def copy_from(self, source: Path, sha256: str, size: int | None = None) -> None:
        """Keep the file at ``source`` under its content address, checking on the way that
        its bytes are the ones ``sha256`` (and ``size``) name; raises ``ValueError`` if not.
        In pieces (memory stays flat); a file already kept is left as it is."""
        target = self.path_of(sha256)
        if target.exists():
            return
        part = self._folder(self.root) / f"{secrets.token_hex(8)}{PART_SUFFIX}"
        sink = FileSink(part, size if size is not None else 2**63)
        try:
            with source.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    sink.write(chunk)
            found = sink.close()
        except FileTooLarge:
            sink.discard()
            raise ValueError(f"{source}: it is larger than {size} bytes") from None
        except BaseException:
            sink.discard()
            raise
        if found != sha256 or (size is not None and sink.size != size):
            part.unlink(missing_ok=True)
            raise ValueError(f"{source}: its content is not {sha256}")
        self._folder(target.parent)
        os.replace(part, target)
