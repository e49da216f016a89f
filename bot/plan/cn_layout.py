"""How a Chinese work-plan document lays a plan out in text: the genre's grammar.

Markers of items ("一是", "1.", "（1）", "①", "（一）"), headings of phases and agendas, the
field labels of a task ("（牵头领导：… 责任单位：… 完成时限：…）") and what they mean, the phrases
of the meeting (chair, participants, invited superiors, agenda), and the small helpers that cut a
line into its title, description and fields. The importer (``bot.plan.importer``) reads the
document with them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.plan.cn_names import strip_spaces

CN_NUMERAL = "一二三四五六七八九十"
# Who answers for a task: the leader first (牵头领导 leads it, not reviews it), then the person.
LEADER_LABELS = ("牵头领导", "责任领导", "分管领导")
PERSON_LABELS = ("责任人", "具体负责人", "主要负责人", "负责人", "经办人")
# A unit is not a person: it is the task's department, and its contact is asked for.
UNIT_LABELS = (
    "责任单位",
    "责任部门",
    "责任科室",
    "责任处室",
    "牵头单位",
    "牵头部门",
    "牵头处室",
    "承办单位",
    "承办部门",
    "主办单位",
    "主办部门",
)
ASSIGNEE_LABELS = PERSON_LABELS + UNIT_LABELS
DEADLINE_LABELS = (
    "完成时限",
    "完成时间",
    "完成日期",
    "截止时间",
    "截止日期",
    "截止时限",
    "办结时限",
    "时间节点",
    "时限",
    "时间",
)
OTHER_LABELS = ("配合单位", "配合部门", "协助单位", "协办单位", "参与单位", "配合处室")
LABEL = "|".join(
    sorted(ASSIGNEE_LABELS + LEADER_LABELS + DEADLINE_LABELS + OTHER_LABELS, key=len)[::-1]
)
FIELDS_IN_PARENS = re.compile(rf"[（(](?P<fields>\s*(?:{LABEL})\s*[：:][^（()）]*)[）)]")
FIELDS_TRAILING = re.compile(rf"(?P<fields>(?:{LABEL})\s*[：:].*)$")
FIELD = re.compile(
    rf"(?P<label>{LABEL})\s*[：:]\s*(?P<value>.*?)\s*[；;，,。]?\s*(?=(?:{LABEL})\s*[：:]|$)"
)
CIRCLED = "①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮"
ITEM_MARKER = re.compile(
    rf"^\s*(?:[{CN_NUMERAL}]+是|[（(]\d+[）)]|\d+\s*[.．、)）](?!\d)|[{CIRCLED}])\s*"
)
AGENDA_MARKER = re.compile(rf"^\s*(?:[（(][{CN_NUMERAL}]+[）)]|第[{CN_NUMERAL}]+项[：:，,]?)\s*")
INLINE_ITEM = re.compile(rf"(?<=[。；;])\s*(?=[{CN_NUMERAL}]+是)")
HEADING = re.compile(
    rf"^(?:[（(][{CN_NUMERAL}]+[）)]|第[{CN_NUMERAL}]+(?:阶段|步)[：:、]?|[{CN_NUMERAL}]+[、.．])"
)
PHASE_HEADING = re.compile(
    rf"^(?P<marker>[（(][{CN_NUMERAL}]+[）)]|第[{CN_NUMERAL}]+(?:阶段|步)[：:、]?"
    rf"|[{CN_NUMERAL}]+[、.．])\s*(?P<title>[^（(。]*?)\s*"
    r"(?:[（(](?P<dates>[^（()）]*)[）)])?\s*[。：:]?$"
)
EXPLICIT_YEAR = re.compile(r"\d{4}\s*年|[〇零一二三四五六七八九]{4}\s*年")
MEETING_PHASE = re.compile(r"会议(?:进行|召开|举行)|召开.*会|进行阶段")
CHAIR = re.compile(r"会议由(?P<who>[^，。；,;]+?)主持")
ATTENDING = re.compile(r"(?P<who>[^，。；：,;:]+?)列席(?:会议)?(?=[。；;，,]|$)")
INVITED = re.compile(
    r"邀请(?P<who>[^，。；,;]+?)(?:参加|出席|列席|指导)"
    r"|(?P<guide>[^，。；,;：:]+?领导)(?:列席|到会|出席|参会)指导"
)
PARTICIPANTS = re.compile(
    r"(?:参会对象|参会人员|参加人员|与会人员|出席人员|参会范围|参加对象)[：:](?P<who>[^；;。]+)"
)
MEETING_WHEN = re.compile(r"(?:定于|会议时间[：:])\s*(?P<when>[^，。；,;]+)")
INLINE_AGENDA = re.compile(r"^(?:会议|主要|会议主要)?议程(?:安排|如下)?[：:](?P<items>.+)$")
AGENDA_HEADING = re.compile(
    rf"^(?:\d+\s*[.．、]\s*|[（(][{CN_NUMERAL}\d]+[）)]\s*)?(?:会议|主要|会议主要)?议程"
    r"(?:安排|如下|及安排)?[：:]?$"
)
PRESENTER = re.compile(r"(?:^(?:由|请)?|由|请)(?P<who>[\u4e00-\u9fff 、]{2,20}?)同志")
OFFICE_PREFIX = re.compile(r"^(?:本委|我委|委|本单位|本局|我局|本部门|各)")
REVIEW_BY = re.compile(r"^(?P<object>.*?)由(?P<who>.+?)(?:负责)?(?:审阅|审核|审定)")
REVIEWER_FIRST = re.compile(r"^(?P<who>[^，,]+?)负责(?:审阅|审核|审定)(?P<object>.*)$")
SPLIT_TITLE = re.compile(r"^(?P<verb>制定|撰写|起草|形成|制订)(?P<a>.+?)和(?P<b>.+)$")
THRESHOLD = re.compile(r"满意率[^，。；]*?(?P<number>\d+(?:\.\d+)?)\s*[%％]")
THRESHOLD_CN = re.compile(r"满意率[^，。；]*?百分之(?P<number>[零一二三四五六七八九十]+)")
THRESHOLD_TENTHS = re.compile(r"满意率[^，。；]*?(?P<number>[一二三四五六七八九\d])成")
SEND_TO_SUPERIOR = re.compile(r"(?P<verb>报送|上报|提交)(?P<object>[^，。；]+)")
RECIPIENT = re.compile(r"向(?P<to>[^，。；向]+?)(?:报送|上报|提交)")
SENTENCE_END = re.compile(r"(?<=[。；;！!])")


@dataclass(frozen=True)
class Line:
    number: int
    text: str


@dataclass
class Item:
    """A task or agenda item: a numbered paragraph and its continuation lines."""

    line: Line
    text: str


def strip_marker(text: str) -> str:
    text = ITEM_MARKER.sub("", text, count=1)
    return AGENDA_MARKER.sub("", text, count=1).strip()


def split_fields(text: str) -> tuple[str, list[tuple[str, str]]]:
    """The text without its field group, and the (label, value) fields, in order."""
    match = FIELDS_IN_PARENS.search(text) or FIELDS_TRAILING.search(text)
    if not match:
        return text.strip(), []
    body = (text[: match.start()] + text[match.end() :]).strip()
    fields = [
        (found["label"], found["value"].strip(" ；;，,。"))
        for found in FIELD.finditer(match["fields"].strip())
    ]
    return body, fields


def has_fields(text: str) -> bool:
    return bool(FIELDS_IN_PARENS.search(text) or FIELDS_TRAILING.search(text))


def title_and_description(body: str) -> tuple[str, str]:
    """The leading clause is the title; the rest of the paragraph is the description."""
    title = re.split(r"[。；;！!：:]", body, maxsplit=1)[0]
    rest = body[len(title) + 1 :].strip()
    title = title.strip()
    first = title.split("，", 1)[0]
    if len(title) > 24 and "，" in title:
        return first, body
    if first != title and 2 <= len(first) <= 8:  # "学习研讨，局党组中心组集中学习。"
        return first, body[len(first) + 1 :].strip()
    return title, (rest or body)


def sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_END.split(text) if s.strip()]


def clean_office(phrase: str) -> str:
    return OFFICE_PREFIX.sub("", strip_spaces(phrase))
