"""Issue 22, item 3: which errors are "the storage refused" (real SQLite: a file that cannot
grow, a connection that may not write), and how an outage is logged: once per kind."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest

from storage.outage import Outage, storage_error_kind


def test_a_full_file_and_a_read_only_connection_are_storage_errors(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "full.sqlite3")
    conn.execute("CREATE TABLE t (data BLOB)")
    conn.execute("PRAGMA max_page_count = 2")  # the file cannot grow: a full disk
    with pytest.raises(sqlite3.OperationalError) as full:
        for _row in range(10):
            conn.execute("INSERT INTO t VALUES (randomblob(5000))")
    assert storage_error_kind(full.value) == "SQLITE_FULL"
    conn.rollback()
    conn.execute("PRAGMA query_only = 1")  # as a file mounted read-only
    with pytest.raises(sqlite3.OperationalError) as read_only:
        conn.execute("INSERT INTO t VALUES (1)")
    assert storage_error_kind(read_only.value) == "SQLITE_READONLY"
    with pytest.raises(sqlite3.OperationalError) as wrong:
        conn.execute("SELECT nothing FROM t")
    assert storage_error_kind(wrong.value) is None  # a bug, not the disk
    assert storage_error_kind(ValueError("x")) is None
    conn.close()


def test_an_outage_logs_once_per_kind_backs_off_and_notes_the_recovery(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    outage = Outage(logging.getLogger("test"), "sender", first_wait=0.5, max_wait=4.0)
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorname = "SQLITE_FULL"  # type: ignore[attr-defined]
    waits = [outage.failed(full) for _ in range(6)]
    assert waits == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert outage.active
    outage.succeeded()
    outage.succeeded()
    assert not outage.active
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 2
    assert "cannot be written (SQLITE_FULL" in lines[0] and "after 6 failed tries" in lines[1]
    assert not any(r.exc_info for r in caplog.records)
