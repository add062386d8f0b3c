"""A person's training record: their classes with sessions, marks and results, and the
completions imported from before the bot. A few queries for the whole record, however many
classes it has."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import Mark, Outcome
from bot.training import ClassKind, ClassStatus, EnrolmentStatus, SessionStatus
from bot.training_record import ClassRecord, ImportedCompletion, SessionMark
from storage.schema import (
    attendance,
    class_sessions,
    classes,
    completions,
    enrolments,
    plans,
    programmes,
    results,
)

_ATTENDED = (Mark.PRESENT.value, Mark.LATE.value)


class TrainingRecordRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def classes(
        self, person_id: int, now: datetime, class_id: int | None = None
    ) -> list[ClassRecord]:
        """The person's classes (or the one asked for), by start: those they are enrolled in,
        and those they left or that were cancelled after they attended a session or got a
        result (a waitlist place or a withdrawal before the start is no training)."""
        r = results
        attended_some = sa.exists().where(
            attendance.c.class_id == classes.c.id,
            attendance.c.person_id == person_id,
            attendance.c.mark.in_(_ATTENDED),
        )
        query = (
            sa.select(
                classes.c.id, classes.c.code, classes.c.name, classes.c.kind, classes.c.status,
                classes.c.starts_at, classes.c.ends_at, classes.c.completion_pct,
                programmes.c.name.label("programme"), plans.c.year.label("plan_year"),
                enrolments.c.status.label("enrolment"), r.c.outcome, r.c.override,
            )
            .select_from(
                enrolments.join(classes, classes.c.id == enrolments.c.class_id)
                .join(programmes, programmes.c.id == classes.c.programme_id)
                .join(plans, plans.c.id == classes.c.plan_id)
                .outerjoin(r, sa.and_(r.c.class_id == classes.c.id, r.c.person_id == person_id))
            )
            .where(
                enrolments.c.person_id == person_id,
                sa.or_(
                    enrolments.c.status == EnrolmentStatus.ENROLLED.value,
                    r.c.outcome.is_not(None),
                    attended_some,
                ),
            )
            .order_by(classes.c.starts_at.is_(None), classes.c.starts_at, classes.c.id)
        )  # fmt: skip
        if class_id is not None:
            query = query.where(classes.c.id == class_id)
        rows = list(await self.conn.execute(query))
        sessions = await self._sessions(person_id, [row.id for row in rows], now)
        return [_class_record(row, tuple(sessions.get(row.id, ()))) for row in rows]

    async def _sessions(
        self, person_id: int, class_ids: list[int], now: datetime
    ) -> dict[int, list[SessionMark]]:
        """The sessions (not cancelled) of these classes with the person's marks, by class."""
        if not class_ids:
            return {}
        s, a = class_sessions, attendance
        rows = await self.conn.execute(
            sa.select(s.c.class_id, s.c.starts_at, s.c.ends_at, s.c.topic, a.c.mark)
            .select_from(
                s.outerjoin(a, sa.and_(a.c.session_id == s.c.id, a.c.person_id == person_id))
            )
            .where(s.c.class_id.in_(class_ids), s.c.status == SessionStatus.SCHEDULED.value)
            .order_by(s.c.class_id, s.c.starts_at, s.c.id)
        )
        found: dict[int, list[SessionMark]] = defaultdict(list)
        for row in rows:
            mark = Mark(row.mark) if row.mark else None
            # Begun, or checked in early: an excused absence to come is not held yet.
            held = row.starts_at <= now or (mark is not None and mark.attended)
            found[row.class_id].append(
                SessionMark(row.starts_at, row.ends_at, mark, held, row.topic)
            )
        return found

    async def imported(self, person_id: int) -> list[ImportedCompletion]:
        """Completions from the roster import of the past, oldest first."""
        rows = await self.conn.execute(
            sa.select(completions.c.class_name, completions.c.completed_on,
                      programmes.c.name.label("programme"))
            .select_from(
                completions.join(programmes, programmes.c.id == completions.c.programme_id)
            )
            .where(completions.c.person_id == person_id, completions.c.source == "import")
            .order_by(completions.c.completed_on, completions.c.id)
        )  # fmt: skip
        return [
            ImportedCompletion(row.class_name or row.programme, row.programme, row.completed_on)
            for row in rows
        ]


def _class_record(row: Any, sessions: tuple[SessionMark, ...]) -> ClassRecord:
    return ClassRecord(
        class_id=row.id,
        code=row.code,
        name=row.name,
        kind=ClassKind(row.kind),
        programme=row.programme,
        plan_year=row.plan_year,
        status=ClassStatus(row.status),
        enrolment=EnrolmentStatus(row.enrolment),
        completion_pct=row.completion_pct,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        sessions=sessions,
        outcome=Outcome(row.outcome) if row.outcome else None,
        override=bool(row.override),
    )
