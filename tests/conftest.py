"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from storage.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A new, migrated Huiwu database in a real SQLite file."""
    database = await Database.open(tmp_path / "huiwu.sqlite3")
    try:
        yield database
    finally:
        await database.close()
