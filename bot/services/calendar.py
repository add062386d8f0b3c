"""Calendar files of a learner's sessions: which sessions, in what state, with which alarms.
The file itself is made by bot/calendar_ics.py, in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from bot.calendar_ics import CalendarEntry, event_status, sequence
from bot.clock import Clock
from bot.domain import Actor
from bot.errors import PermissionDenied
from bot.reminders import ReminderPrefs
from bot.services.access import registered
from bot.training import EnrolmentStatus, session_place
from storage.database import Database
from storage.repositories.calendar import CalendarRepository, CalendarSession
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.reminders import ReminderRepository

#: A learner's own file keeps the sessions of the last weeks: enough for a calendar that
#: already holds them, without every class of past years.
KEPT_PAST = timedelta(days=30)
#: The enrolments a class's own file is given for (its card offers it to them).
CLASS_FILE_FOR = (EnrolmentStatus.ENROLLED, EnrolmentStatus.PENDING)


@dataclass(frozen=True, slots=True)
class LearnerCalendar:
    """What a calendar file is made of, for one learner."""

    entries: list[CalendarEntry]
    prefs: ReminderPrefs
    made_at: datetime
    #: Whose timetable (the learner's name) or which class (its name and code).
    name: str
    class_code: str | None = None


class CalendarService:
    def __init__(self, db: Database, clock: Clock, tz: tzinfo, defaults: ReminderPrefs) -> None:
        self.db = db
        self.clock = clock
        self.tz = tz
        self.defaults = defaults

    async def mine(self, actor: Actor) -> LearnerCalendar:
        """Every session of the learner's classes, from KEPT_PAST ago."""
        person = registered(actor)
        now = self.clock.now()
        async with self.db.read() as conn:
            rows = await CalendarRepository(conn).sessions(person.id, since=now - KEPT_PAST)
            prefs = (await ReminderRepository(conn).prefs([person.id], self.defaults))[person.id]
        return LearnerCalendar([_entry(r) for r in rows], prefs, now, person.full_name)

    async def of_class(self, actor: Actor, class_id: int) -> LearnerCalendar:
        """The sessions of one class the learner holds (or waits for approval of) a seat
        in; any other class is refused, whether it exists or not."""
        person = registered(actor)
        async with self.db.read() as conn:
            enrolment = await EnrolmentRepository(conn).of(class_id, person.id)
            if enrolment is None or enrolment.status not in CLASS_FILE_FOR:
                raise PermissionDenied("calendar.not_in_class")
            training_class = await ClassRepository(conn).get(class_id)
            rows = await CalendarRepository(conn).sessions(person.id, class_id=class_id)
            prefs = (await ReminderRepository(conn).prefs([person.id], self.defaults))[person.id]
        return LearnerCalendar(
            [_entry(r) for r in rows],
            prefs,
            self.clock.now(),
            training_class.name,
            training_class.code,
        )


def _entry(row: CalendarSession) -> CalendarEntry:
    session = row.session
    cancelled = session.cancelled or row.class_cancelled
    return CalendarEntry(
        session=session,
        class_id=row.class_id,
        class_name=row.class_name,
        place=session_place(session.room, session.link, row.format, row.location, row.meeting_link),
        status=event_status(cancelled=cancelled, pending=row.enrolment is EnrolmentStatus.PENDING),
        sequence=sequence(row.changes, cancelled=cancelled),
    )
