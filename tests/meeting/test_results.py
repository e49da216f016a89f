"""Counting a survey round: counts, percentages, the pass rate, hidden below the minimum."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.i18n import use_locale
from bot.meeting.results import count, history_text, result_text
from bot.plan import Survey
from storage.surveys import SurveyRound

SATISFACTION = Survey(
    id="satisfaction",
    kind="satisfaction",
    title="满意度测评",
    voter_ids=(),
    scale=("满意", "基本满意", "不满意"),
    items=("总体评价",),
    pass_choices=("满意", "基本满意"),
    threshold=0.8,
    on_fail="reconvene",
)
NOW = datetime(2014, 6, 25, tzinfo=UTC)


def closed(result: dict[str, object], number: int = 1) -> SurveyRound:
    return SurveyRound(1, 1, "satisfaction", number, "closed", NOW, None, NOW, result, None)


def test_rate_is_the_share_of_pass_choices_and_80_percent_passes() -> None:
    four_of_five = count(SATISFACTION, [["满意"], ["基本满意"], ["满意"], ["满意"], ["不满意"]])
    assert four_of_five == {"ballots": 5, "counts": [[3, 1, 1]], "rate": 0.8, "passed": True}
    three_of_five = count(SATISFACTION, [["满意"], ["基本满意"], ["不满意"], ["不满意"], ["满意"]])
    assert three_of_five["rate"] == 0.6 and three_of_five["passed"] is False


def test_below_the_minimum_nothing_is_shown_and_nothing_passes() -> None:
    result = count(SATISFACTION, [["满意"], ["满意"]])
    assert result["passed"] is False  # 100% of two ballots is not a result
    with use_locale("en"):
        text = result_text(SATISFACTION, closed(result))
    assert "满意 2" not in text and "100" not in text
    assert "results are shown only with at least 3" in text


def test_an_open_round_shows_nothing() -> None:
    open_round = SurveyRound(1, 1, "satisfaction", 1, "open", NOW, None, None, None, None)
    with use_locale("en"):
        assert result_text(SATISFACTION, open_round).endswith(
            "is open; the results are shown when it closes."
        )


def test_counts_percentages_and_every_round_in_the_history() -> None:
    first = closed(count(SATISFACTION, [["满意"], ["不满意"], ["不满意"]]), 1)
    second = closed(count(SATISFACTION, [["满意"], ["基本满意"], ["满意"], ["满意"]]), 2)
    with use_locale("en"):
        text = result_text(SATISFACTION, second)
        history = history_text(SATISFACTION, [first, second])
    assert "1. 总体评价: 满意 3 (75%) · 基本满意 1 (25%) · 不满意 0 (0%)" in text
    assert "满意, 基本满意 together: 100%" in text
    assert "At least 80% is required: reached." in text
    assert history.splitlines() == ["Round 1: 33.3% — not reached", "Round 2: 100% — reached"]
