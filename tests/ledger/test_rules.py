"""The ledger's rules: marks, the completion rate over time, typed deadlines, what is due,
and measures imported from approved rectification submissions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.ledger.items import import_measures, split_measures
from bot.ledger.rules import (
    Mark,
    completion_series,
    items_due,
    mark,
    parse_due,
    status_series,
    summarize,
)
from storage import instances, ledger
from storage.records import LedgerItemRecord
from tests.ledger.conftest import ITEMS, Filled

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2014, 3, 1, 2, 0, tzinfo=UTC)


def item(status: str, due: datetime | None) -> LedgerItemRecord:
    return LedgerItemRecord(1, 1, "x", "meeting", "deadline", None, None, due, status, NOW, NOW)


@pytest.mark.parametrize(
    ("status", "due", "expected"),
    [
        ("todo", None, Mark.RED),
        ("in_progress", None, Mark.YELLOW),
        ("in_progress", NOW + timedelta(days=1), Mark.YELLOW),
        ("in_progress", NOW - timedelta(seconds=1), Mark.RED),  # overdue
        ("done", NOW - timedelta(days=9), Mark.GREEN),
    ],
)
def test_marks(status: str, due: datetime | None, expected: Mark) -> None:
    assert mark(item(status, due), NOW) is expected


def test_summary_counts_and_rate() -> None:
    found = [item("done", None), item("todo", NOW - timedelta(days=1)), item("in_progress", None)]
    summary = summarize(found, NOW)
    assert (summary.total, summary.done, summary.todo, summary.in_progress, summary.overdue) == (
        3,
        1,
        1,
        1,
        1,
    )
    assert summary.rate == pytest.approx(1 / 3)
    assert summarize([], NOW).rate == 0.0


def test_completion_series_is_the_rate_at_the_end_of_each_day() -> None:
    def at(day: int, hour: int) -> datetime:
        return datetime(2014, 1, day, hour, tzinfo=SHANGHAI)

    history = [
        (1, "todo", at(1, 9)),
        (2, "todo", at(1, 10)),
        (1, "done", at(2, 23)),
        (3, "todo", at(4, 8)),
        (2, "done", at(4, 9)),
    ]
    series = completion_series(history, at(5, 12), SHANGHAI)
    assert series == [
        (date(2014, 1, 1), 0.0),
        (date(2014, 1, 2), 0.5),
        (date(2014, 1, 3), 0.5),
        (date(2014, 1, 4), pytest.approx(2 / 3)),
        (date(2014, 1, 5), pytest.approx(2 / 3)),
    ]
    assert completion_series([], NOW, SHANGHAI) == []


def test_status_series_counts_done_in_progress_and_overdue_at_each_days_end() -> None:
    def at(day: int, hour: int) -> datetime:
        return datetime(2014, 1, day, hour, tzinfo=SHANGHAI)

    def record(item_id: int, due: datetime | None) -> LedgerItemRecord:
        return LedgerItemRecord(
            item_id, 1, "x", "meeting", "deadline", None, None, due, "todo", NOW, NOW
        )

    items = [record(1, at(2, 23)), record(2, None), record(3, at(3, 12))]
    history = [
        (1, "todo", at(1, 9)),
        (2, "todo", at(1, 10)),
        (3, "todo", at(1, 11)),
        (2, "in_progress", at(2, 9)),
        (3, "in_progress", at(2, 10)),
        (1, "done", at(4, 9)),  # done after its deadline: overdue on the 3rd, done on the 4th
    ]
    series = status_series(history, items, at(4, 12), SHANGHAI)
    # (day, done, in progress, overdue, total)
    assert series == [
        (date(2014, 1, 1), 0, 0, 0, 3),
        (date(2014, 1, 2), 0, 2, 1, 3),  # item 1 (to do) is past its 23:00 deadline at midnight
        (date(2014, 1, 3), 0, 1, 2, 3),  # item 3 too, though in progress
        (date(2014, 1, 4), 1, 1, 1, 3),
    ]
    assert status_series([], items, NOW, SHANGHAI) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2014-03-31", date(2014, 3, 31)),
        ("2014/3/5", date(2014, 3, 5)),
        ("2014年3月31日", date(2014, 3, 31)),
        ("3月31日", date(2014, 3, 31)),  # the next 31 March from 1 March 2014
        ("3月底", date(2014, 3, 31)),
        ("2月28日", date(2014, 2, 28)),  # the nearest: yesterday, not next year
        ("２０１４－０４－３０", None),
        ("下个月", None),
        ("2014-02-30", None),
        ("3月31日和4月1日", None),
    ],
)
def test_parse_due(text: str, expected: date | None) -> None:
    due = parse_due(text, date(2014, 3, 1), SHANGHAI)
    if expected is None:
        assert due is None
    else:
        assert due == datetime(expected.year, expected.month, expected.day, 23, 59, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "measures"),
    [
        (
            "唐军个人整改措施：一、加强理论学习；二、改进调查研究。",
            ["加强理论学习", "改进调查研究"],
        ),
        ("1. 每月调研两次\n2. 精简会议\n   压缩文件", ["每月调研两次", "精简会议 压缩文件"]),
        ("（一）学习；（二）调研", ["学习", "调研"]),
        ("没有编号的整改措施。", ["没有编号的整改措施"]),
        ("2014年3月底前完成", ["2014年3月底前完成"]),
        ("  ", []),
    ],
)
def test_split_measures(text: str, measures: list[str]) -> None:
    assert split_measures(text) == measures


async def test_items_due_lists_open_items_near_or_past_their_deadline(filled: Filled) -> None:
    due = await items_due(filled.app.db, NOW, timedelta(days=7))
    # Only 唐军's item (due 15 Feb, in progress) is overdue; 孟平's is due 30 April; the
    # done one and the one without deadline are not listed.
    assert [(d.item.description, d.member.name, d.overdue) for d in due] == [
        (ITEMS[1][0], "唐军", True)
    ]
    later = await items_due(filled.app.db, NOW, timedelta(days=70))
    assert [d.member.name for d in later] == ["唐军", "孟平"]


async def test_approved_measures_are_imported_once(filled: Filled) -> None:
    app, instance_id = filled.app, filled.instance_id
    organizer = await instances.member_by_key(app.db, instance_id, "fanglei")
    assert organizer is not None
    created = await import_measures(app, instance_id, organizer)
    assert [(r.description, r.source, r.category, r.source_ref is not None) for r in created] == [
        ("每月深入基层调研不少于两次", "self-review", "deadline", True)
    ]
    tang = await instances.member_by_key(app.db, instance_id, "tangjun")
    assert tang is not None and created[0].member_id == tang.id
    assert created[0].due_at == datetime(2014, 4, 30, 23, 59, tzinfo=SHANGHAI)
    assert await import_measures(app, instance_id, organizer) == []
    assert len(await ledger.items_of_instance(app.db, instance_id)) == len(ITEMS) + 1
