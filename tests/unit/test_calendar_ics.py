"""Calendar files, built and parsed back as a phone would read them."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar, Event
from pydantic import ValidationError

from bot.calendar_ics import (
    CalendarEntry,
    EventStatus,
    alarm_triggers,
    calendar_file,
    event_status,
    sequence,
)
from bot.config import Settings
from bot.i18n import texts
from bot.reminders import Lead, ReminderPrefs
from bot.training import ClassFormat, Place, Session, SessionStatus

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
EVENING = time(19, 0)
STAMP = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
START = datetime(2026, 3, 5, 8, 0, tzinfo=TZ)  # 01:00 UTC
LINK = "https://meet.google.com/abc-defg-hij"
LONG_NAME = "Bồi dưỡng kiến thức quốc phòng và an ninh cho đối tượng 4 — khóa đặc biệt & mở rộng"


def entry(
    session_id: int = 7,
    *,
    status: EventStatus = EventStatus.CONFIRMED,
    seq: int = 0,
    place: Place | None = None,
    topic: str | None = "Chuyển đổi số trong cơ quan nhà nước",
    class_id: int = 3,
    class_name: str = "Kỹ năng số cho cán bộ cấp xã",
    lecturer: str | None = "Hà Thị Giảng",
) -> CalendarEntry:
    session = Session(
        session_id, class_id, START, START + timedelta(hours=3),
        SessionStatus.CANCELLED if status is EventStatus.CANCELLED else SessionStatus.SCHEDULED,
        topic=topic, lecturer_name=lecturer,
    )  # fmt: skip
    return CalendarEntry(
        session, class_id, class_name, place or Place(ClassFormat.ON_SITE, "Hội trường A"),
        status, seq,
    )  # fmt: skip


def build(*entries: CalendarEntry, prefs: ReminderPrefs | None = None) -> bytes:
    return calendar_file(
        texts("vi"), "Lịch học — Nguyễn Văn A", entries, host="demo_bot", stamp=STAMP,
        prefs=prefs or ReminderPrefs(), tz=TZ, evening=EVENING,
    )  # fmt: skip


def events(content: bytes) -> list[Event]:
    return list(Calendar.from_ical(content).events)


def test_the_calendar_names_itself_and_its_zone() -> None:
    calendar = Calendar.from_ical(build(entry()))
    assert calendar["VERSION"] == "2.0"
    assert calendar["METHOD"] == "PUBLISH"
    assert str(calendar["PRODID"])
    assert calendar["X-WR-CALNAME"] == "Lịch học — Nguyễn Văn A"
    assert calendar["X-WR-TIMEZONE"] == "Asia/Ho_Chi_Minh"


def test_an_event_in_utc_with_a_uid_of_the_session_and_its_place() -> None:
    (event,) = events(build(entry()))
    assert event["UID"] == "session-7@demo_bot"
    assert event.decoded("DTSTART") == datetime(2026, 3, 5, 1, 0, tzinfo=UTC)
    assert event.decoded("DTEND") == datetime(2026, 3, 5, 4, 0, tzinfo=UTC)
    assert event.decoded("DTSTAMP") == STAMP
    assert event["SUMMARY"] == "Kỹ năng số cho cán bộ cấp xã — Chuyển đổi số trong cơ quan nhà nước"
    assert event["LOCATION"] == "Hội trường A"
    assert event["STATUS"] == "CONFIRMED"
    assert event["SEQUENCE"] == 0
    assert "URL" not in event
    assert event["DESCRIPTION"] == "Giảng viên: Hà Thị Giảng"
    content = build(entry())
    assert b"DTSTART:20260305T010000Z" in content  # UTC, no zone to resolve


def test_a_session_without_topic_is_its_class_name() -> None:
    (event,) = events(build(entry(topic=None, lecturer=None)))
    assert event["SUMMARY"] == "Kỹ năng số cho cán bộ cấp xã"
    assert "DESCRIPTION" not in event


def test_an_online_session_has_its_link_as_url_and_description() -> None:
    (event,) = events(build(entry(place=Place(ClassFormat.ONLINE, None, LINK), lecturer=None)))
    assert event["URL"] == LINK
    assert event["LOCATION"] == "Học trực tuyến"
    assert event["DESCRIPTION"] == f"Tham gia trực tuyến: {LINK}"


def test_a_blended_session_is_in_its_room_with_the_link() -> None:
    (event,) = events(build(entry(place=Place(ClassFormat.BLENDED, "Phòng 201", LINK))))
    assert event["LOCATION"] == "Phòng 201"
    assert event["URL"] == LINK
    assert f"Tham gia trực tuyến: {LINK}" in event["DESCRIPTION"]


def test_status_and_sequence_follow_the_changes() -> None:
    moved, pending, cancelled = events(
        build(
            entry(1, seq=2),
            entry(2, status=EventStatus.TENTATIVE),
            entry(3, status=EventStatus.CANCELLED, seq=3),
        )
    )
    assert (moved["SEQUENCE"], moved["STATUS"]) == (2, "CONFIRMED")
    assert (pending["SEQUENCE"], pending["STATUS"]) == (0, "TENTATIVE")
    assert "phê duyệt" in pending["DESCRIPTION"]
    assert (cancelled["SEQUENCE"], cancelled["STATUS"]) == (3, "CANCELLED")
    assert [e["UID"] for e in (moved, pending, cancelled)] == [
        "session-1@demo_bot", "session-2@demo_bot", "session-3@demo_bot",
    ]  # fmt: skip


def test_the_status_and_sequence_rules() -> None:
    assert event_status(cancelled=True, pending=True) is EventStatus.CANCELLED
    assert event_status(cancelled=False, pending=True) is EventStatus.TENTATIVE
    assert event_status(cancelled=False, pending=False) is EventStatus.CONFIRMED
    assert sequence(0, cancelled=False) == 0
    assert sequence(2, cancelled=False) == 2
    assert sequence(0, cancelled=True) == 1  # loaded as cancelled: still above the first file
    assert sequence(3, cancelled=True) == 3


def test_alarms_match_the_reminder_settings() -> None:
    (event,) = events(build(entry()))  # the defaults: the evening before, an hour before
    triggers = [alarm["TRIGGER"].dt for alarm in event.walk("VALARM")]
    evening = datetime(2026, 3, 4, 19, 0, tzinfo=TZ).astimezone(UTC)
    assert triggers == [evening, -timedelta(hours=1)]
    assert all(alarm["ACTION"] == "DISPLAY" for alarm in event.walk("VALARM"))
    assert b"TRIGGER;VALUE=DATE-TIME:20260304T120000Z" in build(entry())

    chosen = ReminderPrefs(leads=(Lead.DAY, Lead.HOURS_3, Lead.MINUTES_15))
    (event,) = events(build(entry(), prefs=chosen))
    assert [a["TRIGGER"].dt for a in event.walk("VALARM")] == [
        -timedelta(days=1), -timedelta(hours=3), -timedelta(minutes=15),
    ]  # fmt: skip


def test_no_alarm_when_reminders_are_off_the_class_muted_or_the_session_cancelled() -> None:
    for prefs in (
        ReminderPrefs(enabled=False),
        ReminderPrefs(leads=()),
        ReminderPrefs(muted_classes=frozenset({3})),
    ):
        (event,) = events(build(entry(), prefs=prefs))
        assert event.walk("VALARM") == []
    (other,) = events(build(entry(class_id=4), prefs=ReminderPrefs(muted_classes=frozenset({3}))))
    assert len(other.walk("VALARM")) == 2
    (cancelled,) = events(build(entry(status=EventStatus.CANCELLED, seq=1)))
    assert cancelled.walk("VALARM") == []
    assert alarm_triggers(ReminderPrefs(enabled=False), 3, START, TZ, EVENING) == []


def test_long_vietnamese_text_is_folded_and_comes_back_intact() -> None:
    odd = LONG_NAME + ' 🎓 <b>"x"; y, z\\'
    content = build(entry(class_name=odd, topic="Tiếng Việt có dấu: ắ ặ ẫ ỡ ự ỹ"))
    lines = content.split(b"\r\n")
    assert max(len(line) for line in lines) <= 75  # octets, as RFC 5545 folds
    assert all(b"\n" not in line for line in lines)
    content.decode("utf-8")  # folding never splits a character
    (event,) = events(content)
    assert event["SUMMARY"] == f"{odd} — Tiếng Việt có dấu: ắ ặ ẫ ỡ ự ỹ"


def test_the_configured_host_is_a_host_name_or_nothing() -> None:
    assert Settings(_env_file=None, calendar_host="lich.truongchinhtri.example").calendar_host
    assert Settings(_env_file=None).calendar_host == ""
    for bad in ("a b", "x@y", "lịch.vn", "h" * 101):
        with pytest.raises(ValidationError):
            Settings(_env_file=None, calendar_host=bad)
