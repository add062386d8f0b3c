"""Loads `tools.demo.attendance` through the attendance repositories, in the seed's
transaction: marks in bulk, every ended session closed, and the practice session's check-in
opened by the demo lecturer."""

from __future__ import annotations

from datetime import timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import CLOSE_AFTER, MarkSource, new_secret
from bot.training import Session
from storage.repositories.attendance import AttendanceRepository, NewMark
from storage.repositories.classes import ClassRepository
from storage.repositories.results import Result, ResultRepository
from tools.demo.attendance import DemoAttendance
from tools.demo.load_training import LoadedTraining

#: The office records a class's results this long after its last session.
RECORDED_AFTER = timedelta(days=3)


async def load_attendance(
    conn: AsyncConnection, attendance: DemoAttendance, loaded: LoadedTraining, tz: tzinfo
) -> None:
    classes, repo = ClassRepository(conn), AttendanceRepository(conn)
    wanted = {m.class_code for m in attendance.marks} | {c for c, _ in attendance.closed}
    sessions: dict[str, list[Session]] = {
        code: await classes.sessions(loaded.class_ids[code]) for code in sorted(wanted)
    }
    marks = []
    for m in attendance.marks:
        session = sessions[m.class_code][m.session]
        by_lecturer = m.source is MarkSource.ROLL
        marks.append(
            NewMark(
                session.id, session.class_id, loaded.people[m.phone], m.mark, m.source,
                at=m.checked_in_at or session.ends_at, checked_in_at=m.checked_in_at,
                marked_by=session.lecturer_id if by_lecturer else None,
            )
        )  # fmt: skip
    await repo.add_marks(marks)
    await repo.close_all(
        {sessions[c][i].id: sessions[c][i].ends_at + CLOSE_AFTER for c, i in attendance.closed}
    )
    await _results(conn, attendance, loaded, sessions, tz)
    code, index, opened = attendance.checkin
    session = sessions[code][index]
    await repo.update_state(
        session.id, secret=new_secret(), opened_by=session.lecturer_id, opened_at=opened
    )


async def _results(
    conn: AsyncConnection,
    attendance: DemoAttendance,
    loaded: LoadedTraining,
    sessions: dict[str, list[Session]],
    tz: tzinfo,
) -> None:
    """Results recorded by the office a few days after each class ended, with the completions
    they give."""
    classes = ClassRepository(conn)
    programmes: dict[str, int] = {}
    recorded = []
    for r in attendance.results:
        class_id = loaded.class_ids[r.class_code]
        if r.class_code not in programmes:
            programmes[r.class_code] = (await classes.get(class_id)).programme.id
        ended = sessions[r.class_code][-1].ends_at
        result = Result(
            class_id,
            loaded.people[r.phone],
            r.outcome,
            r.attended,
            r.total,
            override=False,
            recorded_by=None,
            recorded_at=ended + RECORDED_AFTER,
        )
        recorded.append((result, programmes[r.class_code], ended.astimezone(tz).date()))
    await ResultRepository(conn).add_many(recorded)
