"""A learner's sessions as an iCalendar file (.ics) their phone's calendar opens: pure, no
database and no clock. Each session keeps one UID for good; a move, a new place or a
cancellation raises its SEQUENCE, so downloading the file again updates the events."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from enum import StrEnum

from icalendar import Alarm, Calendar, Event

from bot.i18n import Texts
from bot.record_labels import plain
from bot.reminders import LEAD_DELTAS, Lead, ReminderPrefs, due_at
from bot.training import ClassFormat, Place, Session

PRODID = "-//Truong Chinh tri tinh//Bot dao tao//VI"
TIMEZONE = "Asia/Ho_Chi_Minh"


class EventStatus(StrEnum):
    """RFC 5545 STATUS of an event."""

    CONFIRMED = "CONFIRMED"
    TENTATIVE = "TENTATIVE"  # the enrolment waits for the unit head's approval
    CANCELLED = "CANCELLED"


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One session as a calendar file shows it to one learner."""

    session: Session
    class_id: int
    class_name: str
    place: Place
    status: EventStatus
    #: How many times the session (or its class) changed in a way a calendar must follow.
    sequence: int


def event_status(*, cancelled: bool, pending: bool) -> EventStatus:
    """A cancelled session or class is CANCELLED; a seat awaiting approval is TENTATIVE."""
    if cancelled:
        return EventStatus.CANCELLED
    return EventStatus.TENTATIVE if pending else EventStatus.CONFIRMED


def sequence(changes: int, *, cancelled: bool) -> int:
    """The recorded changes; a cancellation no event recorded (data loaded as cancelled)
    still counts one, or calendars that already hold the event would keep it."""
    return max(changes, 1) if cancelled else changes


def uid(session_id: int, host: str) -> str:
    """The event's identity for good: it names the session, never its time or place."""
    return f"session-{session_id}@{host}"


def alarm_triggers(
    prefs: ReminderPrefs, class_id: int, starts_at: datetime, tz: tzinfo, evening: time
) -> list[datetime | timedelta]:
    """The learner's reminders as alarms: the evening before at a fixed local time
    (absolute, in UTC), the other leads relative to the start; none when they hear none."""
    if not prefs.wants(class_id):
        return []
    return [
        due_at(lead, starts_at, tz, evening) if lead is Lead.EVENING else -LEAD_DELTAS[lead]
        for lead in prefs.leads
    ]


def calendar_file(
    texts: Texts,
    title: str,
    entries: Sequence[CalendarEntry],
    *,
    host: str,
    stamp: datetime,
    prefs: ReminderPrefs,
    tz: tzinfo,
    evening: time,
) -> bytes:
    """The VCALENDAR of these sessions, as bytes (CRLF lines folded at 75 octets)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", title)
    calendar.add("x-wr-timezone", TIMEZONE)
    for entry in entries:
        calendar.add_component(_event(texts, entry, host, stamp, prefs, tz, evening))
    return bytes(calendar.to_ical())


def _event(
    texts: Texts,
    entry: CalendarEntry,
    host: str,
    stamp: datetime,
    prefs: ReminderPrefs,
    tz: tzinfo,
    evening: time,
) -> Event:
    session = entry.session
    event = Event()
    event.add("uid", uid(session.id, host))
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", session.ends_at.astimezone(UTC))
    event.add("sequence", entry.sequence)
    event.add("status", entry.status.value)
    event.add("summary", _summary(entry))
    place = entry.place
    if place.format is not ClassFormat.ONLINE and place.room:
        event.add("location", place.room)
    elif place.link:
        event.add("location", plain(texts, "calendar.online"))
    if place.link:
        event.add("url", place.link)
    description = _description(texts, entry)
    if description:
        event.add("description", description)
    if entry.status is not EventStatus.CANCELLED:
        for trigger in alarm_triggers(prefs, entry.class_id, session.starts_at, tz, evening):
            event.add_component(_alarm(entry, trigger))
    return event


def _summary(entry: CalendarEntry) -> str:
    topic = entry.session.topic
    return f"{entry.class_name} — {topic}" if topic else entry.class_name


def _description(texts: Texts, entry: CalendarEntry) -> str:
    lines = []
    if entry.status is EventStatus.TENTATIVE:
        lines.append(plain(texts, "calendar.tentative"))
    if entry.session.lecturer_name:
        lines.append(plain(texts, "calendar.lecturer", name=entry.session.lecturer_name))
    if entry.place.link:
        lines.append(plain(texts, "calendar.link", link=entry.place.link))
    return "\n".join(lines)


def _alarm(entry: CalendarEntry, trigger: datetime | timedelta) -> Alarm:
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", _summary(entry))
    if isinstance(trigger, datetime):
        alarm.add("trigger", trigger.astimezone(UTC), parameters={"VALUE": "DATE-TIME"})
    else:
        alarm.add("trigger", trigger)
    return alarm
