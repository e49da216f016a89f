"""The plan's [talks]: the required heart-to-heart pairs, and a failed round's revised task."""

from __future__ import annotations

import pytest

from bot.core.i18n import use_locale
from bot.plan import PlanError, load_plan_text
from bot.sandbox.demo.telegram import seed_plan_text


def with_talks(block: str) -> str:
    text = seed_plan_text()
    start = text.index("[talks]")
    return text[:start] + block


def test_the_seed_requires_the_chair_with_every_member_and_members_pairwise() -> None:
    plan = load_plan_text(seed_plan_text())
    assert plan.talk_pairs == (
        ("fanglei", "secretary"),
        ("tangjun", "secretary"),
        ("mengping", "secretary"),
        ("fanglei", "tangjun"),
        ("fanglei", "mengping"),
        ("tangjun", "mengping"),
    )
    assert plan.talks_task_id == "talks"
    assert plan.survey("satisfaction").revise_task_id == "team-plan"


def test_chair_with_members_only_and_an_explicit_list() -> None:
    plan = load_plan_text(with_talks('[talks]\nrequired = ["chair-with-members"]\n'))
    assert plan.talk_pairs == (
        ("fanglei", "secretary"),
        ("tangjun", "secretary"),
        ("mengping", "secretary"),
    )
    plan = load_plan_text(
        with_talks('[talks]\npairs = [["mengping", "tangjun"], ["tangjun", "mengping"]]\n')
    )
    assert plan.talk_pairs == (("tangjun", "mengping"),)  # roster order, no repeats


@pytest.mark.parametrize(
    ("block", "problem"),
    [
        ('[talks]\nrequired = ["everyone"]\n', "unknown rule 'everyone'"),
        ('[talks]\npairs = [["tangjun"]]\n', "each pair must name two different members"),
        ('[talks]\npairs = [["tangjun", "nobody"]]\n', "unknown member 'nobody'"),
        ('[talks]\nrequired = ["members-pairwise"]\ntask = "chat"\n', "unknown task 'chat'"),
        ("[talks]\n", "give 'required' rules or a list of 'pairs'"),
    ],
)
def test_bad_talks_are_named(block: str, problem: str) -> None:
    with use_locale("en"), pytest.raises(PlanError) as caught:
        load_plan_text(with_talks(block))
    assert any(problem in p for p in caught.value.problems), caught.value.problems
