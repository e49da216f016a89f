"""Names and role phrases: spacing, rosters, groups, units and superior bodies."""

from __future__ import annotations

import pytest

from bot.plan.cn_names import (
    Group,
    group_of,
    is_unit,
    leading_group,
    member_id_for,
    preferred_title,
    split_names,
    superior_bodies,
)


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("方 磊", ("方磊",)),
        ("方磊", ("方磊",)),
        ("唐 军 孟 平", ("唐军", "孟平")),
        ("王 小 明", ("王小明",)),
        ("方磊、唐军", ("方磊", "唐军")),
        ("陈晓红、周 伟", ("陈晓红", "周伟")),
        ("方 磊  陈晓红", ("方磊", "陈晓红")),
        ("唐军同志", ("唐军",)),
    ],
)
def test_names_by_spacing(text: str, names: tuple[str, ...]) -> None:
    reading = split_names(text)
    assert reading.names == names
    assert reading.doubtful == reading.unreadable == ()


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("王 小 明 孟 平", ("王小", "明孟平")),
        ("唐 军 孟 平 方 磊", ("唐军", "孟平", "方磊")),
        ("欧阳小明", ("欧阳", "小明")),
    ],
)
def test_doubtful_spacing_is_said(text: str, names: tuple[str, ...]) -> None:
    reading = split_names(text)
    assert reading.names == names
    assert len(reading.doubtful) == 1 and text.replace(" ", "") in reading.doubtful[0]


@pytest.mark.parametrize("text", ["欧阳 明", "方磊唐军孟平", "Fang Lei"])
def test_unreadable_pieces(text: str) -> None:
    assert split_names(text).unreadable


@pytest.mark.parametrize(
    ("text", "roster", "names"),
    [
        ("王 小 明 孟 平", ["王小明", "孟平"], ("王小明", "孟平")),
        ("欧阳 明", ["欧阳明"], ("欧阳明",)),
        ("唐 军 孟 平", ["唐 军", "孟平"], ("唐军", "孟平")),
        ("方磊唐军孟平", ["方磊", "唐军", "孟平"], ("方磊", "唐军", "孟平")),
    ],
)
def test_names_by_roster(text: str, roster: list[str], names: tuple[str, ...]) -> None:
    reading = split_names(text, roster)
    assert reading.names == names
    assert reading.doubtful == reading.unreadable == ()


@pytest.mark.parametrize(
    ("phrase", "group"),
    [
        ("班子成员", Group.MEMBERS),
        ("委领导班子全体成员", Group.MEMBERS),
        ("领导班子成员", Group.MEMBERS),
        ("各支部书记", Group.ATTENDEE),
        ("列席会议代表", Group.ATTENDEE),
        ("主要领导", Group.LEAD),
        ("委党组书记", Group.LEAD),
        ("上级参会人员", Group.SUPERIOR),
        ("方磊", None),
        ("办公室", None),
    ],
)
def test_groups(phrase: str, group: Group | None) -> None:
    assert group_of(phrase) is group


def test_leading_group_only_looks_at_the_start() -> None:
    assert leading_group("主要领导代表班子作对照检查") is Group.LEAD
    assert leading_group("班子成员互相批评。由主要领导先点评") is Group.MEMBERS
    assert leading_group("认真开展民主测评，班子成员参加") is None


@pytest.mark.parametrize(
    ("phrase", "unit"),
    [("办公室", True), ("政办科", True), ("人事科", True), ("方磊", False), ("李 科", False)],
)
def test_units(phrase: str, unit: bool) -> None:
    assert is_unit(phrase) is unit


@pytest.mark.parametrize(
    ("text", "bodies"),
    [
        ("市纪委、市委组织部参会领导讲话", [("市纪委", "参会领导"), ("市委组织部", "参会领导")]),
        ("班子整改方案由市政府分管领导负责审阅", [("市政府", "分管领导")]),
        ("邀请市政府、汉滨区发改局领导参加会议", [("市政府", "领导"), ("汉滨区发改局", "领导")]),
        ("市委党的群众路线教育实践活动领导小组", []),
        ("党员领导干部民主生活会", []),
        ("主要领导作总结表态发言", []),
    ],
)
def test_superior_bodies(text: str, bodies: list[tuple[str, str]]) -> None:
    assert superior_bodies(text) == bodies


def test_leader_titles_prefer_the_specific_word() -> None:
    assert preferred_title(["领导", "分管领导"]) == "分管领导"
    assert preferred_title(["领导"]) == "参会领导"


@pytest.mark.parametrize(
    ("name", "taken", "member_id"),
    [
        ("方磊", [], "fanglei"),
        ("方磊", ["fanglei"], "fanglei-2"),
        ("党组书记", [], "secretary"),
        ("市政府分管领导", [], "city-leader"),
        ("市政府办公室", [], "shizhengfubangongshi"),
    ],
)
def test_member_ids(name: str, taken: list[str], member_id: str) -> None:
    assert member_id_for(name, taken) == member_id
