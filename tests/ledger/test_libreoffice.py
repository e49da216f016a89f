"""The documents open in a Word-compatible reader without repair: LibreOffice (headless,
Debian's package; `.ci/run` installs it) converts each to PDF, on A4, in the orientation the
file asks for. Skipped, saying why, only where soffice is absent outside CI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.reports.export import export_documents
from tests.ledger.conftest import Filled

pytestmark = pytest.mark.slow
A4 = (595.3, 841.9)  # points, portrait
CONVERT_SECONDS = 180


def _soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("soffice is missing on CI: .ci/run installs libreoffice-writer-nogui")
        pytest.skip(
            "LibreOffice (soffice) is not installed: apt-get install libreoffice-writer-nogui libreoffice-calc-nogui"
        )
    return found


def _to_pdf(soffice: str, source: Path, out: Path) -> bytes:
    # A profile of its own: a second LibreOffice running on the machine would take the call.
    profile = (out / "profile").as_uri()
    result = subprocess.run(
        [
            soffice,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            "pdf",
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=CONVERT_SECONDS,
        check=False,
    )
    target = out / (source.stem + ".pdf")
    assert result.returncode == 0 and target.exists(), result.stdout + result.stderr
    return target.read_bytes()


def _pages(pdf: bytes) -> list[tuple[float, float]]:
    """Each page's size in points, from its MediaBox."""
    boxes = re.findall(rb"/Type\s*/Page[^s].*?/MediaBox\s*\[([^\]]*)\]", pdf, re.S)
    if not boxes:  # the box may come before the type in a page's dictionary
        boxes = re.findall(rb"/MediaBox\s*\[([^\]]*)\]", pdf)
    sizes = []
    for box in boxes:
        x0, y0, x1, y1 = (float(v) for v in box.split())
        sizes.append((round(x1 - x0, 1), round(y1 - y0, 1)))
    return sizes


async def test_each_document_converts_to_a_pdf_on_a4(filled: Filled, tmp_path: Path) -> None:
    soffice = _soffice()
    files = await export_documents(filled.app, filled.instance_id)
    for file in files:
        source = tmp_path / file.name
        source.write_bytes(file.content)
        pdf = _to_pdf(soffice, source, tmp_path)
        assert pdf.startswith(b"%PDF")
        pages = _pages(pdf)
        assert pages, file.name
        if file.name.endswith(".docx"):
            assert set(pages) == {A4}, file.name
            assert len(pages) >= 5  # the whole report, not a first page alone
        else:
            # Landscape A4, one page wide: the ledger's four items fit on one page.
            assert set(pages) == {(A4[1], A4[0])}, file.name
