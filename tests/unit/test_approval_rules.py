"""The approval rules: until when a pending seat is held, and who decides."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.approval import HeadOf, approval_expiry, nearest_heads

NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)


def test_a_seat_is_held_for_the_approval_days_when_nothing_comes_sooner() -> None:
    starts = NOW + timedelta(days=30)
    assert approval_expiry(NOW, 3, NOW + timedelta(days=10), starts) == NOW + timedelta(days=3)
    assert approval_expiry(NOW, 3, None, None) == NOW + timedelta(days=3)


def test_the_enrolment_deadline_or_the_start_cut_the_wait_short() -> None:
    deadline = NOW + timedelta(days=1, hours=2)
    assert approval_expiry(NOW, 3, deadline, NOW + timedelta(days=30)) == deadline
    starts = NOW + timedelta(hours=20)
    assert approval_expiry(NOW, 3, deadline, starts) == starts


def test_a_deadline_already_past_does_not_expire_a_seat_at_once() -> None:
    """A cadre promoted from the waitlist after the deadline still gets time to be approved."""
    past = NOW - timedelta(hours=1)
    assert approval_expiry(NOW, 3, past, NOW + timedelta(days=2)) == NOW + timedelta(days=2)
    assert approval_expiry(NOW, 2, past, None) == NOW + timedelta(days=2)


def test_the_heads_of_the_nearest_unit_with_a_head_decide() -> None:
    heads = [HeadOf(2, 10), HeadOf(1, 20), HeadOf(1, 21), HeadOf(0, 30)]
    assert nearest_heads(heads, learner_id=99) == [30]
    assert nearest_heads(heads[:3], learner_id=99) == [20, 21]


def test_a_head_enrolling_is_decided_by_the_unit_above_never_by_themself() -> None:
    heads = [HeadOf(0, 30), HeadOf(1, 20), HeadOf(2, 10)]
    assert nearest_heads(heads, learner_id=30) == [20]
    # A co-head of the same unit decides for them.
    assert nearest_heads([*heads, HeadOf(0, 31)], learner_id=30) == [31]


def test_no_head_anywhere_leaves_the_decision_to_the_office() -> None:
    assert nearest_heads([], learner_id=1) == []
    assert nearest_heads([HeadOf(0, 1)], learner_id=1) == []
    # The same head found twice (two grants) is asked once.
    assert nearest_heads([HeadOf(1, 5), HeadOf(1, 5)], learner_id=1) == [5]


def test_a_deadline_too_near_to_decide_by_does_not_cut_the_wait() -> None:
    """Promoted at 23:00 with the deadline at 23:59, the deciders still get their days,
    capped by the class's start."""
    deadline = NOW + timedelta(minutes=59)
    assert approval_expiry(NOW, 3, deadline, NOW + timedelta(days=30)) == NOW + timedelta(days=3)
    starts = NOW + timedelta(days=2)
    assert approval_expiry(NOW, 3, deadline, starts) == starts
    day_left = NOW + timedelta(days=1)  # exactly the least time to decide: it still counts
    assert approval_expiry(NOW, 3, day_left, None) == day_left
