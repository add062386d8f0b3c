"""The sessions a learner's calendar file holds, with how often each changed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.training import (
    ClassEventKind,
    ClassFormat,
    ClassStatus,
    EnrolmentStatus,
    Session,
)
from storage.repositories.classes import _SESSION_SELECT, _session
from storage.schema import class_events, class_sessions, classes, enrolments

#: The changes a calendar must follow: a new time, a new place, a cancellation.
_SESSION_CHANGES = (
    ClassEventKind.SESSION_MOVED.value,
    ClassEventKind.SESSION_PLACE.value,
    ClassEventKind.SESSION_CANCELLED.value,
)
#: Seats (or seats waiting for approval), and those a cancelled class took away.
_IN_CALENDAR = (
    EnrolmentStatus.ENROLLED.value,
    EnrolmentStatus.PENDING.value,
    EnrolmentStatus.CANCELLED.value,
)

_session_changes = (
    sa.select(sa.func.count())
    .where(
        class_events.c.class_id == class_sessions.c.class_id,  # its index: no scan of all
        class_events.c.session_id == class_sessions.c.id,
        class_events.c.kind.in_(_SESSION_CHANGES),
    )
    .correlate(class_sessions)
    .scalar_subquery()
)
_class_cancels = (
    sa.select(sa.func.count())
    .where(
        class_events.c.class_id == classes.c.id,
        class_events.c.session_id.is_(None),
        class_events.c.kind == ClassEventKind.CLASS_CANCELLED.value,
    )
    .correlate(classes)
    .scalar_subquery()
)


@dataclass(frozen=True, slots=True)
class CalendarSession:
    """A session of a class the person is in, with what the calendar needs of the class."""

    session: Session
    class_id: int
    class_code: str
    class_name: str
    class_cancelled: bool
    format: ClassFormat
    location: str | None
    meeting_link: str | None
    enrolment: EnrolmentStatus
    #: Moves, place changes and cancellations of the session, and of its whole class.
    changes: int


class CalendarRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def sessions(
        self, person_id: int, *, since: datetime | None = None, class_id: int | None = None
    ) -> list[CalendarSession]:
        """The sessions ending after `since` (all, without) of the classes the person holds
        or waits for approval of a seat in, or lost it to the class's cancellation; of one
        class, with `class_id`."""
        query = (
            _SESSION_SELECT.add_columns(
                classes.c.code.label("class_code"),
                classes.c.name.label("class_name"),
                classes.c.status.label("class_status"),
                classes.c.format.label("class_format"),
                classes.c.location.label("class_location"),
                classes.c.meeting_link.label("class_link"),
                enrolments.c.status.label("enrolment"),
                (_session_changes + _class_cancels).label("changes"),
            )
            .join(classes, classes.c.id == class_sessions.c.class_id)
            .join(
                enrolments,
                sa.and_(
                    enrolments.c.class_id == classes.c.id,
                    enrolments.c.person_id == person_id,
                ),
            )
            .where(
                enrolments.c.status.in_(_IN_CALENDAR),
                sa.or_(
                    enrolments.c.status != EnrolmentStatus.CANCELLED.value,
                    classes.c.status == ClassStatus.CANCELLED.value,
                ),
            )
            .order_by(class_sessions.c.starts_at, class_sessions.c.id)
        )
        if since is not None:
            query = query.where(class_sessions.c.ends_at > since)
        if class_id is not None:
            query = query.where(classes.c.id == class_id)
        rows = await self.conn.execute(query)
        return [
            CalendarSession(
                session=_session(r),
                class_id=r.class_id,
                class_code=r.class_code,
                class_name=r.class_name,
                class_cancelled=r.class_status == ClassStatus.CANCELLED.value,
                format=ClassFormat(r.class_format),
                location=r.class_location,
                meeting_link=r.class_link,
                enrolment=EnrolmentStatus(r.enrolment),
                changes=int(r.changes),
            )
            for r in rows
        ]
