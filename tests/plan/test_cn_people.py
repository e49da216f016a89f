"""Titles and names in attendee paragraphs (bot/plan/cn_people.py)."""

from __future__ import annotations

from bot.plan.cn_people import is_title, read_holders, split_title


def test_several_people_to_a_title_and_several_titles_to_a_person() -> None:
    holders = read_holders(
        "局党组书记、局长张建华，党组成员、副局长李明、王芳，党组成员、纪检组长赵强"
    )
    assert [(h.name, h.titles, h.leads) for h in holders] == [
        ("张建华", ["局党组书记", "局长"], True),
        ("李明", ["党组成员", "副局长"], False),
        ("王芳", ["党组成员", "副局长"], False),
        ("赵强", ["党组成员", "纪检组长"], False),
    ]


def test_a_deputy_secretary_does_not_lead_and_groups_are_no_people() -> None:
    holders = read_holders("党委副书记、校长陈立新，全体班子成员，各支部书记列席")
    assert [(h.name, h.leads) for h in holders] == [("陈立新", False)]
    holders = read_holders("党委委员、纪委书记彭亮，党委书记、董事长高建新同志")
    assert [(h.name, h.leads) for h in holders] == [("彭亮", False), ("高建新", True)]


def test_split_title() -> None:
    assert split_title("局长张建华") == ("局长", "张建华")
    assert split_title(["县委常委", "常务副县长吴海燕"][1]) == ("常务副县长", "吴海燕")
    assert split_title("党组成员") == ("", "党组成员")
    assert split_title("办公室") == ("", "办公室")
    assert is_title("党组成员") and is_title("局党组书记") and not is_title("张建华")
