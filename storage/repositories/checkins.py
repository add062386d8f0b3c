"""What self check-in reads besides the marks: who is enrolled among the classes checking in,
check-ins recently over (to explain a late code), projector messages, and the sessions a
lecturer takes attendance of."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.training import ClassStatus, EnrolmentStatus, Session, SessionStatus
from storage.repositories.attendance import SessionState, _state
from storage.repositories.classes import _SESSION_SELECT, _session
from storage.schema import (
    class_lecturers,
    class_sessions,
    classes,
    enrolments,
    session_attendance,
)

#: The most sessions a lecturer's list shows.
LISTED = 50


@dataclass(frozen=True, slots=True)
class SessionOfClass:
    """A session with the names its class is known by, and its attendance state."""

    session: Session
    class_code: str
    class_name: str
    class_cancelled: bool
    late_after: int
    state: SessionState


def _of_class(row: Any) -> SessionOfClass:
    state = (
        _state(row) if row.session_id is not None else SessionState(row.id)  # no attendance row yet
    )
    return SessionOfClass(
        _session(row), row.class_code, row.class_name,
        row.class_status == ClassStatus.CANCELLED.value, row.late_after, state,
    )  # fmt: skip


def _with_class() -> sa.Select[Any]:
    return (
        _SESSION_SELECT.add_columns(
            classes.c.code.label("class_code"),
            classes.c.name.label("class_name"),
            classes.c.status.label("class_status"),
            classes.c.late_after,
            *session_attendance.c,
        )
        .join(classes, classes.c.id == class_sessions.c.class_id)
        .outerjoin(session_attendance, session_attendance.c.session_id == class_sessions.c.id)
    )


class CheckinRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def enrolled_in(self, person_id: int, class_ids: Collection[int]) -> set[int]:
        """Which of these classes the person is enrolled in (holding a seat)."""
        if not class_ids:
            return set()
        rows = await self.conn.execute(
            sa.select(enrolments.c.class_id).where(
                enrolments.c.person_id == person_id,
                enrolments.c.class_id.in_(list(class_ids)),
                enrolments.c.status == EnrolmentStatus.ENROLLED.value,
            )
        )
        return {r.class_id for r in rows}

    async def names(self, class_ids: Collection[int]) -> dict[int, tuple[str, str]]:
        """(code, name) of each class."""
        if not class_ids:
            return {}
        rows = await self.conn.execute(
            sa.select(classes.c.id, classes.c.code, classes.c.name).where(
                classes.c.id.in_(list(class_ids))
            )
        )
        return {r.id: (r.code, r.name) for r in rows}

    async def session(self, session_id: int) -> SessionOfClass | None:
        row = (
            await self.conn.execute(_with_class().where(class_sessions.c.id == session_id))
        ).first()
        return _of_class(row) if row else None

    async def recent(self, since: datetime) -> list[SessionOfClass]:
        """Sessions with a check-in opened at some time, not over before `since`: a code
        that matches none open may be one of theirs, stopped or ended meanwhile."""
        rows = await self.conn.execute(
            _with_class().where(
                session_attendance.c.secret.is_not(None), class_sessions.c.ends_at > since
            )
        )
        return [_of_class(r) for r in rows]

    async def projectors(self) -> list[SessionOfClass]:
        """Sessions whose projector message is still on a screen (the rotation edits it)."""
        rows = await self.conn.execute(
            _with_class().where(session_attendance.c.projector_message_id.is_not(None))
        )
        return [_of_class(r) for r in rows]

    async def teaching(
        self,
        person_id: int | None,
        since: datetime,
        unclosed_since: datetime,
        until: datetime,
        *,
        newest_first: bool = False,
    ) -> list[SessionOfClass]:
        """Sessions starting before `until` and ending after `since` (or, not yet closed,
        after `unclosed_since`), of classes not cancelled: those the person teaches (named
        on the session or on its class), or every one for None (administrators)."""
        s = class_sessions
        query = _with_class().where(
            s.c.starts_at < until,
            s.c.status == SessionStatus.SCHEDULED.value,
            classes.c.status != ClassStatus.CANCELLED.value,
            sa.or_(
                s.c.ends_at > since,
                sa.and_(s.c.ends_at > unclosed_since, session_attendance.c.closed_at.is_(None)),
            ),
        )
        if person_id is not None:
            query = query.where(
                sa.or_(
                    s.c.lecturer_id == person_id,
                    s.c.class_id.in_(
                        sa.select(class_lecturers.c.class_id).where(
                            class_lecturers.c.person_id == person_id
                        )
                    ),
                )
            )
        order = (s.c.starts_at.desc(), s.c.id.desc()) if newest_first else (s.c.starts_at, s.c.id)
        rows = await self.conn.execute(query.order_by(*order).limit(LISTED))
        return [_of_class(r) for r in rows]
