"""Fixtures shared by the whole suite, and the guard that keeps a failed test from hanging it."""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database

# A thread that is not a daemon keeps the interpreter alive after pytest has finished: an
# aiosqlite connection left open by a test that failed before closing it hangs the run for
# good (CI then stops at its time limit with every result already printed). What is still
# running this long after the last test is reported, and the run ends anyway.
LEFTOVER_JOIN_SECONDS = 5.0
_EXIT_STATUS = pytest.StashKey[int]()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A new, migrated Huiwu database in a real SQLite file."""
    database = await Database.open(tmp_path / "huiwu.sqlite3")
    try:
        yield database
    finally:
        await database.close()


def _leftover_threads() -> list[threading.Thread]:
    gc.collect()  # an unreferenced aiosqlite connection stops its thread when collected
    leftovers = []
    for thread in threading.enumerate():
        if thread is threading.main_thread() or thread.daemon:
            continue
        thread.join(LEFTOVER_JOIN_SECONDS)
        if thread.is_alive():
            leftovers.append(thread)
    return leftovers


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[_EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    leftovers = _leftover_threads()
    if not leftovers:
        return
    names = ", ".join(
        f"{thread.name} ({getattr(thread, '_target', None)!r})" for thread in leftovers
    )
    sys.stderr.write(
        f"\n{len(leftovers)} thread(s) still running after the last test, left by a test that "
        f"did not close what it opened: {names}. Ending the run without waiting for them.\n"
    )
    sys.stderr.flush()
    sys.stdout.flush()
    status = config.stash.get(_EXIT_STATUS, 1)
    os._exit(status or 1)  # a leak fails a run whose tests all passed
