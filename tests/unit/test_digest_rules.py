"""When the progress digests are due, as pure rules: the weekday and the day of the month at
their local time, off, the grace after a missed time, the month and year rollovers, the ISO
week in the keys; the settings that choose them; a digest too long for a caption is split."""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from bot.config import Settings
from bot.digests import (
    CAPTION_MAX,
    DigestKind,
    DigestSchedule,
    parse_month_day,
    parse_weekday,
    payloads,
)
from bot.report import Period, PeriodKind

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
MONDAYS = DigestSchedule(weekday=0, month_day=None, at=time(7, 30))
FIRSTS = DigestSchedule(weekday=None, month_day=1, at=time(7, 30))


def local(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


def labels(schedule: DigestSchedule, now: datetime) -> list[str]:
    return [f"{d.kind.value}:{d.label}" for d in schedule.due(now, TZ)]


# --- the weekly digest ------------------------------------------------------------------------


def test_the_weekly_digest_is_due_from_its_time_on_its_weekday() -> None:
    # Monday 7 December 2026 is in ISO week 50.
    assert labels(MONDAYS, local(2026, 12, 7, 7, 29)) == []
    assert labels(MONDAYS, local(2026, 12, 7, 7, 30)) == ["weekly:2026-W50"]
    assert labels(MONDAYS, local(2026, 12, 7, 23, 59)) == ["weekly:2026-W50"]
    (due,) = MONDAYS.due(local(2026, 12, 7, 8), TZ)
    assert due.kind is DigestKind.WEEKLY and due.day == date(2026, 12, 7)
    assert due.period == Period.of_year(2026)
    assert due.key(4242) == "digest:weekly:2026-W50:4242"


def test_a_weekly_digest_missed_goes_out_within_three_days_then_waits_for_the_next() -> None:
    assert labels(MONDAYS, local(2026, 12, 9, 12)) == ["weekly:2026-W50"]  # Wednesday
    assert labels(MONDAYS, local(2026, 12, 10, 7, 29)) == ["weekly:2026-W50"]
    assert labels(MONDAYS, local(2026, 12, 10, 7, 30)) == []  # Thursday: too late
    assert labels(MONDAYS, local(2026, 12, 13, 23, 59)) == []  # Sunday
    assert labels(MONDAYS, local(2026, 12, 6, 12)) == []  # the Sunday before: none


def test_the_local_day_counts_not_the_utc_one() -> None:
    # 00:30 UTC on Monday is 07:30 in Vietnam; 23:00 UTC on Sunday is 06:00 on Monday.
    assert labels(MONDAYS, datetime(2026, 12, 7, 0, 30, tzinfo=ZoneInfo("UTC"))) == [
        "weekly:2026-W50"
    ]
    assert labels(MONDAYS, datetime(2026, 12, 6, 23, 0, tzinfo=ZoneInfo("UTC"))) == []


def test_iso_weeks_across_the_new_year_and_the_year_reported() -> None:
    # Monday 29 December 2025 is in ISO week 1 of 2026; it reports 2025.
    (due,) = MONDAYS.due(local(2025, 12, 29, 8), TZ)
    assert due.label == "2026-W01" and due.period == Period.of_year(2025)
    # Monday 1 January 2029: the new year has nothing yet; the year just ended is reported.
    (due,) = MONDAYS.due(local(2029, 1, 1, 8), TZ)
    assert due.label == "2029-W01" and due.period == Period.of_year(2028)
    (due,) = MONDAYS.due(local(2029, 1, 8, 8), TZ)
    assert due.period == Period.of_year(2029)
    # A year with 53 ISO weeks.
    (due,) = MONDAYS.due(local(2026, 12, 28, 8), TZ)
    assert due.label == "2026-W53"


def test_another_weekday_and_time() -> None:
    fridays = DigestSchedule(weekday=4, month_day=None, at=time(16, 0))
    assert labels(fridays, local(2026, 12, 11, 15, 59)) == []
    assert labels(fridays, local(2026, 12, 11, 16, 0)) == ["weekly:2026-W50"]
    assert labels(fridays, local(2026, 12, 13, 20)) == ["weekly:2026-W50"]  # Sunday: in grace


# --- the monthly digest -----------------------------------------------------------------------


def test_the_monthly_digest_reports_the_month_before_its_day() -> None:
    assert labels(FIRSTS, local(2026, 12, 1, 7, 29)) == []
    (due,) = FIRSTS.due(local(2026, 12, 1, 7, 30), TZ)
    assert due.kind is DigestKind.MONTHLY and due.label == "2026-11"
    assert due.period == Period.month(2026, 11) and due.period.kind is PeriodKind.MONTH
    assert due.key(7) == "digest:monthly:2026-11:7"


def test_a_monthly_digest_missed_goes_out_within_seven_days() -> None:
    assert labels(FIRSTS, local(2026, 12, 8, 7, 29)) == ["monthly:2026-11"]
    assert labels(FIRSTS, local(2026, 12, 8, 7, 30)) == []
    assert labels(FIRSTS, local(2026, 12, 31, 12)) == []


def test_the_month_and_the_year_roll_over() -> None:
    (due,) = FIRSTS.due(local(2027, 1, 1, 9), TZ)
    assert due.label == "2026-12" and due.period == Period.month(2026, 12)
    on_28th = DigestSchedule(weekday=None, month_day=28, at=time(7, 30))
    # Early in January the latest 28th is December's, of November; a week on, past its grace.
    assert labels(on_28th, local(2027, 1, 3, 9)) == ["monthly:2026-11"]
    assert labels(on_28th, local(2027, 1, 4, 7, 30)) == []
    (due,) = on_28th.due(local(2027, 2, 28, 9), TZ)
    assert due.label == "2027-01" and due.period.last == date(2027, 1, 31)
    # Within the grace of 28 February, in March: still February's digest of January.
    assert labels(on_28th, local(2027, 3, 2, 9)) == ["monthly:2027-01"]


def test_both_due_on_one_day_and_off_is_off() -> None:
    both = DigestSchedule(weekday=1, month_day=1, at=time(7, 30))  # 1 December 2026: Tuesday
    assert labels(both, local(2026, 12, 1, 8)) == ["weekly:2026-W49", "monthly:2026-11"]
    off = DigestSchedule()
    assert off.off and off.due(local(2026, 12, 1, 8), TZ) == []


# --- the settings -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "weekday"),
    [("mon", 0), ("SUN", 6), (" t2 ", 0), ("T7", 5), ("cn", 6), ("off", None), ("OFF", None)],
)
def test_weekdays_in_english_or_vietnamese(raw: str, weekday: int | None) -> None:
    assert parse_weekday(raw) == weekday


@pytest.mark.parametrize("raw", ["", "monday", "t8", "t1", "1", "thứ 2", "mon,tue", "🗓"])
def test_a_bad_weekday_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="weekday"):
        parse_weekday(raw)


@pytest.mark.parametrize(("raw", "day"), [("1", 1), (" 28 ", 28), ("off", None), ("Off", None)])
def test_days_of_the_month(raw: str, day: int | None) -> None:
    assert parse_month_day(raw) == day


@pytest.mark.parametrize("raw", ["0", "29", "31", "-1", "1.5", "", "mon", "١", "²"])
def test_a_bad_day_of_the_month_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="1 to 28"):
        parse_month_day(raw)


def test_the_settings_default_to_mondays_and_the_first_at_07_30() -> None:
    settings = Settings(_env_file=None)
    assert settings.digest_schedule == DigestSchedule(0, 1, time(7, 30))
    assert settings.digest_folder == Path("data/digests")


def test_the_settings_read_their_values_and_the_folder_follows_the_database() -> None:
    settings = Settings(
        _env_file=None, digest_weekly="CN", digest_monthly=15, digest_at="18:00",
        database_url="sqlite+aiosqlite:////srv/bot/state/bot.db",
    )  # fmt: skip
    assert settings.digest_schedule == DigestSchedule(6, 15, time(18, 0))
    assert settings.digest_folder == Path("/srv/bot/state/digests")
    assert Settings(_env_file=None, digest_dir="/var/digests").digest_folder == Path("/var/digests")
    pg = Settings(_env_file=None, database_url="postgresql+asyncpg://u@h/db")
    assert pg.digest_folder == Path("data/digests")
    off = Settings(_env_file=None, digest_weekly="off", digest_monthly="off")
    assert off.digest_schedule.off


@pytest.mark.parametrize(
    ("name", "value"),
    [("digest_weekly", "monday"), ("digest_monthly", "31"), ("digest_at", "25:00")],
)
def test_bad_settings_are_refused_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ValidationError, match=name):
        Settings(_env_file=None, **{name: value})


# --- the messages -----------------------------------------------------------------------------


def test_a_short_digest_is_the_workbook_s_caption_a_long_one_comes_first() -> None:
    document = {"path": "/x.xlsx", "filename": "bao-cao.xlsx"}
    assert payloads("ngắn", document, "📎") == [{"text": "ngắn", "document": document}]
    # Telegram counts UTF-16 units: 512 emoji are 1024 units and still fit; one more does not.
    fits = "📈" * (CAPTION_MAX // 2)
    assert payloads(fits, document, "📎") == [{"text": fits, "document": document}]
    long = fits + "x"
    assert payloads(long, document, "📎") == [{"text": long}, {"text": "📎", "document": document}]
    assert payloads(long, None, "📎") == [{"text": long}]
