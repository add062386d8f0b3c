"""Excused-absence requests against a real database: each refusal changes nothing, the
deciders are the session's lecturer, else the class's, else the administrators; the first
decision wins even when two deciders decide at once; an approval excuses the absence."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.attendance import LEAVE_AFTER, LeaveStatus, Mark, MarkSource
from bot.clock import FrozenClock
from bot.domain import Actor
from bot.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from bot.services import Services
from bot.services.leave import LeaveDecided
from bot.training import Session
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.schema import attendance, audit_log, leave_requests, outbox
from storage.types import utcnow
from tests.factories import add_class, add_person, add_role, make_province

ADMIN = 42
LEARNER, LECTURER, CO_LECTURER, OUTSIDER, OFFICE = 7001, 7101, 7102, 7201, 7301


@dataclass
class World:
    services: Services
    clock: FrozenClock
    class_id: int
    sessions: list[Session]
    other_session: Session
    learner: int
    lecturer: int
    co_lecturer: int

    async def actor(self, telegram_id: int) -> Actor:
        self.services.access.changed()
        return await self.services.access.actor(telegram_id)


async def _world(db: Database) -> World:
    clock = FrozenClock(utcnow().replace(microsecond=0))
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=clock)
    province = await make_province(db)
    unit = province.commune_id
    learner = await add_person(db, "Lò Thị Mai", unit_id=unit, telegram_id=LEARNER)
    lecturer = await add_person(db, "Giàng A Páo", unit_id=unit, telegram_id=LECTURER)
    co_lecturer = await add_person(db, "Vừ Thị Dua", unit_id=unit, telegram_id=CO_LECTURER)
    await add_person(db, "Cầm Văn Khải", unit_id=unit, telegram_id=OUTSIDER)
    office = await add_person(db, "Phòng Đào tạo", unit_id=unit, telegram_id=OFFICE)
    await add_role(db, office, "admin")
    await add_person(db, "Quản trị", unit_id=unit, telegram_id=ADMIN)
    class_id = await add_class(
        db, "NGHI1", days=5, created=clock.now(), lecturer_ids=(lecturer, co_lecturer)
    )
    other_id = await add_class(db, "KHAC1", days=1, created=clock.now())
    await services.enrolment.enrol(await services.access.actor(LEARNER), class_id,
                                   clashes_seen=True)  # fmt: skip
    async with db.read() as conn:
        sessions = await ClassRepository(conn).sessions(class_id)
        other = (await ClassRepository(conn).sessions(other_id))[0]
    return World(services, clock, class_id, sessions, other, learner, lecturer, co_lecturer)


async def _counts(db: Database) -> tuple[int, ...]:
    async with db.read() as conn:
        found = []
        for table in (leave_requests, outbox, attendance, audit_log):
            total = await conn.execute(sa.select(sa.func.count()).select_from(table))
            found.append(int(total.scalar_one()))
        return tuple(found)


async def _copies(db: Database, request_id: int) -> list[sa.Row[tuple[object, ...]]]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(outbox.c.dedup_key, outbox.c.chat_id, outbox.c.state, outbox.c.payload)
            .where(outbox.c.dedup_key.startswith(f"leave_request:{request_id}:"))
            .order_by(outbox.c.id)
        )
        return list(rows)


async def test_each_refusal_changes_nothing_and_the_options_leave_those_out(db: Database) -> None:
    w = await _world(db)
    learner = await w.actor(LEARNER)
    first, second, third, fourth, fifth = w.sessions
    async with db.write() as conn:
        await ClassRepository(conn).update_session(fourth.id, status="cancelled")
        await AttendanceRepository(conn).check_in(
            third.id, w.class_id, w.learner, Mark.PRESENT, MarkSource.CODE, third.starts_at
        )
    assert [o.session_id for o in await w.services.leave.options(learner)] == [
        first.id, second.id, fifth.id,
    ]  # fmt: skip
    asked = await w.services.leave.ask(learner, fifth.id, "  Đi   công tác\n huyện  ")
    w.clock.advance(first.starts_at - w.clock.now() + LEAVE_AFTER + timedelta(minutes=1))
    before = await _counts(db)
    refusals: list[tuple[int, str, str]] = [
        (w.other_session.id, "Ốm nặng", "leave.not_enrolled"),  # another class's session
        (fourth.id, "Đi công tác", "leave.cancelled"),
        (first.id, "Đi công tác", "leave.too_late"),
        (third.id, "Đi công tác", "leave.attended"),
        (fifth.id, "Đi công tác", "leave.already_asked"),
        (second.id, "  ", "leave.reason_length"),
        (second.id, "ab", "leave.reason_length"),
        (second.id, "x" * 301, "leave.reason_length"),
        (second.id, "x" * 100_000, "leave.reason_length"),
        (second.id, "Ốm\u202e nặng", "leave.reason_chars"),
        (second.id, "Ốm\x00", "leave.reason_chars"),
        (second.id, "12345", "leave.reason_chars"),
        (999_999, "Đi công tác", "error.session_unknown"),
    ]
    for session_id, reason, key in refusals:
        with pytest.raises(DomainError) as refused:
            await w.services.leave.ask(learner, session_id, reason)
        assert refused.value.key == key, (session_id, reason)
    assert await _counts(db) == before
    assert [o.session_id for o in await w.services.leave.options(learner)] == [second.id]
    async with db.read() as conn:
        reason = (
            await conn.execute(sa.select(leave_requests.c.reason).where(
                leave_requests.c.id == asked.request_id))
        ).scalar_one()  # fmt: skip
    assert reason == "Đi công tác huyện"


async def test_the_deciders_are_the_lecturers_else_the_administrators(db: Database) -> None:
    w = await _world(db)
    learner = await w.actor(LEARNER)
    first, second = w.sessions[:2]
    async with db.write() as conn:
        await ClassRepository(conn).update_session(first.id, lecturer_id=w.co_lecturer)
    own = await w.services.leave.ask(learner, first.id, "Họp Hội đồng nhân dân xã")
    assert own.lecturers == ("Vừ Thị Dua",) and own.asked == 1
    both = await w.services.leave.ask(learner, second.id, "Họp Hội đồng nhân dân xã")
    assert both.lecturers == ("Giàng A Páo", "Vừ Thị Dua") and both.asked == 2
    copies = await _copies(db, both.request_id)
    assert {c.chat_id for c in copies} == {LECTURER, CO_LECTURER}
    payload = copies[0].payload
    assert payload["key"] == "leave.request"
    assert payload["params"]["reason"] == "Họp Hội đồng nhân dân xã"
    assert payload["buttons"] == [
        [{"key": "leave.approve", "data": f"lv.do:{both.request_id}:1"},
         {"key": "leave.reject", "data": f"lv.do:{both.request_id}:0"}]
    ]  # fmt: skip

    untaught = await _world_without_lecturers(db)
    office = await untaught.services.leave.ask(
        await untaught.actor(LEARNER + 1), untaught.sessions[0].id, "Con ốm"
    )
    assert office.lecturers == () and office.asked == 2
    copies = await _copies(db, office.request_id)
    assert {c.chat_id for c in copies} == {OFFICE, ADMIN}


async def _world_without_lecturers(db: Database) -> World:
    """A second class in the same database, taught by nobody linked: the office decides."""
    clock = FrozenClock(utcnow().replace(microsecond=0))
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=clock)
    learner = await add_person(db, "Hà Thị Lan", unit_id=None, telegram_id=LEARNER + 1)
    class_id = await add_class(db, "NGHI2", days=1, created=clock.now())
    await services.enrolment.enrol(await services.access.actor(LEARNER + 1), class_id,
                                   clashes_seen=True)  # fmt: skip
    async with db.read() as conn:
        sessions = await ClassRepository(conn).sessions(class_id)
    return World(services, clock, class_id, sessions, sessions[0], learner, 0, 0)


async def test_the_first_decision_wins_when_two_deciders_decide_at_once(db: Database) -> None:
    w = await _world(db)
    asked = await w.services.leave.ask(
        await w.actor(LEARNER), w.sessions[1].id, "Đi học nghị quyết"
    )
    lecturer, co_lecturer = await w.actor(LECTURER), await w.actor(CO_LECTURER)
    results = await asyncio.gather(
        w.services.leave.decide(lecturer, asked.request_id, True),
        w.services.leave.decide(co_lecturer, asked.request_id, False),
        return_exceptions=True,
    )
    won = [r for r in results if isinstance(r, LeaveDecided)]
    lost = [r for r in results if isinstance(r, Conflict)]
    assert len(won) == 1 and len(lost) == 1, results
    winner = won[0].request
    assert lost[0].key == ("leave.already_approved" if winner.status is LeaveStatus.APPROVED
                           else "leave.already_rejected")  # fmt: skip
    assert lost[0].params["by"] == winner.decided_by_name
    async with db.read() as conn:
        row = (await conn.execute(sa.select(leave_requests))).one()
        mark = await AttendanceRepository(conn).mark_of(w.sessions[1].id, w.learner)
        decided = (
            await conn.execute(
                sa.select(sa.func.count()).where(audit_log.c.action == "leave_decided")
            )
        ).scalar_one()
    assert row.status == winner.status.value and decided == 1
    assert (mark is not None) == (winner.status is LeaveStatus.APPROVED)


async def test_approval_excuses_the_absence_tells_the_learner_and_settles_the_other_copies(
    db: Database,
) -> None:
    w = await _world(db)
    learner = await w.actor(LEARNER)
    session = w.sessions[1]
    asked = await w.services.leave.ask(learner, session.id, "Dự hội nghị tỉnh")
    async with db.write() as conn:  # the co-lecturer's copy went out as Telegram message 77
        await conn.execute(
            outbox.update()
            .where(outbox.c.dedup_key == f"leave_request:{asked.request_id}:{w.co_lecturer}")
            .values(state="sent", message_id=77)
        )
    for intruder, why in ((LEARNER, PermissionDenied), (OUTSIDER, PermissionDenied)):
        with pytest.raises(why):
            await w.services.leave.decide(await w.actor(intruder), asked.request_id, True)

    decided = await w.services.leave.decide(await w.actor(LECTURER), asked.request_id, True)
    assert decided.approved and decided.request.decided_by_name == "Giàng A Páo"
    async with db.read() as conn:
        mark = await AttendanceRepository(conn).mark_of(session.id, w.learner)
        told = (
            await conn.execute(
                sa.select(outbox.c.chat_id, outbox.c.payload).where(
                    outbox.c.kind == "leave_decided"
                )
            )
        ).one()
    assert mark is not None and mark.mark is Mark.EXCUSED and mark.source is MarkSource.LEAVE
    assert told.chat_id == LEARNER and told.payload["key"] == "leave.told_approved"
    copies = {c.dedup_key: c for c in await _copies(db, asked.request_id)}
    closed = copies[f"leave_request:{asked.request_id}:{w.co_lecturer}:closed"]
    assert closed.chat_id == CO_LECTURER and closed.state == "pending"
    assert closed.payload["edit"] == {"chat_id": CO_LECTURER, "message_id": 77}
    assert closed.payload["key"] == "leave.request_closed" and "buttons" not in closed.payload
    assert closed.payload["params"]["by"] == "Giàng A Páo"
    # The lecturer's own copy was never sent (this test has no sender): it is cancelled.
    assert copies[f"leave_request:{asked.request_id}:{w.lecturer}"].state == "cancelled"

    before = await _counts(db)
    for late, approve in ((CO_LECTURER, False), (LECTURER, False), (OFFICE, True)):
        with pytest.raises(Conflict) as refused:
            await w.services.leave.decide(await w.actor(late), asked.request_id, approve)
        assert refused.value.key == "leave.already_approved"
        assert refused.value.params == {"by": "Giàng A Páo"}
    assert await _counts(db) == before


async def test_a_rejection_or_an_arrival_leaves_the_mark_alone(db: Database) -> None:
    w = await _world(db)
    learner = await w.actor(LEARNER)
    rejected = await w.services.leave.ask(learner, w.sessions[0].id, "Việc gia đình")
    came = await w.services.leave.ask(learner, w.sessions[1].id, "Việc gia đình")
    async with db.write() as conn:  # came after all, and checked in
        await AttendanceRepository(conn).check_in(
            w.sessions[1].id, w.class_id, w.learner, Mark.LATE, MarkSource.CODE, utcnow()
        )
    office = await w.actor(OFFICE)  # an administrator decides any request
    assert not (await w.services.leave.decide(office, rejected.request_id, False)).approved
    assert (await w.services.leave.decide(office, came.request_id, True)).approved
    async with db.read() as conn:
        marks = AttendanceRepository(conn)
        assert await marks.mark_of(w.sessions[0].id, w.learner) is None
        kept = await marks.mark_of(w.sessions[1].id, w.learner)
    assert kept is not None and kept.mark is Mark.LATE
    with pytest.raises(InvalidInput):
        await w.services.leave.ask(learner, w.sessions[2].id, "")
