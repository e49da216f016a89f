"""Counting a survey round: counts and percentages per item, the pass rate, the verdict.

Results are shown only for a closed round with at least the plan's ``min_ballots``.
"""

from __future__ import annotations

from typing import Any

from bot.core.formatting import names_text
from bot.core.i18n import _, ngettext
from bot.plan import Survey
from storage.surveys import SurveyRound


def count(survey: Survey, ballots: list[list[str]]) -> dict[str, Any]:
    """The stored result of a round: counts per item and choice, rate, passed."""
    counts = [[0] * len(survey.scale) for _item in survey.items]
    passes = answers = 0
    for ballot in ballots:
        for item, choice in enumerate(ballot[: len(survey.items)]):
            if choice in survey.scale:
                counts[item][survey.scale.index(choice)] += 1
                answers += 1
                passes += choice in survey.pass_choices
    shown = len(ballots) >= survey.min_ballots
    rate = passes / answers if survey.pass_choices and answers else None
    passed = None
    if survey.threshold is not None:
        passed = shown and rate is not None and rate >= survey.threshold
    return {"ballots": len(ballots), "counts": counts, "rate": rate, "passed": passed}


def percent(share: float) -> str:
    """80% / 66.7%: no ".0" on a whole number."""
    value = round(share * 100, 1)
    return f"{value:.0f}%" if value == int(value) else f"{value:.1f}%"


def _labelled(label: str, text: str) -> str:
    return _("{label}: {text}").format(label=label, text=text)


def result_text(survey: Survey, survey_round: SurveyRound) -> str:
    """The result of a round as the group reads it (hidden while open or below the minimum)."""
    result = survey_round.result
    if survey_round.status == "open" or result is None:
        return _("“{title}”, round {round}, is open; the results are shown when it closes.").format(
            title=survey.title, round=survey_round.round
        )
    total = result["ballots"]
    if total < survey.min_ballots:
        return ngettext(
            "“{title}”, round {round}, has closed with {count} ballot; results are shown only with at least {minimum}, so they stay hidden.",
            "“{title}”, round {round}, has closed with {count} ballots; results are shown only with at least {minimum}, so they stay hidden.",
            total,
        ).format(
            title=survey.title, round=survey_round.round, count=total, minimum=survey.min_ballots
        )
    lines = [
        ngettext(
            "“{title}”, round {round}, has closed with {count} ballot.",
            "“{title}”, round {round}, has closed with {count} ballots.",
            total,
        ).format(title=survey.title, round=survey_round.round, count=total)
    ]
    for number, (item, counts) in enumerate(zip(survey.items, result["counts"], strict=True), 1):
        cells = " · ".join(
            _("{choice} {count} ({share})").format(choice=choice, count=n, share=percent(n / total))
            for choice, n in zip(survey.scale, counts, strict=True)
        )
        lines.append(_labelled(f"{number}. {item}", cells))
    if result["rate"] is not None and survey.pass_choices:
        lines.append(
            _("{choices} together: {rate}").format(
                choices=names_text(list(survey.pass_choices)), rate=percent(result["rate"])
            )
        )
    if result["passed"] is not None and survey.threshold is not None:
        verdict = (
            _("At least {threshold} is required: reached.")
            if result["passed"]
            else _("At least {threshold} is required: not reached.")
        )
        lines.append(verdict.format(threshold=percent(survey.threshold)))
    return "\n".join(lines)


def history_text(survey: Survey, rounds: list[SurveyRound]) -> str:
    """Every round of a survey, one line each (the rate and verdict where there is one)."""
    lines = []
    for survey_round in rounds:
        result = survey_round.result
        if result is None:
            state = _("open")
        elif result["ballots"] < survey.min_ballots:
            state = ngettext(
                "{count} ballot, too few to show",
                "{count} ballots, too few to show",
                result["ballots"],
            ).format(count=result["ballots"])
        elif result["rate"] is not None:
            state = percent(result["rate"])
            if result["passed"] is not None:
                state += " — " + (_("reached") if result["passed"] else _("not reached"))
        else:
            state = ngettext(
                "{count} ballot",
                "{count} ballots",
                result["ballots"],
            ).format(count=result["ballots"])
        lines.append(_("Round {round}: {state}").format(round=survey_round.round, state=state))
    return "\n".join(lines)
