"""Dates, deadlines and names written the way a reader of the current locale expects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from bot.core.i18n import _, current_locale, ngettext


def due_text(due: datetime, zone: ZoneInfo) -> str:
    """'2013年12月6日 星期五 23:59' / 'Friday, 6 December 2013, 23:59' in the plan's zone."""
    local = due.astimezone(zone)
    locale = current_locale()
    pattern = "y年M月d日 EEEE" if locale == "zh_CN" else "EEEE, d MMMM y"
    day = _day(local.date(), pattern, locale)
    return f"{day} {_clock(local.hour, local.minute, locale)}"


def date_text(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    locale = current_locale()
    # No brackets around the weekday: the date often sits in brackets itself.
    pattern = "y年M月d日 EEE" if locale == "zh_CN" else "EEE d MMM y"
    return _day(local.date(), pattern, locale)


def short_day_text(day: date) -> str:
    """'3月1日' / '1 Mar': a day on a chart's axis."""
    locale = current_locale()
    return _day(day, "M月d日" if locale == "zh_CN" else "d MMM", locale)


def document_date_text(moment: datetime, zone: ZoneInfo) -> str:
    """'2014年3月1日' / '1 March 2014': the date under a document (GB/T 9704 §7.3.5: Arabic
    numerals, the year in full, no leading zeros, no weekday)."""
    locale = current_locale()
    pattern = "y年M月d日" if locale == "zh_CN" else "d MMMM y"
    return _day(moment.astimezone(zone).date(), pattern, locale)


# Babel takes tens of microseconds a date; a plan has few distinct days, and /status writes
# each of them again for every member who asks (bench/roundtrip.py).
@lru_cache(maxsize=4096)
def _day(day: date, pattern: str, locale: str) -> str:
    return format_date(day, pattern, locale=locale)


@lru_cache(maxsize=4096)
def _clock(hour: int, minute: int, locale: str) -> str:
    return format_time(time(hour, minute), "HH:mm", locale=locale)


def days_left_text(due: datetime, now: datetime, zone: ZoneInfo) -> str:
    """How far the deadline is, counted in the plan's calendar days."""
    days = (due.astimezone(zone).date() - now.astimezone(zone).date()).days
    if now > due:
        overdue = max(1, (now.astimezone(zone).date() - due.astimezone(zone).date()).days)
        return ngettext(
            "overdue by {days} day",
            "overdue by {days} days",
            overdue,
        ).format(days=overdue)
    if days == 0:
        return _("due today")
    return ngettext(
        "{days} day left",
        "{days} days left",
        days,
    ).format(days=days)


def names_text(names: list[str]) -> str:
    return ("、" if current_locale() == "zh_CN" else ", ").join(names) or _("nobody")


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Cut a long text at line ends into parts of at most ``limit`` (as ``measure`` counts:
    characters for Telegram, UTF-8 bytes for WeCom); a line longer than that is cut inside."""
    if measure(text) <= limit:
        return [text]
    parts, current = [], ""
    for line in text.splitlines(keepends=True):
        while measure(line) > limit:
            if current:
                parts.append(current)
                current = ""
            cut = _longest_prefix(line, limit, measure)
            parts.append(line[:cut])
            line = line[cut:]
        if measure(current) + measure(line) > limit:
            parts.append(current)
            current = ""
        current += line
    if current or not parts:
        parts.append(current)
    return parts


def _longest_prefix(line: str, limit: int, measure: Callable[[str], int]) -> int:
    """The length of the longest prefix of ``line`` that measures at most ``limit`` (at least 1)."""
    low, high = 1, len(line)
    while low < high:
        middle = (low + high + 1) // 2
        if measure(line[:middle]) <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def file_size(count: int) -> str:
    """A size as people read it: 20 MB, 340 KB, 512 bytes (binary units, as the quotas)."""
    if count >= 1024 * 1024:
        value = f"{count / (1024 * 1024):.1f}".removesuffix(".0")
        return f"{value} MB"
    if count >= 1024:
        value = f"{count / 1024:.1f}".removesuffix(".0")
        return f"{value} KB"
    return _("{count} bytes").format(count=count)
