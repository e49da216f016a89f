"""The planner as pure functions over times: defaults, the calendar rule, quiet hours,
daylight saving, and which reminder is due after an outage."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from bot.plan.reminder_policy import ReminderPolicy, at_local, start_of_next_day
from bot.reminders.planner import (
    HORIZON_STEP_DAYS,
    Kind,
    Planned,
    Track,
    horizon,
    latest_due,
    next_after,
    schedule,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
DEFAULT = ReminderPolicy()
CN = dataclasses.replace(DEFAULT, calendar="cn")
FAR = datetime(2015, 1, 1, tzinfo=UTC)


def local(moment: datetime, zone: ZoneInfo = SHANGHAI) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


def end_of(day: str, zone: ZoneInfo = SHANGHAI) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(23, 59), zone)


def table(track: Track, zone: ZoneInfo = SHANGHAI, limit: int = 99) -> list[tuple[str, str]]:
    return [(local(p.send_at, zone), p.key) for p in track.planned[:limit]]


def test_default_policy_for_a_friday_deadline() -> None:
    found = schedule(end_of("2013-12-06"), DEFAULT, SHANGHAI, FAR)
    assert table(found.to_member, limit=6) == [
        ("12-03 09:00", "before:3"),
        ("12-05 09:00", "before:1"),
        ("12-06 09:00", "due:0"),
        ("12-07 09:00", "overdue:1"),
        ("12-08 09:00", "overdue:2"),
        ("12-09 09:00", "overdue:3"),
    ]
    assert table(found.escalation) == [("12-08 09:00", "escalation:2")]


def test_no_reminder_is_listed_at_or_after_the_limit() -> None:
    until = datetime(2013, 12, 10, 18, 0, tzinfo=SHANGHAI)
    found = schedule(end_of("2013-12-06"), DEFAULT, SHANGHAI, until)
    assert table(found.to_member)[-1] == ("12-10 09:00", "overdue:4")
    assert schedule(end_of("2013-12-06"), DEFAULT, SHANGHAI, end_of("2013-12-07")).escalation == (
        Track((), ())
    )


def test_a_deadline_on_a_sunday_is_announced_on_the_friday_before_with_the_calendar() -> None:
    found = schedule(end_of("2013-12-15"), CN, SHANGHAI, FAR)
    assert table(found.to_member, limit=4) == [
        ("12-12 09:00", "before:3"),
        ("12-13 09:00", "due:0"),
        ("12-16 09:00", "overdue:1"),
        ("12-17 09:00", "overdue:2"),
    ]
    assert found.to_member.planned[1].moved_from == date(2013, 12, 15)
    # Without the calendar the due-day reminder stays on the Sunday.
    plain = schedule(end_of("2013-12-15"), DEFAULT, SHANGHAI, FAR)
    assert table(plain.to_member, limit=3)[2] == ("12-15 09:00", "due:0")
    assert plain.to_member.planned[2].moved_from is None


def test_holidays_and_make_up_working_days() -> None:
    def due_day_reminder(day: str) -> Planned:
        found = schedule(end_of(day), CN, SHANGHAI, FAR)
        return next(p for p in found.to_member.planned if p.kind is Kind.DUE)

    # National Day 2013: 10-03 is a holiday, the working day before is Monday 09-30.
    national = due_day_reminder("2013-10-03")
    assert (local(national.send_at), national.moved_from) == ("09-30 09:00", date(2013, 10, 3))
    # Sunday 2014-01-26 is a make-up working day: nothing moves.
    makeup = due_day_reminder("2014-01-26")
    assert (local(makeup.send_at), makeup.moved_from) == ("01-26 09:00", None)
    # Spring Festival: Saturday 02-01 → Thursday 01-30 (01-31 is the holiday's first day).
    spring = due_day_reminder("2014-02-01")
    assert local(spring.send_at) == "01-30 09:00"


def test_a_moved_due_day_reminder_replaces_the_one_day_before() -> None:
    # Saturday 2013-12-21: the working day before is Friday 12-20, also "1 day before".
    found = schedule(end_of("2013-12-21"), CN, SHANGHAI, FAR)
    assert table(found.to_member, limit=3) == [
        ("12-18 09:00", "before:3"),
        ("12-20 09:00", "due:0"),
        ("12-23 09:00", "overdue:2"),
    ]
    # The escalation, due Monday 12-23, is on a working day already.
    assert table(found.escalation) == [("12-23 09:00", "escalation:2")]


def test_quiet_hours_defer_reminders_to_their_end() -> None:
    early = dataclasses.replace(DEFAULT, at=time(7, 0))
    found = schedule(end_of("2013-12-06"), early, SHANGHAI, FAR)
    assert [t for t, _k in table(found.to_member, limit=3)] == [
        "12-03 08:00",
        "12-05 08:00",
        "12-06 08:00",
    ]
    late = dataclasses.replace(DEFAULT, at=time(23, 30))
    found = schedule(end_of("2013-12-06"), late, SHANGHAI, FAR)
    # 23:30 falls in the evening part of 22:00–08:00: it goes out the next morning.
    assert [t for t, _k in table(found.to_member, limit=3)] == [
        "12-04 08:00",
        "12-06 08:00",
        "12-08 08:00",
    ]
    assert [p.kind for p in found.to_member.planned[:3]] == [Kind.BEFORE, Kind.BEFORE, Kind.OVERDUE]


def test_quiet_hours_that_do_not_wrap_midnight_and_none_at_all() -> None:
    lunch = dataclasses.replace(DEFAULT, at=time(12, 30), quiet_start=time(12), quiet_end=time(14))
    assert local(schedule(end_of("2013-12-06"), lunch, SHANGHAI, FAR).to_member.times[0]) == (
        "12-03 14:00"
    )
    never = dataclasses.replace(DEFAULT, at=time(23, 30), quiet_start=None, quiet_end=None)
    assert local(schedule(end_of("2013-12-06"), never, SHANGHAI, FAR).to_member.times[0]) == (
        "12-03 23:30"
    )
    assert not never.is_quiet(datetime(2013, 12, 3, 23, 30, tzinfo=SHANGHAI), SHANGHAI)


def test_local_time_holds_across_daylight_saving_changes() -> None:
    # Europe/Berlin moves to summer time on 2014-03-30: 09:00 local is 08:00 UTC before, 07:00 after.
    found = schedule(end_of("2014-04-01", BERLIN), DEFAULT, BERLIN, FAR)
    assert [
        (p.send_at.astimezone(UTC).strftime("%m-%d %H:%M"), p.key)
        for p in found.to_member.planned[:4]
    ] == [
        ("03-29 08:00", "before:3"),
        ("03-31 07:00", "before:1"),
        ("04-01 07:00", "due:0"),
        ("04-02 07:00", "overdue:1"),
    ]
    assert all(local(p.send_at, BERLIN).endswith("09:00") for p in found.to_member.planned)
    # A wall time the change skips (02:30 on 2014-03-09 in New York) lands after the gap.
    skipped = at_local(date(2014, 3, 9), time(2, 30), NEW_YORK)
    assert skipped.astimezone(NEW_YORK).strftime("%H:%M") == "03:30"


def test_a_due_time_earlier_than_the_reminder_time_has_no_due_day_reminder() -> None:
    morning = datetime(2013, 12, 6, 8, 0, tzinfo=SHANGHAI)
    found = schedule(morning, DEFAULT, SHANGHAI, FAR)
    assert [p.key for p in found.to_member.planned[:3]] == ["before:3", "before:1", "overdue:1"]


def test_custom_policy_and_disabled_policy() -> None:
    custom = dataclasses.replace(
        DEFAULT, days_before=(7,), on_due_day=False, overdue_every_days=3, escalate_after_days=0
    )
    found = schedule(end_of("2013-12-20"), custom, SHANGHAI, FAR)
    assert table(found.to_member, limit=3) == [
        ("12-13 09:00", "before:7"),
        ("12-23 09:00", "overdue:3"),
        ("12-26 09:00", "overdue:6"),
    ]
    assert found.escalation.planned == ()
    off = schedule(end_of("2013-12-20"), dataclasses.replace(DEFAULT, enabled=False), SHANGHAI, FAR)
    assert off.to_member.planned == () and off.escalation.planned == ()


def test_only_the_latest_missed_reminder_is_due_and_not_before_is_respected() -> None:
    track = schedule(end_of("2013-12-06"), DEFAULT, SHANGHAI, FAR).to_member
    given = datetime(2013, 12, 1, 9, 0, tzinfo=SHANGHAI)
    earliest = start_of_next_day(given, SHANGHAI)
    assert latest_due(track, earliest, datetime(2013, 12, 3, 8, 59, tzinfo=SHANGHAI)) is None
    # Down from 12-02 to 12-07 10:00: only the overdue reminder of 12-07 is due, not four.
    after_outage = latest_due(track, earliest, datetime(2013, 12, 7, 10, 0, tzinfo=SHANGHAI))
    assert after_outage is not None and after_outage.key == "overdue:1"
    # Given on 12-05 at 10:00: the 12-05 reminder is not sent that day.
    given_late = start_of_next_day(datetime(2013, 12, 5, 10, 0, tzinfo=SHANGHAI), SHANGHAI)
    assert latest_due(track, given_late, datetime(2013, 12, 5, 12, 0, tzinfo=SHANGHAI)) is None
    coming = next_after(track, given_late, datetime(2013, 12, 5, 12, 0, tzinfo=SHANGHAI))
    assert coming is not None and (local(coming.send_at), coming.key) == ("12-06 09:00", "due:0")
    # Exactly at a reminder's time it is due, and the next one is the following.
    at_due = datetime(2013, 12, 6, 9, 0, tzinfo=SHANGHAI)
    assert latest_due(track, earliest, at_due).key == "due:0"  # type: ignore[union-attr]
    assert next_after(track, earliest, at_due).key == "overdue:1"  # type: ignore[union-attr]


@given(
    due_day=st.dates(date(2013, 1, 10), date(2028, 12, 20)),  # 2027 on: weekends only
    at=st.times(),
    quiet=st.tuples(st.integers(0, 23), st.integers(0, 23)).filter(lambda q: q[0] != q[1]),
    zone=st.sampled_from([SHANGHAI, BERLIN, NEW_YORK]),
    calendar=st.sampled_from(["none", "cn"]),
)
def test_every_reminder_is_outside_quiet_hours_in_order_and_unique(
    due_day: date, at: time, quiet: tuple[int, int], zone: ZoneInfo, calendar: str
) -> None:
    policy = dataclasses.replace(
        DEFAULT, at=at, quiet_start=time(quiet[0]), quiet_end=time(quiet[1]), calendar=calendar
    )
    due = datetime.combine(due_day, time(23, 59), zone)
    found = schedule(due, policy, zone, due + timedelta(days=10))
    planned = found.to_member.planned + found.escalation.planned
    assert all(not policy.is_quiet(p.send_at, zone) for p in planned)
    assert list(found.to_member.times) == sorted(found.to_member.times)
    assert len({p.key for p in found.to_member.planned}) == len(found.to_member.planned)
    assert all(p.send_at < due for p in planned if p.kind in (Kind.BEFORE, Kind.DUE))
    assert all(p.send_at > due for p in planned if p.kind in (Kind.OVERDUE, Kind.ESCALATION))


@given(
    due_at=st.datetimes(datetime(2013, 1, 1), datetime(2015, 12, 31), timezones=st.just(UTC)),
    after=st.timedeltas(timedelta(days=-150), timedelta(days=400)),
    at=st.times(),
    quiet=st.tuples(st.integers(0, 23), st.integers(0, 23)).filter(lambda q: q[0] != q[1]),
    every=st.integers(0, 120),
    escalate=st.integers(0, 120),
    zone=st.sampled_from([SHANGHAI, BERLIN, NEW_YORK]),
)
def test_an_open_ended_schedule_to_its_horizon_agrees_with_an_endless_one(
    due_at: datetime,
    after: timedelta,
    at: time,
    quiet: tuple[int, int],
    every: int,
    escalate: int,
    zone: ZoneInfo,
) -> None:
    """Listed only to the horizon, a schedule gives the same reminder now, the same next one
    and the same escalation as one listed years further: nothing stops before the item is done."""
    policy = dataclasses.replace(
        DEFAULT,
        at=at,
        quiet_start=time(quiet[0]),
        quiet_end=time(quiet[1]),
        overdue_every_days=every,
        escalate_after_days=escalate,
    )
    now = due_at + after
    limit = horizon(policy, max(now, due_at))
    assert limit > max(now, due_at) + timedelta(days=HORIZON_STEP_DAYS)
    near = schedule(due_at, policy, zone, limit)
    endless = schedule(due_at, policy, zone, due_at + timedelta(days=800))
    for track, full in ((near.to_member, endless.to_member), (near.escalation, endless.escalation)):
        assert latest_due(track, due_at - timedelta(days=30), now) == latest_due(
            full, due_at - timedelta(days=30), now
        )
        assert next_after(track, now, now) == next_after(full, now, now)
    if escalate:
        assert near.escalation.planned == endless.escalation.planned


def test_the_horizon_moves_a_step_at_a_time_so_passes_share_a_schedule() -> None:
    """A daily pass over an overdue item meets a new horizon about once a month, not daily."""
    start = datetime(2014, 7, 1, 1, tzinfo=UTC)
    passes = [start + timedelta(hours=hours) for hours in range(0, 24 * 90, 6)]
    limits = [horizon(DEFAULT, moment) for moment in passes]
    assert len(set(limits)) in (3, 4)  # 90 days in steps of 32
    assert all(
        limit > moment + timedelta(days=32) for moment, limit in zip(passes, limits, strict=True)
    )
    assert limits == sorted(limits)
    long_interval = dataclasses.replace(DEFAULT, overdue_every_days=60)
    assert horizon(long_interval, start) - start > timedelta(days=60)


SPRING_FESTIVAL_2027 = frozenset(date(2027, 2, day) for day in range(5, 12))  # Fri 5 .. Thu 11
CN_2027 = dataclasses.replace(
    CN, holidays=SPRING_FESTIVAL_2027, workdays=frozenset({date(2027, 2, 14)})
)
FAR_2027 = datetime(2028, 1, 1, tzinfo=UTC)


def test_plan_given_spring_festival_days_move_the_due_day_reminder_to_the_working_day_before() -> (
    None
):
    found = schedule(end_of("2027-02-09"), CN_2027, SHANGHAI, FAR_2027)
    due = next(p for p in found.to_member.planned if p.kind is Kind.DUE)
    assert (local(due.send_at), due.moved_from) == ("02-04 09:00", date(2027, 2, 9))
    # The same deadline under the calendar alone (2027 unknown: weekends only) is a
    # Tuesday like any other; the cache keys on the plan's days, so it does not mix them up.
    plain = schedule(end_of("2027-02-09"), CN, SHANGHAI, FAR_2027)
    plain_due = next(p for p in plain.to_member.planned if p.kind is Kind.DUE)
    assert (local(plain_due.send_at), plain_due.moved_from) == ("02-09 09:00", None)


def test_a_plan_given_make_up_sunday_is_a_working_day_for_the_due_day_reminder() -> None:
    found = schedule(end_of("2027-02-14"), CN_2027, SHANGHAI, FAR_2027)
    # "3 days before" falls in the festival and comes on its eve, "1 day before" on a
    # Saturday and comes on the Friday; each counts the days from when it is sent.
    assert table(found.to_member, limit=3) == [
        ("02-04 09:00", "before:10"),
        ("02-12 09:00", "before:2"),
        ("02-14 09:00", "due:0"),
    ]
    assert found.to_member.planned[2].moved_from is None
    # Without the plan's days the Sunday is a weekend: the reminder goes on the Friday,
    # where it replaces "1 day before" (moved there from the Saturday).
    plain = schedule(end_of("2027-02-14"), CN, SHANGHAI, FAR_2027)
    assert table(plain.to_member, limit=3) == [
        ("02-11 09:00", "before:3"),
        ("02-12 09:00", "due:0"),
        ("02-15 09:00", "overdue:1"),
    ]
    assert plain.to_member.planned[1].moved_from == date(2027, 2, 14)


def test_a_plan_given_holiday_overrides_the_package_in_a_year_it_knows() -> None:
    tuesday = "2026-03-10"  # a working day for chinesecalendar
    assert table(schedule(end_of(tuesday), CN, SHANGHAI, FAR_2027).to_member, limit=3)[2] == (
        "03-10 09:00",
        "due:0",
    )
    closed = dataclasses.replace(CN, holidays=frozenset({date.fromisoformat(tuesday)}))
    found = schedule(end_of(tuesday), closed, SHANGHAI, FAR_2027)
    # On the Monday the due-day reminder replaces the "1 day before" one; "3 days before"
    # falls on Saturday 03-07 and comes on Friday 03-06.
    assert table(found.to_member, limit=3) == [
        ("03-06 09:00", "before:4"),
        ("03-09 09:00", "due:0"),
        ("03-11 09:00", "overdue:1"),
    ]
    assert found.to_member.planned[1].moved_from == date(2026, 3, 10)


WEEKENDS = dataclasses.replace(DEFAULT, calendar="weekends")
BAVARIA = dataclasses.replace(DEFAULT, calendar="DE-BY")
FAR_BERLIN = datetime(2028, 1, 1, tzinfo=UTC)


def test_every_reminder_day_of_a_weekends_calendar_is_a_weekday() -> None:
    # Due Tuesday 2027-03-02: "3 days before" is Saturday → Friday; overdue skips the weekend.
    found = schedule(end_of("2027-03-02", BERLIN), WEEKENDS, BERLIN, FAR_BERLIN)
    assert table(found.to_member, BERLIN, limit=7) == [
        ("02-26 09:00", "before:4"),
        ("03-01 09:00", "before:1"),
        ("03-02 09:00", "due:0"),
        ("03-03 09:00", "overdue:1"),
        ("03-04 09:00", "overdue:2"),
        ("03-05 09:00", "overdue:3"),
        ("03-08 09:00", "overdue:6"),
    ]
    # Escalation two days after a Thursday deadline falls on Saturday: it comes on Monday.
    thursday = schedule(end_of("2027-03-04", BERLIN), WEEKENDS, BERLIN, FAR_BERLIN)
    assert table(thursday.escalation, BERLIN) == [("03-08 09:00", "escalation:4")]


def test_bavaria_across_easter_and_the_daylight_saving_change() -> None:
    # Easter Monday 2027-03-29 is a public holiday in Germany; Good Friday 03-26 too; the
    # clocks go forward on Sunday 03-28. Every reminder is on a working day at 09:00 local.
    found = schedule(end_of("2027-03-29", BERLIN), BAVARIA, BERLIN, FAR_BERLIN)
    planned = found.to_member.planned
    assert table(found.to_member, BERLIN, limit=3) == [
        ("03-25 09:00", "due:0"),
        ("03-30 09:00", "overdue:1"),
        ("03-31 09:00", "overdue:2"),
    ]
    assert planned[0].moved_from == date(2027, 3, 29)
    assert [p.send_at.strftime("%H:%M") for p in planned[:2]] == ["08:00", "07:00"]  # UTC
    assert table(found.escalation, BERLIN) == [("03-31 09:00", "escalation:2")]
    # Epiphany (01-06) is a holiday in Bavaria but not in Berlin.
    assert BAVARIA.working_days.is_working_day(date(2027, 1, 6)) is False
    berlin = dataclasses.replace(DEFAULT, calendar="DE-BE")
    assert berlin.working_days.is_working_day(date(2027, 1, 6)) is True


def test_a_country_calendar_under_the_plan_s_own_days() -> None:
    own = dataclasses.replace(
        BAVARIA, holidays=frozenset({date(2027, 3, 25)}), workdays=frozenset({date(2027, 3, 29)})
    )
    found = schedule(end_of("2027-03-29", BERLIN), own, BERLIN, FAR_BERLIN)
    assert table(found.to_member, BERLIN, limit=2) == [
        ("03-24 09:00", "before:5"),
        ("03-29 09:00", "due:0"),
    ]
