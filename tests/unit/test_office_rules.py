"""The office's reminders as pure rules: the report calendar (parsing, reminder days, missed
days, windows across the new year), the hours they go out in, and what counts as near, in
local days around midnight and the year's end."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from bot.office_reminders import (
    DEFAULT_REPORTS,
    DayMonth,
    Gap,
    OfficeHours,
    ReportEntry,
    deadline_near,
    gaps,
    parse_calendar,
    reports_due,
    session_near,
)
from bot.training import ClassFormat

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def due_days(calendar: str, today: date) -> list[tuple[date, date | None]]:
    return [(r.reminded_on, r.deadline) for r in reports_due(parse_calendar(calendar), today)]


# --- the calendar -----------------------------------------------------------------------------


def test_the_default_calendar_is_the_seeds_reports() -> None:
    six_month, year_end, annual = DEFAULT_REPORTS
    assert (six_month.first, six_month.report, six_month.deadline) == (
        DayMonth(1, 7),
        "six_month",
        None,
    )
    assert (year_end.first, year_end.report) == (DayMonth(1, 12), "year_end")
    assert annual.deadline == DayMonth(22, 2)
    # First reminded on 1 February, then a week and a day before the 22 February deadline.
    assert annual.reminder_days(2027) == [date(2027, 2, 1), date(2027, 2, 15), date(2027, 2, 21)]


def test_spaces_and_empty_entries_are_forgiven_and_any_name_is_kept() -> None:
    found = parse_calendar("  1/7  six_month ;; 01/02 - 22/02   Báo cáo   Chỉ thị 17 ; ")
    assert [str(e) for e in found] == ["01/07 six_month", "01/02-22/02 Báo cáo Chỉ thị 17"]
    assert parse_calendar("") == () and parse_calendar(" ; ") == ()


@pytest.mark.parametrize(
    "raw",
    [
        "01/07",  # no name
        "six_month",  # no day
        "30/02 annual",  # no such day
        "29/02 annual",  # not every year
        "1/13 annual",
        "0/5 annual",
        "01/07-32/07 annual",
        "01.07 annual",
        "01/07 " + "x" * 101,
        "01/07 báo\x07cáo",
        "١/٧ annual",  # digits of another script
    ],
)
def test_a_bad_calendar_is_refused_naming_the_entry(raw: str) -> None:
    with pytest.raises(ValueError, match="'"):
        parse_calendar(f"01/12 year_end; {raw}")


def test_a_window_shorter_than_a_week_is_reminded_on_its_first_day_and_the_eve() -> None:
    (entry,) = parse_calendar("18/02-22/02 annual")
    assert entry.reminder_days(2027) == [date(2027, 2, 18), date(2027, 2, 21)]
    (same_day,) = parse_calendar("22/02-22/02 annual")
    assert same_day.reminder_days(2027) == [date(2027, 2, 22)]


def test_each_reminder_is_due_on_its_day_and_caught_up_after_a_missed_day_only() -> None:
    annual = "01/02-22/02 annual"
    deadline = date(2027, 2, 22)
    assert due_days(annual, date(2027, 1, 31)) == []
    assert due_days(annual, date(2027, 2, 1)) == [(date(2027, 2, 1), deadline)]
    # Missed (the bot was down): still due the days after, until a week has passed...
    assert due_days(annual, date(2027, 2, 7)) == [(date(2027, 2, 1), deadline)]
    assert due_days(annual, date(2027, 2, 8)) == []
    assert due_days(annual, date(2027, 2, 15)) == [(date(2027, 2, 15), deadline)]
    # ...or the next reminder has come, or the deadline has passed.
    assert due_days(annual, date(2027, 2, 21)) == [(date(2027, 2, 21), deadline)]
    assert due_days(annual, date(2027, 2, 22)) == [(date(2027, 2, 21), deadline)]
    assert due_days(annual, date(2027, 2, 23)) == []
    assert due_days("01/07 six_month", date(2027, 7, 7)) == [(date(2027, 7, 1), None)]
    assert due_days("01/07 six_month", date(2027, 7, 8)) == []


def test_a_window_across_the_new_year_has_its_deadline_in_the_next_year() -> None:
    (entry,) = parse_calendar("20/12-10/01 Báo cáo quý IV")
    assert entry.period(2026) == (date(2026, 12, 20), date(2027, 1, 10))
    assert entry.reminder_days(2026) == [date(2026, 12, 20), date(2027, 1, 3), date(2027, 1, 9)]
    calendar = "20/12-10/01 Báo cáo quý IV"
    assert due_days(calendar, date(2026, 12, 20)) == [(date(2026, 12, 20), date(2027, 1, 10))]
    assert due_days(calendar, date(2027, 1, 3)) == [(date(2027, 1, 3), date(2027, 1, 10))]
    assert due_days(calendar, date(2027, 1, 10)) == [(date(2027, 1, 9), date(2027, 1, 10))]
    assert due_days(calendar, date(2027, 1, 11)) == []
    # 31 December, reminded once: the next year's period has not begun.
    assert due_days("31/12 year_end", date(2027, 1, 2)) == [(date(2026, 12, 31), None)]


def test_entries_have_stable_distinct_tags_for_outbox_keys() -> None:
    a, b = parse_calendar("01/07 six_month; 01/07 Báo cáo quý II")
    assert a.tag == ReportEntry(DayMonth(1, 7), "six_month").tag
    assert a.tag != b.tag and len(a.tag) == 8


# --- the hours and the local days -------------------------------------------------------------


def test_office_hours_are_local_hours_not_utc_ones() -> None:
    hours = OfficeHours()
    # 07:59 in Vietnam is 00:59 UTC; 08:00 is 01:00 UTC.
    assert hours.day(datetime(2027, 3, 9, 0, 59, tzinfo=UTC), TZ) is None
    assert hours.day(datetime(2027, 3, 9, 1, 0, tzinfo=UTC), TZ) == date(2027, 3, 9)
    assert hours.day(local(2027, 3, 9, 19, 59), TZ) == date(2027, 3, 9)
    assert hours.day(local(2027, 3, 9, 20, 0), TZ) is None
    assert hours.day(local(2027, 3, 9, 0, 30), TZ) is None  # just after midnight: not now
    # 06:30 in Vietnam on the 9th is still the 8th in UTC: the local day is the one given.
    early = OfficeHours.parse("06:00-20:00")
    assert early.day(datetime(2027, 3, 8, 23, 30, tzinfo=UTC), TZ) == date(2027, 3, 9)


@pytest.mark.parametrize("raw", ["20:00-08:00", "8h-17h", "08:00", "25:00-26:00", ""])
def test_office_hours_are_one_span_of_one_day(raw: str) -> None:
    with pytest.raises(ValueError):
        OfficeHours.parse(raw)


def test_equal_office_hours_mean_no_office_reminders() -> None:
    never = OfficeHours.parse("00:00-00:00")
    assert never == OfficeHours(time(0), time(0))
    assert all(never.day(local(2027, 3, 9, h), TZ) is None for h in range(24))


def test_a_deadline_is_near_within_three_local_days() -> None:
    now = local(2027, 3, 7, 8, 0)
    assert deadline_near(local(2027, 3, 10, 23, 59), now, TZ)
    assert not deadline_near(local(2027, 3, 11, 0, 0), now, TZ)  # the fourth day
    assert deadline_near(local(2027, 3, 7, 9, 0), now, TZ)  # today, later
    assert not deadline_near(local(2027, 3, 7, 7, 59), now, TZ)  # already closed


def test_near_counts_local_days_around_midnight_and_the_year_end() -> None:
    # 23:30 on 30 December in Vietnam is 16:30 UTC: "3 days" reaches 2 January, local.
    late = datetime(2026, 12, 30, 16, 30, tzinfo=UTC)
    assert deadline_near(local(2027, 1, 2, 23, 0), late, TZ)
    assert not deadline_near(local(2027, 1, 3, 0, 30), late, TZ)
    # 00:30 on 31 December in Vietnam is still the 30th in UTC.
    early = datetime(2026, 12, 30, 17, 30, tzinfo=UTC)
    assert deadline_near(local(2027, 1, 3, 6, 0), early, TZ)
    assert session_near(local(2027, 1, 7, 7, 0), early, TZ)
    assert not session_near(local(2027, 1, 8, 7, 0), early, TZ)
    assert not session_near(local(2026, 12, 31, 0, 0), early, TZ)  # begun half an hour ago


def test_what_a_session_lacks_depends_on_the_format() -> None:
    def lacks(fmt: ClassFormat, lecturer: bool, room: str | None, link: str | None) -> tuple:
        return gaps(fmt, has_lecturer=lecturer, room=room, link=link)

    assert lacks(ClassFormat.ON_SITE, True, "P.201", None) == ()
    assert lacks(ClassFormat.ON_SITE, False, None, "https://x") == (Gap.LECTURER, Gap.ROOM)
    assert lacks(ClassFormat.ONLINE, True, None, None) == (Gap.LINK,)
    assert lacks(ClassFormat.ONLINE, True, None, "https://x") == ()
    assert lacks(ClassFormat.BLENDED, False, None, None) == (Gap.LECTURER, Gap.ROOM, Gap.LINK)
    assert lacks(ClassFormat.BLENDED, True, "P.201", None) == (Gap.LINK,)
