"""The roll call service on both databases: a roll of 200 saved at once, only people on the
roll, corrections needing a reason and audited, the close (by the lecturer and by the
periodic pass) making the unmarked absent once, and warnings sent once however marks move."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from bot.attendance import Mark, MarkSource
from bot.clock import FrozenClock
from bot.domain import Actor
from bot.errors import Conflict, InvalidInput, PermissionDenied
from bot.services import Services
from bot.training import EnrolmentStatus
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.schema import attendance, audit_log, class_sessions, classes, outbox, people
from storage.types import utcnow
from tests.factories import NEVER_QUIET, Province, add_class, add_person, add_role, make_province

ADMIN = 42
LECTURER = 4242
HEAD = 6000


@dataclass
class Roll:
    services: Services
    clock: FrozenClock
    class_id: int
    sessions: list[int]
    learners: list[int]
    lecturer: Actor


async def _learners(db: Database, province: Province, count: int, at: datetime) -> list[int]:
    """Learners on the roster in one statement (a roll call of 200 needs 200 of them)."""
    if count <= 0:
        return []
    async with db.write() as conn:
        rows = await conn.execute(
            people.insert().returning(people.c.id),
            [{"full_name": f"Học viên {i:03d}", "name_search": f"hoc vien {i:03d}",
              "source": "roster", "unit_id": province.commune_id, "verified": True,
              "created_at": at, "updated_at": at}
             for i in range(count)],
        )  # fmt: skip
        return sorted(rows.scalars())


async def _roll(db: Database, learners: int = 3, *, linked: int = 1, days: int = 5) -> Roll:
    """A class whose first session began an hour ago; its learners enrolled long before; the
    first `linked` of them on Telegram; a unit head over them; a lecturer of the class."""
    now = utcnow().replace(microsecond=0)
    clock = FrozenClock(now)
    # Quiet hours off: the test must not depend on the hour it runs at.
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=clock, quiet=NEVER_QUIET)
    province = await make_province(db)
    head = await add_person(db, "Thủ Trưởng", unit_id=province.commune_id, telegram_id=HEAD)
    await add_role(db, head, "unit_head", province.commune_id)
    lecturer = await add_person(db, "Giảng Viên", unit_id=province.root_id, telegram_id=LECTURER)
    class_id = await add_class(
        db, "DD01", starts=now - timedelta(hours=1), days=days, created=now - timedelta(days=30),
        lecturer_ids=(lecturer,),
    )  # fmt: skip
    ids = [
        await add_person(db, f"Người Học {i}", unit_id=province.commune_id, telegram_id=7000 + i)
        for i in range(linked)
    ]
    ids += await _learners(db, province, learners - linked, now - timedelta(days=30))
    async with db.write() as conn:
        enrolments = EnrolmentRepository(conn)
        for person_id in ids:
            await enrolments.put(class_id, person_id, EnrolmentStatus.ENROLLED,
                                 at=now - timedelta(days=20))  # fmt: skip
        sessions = [s.id for s in await ClassRepository(conn).sessions(class_id)]
    return Roll(services, clock, class_id, sessions, ids,
                await services.access.actor(LECTURER))  # fmt: skip


async def _marks(db: Database, session_id: int) -> dict[int, tuple[Mark, MarkSource]]:
    async with db.read() as conn:
        found = await AttendanceRepository(conn).marks(session_id)
    return {p: (m.mark, m.source) for p, m in found.items()}


async def _audit(db: Database, action: str) -> list[sa.Row[tuple[object, ...]]]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(audit_log.c.actor_telegram_id, audit_log.c.person_id, audit_log.c.details)
            .where(audit_log.c.action == action)
            .order_by(audit_log.c.id)
        )
        return list(rows)


async def test_a_roll_call_of_200_is_saved_at_once(db: Database) -> None:
    roll = await _roll(db, 200)
    session = roll.sessions[0]
    async with db.write() as conn:  # 20 checked in themselves, one of them late
        repo = AttendanceRepository(conn)
        for i, person_id in enumerate(roll.learners[:20]):
            mark = Mark.LATE if i == 0 else Mark.PRESENT
            await repo.check_in(session, roll.class_id, person_id, mark, MarkSource.CODE,
                                roll.clock.now())  # fmt: skip
    roll_call = roll.services.roll_call
    sheet = await roll_call.sheet(roll.lecturer, session)
    assert len(sheet.entries) == 200 and sheet.counts.unmarked == 180
    assert sheet.counts.present == 19 and sheet.counts.late == 1 and sheet.saved_at is None
    absent = set(roll.learners[-5:])
    marks = {e.person_id: Mark.ABSENT if e.person_id in absent else Mark.PRESENT
             for e in sheet.entries if e.mark is None}  # fmt: skip
    assert not await roll_call.needs_reason(roll.lecturer, session, marks)
    started = time.perf_counter()
    saved = await roll_call.save(roll.lecturer, session, marks)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"a roll call of 200 took {elapsed * 1000:.0f} ms"
    assert (saved.marked, saved.corrected) == (180, 0)
    assert saved.counts.as_dict() == {"present": 194, "late": 1, "excused": 0, "absent": 5,
                                      "unmarked": 0}  # fmt: skip
    stored = await _marks(db, session)
    assert len(stored) == 200 and stored[roll.learners[0]] == (Mark.LATE, MarkSource.CODE)
    assert stored[roll.learners[-1]] == (Mark.ABSENT, MarkSource.ROLL)
    [entry] = await _audit(db, "roll_call_saved")
    assert entry.actor_telegram_id == LECTURER and entry.details["marked"] == 180
    sheet = await roll_call.sheet(roll.lecturer, session)
    assert sheet.saved_at == roll.clock.now() and sheet.counts.absent == 5


async def test_only_people_on_the_roll_are_marked_and_nothing_is_saved_otherwise(
    db: Database,
) -> None:
    roll = await _roll(db)
    stranger = await add_person(db, "Người Ngoài", unit_id=None)
    session = roll.sessions[0]
    for unknown in (stranger, 10**9):
        marks = {roll.learners[0]: Mark.PRESENT, unknown: Mark.PRESENT}
        with pytest.raises(InvalidInput) as refused:
            await roll.services.roll_call.save(roll.lecturer, session, marks)
        assert refused.value.key == "roll.not_on_roll"
    assert await _marks(db, session) == {}
    assert await _audit(db, "roll_call_saved") == []


async def test_corrections_need_a_reason_and_are_audited(db: Database) -> None:
    roll = await _roll(db)
    a, b, c = roll.learners
    session = roll.sessions[0]
    roll_call = roll.services.roll_call
    async with db.write() as conn:
        await AttendanceRepository(conn).check_in(session, roll.class_id, a, Mark.PRESENT,
                                                  MarkSource.LINK, roll.clock.now())  # fmt: skip
    # The first save needs no reason, unless it overrides a learner's own check-in.
    assert await roll_call.needs_reason(roll.lecturer, session, {a: Mark.LATE})
    with pytest.raises(InvalidInput) as refused:
        await roll_call.save(roll.lecturer, session, {a: Mark.LATE, b: Mark.PRESENT})
    assert refused.value.key == "roll.reason_needed"
    assert set(await _marks(db, session)) == {a}
    await roll_call.save(roll.lecturer, session, {a: Mark.PRESENT, b: Mark.PRESENT})
    first_at = (await _marks(db, session))[b]
    roll.clock.advance(timedelta(minutes=30))
    # Later: b's mark changes (a correction), c gets a first mark (no reason), a unchanged.
    change = {a: Mark.PRESENT, b: Mark.LATE, c: Mark.EXCUSED}
    assert await roll_call.needs_reason(roll.lecturer, session, change)
    with pytest.raises(InvalidInput):
        await roll_call.save(roll.lecturer, session, change, reason="  \u200b ")
    admin = await roll.services.access.actor(ADMIN)
    saved = await roll_call.save(admin, session, change, reason="  Đến muộn 20\u202e phút ")
    assert (saved.marked, saved.corrected) == (1, 1)
    stored = await _marks(db, session)
    assert stored[a] == (Mark.PRESENT, MarkSource.LINK)
    assert stored[b] == (Mark.LATE, MarkSource.CORRECTION)
    assert stored[c] == (Mark.EXCUSED, MarkSource.ROLL)
    assert first_at != stored[b]
    [corrected] = await _audit(db, "attendance_corrected")
    assert corrected.actor_telegram_id == ADMIN and corrected.person_id == b
    assert corrected.details == {"session_id": session, "class_id": roll.class_id, "by": None,
                                 "before": "present", "after": "late",
                                 "reason": "Đến muộn 20 phút"}  # fmt: skip
    async with db.read() as conn:
        at_of_a = await AttendanceRepository(conn).mark_of(session, a)
    assert at_of_a is not None and at_of_a.at < roll.clock.now()  # unchanged: not rewritten


async def test_who_may_take_the_roll_and_when(db: Database) -> None:
    roll = await _roll(db)
    roll_call = roll.services.roll_call
    learner = await roll.services.access.actor(7000)
    with pytest.raises(PermissionDenied):
        await roll_call.sheet(learner, roll.sessions[0])
    with pytest.raises(PermissionDenied):
        await roll_call.save(learner, roll.sessions[0], {roll.learners[0]: Mark.PRESENT})
    with pytest.raises(Conflict) as early:
        await roll_call.sheet(roll.lecturer, roll.sessions[1])  # tomorrow's
    assert early.value.key == "roll.too_early"
    async with db.write() as conn:
        await conn.execute(class_sessions.update().where(class_sessions.c.id == roll.sessions[0])
                           .values(status="cancelled"))  # fmt: skip
    with pytest.raises(Conflict) as cancelled:
        await roll_call.sheet(roll.lecturer, roll.sessions[0])
    assert cancelled.value.key == "roll.session_cancelled"
    assert await _marks(db, roll.sessions[0]) == {}


async def test_closing_marks_the_unmarked_absent_once(db: Database) -> None:
    roll = await _roll(db)
    a, b, c = roll.learners
    session = roll.sessions[0]
    roll_call = roll.services.roll_call
    with pytest.raises(Conflict) as not_yet:
        roll.clock.advance(timedelta(days=1, minutes=-61))  # tomorrow, 29 minutes early
        await roll_call.close(roll.lecturer, roll.sessions[1])
    assert not_yet.value.key == "roll.not_started"
    closed = await roll_call.close(roll.lecturer, session, {a: Mark.PRESENT})
    assert (closed.marked, closed.absent, closed.closed) == (1, 2, True)
    assert closed.counts.absent == 2
    stored = await _marks(db, session)
    assert stored[b] == stored[c] == (Mark.ABSENT, MarkSource.CLOSE)
    with pytest.raises(Conflict) as again:
        await roll_call.close(roll.lecturer, session)
    assert again.value.key == "roll.already_closed"
    # Session 2: nobody takes its attendance, so the pass leaves it open (closing it would
    # mark the whole class absent) and the office is told; once a roll is saved, it closes.
    later = roll.clock.now() + timedelta(days=1)
    assert await roll_call.close_due(later) == 0
    async with db.read() as conn:
        untaken = await AttendanceRepository(conn).untaken(later, since=later - timedelta(days=7))
    assert [u.session_id for u in untaken] == [roll.sessions[1]]
    roll.clock.advance(timedelta(hours=2))
    await roll_call.save(roll.lecturer, roll.sessions[1], {a: Mark.PRESENT})
    assert await roll_call.close_due(later) == 1
    assert (await roll_call.sheet(roll.lecturer, session)).closed
    # After the close, a change is a correction.
    assert await roll_call.needs_reason(roll.lecturer, session, {b: Mark.EXCUSED})
    saved = await roll_call.save(roll.lecturer, session, {b: Mark.EXCUSED}, reason="Có giấy")
    assert saved.corrected == 1 and (await _marks(db, session))[b][1] is MarkSource.CORRECTION


async def test_the_pass_closes_sessions_ended_long_enough_ago(db: Database) -> None:
    roll = await _roll(db, days=2)
    now = roll.clock.now()
    cancelled = await add_class(db, "DD02", starts=now - timedelta(hours=6), days=1)
    old = await add_class(db, "DD03", starts=now - timedelta(days=10), days=1)
    async with db.write() as conn:
        await conn.execute(classes.update().where(classes.c.id == cancelled)
                           .values(status="cancelled"))  # fmt: skip
        for class_id in (cancelled, old):
            await EnrolmentRepository(conn).put(
                class_id, roll.learners[0], EnrolmentStatus.ENROLLED, at=now - timedelta(days=20)
            )
    roll_call = roll.services.roll_call
    async with db.write() as conn:  # one learner checked in: its attendance was taken
        await AttendanceRepository(conn).check_in(
            roll.sessions[0], roll.class_id, roll.learners[0], Mark.PRESENT, MarkSource.CODE, now
        )
    # Session 1 of DD01 began an hour ago: it ends in two hours, and closes two hours later.
    assert await roll_call.close_due(now + timedelta(hours=3, minutes=59)) == 0
    assert await roll_call.close_due(now + timedelta(hours=4, minutes=1)) == 1
    assert await roll_call.close_due(now + timedelta(hours=4, minutes=2)) == 0
    marks = await _marks(db, roll.sessions[0])
    assert marks[roll.learners[0]][0] is Mark.PRESENT
    assert {m for p, (m, _) in marks.items() if p != roll.learners[0]} == {Mark.ABSENT}
    async with db.read() as conn:
        rows = await conn.execute(sa.select(attendance.c.class_id).distinct())
        assert set(rows.scalars()) == {roll.class_id}


async def test_a_warning_goes_out_once_and_a_correction_that_lifts_it_says_so(
    db: Database,
) -> None:
    roll = await _roll(db, 1)
    (learner,) = roll.learners
    first, second = roll.sessions[:2]
    roll_call = roll.services.roll_call
    # 5 sessions, 4 needed: one absence leaves no room for another.
    await roll_call.save(roll.lecturer, first, {learner: Mark.ABSENT})
    await roll_call.save(roll.lecturer, first, {learner: Mark.ABSENT})  # saved again: nothing
    roll.clock.advance(timedelta(days=1))
    await roll_call.close(roll.lecturer, second)  # absent again: can no longer complete
    # The pass closes the first session (its roll saved, nobody unmarked): no news.
    assert await roll_call.close_due(roll.clock.now() + timedelta(hours=6)) == 1
    # The lecturer finds she came late after all: the learner can complete again, and is told.
    await roll_call.save(roll.lecturer, second, {learner: Mark.LATE}, reason="Có đến muộn")
    await roll_call.save(roll.lecturer, second, {learner: Mark.LATE})  # nothing new
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.chat_id, outbox.c.dedup_key)
            .where(outbox.c.kind == "attendance_warning")
            .order_by(outbox.c.id)
        )
        sent = [(r.chat_id, r.dedup_key.split(":")[3]) for r in rows]
    assert sent == [(7000, "one_left"), (HEAD, "one_left"), (7000, "cannot"), (HEAD, "cannot"),
                    (7000, "lifted"), (HEAD, "lifted")]  # fmt: skip
