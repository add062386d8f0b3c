"""Calendar files' sessions against a real database: whose classes, in what state, with how
many changes; a class's file only for its own learners."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.calendar_ics import EventStatus
from bot.clock import FrozenClock
from bot.errors import PermissionDenied
from bot.services import Services
from bot.training import EnrolmentStatus
from storage.database import Database
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.types import utcnow
from tests.factories import add_class, add_person, make_province

ADMIN, LEARNER, OUTSIDER = 42, 8001, 8002
LINK = "https://meet.google.com/abc-defg-hij"


async def _seat(db: Database, class_id: int, person_id: int, status: EnrolmentStatus) -> None:
    async with db.write() as conn:
        classes = ClassRepository(conn)
        if status is EnrolmentStatus.WAITLISTED:
            ticket = await classes.next_ticket(class_id)
            await EnrolmentRepository(conn).put(class_id, person_id, status, ticket)
            return
        assert await classes.take_seat(class_id)
        await EnrolmentRepository(conn).put(class_id, person_id, status)


async def test_a_learners_file_follows_moves_places_and_cancellations(db: Database) -> None:
    clock = FrozenClock(utcnow().replace(microsecond=0))
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=clock)
    province = await make_province(db)
    learner = await add_person(db, "Nguyễn Văn An", unit_id=province.commune_id,
                               telegram_id=LEARNER)  # fmt: skip
    await add_person(db, "Lò Văn Khác", unit_id=province.commune_id, telegram_id=OUTSIDER)
    await add_person(db, "Quản trị", unit_id=province.root_id, telegram_id=ADMIN)
    mine = await add_class(db, "KNS.01", days=3, created=clock.now())
    waiting = await add_class(db, "KNS.02", days=2, created=clock.now())
    pending = await add_class(db, "KNS.03", days=1, created=clock.now())
    other = await add_class(db, "KNS.04", days=2, created=clock.now())
    withdrawn = await add_class(db, "KNS.05", days=1, created=clock.now())
    await _seat(db, mine, learner, EnrolmentStatus.ENROLLED)
    await _seat(db, waiting, learner, EnrolmentStatus.WAITLISTED)
    await _seat(db, pending, learner, EnrolmentStatus.PENDING)
    await _seat(db, withdrawn, learner, EnrolmentStatus.WITHDRAWN)
    admin = await services.access.actor(ADMIN)
    actor = await services.access.actor(LEARNER)

    first = await services.calendar.mine(actor)
    assert first.name == "Nguyễn Văn An"
    assert first.prefs.enabled
    by_class = {e.class_id: e for e in first.entries}
    assert set(by_class) == {mine, pending}  # not the waitlist, another's or a withdrawn seat
    assert by_class[pending].status is EventStatus.TENTATIVE
    assert {(e.status, e.sequence) for e in first.entries if e.class_id == mine} == {
        (EventStatus.CONFIRMED, 0)
    }

    async with db.read() as conn:
        sessions = await ClassRepository(conn).sessions(mine)
    moved, switched, dropped = sessions
    await services.planning.move_session(
        admin, moved.id, moved.starts_at + timedelta(days=7), moved.ends_at + timedelta(days=7)
    )
    await services.planning.change_place(admin, switched.id, None, LINK)
    await services.planning.change_place(admin, switched.id, "Phòng 201", None)
    await services.planning.cancel_session(admin, dropped.id)

    after = {e.session.id: e for e in (await services.calendar.mine(actor)).entries}
    assert after[moved.id].sequence == 1
    assert after[moved.id].session.starts_at == moved.starts_at + timedelta(days=7)
    assert after[switched.id].sequence == 2
    assert after[switched.id].place.room == "Phòng 201"
    assert (after[dropped.id].status, after[dropped.id].sequence) == (EventStatus.CANCELLED, 1)

    await services.enrolment.cancel_class(admin, mine, "Thiếu giảng viên")
    cancelled = [e for e in (await services.calendar.mine(actor)).entries if e.class_id == mine]
    assert {e.session.id: (e.status, e.sequence) for e in cancelled} == {
        moved.id: (EventStatus.CANCELLED, 2),
        switched.id: (EventStatus.CANCELLED, 3),
        dropped.id: (EventStatus.CANCELLED, 2),
    }

    # A class's own file: its learners only (pending included); anyone else is refused.
    of_pending = await services.calendar.of_class(actor, pending)
    assert (of_pending.class_code, len(of_pending.entries)) == ("KNS.03", 1)
    for class_id in (other, waiting, withdrawn, mine, 999_999):
        with pytest.raises(PermissionDenied) as refused:
            await services.calendar.of_class(actor, class_id)
        assert refused.value.key == "calendar.not_in_class"
    with pytest.raises(PermissionDenied):
        await services.calendar.of_class(await services.access.actor(OUTSIDER), pending)

    # Long past sessions are left out of the learner's own file.
    clock.advance(timedelta(days=400))
    assert (await services.calendar.mine(actor)).entries == []
