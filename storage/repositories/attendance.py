"""Attendance marks, each session's check-in and roll-call state, and standings per class."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import TAKEN_BY, AttendanceEntry, Mark, MarkSource, Standing, standing
from bot.training import ClassStatus, EnrolmentStatus, SessionStatus
from storage.repositories.outbox import _insert
from storage.schema import (
    attendance,
    class_sessions,
    classes,
    enrolments,
    people,
    session_attendance,
    units,
)

_CHUNK = 2_000


@dataclass(frozen=True, slots=True)
class MarkRow:
    person_id: int
    mark: Mark
    source: MarkSource
    at: datetime
    checked_in_at: datetime | None = None
    marked_by: int | None = None


@dataclass(frozen=True, slots=True)
class NewMark:
    """A mark as an import (or the demo) brings it, with its own time."""

    session_id: int
    class_id: int
    person_id: int
    mark: Mark
    source: MarkSource
    at: datetime
    checked_in_at: datetime | None = None
    marked_by: int | None = None


@dataclass(frozen=True, slots=True)
class SessionState:
    """A session's attendance as a whole (no row yet: nothing has happened)."""

    session_id: int
    secret: str | None = None
    opened_by: int | None = None
    opened_at: datetime | None = None
    stopped_at: datetime | None = None
    projector_chat_id: int | None = None
    projector_message_id: int | None = None
    saved_at: datetime | None = None
    saved_by: int | None = None
    closed_at: datetime | None = None

    @property
    def checkin_opened(self) -> bool:
        return self.secret is not None and self.stopped_at is None


@dataclass(frozen=True, slots=True)
class OpenCheckin:
    """A session whose self check-in a lecturer has opened, still running."""

    state: SessionState
    class_id: int
    starts_at: datetime
    ends_at: datetime
    late_after: int


@dataclass(frozen=True, slots=True)
class UntakenSession:
    """A session that ended with nobody's attendance taken."""

    session_id: int
    class_id: int
    class_code: str
    starts_at: datetime
    lecturer: str | None


@dataclass(frozen=True, slots=True)
class RollEntry:
    """One enrolled learner on a session's roll, with their mark so far."""

    person_id: int
    name: str
    unit: str | None
    mark: Mark | None
    source: MarkSource | None


def _mark_row(row: Any) -> MarkRow:
    return MarkRow(
        person_id=row.person_id,
        mark=Mark(row.mark),
        source=MarkSource(row.source),
        at=row.at,
        checked_in_at=row.checked_in_at,
        marked_by=row.marked_by,
    )


def _state(row: Any) -> SessionState:
    return SessionState(**{c.name: row._mapping[c.name] for c in session_attendance.c})


_MARK_COLUMNS = (
    attendance.c.person_id,
    attendance.c.mark,
    attendance.c.source,
    attendance.c.at,
    attendance.c.checked_in_at,
    attendance.c.marked_by,
)


_ENDED_FROM = class_sessions.join(classes, classes.c.id == class_sessions.c.class_id).outerjoin(
    session_attendance, session_attendance.c.session_id == class_sessions.c.id
)


def _ended_unclosed(before: datetime, since: datetime | None) -> list[sa.ColumnElement[bool]]:
    s = class_sessions
    return [
        s.c.ends_at < before,
        s.c.status == SessionStatus.SCHEDULED.value,
        classes.c.status != ClassStatus.CANCELLED.value,
        session_attendance.c.closed_at.is_(None),
        s.c.starts_at >= since if since is not None else sa.true(),
    ]


def _taken() -> sa.ColumnElement[bool]:
    """The session's attendance was taken: check-in opened, a roll saved, or a mark that
    someone took (not a leave's, not the close's)."""
    return sa.or_(
        session_attendance.c.secret.is_not(None),
        session_attendance.c.saved_at.is_not(None),
        sa.exists().where(
            attendance.c.session_id == class_sessions.c.id,
            attendance.c.source.in_([m.value for m in TAKEN_BY]),
        ),
    )


class AttendanceRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    # --- marks -------------------------------------------------------------------------------

    async def marks(self, session_id: int) -> dict[int, MarkRow]:
        rows = await self.conn.execute(
            sa.select(*_MARK_COLUMNS).where(attendance.c.session_id == session_id)
        )
        return {r.person_id: _mark_row(r) for r in rows}

    async def mark_of(self, session_id: int, person_id: int) -> MarkRow | None:
        row = (
            await self.conn.execute(
                sa.select(*_MARK_COLUMNS).where(
                    attendance.c.session_id == session_id, attendance.c.person_id == person_id
                )
            )
        ).first()
        return _mark_row(row) if row else None

    async def check_in(
        self,
        session_id: int,
        class_id: int,
        person_id: int,
        mark: Mark,
        source: MarkSource,
        at: datetime,
    ) -> bool:
        """Records a learner's own check-in unless they already have a mark: the first wins,
        so a double tap or two devices record one arrival."""
        statement = _insert(self.conn, attendance).on_conflict_do_nothing()
        result = await self.conn.execute(
            statement.values(
                session_id=session_id, class_id=class_id, person_id=person_id, mark=mark.value,
                source=source.value, checked_in_at=at, at=at,
            )
        )  # fmt: skip
        return bool(result.rowcount)

    async def put(
        self,
        session_id: int,
        class_id: int,
        marks: Mapping[int, Mark],
        *,
        source: MarkSource,
        by: int | None,
        at: datetime,
    ) -> None:
        """Writes these marks, replacing any earlier ones (a check-in keeps its time)."""
        if not marks:
            return
        statement = _insert(self.conn, attendance)
        statement = statement.on_conflict_do_update(
            index_elements=["session_id", "person_id"],
            set_={
                "mark": statement.excluded.mark,
                "source": statement.excluded.source,
                "marked_by": statement.excluded.marked_by,
                "at": statement.excluded.at,
            },
        )
        await self.conn.execute(
            statement,
            [
                {"session_id": session_id, "class_id": class_id, "person_id": person_id,
                 "mark": mark.value, "source": source.value, "marked_by": by, "at": at,
                 "checked_in_at": None}
                for person_id, mark in marks.items()
            ],
        )  # fmt: skip

    async def add_marks(self, marks: Sequence[NewMark]) -> None:
        """Bulk insert of marks that do not exist yet (an import, the demo)."""
        for start in range(0, len(marks), _CHUNK):
            await self.conn.execute(
                attendance.insert(),
                [
                    {"session_id": m.session_id, "class_id": m.class_id, "person_id": m.person_id,
                     "mark": m.mark.value, "source": m.source.value, "at": m.at,
                     "checked_in_at": m.checked_in_at, "marked_by": m.marked_by}
                    for m in marks[start : start + _CHUNK]
                ],
            )  # fmt: skip

    async def roll(self, session_id: int, class_id: int, ends_at: datetime) -> list[RollEntry]:
        """Everyone on the session's roll, by name: learners enrolled in the class by its end
        (one promoted later was not expected there), with their marks so far; and anyone
        marked who has since left the class."""
        a = attendance
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.full_name, units.c.name.label("unit"), a.c.mark,
                      a.c.source)
            .select_from(
                people.outerjoin(units, units.c.id == people.c.unit_id).outerjoin(
                    a, sa.and_(a.c.session_id == session_id, a.c.person_id == people.c.id)
                )
            )
            .where(
                sa.or_(
                    a.c.person_id.is_not(None),
                    people.c.id.in_(self._expected(class_id, ends_at)),
                )
            )
            .order_by(people.c.name_search, people.c.id)
        )  # fmt: skip
        return [
            RollEntry(r.id, r.full_name, r.unit, Mark(r.mark) if r.mark else None,
                      MarkSource(r.source) if r.source else None)
            for r in rows
        ]  # fmt: skip

    @staticmethod
    def _expected(class_id: int, ends_at: datetime) -> sa.Select[tuple[int]]:
        return sa.select(enrolments.c.person_id).where(
            enrolments.c.class_id == class_id,
            enrolments.c.status == EnrolmentStatus.ENROLLED.value,
            enrolments.c.updated_at <= ends_at,
        )

    async def absent_unmarked(self, session_id: int, class_id: int, ends_at: datetime,
                              at: datetime) -> list[int]:  # fmt: skip
        """Marks every expected learner without a mark absent: the session has closed."""
        expected = self._expected(class_id, ends_at).where(
            ~sa.exists().where(
                attendance.c.session_id == session_id,
                attendance.c.person_id == enrolments.c.person_id,
            )
        )
        missing: list[int] = [row.person_id for row in await self.conn.execute(expected)]
        await self.put(
            session_id, class_id, dict.fromkeys(missing, Mark.ABSENT),
            source=MarkSource.CLOSE, by=None, at=at,
        )  # fmt: skip
        return missing

    # --- a session's state ------------------------------------------------------------------

    async def state(self, session_id: int) -> SessionState:
        row = (
            await self.conn.execute(
                sa.select(session_attendance).where(session_attendance.c.session_id == session_id)
            )
        ).first()
        return _state(row) if row else SessionState(session_id)

    async def update_state(self, session_id: int, **values: object) -> None:
        """Sets these columns of the session's state, creating it if need be."""
        statement = _insert(self.conn, session_attendance).values(session_id=session_id, **values)
        await self.conn.execute(
            statement.on_conflict_do_update(index_elements=["session_id"], set_=values)
        )

    async def close_all(self, closed: Mapping[int, datetime]) -> None:
        """Marks these sessions closed at the given times (an import, the demo)."""
        items = list(closed.items())
        for start in range(0, len(items), _CHUNK):
            await self.conn.execute(
                session_attendance.insert(),
                [{"session_id": s, "closed_at": at} for s, at in items[start : start + _CHUNK]],
            )

    async def open_checkins(self, now: datetime) -> list[OpenCheckin]:
        """Self check-ins opened and not stopped, of sessions not yet over."""
        s = class_sessions
        rows = await self.conn.execute(
            sa.select(session_attendance, s.c.class_id, s.c.starts_at, s.c.ends_at,
                      classes.c.late_after)
            .select_from(
                session_attendance.join(s, s.c.id == session_attendance.c.session_id).join(
                    classes, classes.c.id == s.c.class_id
                )
            )
            .where(
                session_attendance.c.secret.is_not(None),
                session_attendance.c.stopped_at.is_(None),
                session_attendance.c.closed_at.is_(None),
                s.c.status == SessionStatus.SCHEDULED.value,
                s.c.ends_at > now,
            )
        )  # fmt: skip
        return [OpenCheckin(_state(r), r.class_id, r.starts_at, r.ends_at, r.late_after)
                for r in rows]  # fmt: skip

    async def to_close(
        self, before: datetime, limit: int = 200, *, since: datetime | None = None
    ) -> list[tuple[int, int, datetime]]:
        """(session, class, end) of sessions that ended before `before`, are not closed and
        had their attendance taken (a check-in opened, a roll saved, a learner's check-in),
        in classes still going on (a cancelled class's sessions take no attendance); with
        `since`, only those that started after it (the index on starts_at bounds the scan).

        A session nobody took attendance of is left open: closing it would mark its whole
        class absent; the office is told instead (`untaken`)."""
        s = class_sessions
        rows = await self.conn.execute(
            sa.select(s.c.id, s.c.class_id, s.c.ends_at)
            .select_from(_ENDED_FROM)
            .where(*_ended_unclosed(before, since), _taken())
            .order_by(s.c.ends_at)
            .limit(limit)
        )
        return [(r.id, r.class_id, r.ends_at) for r in rows]

    async def untaken(self, before: datetime, *, since: datetime) -> list[UntakenSession]:
        """Sessions that ended between `since` and `before` and are not closed, whose
        attendance nobody took, soonest first."""
        s = class_sessions
        lecturer = people.alias("lecturer")
        rows = await self.conn.execute(
            sa.select(s.c.id, s.c.class_id, classes.c.code, s.c.starts_at,
                      lecturer.c.full_name.label("lecturer"))
            .select_from(_ENDED_FROM.outerjoin(lecturer, lecturer.c.id == s.c.lecturer_id))
            .where(*_ended_unclosed(before, since), ~_taken())
            .order_by(s.c.starts_at, s.c.id)
        )  # fmt: skip
        return [UntakenSession(r.id, r.class_id, r.code, r.starts_at, r.lecturer) for r in rows]

    # --- standings --------------------------------------------------------------------------

    async def standings(
        self, class_id: int, completion_pct: int, person_ids: Iterable[int] | None = None
    ) -> dict[int, Standing]:
        """Each learner's standing in the class (those asked for, or everyone marked)."""
        total = (
            await self.conn.execute(
                sa.select(sa.func.count()).where(
                    class_sessions.c.class_id == class_id,
                    class_sessions.c.status == SessionStatus.SCHEDULED.value,
                )
            )
        ).scalar_one()
        query = (
            sa.select(attendance.c.person_id, attendance.c.mark, sa.func.count().label("n"))
            .select_from(
                attendance.join(class_sessions, class_sessions.c.id == attendance.c.session_id)
            )
            .where(
                attendance.c.class_id == class_id,
                class_sessions.c.status == SessionStatus.SCHEDULED.value,
            )
            .group_by(attendance.c.person_id, attendance.c.mark)
        )
        wanted: Sequence[int] | None = None
        if person_ids is not None:
            wanted = list(person_ids)
            query = query.where(attendance.c.person_id.in_(wanted))
        marks: dict[int, list[Mark]] = defaultdict(list)
        for row in await self.conn.execute(query):
            marks[row.person_id] += [Mark(row.mark)] * row.n
        people_ids = wanted if wanted is not None else list(marks)
        return {p: standing(int(total), completion_pct, marks.get(p, [])) for p in people_ids}

    async def missed(self, class_id: int, person_id: int) -> list[tuple[datetime, Mark]]:
        """The sessions of a class a learner missed (excused or not), in order."""
        rows = await self.conn.execute(
            sa.select(class_sessions.c.starts_at, attendance.c.mark)
            .select_from(
                attendance.join(class_sessions, class_sessions.c.id == attendance.c.session_id)
            )
            .where(
                attendance.c.class_id == class_id,
                attendance.c.person_id == person_id,
                attendance.c.mark.in_([Mark.EXCUSED.value, Mark.ABSENT.value]),
                class_sessions.c.status == SessionStatus.SCHEDULED.value,
            )
            .order_by(class_sessions.c.starts_at)
        )
        return [(r.starts_at, Mark(r.mark)) for r in rows]

    async def of_person(self, person_id: int) -> list[AttendanceEntry]:
        """Every mark of a person, with its class and session (/mydata)."""
        rows = await self.conn.execute(
            sa.select(classes.c.code, classes.c.name, class_sessions.c.starts_at,
                      attendance.c.mark, attendance.c.source, attendance.c.checked_in_at)
            .select_from(
                attendance.join(class_sessions, class_sessions.c.id == attendance.c.session_id)
                .join(classes, classes.c.id == attendance.c.class_id)
            )
            .where(attendance.c.person_id == person_id)
            .order_by(class_sessions.c.starts_at)
        )  # fmt: skip
        return [
            AttendanceEntry(r.code, r.name, r.starts_at, Mark(r.mark), MarkSource(r.source),
                            r.checked_in_at)
            for r in rows
        ]  # fmt: skip
