"""Quiet hours typed the way cadres write hours: read, or refused with the reason."""

from __future__ import annotations

from datetime import time

import pytest

from bot.dates import parse_span
from bot.errors import InvalidInput
from bot.reminders import QuietHours, parse_quiet_hours


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("21:30-06:00", time(21, 30), time(6, 0)),
        ("21h30-6h", time(21, 30), time(6, 0)),
        ("22-6", time(22), time(6)),
        ("21:30 – 06:00", time(21, 30), time(6, 0)),
        ("  22h — 5h30 ", time(22), time(5, 30)),
        ("22 giờ đến 6 giờ", time(22), time(6)),
        ("21 giờ 30 phút đến 6 giờ 00 phút", time(21, 30), time(6, 0)),
        ("２２-６", time(22), time(6)),  # full-width digits, from some phone keyboards
        ("12h-13h", time(12), time(13)),  # a quiet hour at noon, not across midnight
    ],
)
def test_quiet_hours_are_read_as_people_write_them(typed: str, start: time, end: time) -> None:
    assert parse_quiet_hours(typed) == QuietHours(start, end)


@pytest.mark.parametrize(
    ("typed", "key"),
    [
        ("25:00-06:00", "error.time_format"),
        ("21:75-06:00", "error.time_format"),
        ("abc", "error.span_format"),
        ("21:30", "error.span_format"),
        ("", "error.span_format"),
        ("🌙🌙-😴", "error.time_format"),
        ("🌙", "error.span_format"),
        ("21:30-06:00" * 500, "error.span_format"),  # 5,500 characters: not even searched
        ("22-22", "error.quiet_same"),
        ("6h-6h", "error.quiet_same"),
        ("06:00-21:30", "error.quiet_long"),  # the hours typed the wrong way round
        ("20h-8h30", "error.quiet_long"),
    ],
)
def test_anything_else_is_refused_with_its_reason(typed: str, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_quiet_hours(typed)
    assert refused.value.key == key
    assert all(len(str(v)) <= 40 for v in refused.value.params.values())  # echoed, short


def test_twelve_hours_are_the_longest_quiet_hours() -> None:
    assert parse_quiet_hours("20h-8h") == QuietHours(time(20), time(8))


def test_a_span_may_cross_midnight_or_not() -> None:
    assert parse_span("7h30-11h") == (time(7, 30), time(11))
    assert parse_span("23h-1h") == (time(23), time(1))
