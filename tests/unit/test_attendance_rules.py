"""The attendance rules on their own: codes, grace and expiry, lateness, completion and the
warning levels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.attendance import (
    CODE_DIGITS,
    CodeAge,
    Mark,
    WarningLevel,
    arrival_mark,
    checkin_code,
    clean_code,
    code_age,
    minute_of,
    new_secret,
    required_sessions,
    standing,
)

NOW = datetime(2027, 3, 10, 1, 5, 30, tzinfo=UTC)


def test_codes_are_six_digits_and_differ_by_minute_and_session() -> None:
    a, b = new_secret(), new_secret()
    m = minute_of(NOW)
    codes = {checkin_code(a, m + i) for i in range(50)}
    assert all(len(c) == CODE_DIGITS and c.isdigit() for c in codes)
    assert len(codes) >= 49  # a collision in 50 is possible, not likely
    assert checkin_code(a, m) != checkin_code(b, m)
    assert checkin_code(a, m) == checkin_code(a, m)  # the same in every process


def test_this_minute_the_previous_one_older_and_wrong() -> None:
    secret = new_secret()
    m = minute_of(NOW)
    assert code_age(secret, checkin_code(secret, m), NOW) is CodeAge.CURRENT
    assert code_age(secret, checkin_code(secret, m - 1), NOW) is CodeAge.GRACE
    assert code_age(secret, checkin_code(secret, m - 2), NOW) is CodeAge.EXPIRED
    assert code_age(secret, checkin_code(secret, m + 1), NOW) is CodeAge.WRONG
    assert code_age(new_secret(), checkin_code(secret, m), NOW) in (CodeAge.WRONG,)
    assert CodeAge.GRACE.valid and not CodeAge.EXPIRED.valid


@pytest.mark.parametrize(
    ("raw", "code"),
    [("123456", "123456"), (" 123 456 ", "123456"), ("123-456", "123456"),
     ("１２３４５６", "123456"), ("12345", None), ("1234567", None), ("12a456", None),
     ("", None), ("²²²²²²", None)],
)  # fmt: skip
def test_typed_codes(raw: str, code: str | None) -> None:
    assert clean_code(raw) == code


def test_late_from_the_minute_the_class_says() -> None:
    start = NOW
    assert arrival_mark(start, start - timedelta(minutes=20), 15) is Mark.PRESENT
    assert arrival_mark(start, start + timedelta(minutes=14, seconds=59), 15) is Mark.PRESENT
    assert arrival_mark(start, start + timedelta(minutes=15), 15) is Mark.LATE
    assert arrival_mark(start, start, 0) is Mark.LATE


def test_required_rounds_up() -> None:
    assert required_sessions(10, 80) == 8
    assert required_sessions(18, 80) == 15  # 14.4 → 15
    assert required_sessions(5, 80) == 4
    assert required_sessions(0, 80) == 0
    assert required_sessions(3, 100) == 3


def test_late_counts_as_attended_excused_as_missed() -> None:
    s = standing(10, 80, [Mark.PRESENT] * 6 + [Mark.LATE, Mark.EXCUSED])
    assert (s.attended, s.missed, s.unmarked, s.required) == (7, 1, 2, 8)
    assert s.warning is None and not s.met


def test_warning_levels() -> None:
    assert standing(10, 80, [Mark.ABSENT]).warning is None
    one_left = standing(10, 80, [Mark.ABSENT, Mark.EXCUSED])
    assert one_left.reachable == 8 and one_left.warning is WarningLevel.ONE_LEFT
    cannot = standing(10, 80, [Mark.ABSENT, Mark.EXCUSED, Mark.ABSENT])
    assert cannot.warning is WarningLevel.CANNOT
    # Everything marked and the threshold just met: completed, no warning.
    done = standing(10, 80, [Mark.PRESENT] * 8 + [Mark.ABSENT] * 2)
    assert done.met and done.warning is None
    assert standing(0, 80, []).warning is None


def test_no_warning_without_an_absence() -> None:
    # Three sessions at 80% need all three: present at the first is not yet a warning.
    assert standing(3, 80, [Mark.PRESENT]).warning is None
    assert standing(3, 80, [Mark.PRESENT, Mark.ABSENT]).warning is WarningLevel.CANNOT
