"""Dates typed the Vietnamese way, recurring sessions, and timetables said in a few words."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.dates import (
    Slot,
    end_of_day,
    parse_day,
    parse_days,
    parse_moment,
    parse_slots,
    parse_time,
    recurring,
)
from bot.errors import InvalidInput
from bot.i18n import texts
from bot.timetable import DayPart, summarise, weekday_runs
from bot.training import Session, SessionStatus
from handlers.class_labels import weekdays_label as weekdays
from handlers.class_text import summary_text

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.parametrize(
    ("typed", "day"),
    [
        ("5/3", date(2026, 3, 5)),
        ("05/03/2026", date(2026, 3, 5)),
        ("5-3-27", date(2027, 3, 5)),
        (" 5.3 ", date(2026, 3, 5)),
        ("29/2/2028", date(2028, 2, 29)),
        ("５/３", date(2026, 3, 5)),  # full-width digits, from some phone keyboards
    ],
)
def test_days_are_read_day_first_in_the_plan_year(typed: str, day: date) -> None:
    assert parse_day(typed, 2026) == day


@pytest.mark.parametrize("typed", ["31/2", "0/3", "abc", "5/13", "", "2026-03-05"])
def test_anything_else_is_not_a_day(typed: str) -> None:
    with pytest.raises(InvalidInput):
        parse_day(typed, 2026)


@pytest.mark.parametrize(
    ("typed", "at"),
    [("7h30", time(7, 30)), ("7h", time(7)), ("07:30", time(7, 30)), ("13g30", time(13, 30)),
     ("7 giờ 30", time(7, 30)), ("8", time(8)), ("16H", time(16))],
)  # fmt: skip
def test_times_are_read_as_offices_write_them(typed: str, at: time) -> None:
    assert parse_time(typed) == at


@pytest.mark.parametrize("typed", ["25h", "7h75", "sáng", "7h30 chiều", "-1"])
def test_anything_else_is_not_a_time(typed: str) -> None:
    with pytest.raises(InvalidInput):
        parse_time(typed)


def test_a_moment_is_aware_in_the_province_zone_and_a_deadline_day_is_whole() -> None:
    moment = parse_moment("5/3 7h30", 2026, TZ)
    assert moment == datetime(2026, 3, 5, 0, 30, tzinfo=UTC)
    assert parse_moment("5/3", 2026, TZ).astimezone(TZ).time() == time(0)
    assert end_of_day(date(2026, 3, 5), TZ).astimezone(TZ).time() == time(23, 59)


def test_slots_are_read_sorted_and_refused_when_they_overlap_or_run_backwards() -> None:
    assert parse_slots("13h30-16h30, 7h30 – 11h") == [
        Slot(time(7, 30), time(11)), Slot(time(13, 30), time(16, 30))
    ]  # fmt: skip
    assert parse_slots("7h30 đến 11h và 13h30 đến 16h30")[1].end == time(16, 30)
    for typed in ("11h-7h", "7h-11h, 10h-12h", "7h30", "", "sáng-chiều"):
        with pytest.raises(InvalidInput):
            parse_slots(typed)


def test_recurring_sessions_skip_weekends_and_exceptions_in_local_time() -> None:
    slots = parse_slots("7h30-11h, 13h30-16h30")
    sessions = recurring(date(2026, 3, 2), date(2026, 3, 13), range(5), slots, TZ,
                         skip=parse_days("6/3, 9/3", 2026))  # fmt: skip
    days = sorted({start.date() for start, _ in sessions})
    assert len(sessions) == 16 and len(days) == 8
    assert date(2026, 3, 6) not in days and date(2026, 3, 7) not in days
    first_start, first_end = sessions[0]
    assert first_start.astimezone(UTC) == datetime(2026, 3, 2, 0, 30, tzinfo=UTC)
    assert first_end - first_start == timedelta(hours=3, minutes=30)


def _session(start: datetime, hours: int = 3, cancelled: bool = False) -> Session:
    status = SessionStatus.CANCELLED if cancelled else SessionStatus.SCHEDULED
    return Session(1, 1, start, start + timedelta(hours=hours), status)


def test_a_timetable_in_a_few_words() -> None:
    starts = recurring(date(2026, 3, 3), date(2026, 3, 14), range(5), parse_slots("7h30-11h"), TZ)
    sessions = [_session(s) for s, _ in starts]
    sessions.append(_session(sessions[0].starts_at + timedelta(days=1), cancelled=True))
    summary = summarise(sessions, TZ)
    assert summary is not None
    assert (summary.sessions, summary.parts) == (9, (DayPart.MORNING,))
    assert summary_text(texts("vi"), summary) == "9 buổi, sáng thứ 2–6 (03/03–13/03)"
    assert summary_text(texts("en"), summary) == "9 sessions, mornings Mon–Fri (03/03–13/03)"
    assert summarise([], TZ) is None


def test_weekdays_read_as_runs() -> None:
    assert weekday_runs([0, 1, 2, 4, 6]) == [(0, 2), (4, 4), (6, 6)]
    vi = texts("vi")
    assert weekdays(vi, [0, 1, 2, 3, 4]) == "thứ 2–6"
    assert weekdays(vi, [0, 2, 4]) == "thứ 2, 4, 6"
    assert weekdays(vi, [5, 6]) == "thứ 7, CN"
    assert weekdays(vi, [6]) == "CN"
