"""Chinese dates as work-plan documents write them.

Documents name deadlines like "12月6日前", "12月底前", "2014年2月底前", "1月上旬",
"会后15天内" or "召开十五天前", and phase spans like "2013年12月3日至12月20日" or
"2014年1月-2014年6月". The year is often left out: ``PartialDate`` keeps what the text
says, and ``infer_year`` picks the year that puts the date in (or nearest to) the phase.

Readings: "X日前" is due on day X itself; "上旬 / 中旬 / 下旬" are due on the 10th, the 20th
and the month's last day; "底 / 末" is the last day; "第2周" of a month is its days 8–14;
"春节前", "元旦前", "国庆节前" are due on the eve of the holiday (its first day off, from
``chinesecalendar`` for the lunar ones); "节前" alone names no holiday and is not read. "6月前" (a month with 前) is ambiguous
(end of May or end of June?) and is not read.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, time, timedelta

from bot.plan.working_days import MAX_WORKING_DAYS, WorkingDays

CN_DIGITS = "零〇一二两三四五六七八九十百"
NUMBER = rf"(?:\d+|[{CN_DIGITS}]+)"
_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９：", "0123456789:")
_DATE = re.compile(
    rf"(?:(?P<year>\d{{4}}|[零〇一二三四五六七八九]{{4}})\s*年)?\s*"
    rf"(?P<month>{NUMBER})\s*月份?\s*"
    rf"(?:(?P<day>{NUMBER})\s*[日号]|(?P<part>上旬|中旬|下旬|月?底|月?末|第[1-5一二三四五]周))?"
)
_HOLIDAY_EVE = re.compile(
    r"(?P<name>春节|元旦|国庆节?|五一|劳动节|清明节?|端午节?|中秋节?)\s*(?:假期|放假)?\s*(?:前|以前|之前)"
)
# The holidays' names in ``chinesecalendar``, and the day of those that have a fixed one.
_HOLIDAY_NAMES = {
    "元旦": "New Year's Day",
    "国庆": "National Day",
    "五一": "Labour Day",
    "劳动": "Labour Day",
    "春节": "Spring Festival",
    "清明": "Tomb-sweeping Day",
    "端午": "Dragon Boat Festival",
    "中秋": "Mid-autumn Festival",
}
_FIXED_HOLIDAYS = {"元旦": (1, 1), "国庆": (10, 1), "五一": (5, 1), "劳动": (5, 1)}
_RANGE_SEPARATOR = re.compile(r"^\s*(?:至|到|—+|–|－|-|~|～)\s*$")
_BEFORE = re.compile(r"^\s*(?:以前|之前|前|止|为止)")
_AFTER_MEETING = re.compile(
    rf"(?:会后|会议结束后|召开后|结束后)\s*(?P<days>{NUMBER})\s*(?:天|日)\s*(?:内|以内|之内)?"
)
_BEFORE_MEETING = re.compile(
    rf"(?:会前|会议召开前|召开前)\s*(?P<a>{NUMBER})\s*(?:天|日)"
    rf"|召开\s*(?P<b>{NUMBER})\s*(?:天|日)\s*(?:前|以前|之前)"
)
_WORKING_DAYS = re.compile(rf"{NUMBER}\s*个?工作日")
_WORKING_DAYS_AFTER_MEETING = re.compile(
    rf"(?:会后|会议结束后|召开后|结束后)\s*(?P<days>{NUMBER})\s*个?工作日\s*(?:内|以内|之内)?"
)
_CLOCK = re.compile(
    rf"(?P<half>上午|下午|晚上)?\s*(?P<hour>{NUMBER})\s*(?:[:时点])\s*(?:(?P<minute>\d{{1,2}})|(?P<half_hour>半))?"
)
_XUN_DAYS = {"上旬": (1, 10), "中旬": (11, 20)}


def cn_number(text: str) -> int:
    """An Arabic or Chinese numeral as an int: "15", "十五", "二〇一三"."""
    text = text.translate(_FULL_WIDTH_DIGITS).strip()
    if text.isdigit():
        return int(text)
    import cn2an  # on first use: every bot imports this module (the ledger), few need cn2an

    return int(cn2an.cn2an(text, "smart"))


def _last_day(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


@dataclass(frozen=True)
class PartialDate:
    """A date as the text gives it: the year may be missing, the day may be a part of a month.

    ``day`` is an exact day; otherwise ``part`` is "上旬", "中旬", "下旬" or "底", or None
    for the whole month.
    """

    year: int | None
    month: int
    day: int | None = None
    part: str | None = None

    def first_day(self, year: int) -> date:
        """The first day this text can mean, in ``year`` (the start of a phase)."""
        if self.day is not None:
            return date(year, self.month, self.day)
        if self.part in _XUN_DAYS:
            return date(year, self.month, _XUN_DAYS[self.part][0])
        if self.part == "下旬":
            return date(year, self.month, 21)
        if self.part == "底":
            return date(year, self.month, _last_day(year, self.month))
        if self.week is not None:
            return date(year, self.month, (self.week - 1) * 7 + 1)
        return date(year, self.month, 1)

    @property
    def week(self) -> int | None:
        """N of "第N周" (days 7N-6 to 7N of the month), else None."""
        if self.part and self.part.startswith("第"):
            return cn_number(self.part[1:-1])
        return None

    def last_day(self, year: int) -> date:
        """The last day this text can mean, in ``year`` (a deadline, the end of a phase)."""
        if self.day is not None:
            return date(year, self.month, self.day)
        if self.part in _XUN_DAYS:
            return date(year, self.month, _XUN_DAYS[self.part][1])
        if self.week is not None:
            return date(year, self.month, min(self.week * 7, _last_day(year, self.month)))
        return date(year, self.month, _last_day(year, self.month))

    def is_valid_in(self, year: int) -> bool:
        if not 1 <= self.month <= 12:
            return False
        return self.day is None or 1 <= self.day <= _last_day(year, self.month)


@dataclass(frozen=True)
class MeetingOffset:
    """A deadline relative to the meeting: "会后15天内" is +15, "召开15天前" is -15;
    "会后10个工作日内" is +10 working days (by the plan's calendar)."""

    days: int
    working: bool = False

    def as_plan_value(self) -> str:
        """The plan's notation, e.g. "meeting+15d", "meeting-15d" or "meeting+10wd"."""
        return f"meeting{self.days:+d}{'wd' if self.working else 'd'}"

    def day_after(self, meeting_day: date, working_days: WorkingDays) -> date:
        if self.working:
            return working_days.add(meeting_day, self.days)
        return meeting_day + timedelta(days=self.days)


@dataclass(frozen=True)
class HolidayEve:
    """A deadline "before the holiday": "春节前" is due on the day before its first day off."""

    holiday: str

    def day(self, year: int) -> date | None:
        """The eve of the holiday that falls in ``year``: the day before its break starts
        (in 2023 the Mid-Autumn Festival joined National Day, so "国庆节前" is 09-28).
        A fixed-day holiday in a year ``chinesecalendar`` does not know is taken alone;
        a lunar one there is not read (None)."""
        key = self.holiday if self.holiday == "春节" else self.holiday.removesuffix("节")
        import chinese_calendar  # only for documents that name a holiday

        wanted = _HOLIDAY_NAMES[key]
        fixed = _FIXED_HOLIDAYS.get(key)
        first = date(year, *fixed) if fixed else date(year, 1, 1)
        try:
            for offset in range(366):
                today = first + timedelta(days=offset)
                if today.year != year:
                    return None
                off, name = chinese_calendar.get_holiday_detail(today)
                if off and name == wanted:  # a make-up working day carries the name too
                    return _break_start(today) - timedelta(days=1)
        except NotImplementedError:
            if fixed:
                return date(year, *fixed) - timedelta(days=1)
        return None

    def nearest(self, near: tuple[date, date]) -> date | None:
        """The eve nearest the span ``near`` (a phase), of the years around it."""
        start, end = near
        days = [d for year in range(start.year - 1, end.year + 2) if (d := self.day(year))]
        return min(days, key=lambda d: (_distance(d, start, end), d)) if days else None


def _break_start(day: date) -> date:
    """The first day of the official break ``day`` is in (named holidays, back to back)."""
    import chinese_calendar

    for _ in range(15):
        before = day - timedelta(days=1)
        off, name = chinese_calendar.get_holiday_detail(before)
        if not (off and name):
            break
        day = before
    return day


@dataclass(frozen=True)
class DateSpan:
    """A span of days; ``start`` is None when the text only says "before" the end."""

    start: date | None
    end: date


def _match_to_partial(match: re.Match[str]) -> PartialDate | None:
    try:
        year = cn_number(match["year"]) if match["year"] else None
        month = cn_number(match["month"])
        day = cn_number(match["day"]) if match["day"] else None
    except ValueError:
        return None
    part = match["part"]
    if part is not None:
        part = part.removeprefix("月")  # "12月月底" as "12月底"
    if part == "末":
        part = "底"
    partial = PartialDate(year=year, month=month, day=day, part=part)
    return partial if partial.is_valid_in(year or 2000) else None


def find_dates(text: str) -> list[tuple[re.Match[str], PartialDate]]:
    """Every readable date in the text, in order, with its match."""
    text = text.translate(_FULL_WIDTH_DIGITS)
    found = []
    for match in _DATE.finditer(text):
        partial = _match_to_partial(match)
        if partial is not None:
            found.append((match, partial))
    return found


def find_meeting_offset(text: str) -> MeetingOffset | None:
    """A deadline relative to the meeting anywhere in the text ("会后15天内", "召开15天前")."""
    text = text.translate(_FULL_WIDTH_DIGITS)
    working = _WORKING_DAYS_AFTER_MEETING.search(text)
    if working and cn_number(working["days"]) <= MAX_WORKING_DAYS:
        return MeetingOffset(cn_number(working["days"]), working=True)
    after = _AFTER_MEETING.search(text)
    if after:
        return MeetingOffset(cn_number(after["days"]))
    before = _BEFORE_MEETING.search(text)
    if before:
        return MeetingOffset(-cn_number(before["a"] or before["b"]))
    return None


def parse_deadline(text: str) -> PartialDate | MeetingOffset | HolidayEve | None:
    """The deadline a 时限 field names, or None when it cannot be read without guessing.

    A date wins over a meeting offset ("会后15天内（12月底前）" is due on 12月底); of two dates
    (a range) the later one is the deadline and inherits the first one's year.
    """
    text = text.translate(_FULL_WIDTH_DIGITS)
    if _WORKING_DAYS.search(text):  # only "会后N个工作日内" can be read without guessing
        offset = find_meeting_offset(text)
        return offset if offset is not None and offset.working else None
    dates = find_dates(text)
    if not dates:
        holiday = _HOLIDAY_EVE.search(text)
        if holiday:
            return HolidayEve(holiday["name"])
        return find_meeting_offset(text)
    match, deadline = dates[-1]
    if deadline.year is None and dates[0][1].year is not None:
        first = dates[0][1]
        year = first.year + 1 if first.year and deadline.month < first.month else first.year
        deadline = PartialDate(year, deadline.month, deadline.day, deadline.part)
    month_only = deadline.day is None and deadline.part is None
    if month_only and _BEFORE.match(text[match.end() :]):
        return None
    return deadline


def infer_year(partial: PartialDate, near: tuple[date, date]) -> date:
    """The deadline day of ``partial``: in its own year, or the year nearest the span ``near``."""
    if partial.year is not None:
        return partial.last_day(partial.year)
    start, end = near
    candidates = [
        partial.last_day(year)
        for year in range(start.year - 1, end.year + 2)
        if partial.is_valid_in(year)
    ]
    return min(candidates, key=lambda day: (_distance(day, start, end), day))


def _distance(day: date, start: date, end: date) -> int:
    if day < start:
        return (start - day).days
    if day > end:
        return (day - end).days
    return 0


def parse_span(text: str, *, default_year: int | None) -> DateSpan | None:
    """A phase's span: "2013年12月3日至12月20日", "2013年12月31日前", "2014年1月-2014年6月".

    A missing year comes from the first date, else ``default_year``; an end month earlier
    than the start month is in the next year. None when nothing can be read.
    """
    text = text.translate(_FULL_WIDTH_DIGITS)
    dates = find_dates(text)
    if not dates:
        return None
    first_match, first = dates[0]
    year = first.year if first.year is not None else default_year
    if year is None:
        return None
    if len(dates) >= 2 and _RANGE_SEPARATOR.match(text[first_match.end() : dates[1][0].start()]):
        second = dates[1][1]
        end_year = second.year
        if end_year is None:
            end_year = year + 1 if second.month < first.month else year
        return DateSpan(first.first_day(year), second.last_day(end_year))
    if _BEFORE.match(text[first_match.end() :]):
        return DateSpan(None, first.last_day(year))
    return DateSpan(first.first_day(year), first.last_day(year))


def parse_clock(text: str) -> time | None:
    """A time of day: "上午9时", "下午3点半", "9:30", "九时"."""
    match = _CLOCK.search(text.translate(_FULL_WIDTH_DIGITS))
    if not match:
        return None
    try:
        hour = cn_number(match["hour"])
    except ValueError:
        return None
    if match["half"] in ("下午", "晚上") and hour < 12:
        hour += 12
    minute = 30 if match["half_hour"] else int(match["minute"] or 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    return time(hour, minute)


def day_after(day: date) -> date:
    return day + timedelta(days=1)
