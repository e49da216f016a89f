"""Chinese dates: deadlines, phase spans, year inference and times of day."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.plan.cn_dates import (
    DateSpan,
    MeetingOffset,
    PartialDate,
    cn_number,
    infer_year,
    parse_clock,
    parse_deadline,
    parse_span,
)
from bot.plan.working_days import WorkingDays

PHASE_2013 = (date(2013, 12, 3), date(2013, 12, 20))
YEAR_END = (date(2013, 12, 21), date(2014, 1, 31))
FIRST_HALF_2014 = (date(2014, 1, 1), date(2014, 6, 30))


@pytest.mark.parametrize(
    ("text", "near", "expected"),
    [
        ("12月6日前", PHASE_2013, date(2013, 12, 6)),
        ("12月底前", PHASE_2013, date(2013, 12, 31)),
        ("2014年2月底前", PHASE_2013, date(2014, 2, 28)),
        ("2016年2月底前", PHASE_2013, date(2016, 2, 29)),
        ("12月上旬", PHASE_2013, date(2013, 12, 10)),
        ("12月中旬前", PHASE_2013, date(2013, 12, 20)),
        ("11月下旬", PHASE_2013, date(2013, 11, 30)),
        ("1月10日前", YEAR_END, date(2014, 1, 10)),
        ("1月10日前", PHASE_2013, date(2014, 1, 10)),
        ("12月底前", FIRST_HALF_2014, date(2013, 12, 31)),
        ("十二月六日前", PHASE_2013, date(2013, 12, 6)),
        ("２０１４年３月末", PHASE_2013, date(2014, 3, 31)),
        ("12月1日至12月15日", PHASE_2013, date(2013, 12, 15)),
        ("2013年12月20日至1月5日", PHASE_2013, date(2014, 1, 5)),
        ("4月", FIRST_HALF_2014, date(2014, 4, 30)),
    ],
)
def test_deadlines(text: str, near: tuple[date, date], expected: date) -> None:
    deadline = parse_deadline(text)
    assert isinstance(deadline, PartialDate)
    assert infer_year(deadline, near) == expected


@pytest.mark.parametrize(
    ("text", "offset"),
    [
        ("会后15天内", "meeting+15d"),
        ("会后十五天内", "meeting+15d"),
        ("民主生活会召开15天前", "meeting-15d"),
        ("会前3天", "meeting-3d"),
        ("会议结束后二十日内", "meeting+20d"),
        ("会后5个工作日内", "meeting+5wd"),
        ("会议结束后十个工作日以内", "meeting+10wd"),
    ],
)
def test_meeting_offsets(text: str, offset: str) -> None:
    deadline = parse_deadline(text)
    assert isinstance(deadline, MeetingOffset)
    assert deadline.as_plan_value() == offset


@pytest.mark.parametrize(
    "text", ["另行通知", "长期坚持", "6月前", "5个工作日内", "13月5日前", "2月30日前", ""]
)
def test_unreadable_deadlines(text: str) -> None:
    assert parse_deadline(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2013年12月3日至12月20日", DateSpan(date(2013, 12, 3), date(2013, 12, 20))),
        ("2013年12月31日前", DateSpan(None, date(2013, 12, 31))),
        ("2014年1月-2014年6月", DateSpan(date(2014, 1, 1), date(2014, 6, 30))),
        ("2014年1月至6月", DateSpan(date(2014, 1, 1), date(2014, 6, 30))),
        ("12月上旬至12月中旬", DateSpan(date(2013, 12, 1), date(2013, 12, 20))),
        ("12月下旬至1月上旬", DateSpan(date(2013, 12, 21), date(2014, 1, 10))),
        ("2014年2月", DateSpan(date(2014, 2, 1), date(2014, 2, 28))),
        ("2015年1月21日—3月31日", DateSpan(date(2015, 1, 21), date(2015, 3, 31))),
    ],
)
def test_phase_spans(text: str, expected: DateSpan) -> None:
    assert parse_span(text, default_year=2013) == expected


def test_a_span_without_any_year_needs_one() -> None:
    assert parse_span("12月3日至12月20日", default_year=None) is None
    assert parse_span("尽快", default_year=2013) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("上午9时30分", time(9, 30)),
        ("下午3点半", time(15, 30)),
        ("14:00", time(14, 0)),
        ("上午九时", time(9, 0)),
        ("全天", None),
    ],
)
def test_clock(text: str, expected: time | None) -> None:
    assert parse_clock(text) == expected


@pytest.mark.parametrize(
    ("text", "value"), [("15", 15), ("十五", 15), ("二十", 20), ("二〇一三", 2013)]
)
def test_numbers(text: str, value: int) -> None:
    assert cn_number(text) == value


def test_weeks_of_a_month_and_holiday_eves() -> None:
    from bot.plan.cn_dates import HolidayEve

    week = parse_deadline("1月第2周")
    assert week is not None and not isinstance(week, HolidayEve | MeetingOffset)
    assert infer_year(week, (date(2024, 1, 1), date(2024, 1, 31))) == date(2024, 1, 14)
    spring = parse_deadline("春节前")
    assert spring == HolidayEve("春节")
    assert spring.nearest((date(2024, 1, 1), date(2024, 2, 28))) == date(2024, 2, 9)
    # 2023: Mid-Autumn joined National Day, the break started on 09-29.
    national = parse_deadline("国庆节前")
    assert isinstance(national, HolidayEve)
    assert national.nearest((date(2023, 9, 1), date(2023, 11, 30))) == date(2023, 9, 28)
    # A fixed-day holiday in a year the calendar does not know is taken alone; a lunar one
    # is not read.
    assert HolidayEve("元旦").day(2040) == date(2039, 12, 31)
    assert HolidayEve("春节").day(2040) is None
    assert parse_deadline("节前") is None  # names no holiday
    assert parse_deadline("12月月底前") == parse_deadline("12月底前")


def test_working_days_after_the_meeting_skip_weekends_and_holidays() -> None:
    """ "会后10个工作日内" after a meeting on Saturday 2026-01-10 ends on Friday 01-23; after one
    on 2025-09-30 it skips the National Day break (10-01 to 10-08) and counts Saturday 10-11,
    a make-up working day (调休), as one."""
    offset = parse_deadline("会后10个工作日内")
    assert isinstance(offset, MeetingOffset) and offset.working
    assert offset.day_after(date(2026, 1, 10), WorkingDays("cn")) == date(2026, 1, 23)
    assert offset.day_after(date(2025, 9, 30), WorkingDays("cn")) == date(2025, 10, 21)
    assert offset.day_after(date(2026, 1, 10), WorkingDays("none")) == date(2026, 1, 20)
