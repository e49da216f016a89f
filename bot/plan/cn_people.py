"""Who is who in a work-plan document: a title before a name is the person's office.

Attendee paragraphs give titles and the people who hold them, several people to a title:

    参加人员：局党组书记、局长张建华，党组成员、副局长李明、王芳，党组成员、纪检组长赵强。

is four people: 张建华 (党组书记, 局长), 李明 and 王芳 (党组成员, 副局长), 赵强 (党组成员,
纪检组长). Within a "，" group, titles come first and every name after them holds them;
"局长张建华" is a title glued to a name. ``split_title`` reads one such phrase anywhere
else in the document ("会议由局党组书记、局长张建华主持"), so a title never makes a second person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.plan.cn_names import strip_spaces

_HAN = r"\u4e00-\u9fff"
# Words that end a title: an office or a body's membership. Longest first.
_TITLE_ENDINGS = (
    "党组成员",
    "党委委员",
    "支部委员",
    "班子成员",
    "调研员",
    "董事长",
    "总经理",
    "总会计师",
    "总工程师",
    "书记",
    "局长",
    "校长",
    "院长",
    "所长",
    "站长",
    "主任",
    "组长",
    "部长",
    "处长",
    "科长",
    "县长",
    "区长",
    "镇长",
    "乡长",
    "主席",
    "经理",
    "行长",
    "委员",
    "成员",
    "监事",
    "常委",
)
_ENDING = "|".join(_TITLE_ENDINGS)
_TITLE_THEN_NAME = re.compile(rf"^(?P<title>[{_HAN}]*?(?:{_ENDING}))(?P<name>[{_HAN}]{{2,3}})$")
_ONLY_TITLE = re.compile(rf"^[{_HAN}]*(?:{_ENDING})$")
_NAME = re.compile(rf"^[{_HAN}]{{2,3}}$")
# The first secretary named leads the body and chairs its meeting; a deputy does not, nor
# the secretary of the discipline commission (纪委书记).
_LEAD_TITLE = re.compile(r"^(?!.*(?:纪委|纪检|纪工委)).*(?<!副)书记$")
_NOT_NAMES = re.compile(
    r"同志|全体|各|领导|代表|人员|干部|党员|群众|科室|单位|列席|出席|参加|参会|指导"
)


@dataclass
class Holder:
    """One person of an attendee paragraph and the titles the document gives them."""

    name: str
    titles: list[str] = field(default_factory=list)

    @property
    def leads(self) -> bool:
        return any(_LEAD_TITLE.search(title) for title in self.titles)


def split_title(phrase: str) -> tuple[str, str]:
    """(title, name) of "局长张建华" (or "局长张建华同志"); ("", phrase) when no title is glued
    to a name."""
    compact = _without_comrade(strip_spaces(phrase))
    match = _TITLE_THEN_NAME.match(compact)
    if match and not _ONLY_TITLE.match(compact) and not _NOT_NAMES.search(match["name"]):
        return match["title"], match["name"]
    return "", compact


def _without_comrade(text: str) -> str:
    """ "段宏同志" is 段宏."""
    return text[:-2] if text.endswith("同志") and len(text) > 3 else text


def is_title(phrase: str) -> bool:
    """Whether a phrase is only a title ("党组成员", "副局长", "局党组书记")."""
    return bool(_ONLY_TITLE.match(strip_spaces(phrase)))


def read_holders(text: str) -> list[Holder]:
    """The people of an attendee paragraph with their titles, in order, each once.

    Nothing is returned for a paragraph that names groups only ("全体班子成员")."""
    holders: dict[str, Holder] = {}
    for group in re.split(r"[，,；;。]", text):
        titles: list[str] = []
        for piece in re.split(r"[、和及与]", group):
            piece = _without_comrade(strip_spaces(re.sub(r"[（(][^）)]*[）)]", "", piece)))
            if not piece:
                continue
            if is_title(piece):
                titles.append(piece)
                continue
            title, name = split_title(piece)
            if title:
                titles.append(title)
            if not _NAME.match(name) or _NOT_NAMES.search(name) or not titles:
                continue
            holder = holders.setdefault(name, Holder(name))
            holder.titles.extend(t for t in titles if t not in holder.titles)
    return list(holders.values())


def bare_title(title: str) -> str:
    """The office without the body's prefix: "局党组书记" is "党组书记", "副局长" stays."""
    for ending in sorted(_TITLE_ENDINGS, key=len, reverse=True):
        if title.endswith(ending):
            start = len(title) - len(ending)
            if ending in ("书记",) and title[max(0, start - 2) : start] in ("党组", "党委"):
                return title[start - 2 :]
            if title[start - 1 : start] == "副":
                return title[start - 1 :]
            return ending if ending != "书记" else title[max(0, start - 3) :]
    return title
