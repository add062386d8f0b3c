"""Excused-absence requests: the sessions a learner may still ask for, the requests, and the
first decision on each (a conditional update, so two deciders cannot both win)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import LeaveEntry, LeaveStatus, Mark
from bot.errors import NotFound
from bot.training import ClassStatus, EnrolmentStatus, SessionStatus
from storage.links import SENDABLE
from storage.repositories.outbox import _insert
from storage.schema import (
    attendance,
    class_lecturers,
    class_sessions,
    classes,
    enrolments,
    leave_requests,
    people,
    units,
)


@dataclass(frozen=True, slots=True)
class LeaveOption:
    """A session a learner may ask leave for."""

    session_id: int
    class_id: int
    class_code: str
    class_name: str
    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class LeaveRequest:
    """A request with what its messages name: the learner, the class, the session."""

    id: int
    session_id: int
    class_id: int
    person_id: int
    learner_name: str
    learner_unit: str | None
    class_code: str
    class_name: str
    starts_at: datetime
    reason: str
    status: LeaveStatus
    asked_at: datetime
    decided_by: int | None = None
    decided_by_name: str | None = None
    decided_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Decider:
    """Someone a request goes to: a person linked to Telegram."""

    person_id: int
    telegram_id: int
    name: str


_decider = people.alias("decider")
_REQUEST_SELECT = sa.select(
    leave_requests,
    people.c.full_name.label("learner_name"),
    units.c.name.label("learner_unit"),
    classes.c.code.label("class_code"),
    classes.c.name.label("class_name"),
    class_sessions.c.starts_at,
    _decider.c.full_name.label("decided_by_name"),
).select_from(
    leave_requests.join(people, people.c.id == leave_requests.c.person_id)
    .outerjoin(units, units.c.id == people.c.unit_id)
    .join(classes, classes.c.id == leave_requests.c.class_id)
    .join(class_sessions, class_sessions.c.id == leave_requests.c.session_id)
    .outerjoin(_decider, _decider.c.id == leave_requests.c.decided_by)
)


def _request(row: Any) -> LeaveRequest:
    return LeaveRequest(
        id=row.id, session_id=row.session_id, class_id=row.class_id, person_id=row.person_id,
        learner_name=row.learner_name, learner_unit=row.learner_unit, class_code=row.class_code,
        class_name=row.class_name, starts_at=row.starts_at, reason=row.reason,
        status=LeaveStatus(row.status), asked_at=row.asked_at, decided_by=row.decided_by,
        decided_by_name=row.decided_by_name, decided_at=row.decided_at,
    )  # fmt: skip


_LINKED = SENDABLE


class LeaveRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def options(
        self, person_id: int, since: datetime, until: datetime, limit: int = 200
    ) -> list[LeaveOption]:
        """Sessions from `since` to `until` of the classes the person is enrolled in, neither
        cancelled, not asked for yet, and not attended (present or late)."""
        s = class_sessions
        asked = sa.exists().where(
            leave_requests.c.session_id == s.c.id, leave_requests.c.person_id == person_id
        )
        attended = sa.exists().where(
            attendance.c.session_id == s.c.id,
            attendance.c.person_id == person_id,
            attendance.c.mark.in_([Mark.PRESENT.value, Mark.LATE.value]),
        )
        rows = await self.conn.execute(
            sa.select(s.c.id, s.c.class_id, classes.c.code, classes.c.name, s.c.starts_at,
                      s.c.ends_at)
            .select_from(
                s.join(classes, classes.c.id == s.c.class_id).join(
                    enrolments,
                    sa.and_(enrolments.c.class_id == s.c.class_id,
                            enrolments.c.person_id == person_id),
                )
            )
            .where(
                enrolments.c.status == EnrolmentStatus.ENROLLED.value,
                classes.c.status != ClassStatus.CANCELLED.value,
                s.c.status == SessionStatus.SCHEDULED.value,
                s.c.starts_at >= since,
                s.c.starts_at <= until,
                ~asked,
                ~attended,
            )
            .order_by(s.c.starts_at, s.c.id)
            .limit(limit)
        )  # fmt: skip
        return [LeaveOption(r.id, r.class_id, r.code, r.name, r.starts_at, r.ends_at) for r in rows]

    async def add(
        self, session_id: int, class_id: int, person_id: int, reason: str, at: datetime
    ) -> int | None:
        """The new request's id; None if the person has asked for this session already."""
        result = await self.conn.execute(
            _insert(self.conn, leave_requests)
            .values(session_id=session_id, class_id=class_id, person_id=person_id, reason=reason,
                    status=LeaveStatus.PENDING.value, asked_at=at)
            .on_conflict_do_nothing()
            .returning(leave_requests.c.id)
        )  # fmt: skip
        found = result.scalar()
        return int(found) if found is not None else None

    async def get(self, request_id: int) -> LeaveRequest:
        row = (
            await self.conn.execute(_REQUEST_SELECT.where(leave_requests.c.id == request_id))
        ).first()
        if row is None:
            raise NotFound("leave.unknown")
        return _request(row)

    async def of(self, session_id: int, person_id: int) -> LeaveRequest | None:
        row = (
            await self.conn.execute(
                _REQUEST_SELECT.where(
                    leave_requests.c.session_id == session_id,
                    leave_requests.c.person_id == person_id,
                )
            )
        ).first()
        return _request(row) if row else None

    async def decide(self, request_id: int, status: LeaveStatus, by: int, at: datetime) -> bool:
        """Records the decision if none was made yet: the first decider wins."""
        result = await self.conn.execute(
            leave_requests.update()
            .where(
                leave_requests.c.id == request_id,
                leave_requests.c.status == LeaveStatus.PENDING.value,
            )
            .values(status=status.value, decided_by=by, decided_at=at)
        )
        return bool(result.rowcount)

    async def linked(self, person_ids: Sequence[int]) -> list[Decider]:
        """These people, those linked to Telegram, by name."""
        if not person_ids:
            return []
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.telegram_id, people.c.full_name)
            .where(people.c.id.in_(list(person_ids)), *_LINKED)
            .order_by(people.c.name_search, people.c.id)
        )
        return [Decider(r.id, r.telegram_id, r.full_name) for r in rows]

    async def lecturer_ids(self, class_id: int) -> list[int]:
        rows = await self.conn.execute(
            sa.select(class_lecturers.c.person_id).where(class_lecturers.c.class_id == class_id)
        )
        return list(rows.scalars())

    async def of_person(self, person_id: int) -> list[LeaveEntry]:
        """Every request a person made (/mydata)."""
        rows = await self.conn.execute(
            sa.select(classes.c.code, class_sessions.c.starts_at, leave_requests.c.reason,
                      leave_requests.c.status, leave_requests.c.asked_at,
                      leave_requests.c.decided_at)
            .select_from(
                leave_requests.join(class_sessions,
                                    class_sessions.c.id == leave_requests.c.session_id)
                .join(classes, classes.c.id == leave_requests.c.class_id)
            )
            .where(leave_requests.c.person_id == person_id)
            .order_by(leave_requests.c.asked_at)
        )  # fmt: skip
        return [
            LeaveEntry(r.code, r.starts_at, r.reason, LeaveStatus(r.status), r.asked_at,
                       r.decided_at)
            for r in rows
        ]  # fmt: skip

    async def of_learner(self, person_id: int, since: datetime, limit: int) -> list[LeaveRequest]:
        """A learner's requests for sessions from `since` on, the latest session first."""
        rows = await self.conn.execute(
            _REQUEST_SELECT.where(
                leave_requests.c.person_id == person_id, class_sessions.c.starts_at >= since
            )
            .order_by(class_sessions.c.starts_at.desc())
            .limit(limit)
        )
        return [_request(r) for r in rows]

    async def pending_for(
        self, person_id: int | None, limit: int
    ) -> tuple[list[LeaveRequest], int]:
        """Requests waiting for a decision, soonest session first, of the sessions a lecturer
        teaches (None: all, for administrators); and how many there are in all."""
        where = [leave_requests.c.status == LeaveStatus.PENDING.value]
        if person_id is not None:
            taught = sa.select(class_lecturers.c.class_id).where(
                class_lecturers.c.person_id == person_id
            )
            where.append(
                sa.or_(class_sessions.c.lecturer_id == person_id,
                       leave_requests.c.class_id.in_(taught))
            )  # fmt: skip
        rows = await self.conn.execute(
            _REQUEST_SELECT.where(*where).order_by(class_sessions.c.starts_at).limit(limit)
        )
        total = await self.conn.execute(
            sa.select(sa.func.count())
            .select_from(
                leave_requests.join(
                    class_sessions, class_sessions.c.id == leave_requests.c.session_id
                )
            )
            .where(*where)
        )
        return [_request(r) for r in rows], int(total.scalar_one())
