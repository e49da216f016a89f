"""Working days: the plan's own holidays and make-up days over the Chinese calendar, and
weekends in the years the ``chinesecalendar`` package does not know."""

from __future__ import annotations

from datetime import date

from bot.plan.working_days import WorkingDays, covered_years

SPRING_FESTIVAL_2027 = frozenset(date(2027, 2, day) for day in range(5, 12))  # Fri 5 .. Thu 11
MAKE_UP_SUNDAY_2027 = date(2027, 2, 14)
CN = WorkingDays("cn")
CN_2027 = WorkingDays("cn", SPRING_FESTIVAL_2027, frozenset({MAKE_UP_SUNDAY_2027}))


def test_the_package_does_not_know_2027_so_the_plan_is_the_only_source() -> None:
    years = covered_years("cn")
    assert years is not None and years[1] < 2027
    assert CN.unknown_years([date(2027, 2, 9), date(2026, 12, 1)]) == [2027]
    # A plan listing days of 2027 has given that year's calendar.
    assert CN_2027.unknown_years([date(2027, 2, 9)]) == []
    assert WorkingDays("none").unknown_years([date(2027, 2, 9)]) == []


def test_in_an_unknown_year_weekends_are_the_non_working_days() -> None:
    assert CN.is_working_day(date(2027, 2, 9))  # a Tuesday of the Spring Festival
    assert not CN.is_working_day(date(2027, 2, 13))  # Saturday
    assert not CN.is_working_day(MAKE_UP_SUNDAY_2027)
    assert CN.on_or_before(MAKE_UP_SUNDAY_2027) == date(2027, 2, 12)


def test_the_plan_s_own_days_make_the_spring_festival_and_its_make_up_sunday() -> None:
    assert not any(CN_2027.is_working_day(day) for day in SPRING_FESTIVAL_2027)
    assert CN_2027.on_or_before(date(2027, 2, 9)) == date(2027, 2, 4)
    assert CN_2027.is_working_day(MAKE_UP_SUNDAY_2027)
    assert CN_2027.on_or_before(MAKE_UP_SUNDAY_2027) == MAKE_UP_SUNDAY_2027
    assert not CN_2027.is_working_day(date(2027, 2, 13))  # other weekends stay weekends


def test_the_plan_s_own_days_override_the_package_in_a_year_it_knows() -> None:
    national_day = date(2026, 10, 1)
    ordinary_tuesday = date(2026, 3, 10)
    assert not CN.is_working_day(national_day) and CN.is_working_day(ordinary_tuesday)
    corrected = WorkingDays("cn", frozenset({ordinary_tuesday}), frozenset({national_day}))
    assert corrected.is_working_day(national_day)
    assert not corrected.is_working_day(ordinary_tuesday)
    assert corrected.on_or_before(ordinary_tuesday) == date(2026, 3, 9)


def test_without_a_calendar_only_the_plan_s_holidays_are_off() -> None:
    plain = WorkingDays("none", frozenset({date(2027, 2, 9)}))
    assert plain.is_working_day(date(2027, 2, 13))  # a Saturday: every day works
    assert plain.on_or_before(date(2027, 2, 9)) == date(2027, 2, 8)
