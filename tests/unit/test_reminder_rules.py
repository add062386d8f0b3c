"""The pure rules of reminders: due times in local time, quiet hours, and what a pass decides."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.reminders import Decision, Lead, QuietHours, ReminderState, decide, due_at

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
QUIET = QuietHours(time(21, 30), time(6, 0))
OFF = QuietHours(time(0), time(0))


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2027, 3, day, hh, mm, tzinfo=TZ)


def test_the_evening_before_is_local_even_across_midnight_utc() -> None:
    # 07:00 local on 1 January is 00:00 UTC: the evening before is 31 December 19:00 local.
    start = datetime(2028, 1, 1, 7, 0, tzinfo=TZ)
    assert due_at(Lead.EVENING, start, TZ) == datetime(2027, 12, 31, 12, 0, tzinfo=UTC)
    assert due_at(Lead.EVENING, start, TZ, time(20, 30)).astimezone(TZ).hour == 20
    assert due_at(Lead.HOUR, start, TZ) == start - timedelta(hours=1)
    assert due_at(Lead.MINUTES_15, start, TZ) == start - timedelta(minutes=15)
    assert due_at(Lead.DAY, start, TZ) == start - timedelta(days=1)


@pytest.mark.parametrize(
    ("moment", "held", "release"),
    [
        (at(9, 21, 29), False, at(9, 21, 29)),
        (at(9, 21, 30), True, at(10, 6, 0)),
        (at(9, 23, 59), True, at(10, 6, 0)),
        (at(10, 0, 0), True, at(10, 6, 0)),
        (at(10, 5, 59), True, at(10, 6, 0)),
        (at(10, 6, 0), False, at(10, 6, 0)),
    ],
)
def test_quiet_hours_across_midnight(moment: datetime, held: bool, release: datetime) -> None:
    assert QUIET.holds(moment, TZ) is held
    assert QUIET.release(moment, TZ) == release


def test_quiet_hours_within_a_day_equal_times_mean_none_and_the_setting_parses() -> None:
    lunch = QuietHours(time(12), time(13, 30))
    assert lunch.holds(at(9, 12, 45), TZ) and not lunch.holds(at(9, 13, 30), TZ)
    assert not OFF.holds(at(9, 3), TZ) and not OFF.active
    assert QuietHours.parse("21:30 - 06:00") == QUIET and str(QUIET) == "21:30-06:00"
    for bad in ("21:30", "25:00-06:00", "", "a-b"):
        with pytest.raises(ValueError):
            QuietHours.parse(bad)


def run(
    now: datetime,
    *,
    since: datetime | None = None,
    handled: set[Lead] | None = None,
    leads: tuple[Lead, ...] = (Lead.EVENING, Lead.HOUR),
    quiet: QuietHours = QUIET,
) -> Decision:
    return decide(
        leads, starts_at=at(10, 8), since=since or at(1, 9), now=now,
        handled=handled or set(), quiet=quiet, tz=TZ,
    )  # fmt: skip


def test_nothing_before_its_time_and_the_next_wake_is_the_due_time() -> None:
    decision = run(at(9, 18))
    assert decision.send is None and decision.decided == {}
    assert decision.wake_at == at(9, 19)


def test_each_lead_in_turn_then_nothing() -> None:
    assert run(at(9, 19)).send is Lead.EVENING
    assert run(at(10, 7), handled={Lead.EVENING}).send is Lead.HOUR
    assert run(at(10, 7, 30), handled={Lead.EVENING, Lead.HOUR}).decided == {}


def test_a_reminder_created_after_its_due_time_is_merged_not_sent_late() -> None:
    decision = run(at(9, 20), since=at(9, 19, 30))
    assert decision.send is None
    assert decision.decided == {Lead.EVENING: ReminderState.MERGED}
    assert decision.wake_at == at(10, 7)
    # A session moved at 19:00 sharp is told by its change notice, not a reminder too.
    assert run(at(9, 19), since=at(9, 19)).send is None


def test_after_downtime_only_the_latest_is_sent_and_once_started_all_are_skipped() -> None:
    decision = run(at(10, 7, 30))
    assert decision.send is Lead.HOUR
    assert decision.decided[Lead.EVENING] is ReminderState.MERGED
    late = run(at(10, 8, 1))
    assert late.send is None
    assert late.decided == {Lead.EVENING: ReminderState.SKIPPED, Lead.HOUR: ReminderState.SKIPPED}


def test_quiet_hours_hold_until_they_end_but_never_past_the_start() -> None:
    early = decide(
        (Lead.HOUR,), starts_at=at(10, 6, 30), since=at(1, 9), now=at(10, 5, 30),
        handled=set(), quiet=QUIET, tz=TZ,
    )  # fmt: skip
    assert early.send is None and early.wake_at == at(10, 6)
    dawn = decide(
        (Lead.HOUR,), starts_at=at(10, 5, 0), since=at(1, 9), now=at(10, 4, 0),
        handled=set(), quiet=QUIET, tz=TZ,
    )  # fmt: skip
    assert dawn.send is None and dawn.wake_at == at(10, 5)
    assert run(at(9, 22), quiet=OFF, leads=(Lead.HOURS_3,), since=at(1, 9)).decided == {}


def test_a_reminder_held_all_night_waits_for_the_next_if_it_is_minutes_away() -> None:
    start = at(10, 7, 30)  # the evening reminder, due at 19:00, meets quiet hours (bot down)

    def at_(now: datetime, handled: set[Lead] | None = None) -> Decision:
        return decide(
            (Lead.EVENING, Lead.HOUR), starts_at=start, since=at(1, 9), now=now,
            handled=handled or set(), quiet=QUIET, tz=TZ,
        )  # fmt: skip

    assert at_(at(9, 23)).send is None
    dawn = at_(at(10, 6))
    assert dawn.send is None and dawn.wake_at == at(10, 6, 30)
    hour = at_(at(10, 6, 30))
    assert hour.send is Lead.HOUR and hour.decided[Lead.EVENING] is ReminderState.MERGED
    # With the next reminder hours away, what was held goes out when the quiet hours end.
    later = decide(
        (Lead.EVENING, Lead.HOUR), starts_at=at(10, 10), since=at(1, 9), now=at(10, 6),
        handled=set(), quiet=QUIET, tz=TZ,
    )  # fmt: skip
    assert later.send is Lead.EVENING
