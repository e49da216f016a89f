"""The importer on the genre, not only the seed: fourteen work plans of other offices, years
and phrasings (tests/plan/documents/genre/, .txt and .docx, some with task tables), each with
the facts a person reads in it. ``python -m bench.importer`` prints the same figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.importer import GENRE, documents, main, score, score_all
from bot.core.i18n import use_locale
from bot.plan.importer import import_plan

PAIRS = documents()


def test_the_genre_has_documents_of_both_formats_and_with_tables() -> None:
    assert len(PAIRS) >= 14
    suffixes = {document.suffix for document, _expected in PAIRS}
    assert suffixes == {".txt", ".docx"}


@pytest.mark.parametrize(("document", "expected"), PAIRS, ids=[d.name for d, _e in PAIRS])
def test_every_fact_of_the_document_is_read_right(document: Path, expected: Path) -> None:
    found = score(document, expected)
    assert found.misses == []
    assert found.right >= 25  # people, phases, tasks with owners and dates, the agenda...


def test_the_accuracy_over_all_documents_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    scores = score_all()
    right, total = sum(s.right for s in scores), sum(s.total for s in scores)
    assert total > 600 and right == total
    assert main([]) == 0
    assert f"{right}/{total} facts read right: 100.0%" in capsys.readouterr().out


def test_what_is_not_read_is_listed_with_line_and_text() -> None:
    with use_locale("en"):
        result = import_plan(GENRE / "13-another-office-2024.txt")
    by_line = {issue.line: issue for issue in result.warnings}
    phase = by_line[20]
    assert phase.text == "（三）整改落实（2024年1月至3月）"
    assert "starts the day after it, 2024-01-27" in phase.message
    assert all(issue.line and issue.text for issue in result.warnings if issue.line)


def test_a_title_before_a_name_makes_no_second_person() -> None:
    result = import_plan(GENRE / "11-court-2018.txt")
    names = [line for line in result.toml_text.splitlines() if line.startswith("name = ")]
    assert names.count('name = "曾庆丰"') == 1
    assert not any("院长" in line or "党组书记" in line for line in names)
