"""The rules of an excused-absence request: what a reason may be, and until when one is asked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import InvalidInput
from bot.leave import clean_reason, may_ask


def test_a_reason_is_one_line_with_its_spaces_collapsed_and_composed() -> None:
    assert clean_reason("  Con   ốm\n\tphải đưa đi viện ") == "Con ốm phải đưa đi viện"
    assert clean_reason("O\u0302\u0301m nặng") == "Ốm nặng"  # typed with combining marks
    assert clean_reason("Nhà có việc 👨\u200d👩\u200d👧") == "Nhà có việc 👨\u200d👩\u200d👧"


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("", "leave.reason_length"),
        ("ab", "leave.reason_length"),
        ("a" * 301, "leave.reason_length"),
        ("a" * 50_000, "leave.reason_length"),
        ("...", "leave.reason_chars"),
        ("Ốm\u202e nặng", "leave.reason_chars"),
        ("Ốm\u200b nặng", "leave.reason_chars"),
        ("Ốm\x07 nặng", "leave.reason_chars"),
    ],
)
def test_a_reason_too_short_too_long_or_odd_is_refused(raw: str, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        clean_reason(raw)
    assert refused.value.key == key


def test_leave_is_asked_before_a_session_or_within_a_day_after_it_began() -> None:
    start = datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
    assert may_ask(start, start - timedelta(days=30))
    assert may_ask(start, start + timedelta(days=1))
    assert not may_ask(start, start + timedelta(days=1, seconds=1))
