"""What the training office is reminded of: classes and sessions that need an administrator."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.training import ClassFormat, ClassStatus, SessionStatus
from storage.schema import class_lecturers, class_sessions, classes, held_messages, outbox

#: Classes still to be run or being run: not finished, not cancelled.
_NOT_CLOSED = (ClassStatus.PLANNED.value, ClassStatus.OPEN.value, ClassStatus.RUNNING.value)


@dataclass(frozen=True, slots=True)
class DeadlineDue:
    """An open class whose enrolment closes soon with seats left."""

    class_id: int
    code: str
    name: str
    deadline: datetime
    enrolled: int
    capacity: int


@dataclass(frozen=True, slots=True)
class SessionDue:
    """A session soon, with what it has of a lecturer and a place (its own or its class's)."""

    session_id: int
    class_id: int
    code: str
    format: ClassFormat
    starts_at: datetime
    has_lecturer: bool
    room: str | None
    link: str | None


@dataclass(frozen=True, slots=True)
class UnclosedClass:
    """A class whose last session has ended but that nobody closed."""

    class_id: int
    code: str
    name: str
    ended_at: datetime


class OfficeRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def deadlines(self, after: datetime, until: datetime) -> list[DeadlineDue]:
        """Open classes with seats left whose enrolment closes in (after, until]."""
        rows = await self.conn.execute(
            sa.select(classes.c.id, classes.c.code, classes.c.name, classes.c.enrol_deadline,
                      classes.c.enrolled_count, classes.c.capacity)
            .where(
                classes.c.status == ClassStatus.OPEN.value,
                classes.c.enrol_deadline > after,
                classes.c.enrol_deadline <= until,
                classes.c.enrolled_count < classes.c.capacity,
            )
            .order_by(classes.c.enrol_deadline, classes.c.code)
        )  # fmt: skip
        return [DeadlineDue(*row) for row in rows]

    async def sessions_lacking(self, after: datetime, until: datetime) -> list[SessionDue]:
        """Scheduled sessions of classes not closed starting in (after, until] that may lack
        a lecturer, a room or a link (which of these matters depends on the format)."""
        class_lecturer = sa.exists().where(class_lecturers.c.class_id == class_sessions.c.class_id)
        has_lecturer = sa.or_(class_sessions.c.lecturer_id.is_not(None), class_lecturer)
        room = sa.func.coalesce(class_sessions.c.room, classes.c.location)
        link = sa.func.coalesce(class_sessions.c.link, classes.c.meeting_link)
        rows = await self.conn.execute(
            sa.select(class_sessions.c.id.label("session_id"), classes.c.id.label("class_id"),
                      classes.c.code, classes.c.format,
                      class_sessions.c.starts_at, has_lecturer.label("has_lecturer"),
                      room.label("room"), link.label("link"))
            .select_from(class_sessions.join(classes, classes.c.id == class_sessions.c.class_id))
            .where(
                class_sessions.c.status == SessionStatus.SCHEDULED.value,
                class_sessions.c.starts_at > after,
                class_sessions.c.starts_at <= until,
                classes.c.status.in_(_NOT_CLOSED),
                sa.or_(~has_lecturer, room.is_(None), link.is_(None)),
            )
            .order_by(class_sessions.c.starts_at, classes.c.code)
        )  # fmt: skip
        return [
            SessionDue(r.session_id, r.class_id, r.code, ClassFormat(r.format), r.starts_at,
                       bool(r.has_lecturer), r.room, r.link)
            for r in rows
        ]  # fmt: skip

    async def unclosed(self, now: datetime) -> list[UnclosedClass]:
        """Classes not finished nor cancelled whose last session ended by `now`."""
        rows = await self.conn.execute(
            sa.select(classes.c.id, classes.c.code, classes.c.name, classes.c.ends_at)
            .where(classes.c.status.in_(_NOT_CLOSED), classes.c.ends_at <= now)
            .order_by(classes.c.ends_at, classes.c.code)
        )
        return [UnclosedClass(*row) for row in rows]

    async def known_keys(self, keys: Iterable[str]) -> set[str]:
        """The keys among `keys` already queued, sent or held for quiet hours."""
        wanted = sorted(set(keys))
        if not wanted:
            return set()
        queued = sa.select(outbox.c.dedup_key).where(outbox.c.dedup_key.in_(wanted))
        held = sa.select(held_messages.c.dedup_key).where(held_messages.c.dedup_key.in_(wanted))
        return set((await self.conn.execute(sa.union(queued, held))).scalars())
