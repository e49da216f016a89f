"""Issue 22, item 2, end to end: a .docx zip bomb sent as a plan in chat (Telegram emulator,
real HTTP) and to ``huiwu plan import`` is refused with a clear message and stores nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import World, zh
from tests.e2e.test_plan_documents import DOCX, REPO, send_document
from tests.plan.test_document_bombs import docx_with, paragraphs_of

TOO_LARGE = "That document is too large or too complex to read as a plan: {reason}. Send a shorter document, or the plan as a .toml file."


async def test_a_zip_bomb_sent_as_a_plan_is_refused_and_nothing_is_stored(world: World) -> None:
    bomb = docx_with(paragraphs_of(12 * 1024 * 1024))
    before = await world.row_counts()
    [answer] = await send_document(world.people["方磊"], world, "方案.docx", bomb, DOCX)
    reason = zh(
        "one part of it unpacks to {size} (at most {limit})", size="12.0 MiB", limit="8.0 MiB"
    )
    assert answer.text == zh(TOO_LARGE, reason=reason)
    assert answer.buttons == []
    after = await world.row_counts()
    assert after.pop("outbox") - before.pop("outbox") == 1
    assert after == before


@pytest.mark.slow
def test_huiwu_plan_import_refuses_a_zip_bomb(tmp_path: Path) -> None:
    bomb = tmp_path / "方案.docx"
    bomb.write_bytes(docx_with(paragraphs_of(12 * 1024 * 1024)))
    out = tmp_path / "plan.toml"
    environ = {k: v for k, v in os.environ.items() if not k.startswith("HUIWU_")}
    environ.update(HUIWU_LOCALE="en", PYTHONIOENCODING="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "bot.run.cli", "plan", "import", str(bomb), "-o", str(out)],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"{bomb}: error: the document is too large or too complex to read: "
        "one part of it unpacks to 12.0 MiB (at most 8.0 MiB)"
    )
    assert not out.exists()
