"""People, offices and role phrases as work-plan documents write them.

Documents pad two-character names with a space so they line up with three-character ones
("方 磊"), and put several people in one field ("唐 军 孟 平" is 唐军 and 孟平). Without a
roster the spacing decides: a run of single characters is split into 2- or 3-character
names, and when it can be split more than one way the reading is reported as doubtful. With
a roster, the roster's names decide.

Role phrases ("班子成员", "各支部书记", "主要领导") become the plan's role groups; bodies such
as "市政府" or "汉滨区发改局" are superiors; "办公室" or "政办科" are units.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from pypinyin import lazy_pinyin

_SEPARATORS = re.compile(r"[、，,；;/／]+")
_HAN = r"\u4e00-\u9fff"
_ONLY_HAN = re.compile(rf"[{_HAN}]+")
_UNIT_SUFFIXES = ("办公室", "中心", "科", "室", "办", "局", "处", "股", "队", "所", "站", "组")
_SUPERIOR_BODY = re.compile(rf"(?:[{_HAN}]{{2}}[区县市]|[市省区县])[{_HAN}]{{1,5}}")
_SUPERIOR_MENTION = re.compile(
    rf"(?P<bodies>[{_HAN}、]+?)(?P<suffix>分管领导|参会领导|主要领导|领导)(?!小组|干部|班子)"
)
_LEADING_VERBS = re.compile(rf"^.*?(?:由|邀请|请|在|向)(?=[市省区县]|[{_HAN}]{{2}}[区县市])")
_SUFFIX_PREFERENCE = ("分管领导", "参会领导", "主要领导", "领导")


class Group(StrEnum):
    """Role groups a phrase can stand for; the values are the plan's role names."""

    MEMBERS = "members"
    ATTENDEE = "attendee"
    LEAD = "lead"
    SUPERIOR = "superior"
    ORGANIZER = "organizer"


_GROUP_PHRASES: tuple[tuple[re.Pattern[str], Group], ...] = (
    (re.compile(r"主要领导|主要负责人|一把手|党组书记|党委书记|党总支书记|^书记$"), Group.LEAD),
    (re.compile(r"班子|委领导|全体成员|各位领导"), Group.MEMBERS),
    (re.compile(r"支部书记|列席"), Group.ATTENDEE),
    (re.compile(r"上级"), Group.SUPERIOR),
)

# Placeholders for offices the documents name, with the ids the shipped plan uses.
OFFICE_IDS = {
    "党组书记": "secretary",
    "党委书记": "secretary",
    "主要领导": "secretary",
    "市政府": "city-leader",
    "市纪委": "discipline",
    "市委组织部": "organisation-dept",
    "支部书记代表": "branch-secretary",
    "组织者": "organizer",
}


def strip_spaces(text: str) -> str:
    """The text without any whitespace (names are compared this way)."""
    return "".join(text.split())


def group_of(phrase: str) -> Group | None:
    """The role group a phrase stands for: "委领导班子全体成员" is MEMBERS, and so on."""
    compact = strip_spaces(phrase)
    for pattern, group in _GROUP_PHRASES:
        if pattern.search(compact):
            return group
    return None


def is_unit(phrase: str) -> bool:
    """Whether a phrase names a unit (办公室, 政办科, 人事科) rather than a person."""
    compact = strip_spaces(phrase)
    return len(compact) >= 3 and compact.endswith(_UNIT_SUFFIXES) and " " not in phrase.strip()


def leading_group(text: str, *, within: int = 3) -> Group | None:
    """The role group a sentence starts with ("主要领导作总结" is LEAD), allowing "由" or "委"."""
    compact = strip_spaces(text)
    starts = []
    for pattern, group in _GROUP_PHRASES:
        match = pattern.search(compact)
        if match and match.start() <= within:
            starts.append((match.start(), group))
    return min(starts)[1] if starts else None


def superior_bodies(text: str) -> list[tuple[str, str]]:
    """Superior bodies with the word that follows them, in order.

    "市纪委、市委组织部参会领导讲话" gives [("市纪委", "参会领导"), ("市委组织部", "参会领导")];
    "由市政府分管领导负责审阅" gives [("市政府", "分管领导")]. "领导小组" and "领导干部" are
    not leaders of a body.
    """
    return split_superiors(text)[0]


def split_superiors(text: str) -> tuple[list[tuple[str, str]], str]:
    """The superior bodies in the text (as ``superior_bodies``) and the text without them."""
    found: list[tuple[str, str]] = []

    def take(match: re.Match[str]) -> str:
        bodies = []
        for raw_body in match["bodies"].split("、"):
            body = _LEADING_VERBS.sub("", raw_body)
            if _SUPERIOR_BODY.fullmatch(body):
                bodies.append(body)
        if not bodies:
            return match[0]
        for body in bodies:
            if (body, match["suffix"]) not in found:
                found.append((body, match["suffix"]))
        return "、"

    rest = _SUPERIOR_MENTION.sub(take, text)
    return found, rest


def preferred_title(suffixes: Iterable[str]) -> str:
    """The most specific word a document uses for a body's leader ("分管领导" over "领导")."""
    ranked = sorted(set(suffixes), key=_SUFFIX_PREFERENCE.index)
    title = ranked[0] if ranked else "领导"
    return "参会领导" if title == "领导" else title


@dataclass(frozen=True)
class NameReading:
    """The people read from a field, and what could not be read cleanly.

    ``doubtful`` explains readings that depended on spacing and could have gone another way;
    ``unreadable`` holds the pieces that are no name at all.
    """

    names: tuple[str, ...]
    doubtful: tuple[str, ...] = ()
    unreadable: tuple[str, ...] = ()


def split_names(text: str, roster_names: Iterable[str] = ()) -> NameReading:
    """Read the people in a field such as "方 磊", "唐 军 孟 平" or "张三、李四同志"."""
    known = sorted({strip_spaces(name) for name in roster_names if name}, key=len, reverse=True)
    names: list[str] = []
    doubtful: list[str] = []
    unreadable: list[str] = []
    for chunk in _SEPARATORS.split(text):
        chunk = re.sub(r"(同志|等)$", "", chunk.strip())
        if not chunk:
            continue
        by_roster = _segment_by_roster(strip_spaces(chunk), known)
        if by_roster is not None:
            names.extend(by_roster)
            continue
        reading = _split_by_spacing(chunk)
        names.extend(reading.names)
        doubtful.extend(reading.doubtful)
        unreadable.extend(reading.unreadable)
    return NameReading(tuple(names), tuple(doubtful), tuple(unreadable))


def _segment_by_roster(compact: str, known: list[str]) -> list[str] | None:
    if not known:
        return None
    if not compact:
        return []
    for name in known:
        if compact.startswith(name):
            rest = _segment_by_roster(compact[len(name) :], known)
            if rest is not None:
                return [name, *rest]
    return None


def _split_by_spacing(chunk: str) -> NameReading:
    names: list[str] = []
    doubtful: list[str] = []
    unreadable: list[str] = []
    run: list[str] = []

    def flush_run() -> None:
        if run:
            reading = _split_run("".join(run), spaced=True)
            names.extend(reading.names)
            doubtful.extend(reading.doubtful)
            unreadable.extend(reading.unreadable)
            run.clear()

    for token in chunk.split():
        if not _ONLY_HAN.fullmatch(token):
            flush_run()
            unreadable.append(token)
        elif len(token) == 1:
            run.append(token)
        else:
            flush_run()
            reading = _split_run(token, spaced=False)
            names.extend(reading.names)
            doubtful.extend(reading.doubtful)
            unreadable.extend(reading.unreadable)
    flush_run()
    return NameReading(tuple(names), tuple(doubtful), tuple(unreadable))


def _split_run(letters: str, *, spaced: bool) -> NameReading:
    """Split characters into names of 2 or 3; a written-together 2-3 is one name."""
    if not spaced and 2 <= len(letters) <= 3:
        return NameReading((letters,))
    if not spaced and len(letters) > 4:
        return NameReading((), unreadable=(letters,))
    if not spaced:
        halves = f"{letters[:2]}、{letters[2:]}"
        note = f"“{letters}” may be one four-character name or two names; read as {halves}"
        return NameReading((letters[:2], letters[2:]), doubtful=(note,))
    readings = _segmentations(letters)
    if not readings:
        return NameReading((), unreadable=(letters,))
    # Two-character names are the ones written with a space, so prefer them.
    chosen = min(readings, key=lambda parts: (any(len(p) == 3 for p in parts), len(parts)))
    if len(readings) == 1 and spaced:
        return NameReading(tuple(chosen))
    shown = " / ".join("、".join(parts) for parts in readings)
    note = f"“{letters}” can be read as {shown}; read as {'、'.join(chosen)}"
    return NameReading(tuple(chosen), doubtful=(note,))


def _segmentations(letters: str) -> list[list[str]]:
    if not letters:
        return [[]]
    found: list[list[str]] = []
    for size in (2, 3):
        if len(letters) >= size:
            for rest in _segmentations(letters[size:]):
                found.append([letters[:size], *rest])
    return found


def member_id_for(name: str, taken: Iterable[str]) -> str:
    """A readable, unused id for a new roster entry: "方磊" is "fanglei", offices have names."""
    base = OFFICE_IDS.get(name) or _slug(name) or "member"
    used = set(taken)
    candidate, number = base, 2
    while candidate in used:
        candidate, number = f"{base}-{number}", number + 1
    return candidate


def _slug(name: str) -> str:
    for office, office_id in OFFICE_IDS.items():
        if name.startswith(office) and name.endswith("领导") and len(office) >= 3:
            return office_id
    syllables = lazy_pinyin(strip_spaces(name), errors="ignore")
    return re.sub(r"[^a-z0-9]", "", "".join(syllables).lower())
