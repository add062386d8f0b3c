"""Loads `tools.demo.attendance` through the attendance repositories, in the seed's
transaction: marks in bulk, every ended session closed, and the practice session's check-in
opened by the demo lecturer."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.attendance import CLOSE_AFTER, MarkSource, new_secret
from bot.training import Session
from storage.repositories.attendance import AttendanceRepository, NewMark
from storage.repositories.classes import ClassRepository
from tools.demo.attendance import DemoAttendance
from tools.demo.load_training import LoadedTraining


async def load_attendance(
    conn: AsyncConnection, attendance: DemoAttendance, loaded: LoadedTraining
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
    code, index, opened = attendance.checkin
    session = sessions[code][index]
    await repo.update_state(
        session.id, secret=new_secret(), opened_by=session.lecturer_id, opened_at=opened
    )
