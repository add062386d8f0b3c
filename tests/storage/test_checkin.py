"""Self check-in against a real database: who may open it and when, the rotating code with its
grace minute, present or late, the first check-in winning, and every refusal changing nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.attendance import Mark, MarkSource, checkin_code, code_age, minute_of
from bot.clock import FrozenClock
from bot.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from bot.services import Services
from bot.services.checkin import GUESS_LIMIT, GUESS_WINDOW, link_payload, parse_link
from bot.training import ClassFormat
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.schema import attendance
from tests.factories import add_class, add_person, add_role, count, make_province

ADMIN = 42
LECTURER, OTHER_LECTURER = 500, 501
L1, L2, OTHER_HALL, OUTSIDER, STRANGER = 701, 702, 703, 704, 999


async def _world(db: Database) -> tuple[Services, FrozenClock, int, int, int]:
    """Class A (hall A) and class B (hall B), each a session 40 minutes from now; an online
    class C at the same time. L1, L2 in A, OTHER_HALL in B and C, OUTSIDER in none."""
    clock = FrozenClock(datetime(2031, 3, 10, 1, 0, 10, tzinfo=UTC))
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=clock)
    province = await make_province(db)
    people = {}
    for telegram_id in (LECTURER, OTHER_LECTURER, L1, L2, OTHER_HALL, OUTSIDER):
        people[telegram_id] = await add_person(
            db, f"Cán bộ {telegram_id}", unit_id=province.commune_id, telegram_id=telegram_id
        )
    await add_role(db, people[LECTURER], "lecturer")
    await add_role(db, people[OTHER_LECTURER], "lecturer")
    starts = clock.now() + timedelta(minutes=40)
    a = await add_class(db, "A01", starts=starts, days=1, lecturer_ids=(people[LECTURER],))
    b = await add_class(db, "B01", starts=starts, days=1, location="Hội trường B",
                        lecturer_ids=(people[OTHER_LECTURER],))  # fmt: skip
    c = await add_class(db, "C01", starts=starts, days=1, fmt=ClassFormat.ONLINE, location=None,
                        link="https://meet.example.vn/c01")  # fmt: skip
    for telegram_id, class_ids in ((L1, [a]), (L2, [a]), (OTHER_HALL, [b, c])):
        actor = await services.access.actor(telegram_id)
        for class_id in class_ids:
            await services.enrolment.enrol(actor, class_id, clashes_seen=True)
    return services, clock, *[await _session(db, k) for k in (a, b, c)]


async def _session(db: Database, class_id: int) -> int:
    async with db.read() as conn:
        return (await ClassRepository(conn).sessions(class_id))[0].id


async def _refused(kind: type[DomainError], key: str, work: object) -> None:
    with pytest.raises(kind) as raised:
        await work  # type: ignore[misc]
    assert raised.value.key == key, raised.value.key


async def _secret(db: Database, session_id: int) -> str:
    async with db.read() as conn:
        secret = (await AttendanceRepository(conn).state(session_id)).secret
    assert secret is not None
    return secret


def _wrong(secrets: list[str], now: datetime) -> str:
    return next(
        code
        for code in (f"{n:06d}" for n in range(123456, 999999, 7919))
        if all(code_age(s, code, now).value == "wrong" for s in secrets)
    )


async def test_opening_check_in_is_for_its_lecturer_in_its_window(db: Database) -> None:
    services, clock, a, b, _ = await _world(db)
    checkin = services.checkin
    learner = await services.access.actor(L1)
    lecturer = await services.access.actor(LECTURER)
    await _refused(PermissionDenied, "error.forbidden", checkin.open(learner, a))
    await _refused(PermissionDenied, "error.forbidden", checkin.open(lecturer, b))
    await _refused(Conflict, "checkin.open_too_early", checkin.open(lecturer, a))
    clock.advance(timedelta(minutes=15))
    projector = await checkin.open(lecturer, a)
    secret = await _secret(db, a)
    assert projector.code == checkin_code(secret, minute_of(clock.now()))
    assert parse_link(projector.payload.partition("-")[2]) == (a, projector.code)
    assert projector.payload == link_payload(a, projector.code)
    # Opened again: the same secret, the projector shown again.
    assert (await checkin.open(lecturer, a)).code == projector.code
    await checkin.set_projector(a, LECTURER, 77)
    [shown] = await checkin.projectors(clock.now())
    assert (shown.message_id, shown.ended, shown.code) == (77, False, projector.code)
    await checkin.stop(lecturer, a)
    await _refused(Conflict, "checkin.not_running", checkin.stop(lecturer, a))
    [shown] = await checkin.projectors(clock.now())
    assert shown.ended
    admin = await services.access.actor(ADMIN)
    assert (await checkin.open(admin, a)).code == checkin_code(secret, minute_of(clock.now()))
    clock.advance(timedelta(hours=4))
    await _refused(Conflict, "checkin.open_over", checkin.open(lecturer, a))


async def test_codes_grace_minute_late_and_every_refusal(db: Database) -> None:
    services, clock, a, b, _ = await _world(db)
    checkin = services.checkin
    actor = services.access.actor
    clock.advance(timedelta(minutes=15))  # 25 minutes before the sessions
    first = await checkin.open(await actor(LECTURER), a)
    await checkin.open(await actor(OTHER_LECTURER), b)
    secrets = [await _secret(db, a), await _secret(db, b)]

    done = await checkin.by_code(await actor(L1), f" {first.code[:3]} {first.code[3:]} ")
    assert (done.session_id, done.mark, done.class_code) == (a, Mark.PRESENT, "A01")

    # Every refusal, each with its own reason; none records anything.
    await _refused(InvalidInput, "checkin.not_a_code", checkin.by_code(await actor(L2), "12ab56"))
    wrong = _wrong(secrets, clock.now())
    await _refused(InvalidInput, "checkin.wrong_code", checkin.by_code(await actor(L2), wrong))
    # Guessing: after five wrong codes in ten minutes, even the right one waits.
    for _ in range(GUESS_LIMIT - 1):
        await _refused(InvalidInput, "checkin.wrong_code", checkin.by_code(await actor(L2), wrong))
    await _refused(Conflict, "checkin.too_many", checkin.by_code(await actor(L2), first.code))
    clock.advance(GUESS_WINDOW)
    first = await checkin.open(await actor(LECTURER), a)  # the code of this minute
    await _refused(InvalidInput, "checkin.other_session",
                   checkin.by_code(await actor(OTHER_HALL), first.code))  # fmt: skip
    await _refused(PermissionDenied, "checkin.not_enrolled",
                   checkin.by_code(await actor(OUTSIDER), first.code))  # fmt: skip
    await _refused(PermissionDenied, "checkin.not_registered",
                   checkin.by_code(await actor(STRANGER), first.code))  # fmt: skip
    await _refused(Conflict, "checkin.already_present",
                   checkin.by_code(await actor(L1), first.code))  # fmt: skip
    assert await count(db, attendance) == 1

    # The minute turns, the session has begun 16 minutes ago: the previous minute's code
    # still counts, and the learner is late.
    clock.advance(timedelta(minutes=41))
    previous = checkin_code(secrets[0], minute_of(clock.now()) - 1)
    late = await checkin.by_code(await actor(L2), previous)
    assert late.mark is Mark.LATE
    older = checkin_code(secrets[0], minute_of(clock.now()) - 5)
    await _refused(InvalidInput, "checkin.expired", checkin.by_code(await actor(L2), older))
    await _refused(InvalidInput, "checkin.expired", checkin.by_link(await actor(L2), a, older))
    await _refused(InvalidInput, "checkin.wrong_link",
                   checkin.by_link(await actor(L2), a, _wrong(secrets, clock.now())))  # fmt: skip
    async with db.read() as conn:
        marks = await AttendanceRepository(conn).marks(a)
    assert {p.mark for p in marks.values()} == {Mark.PRESENT, Mark.LATE}
    assert {p.source for p in marks.values()} == {MarkSource.CODE}

    # Stopped: the code says so; over: so does the link.
    await checkin.stop(await actor(OTHER_LECTURER), b)
    current_b = checkin_code(secrets[1], minute_of(clock.now()))
    await _refused(Conflict, "checkin.stopped",
                   checkin.by_code(await actor(OTHER_HALL), current_b))  # fmt: skip
    clock.advance(timedelta(hours=3))
    await _refused(Conflict, "checkin.over", checkin.by_link(await actor(L2), a, previous))
    assert await count(db, attendance) == 2


async def test_a_scanned_link_and_the_online_button(db: Database) -> None:
    services, clock, a, b, c = await _world(db)
    checkin = services.checkin
    actor = services.access.actor
    learner = await actor(OTHER_HALL)
    await _refused(Conflict, "checkin.not_yet", checkin.by_button(learner, c))
    await _refused(InvalidInput, "checkin.on_site", checkin.by_button(learner, b))
    await _refused(PermissionDenied, "checkin.not_enrolled", checkin.by_button(await actor(L1), c))
    await _refused(Conflict, "checkin.not_open", checkin.by_link(learner, b, "123456"))
    clock.advance(timedelta(minutes=11))  # check-in opens 30 minutes before the start
    done = await checkin.by_button(learner, c)
    assert (done.mark, done.session_id) == (Mark.PRESENT, c)
    await _refused(Conflict, "checkin.already_present", checkin.by_button(learner, c))

    projector = await checkin.open(await actor(LECTURER), a)
    clock.advance(timedelta(minutes=1))  # the grace minute
    scanned = await checkin.by_link(await actor(L2), a, projector.code)
    assert scanned.mark is Mark.PRESENT
    async with db.read() as conn:
        repo = AttendanceRepository(conn)
        assert (await repo.mark_of(c, learner.person.id)).source is MarkSource.BUTTON  # type: ignore[union-attr]
        l2 = (await actor(L2)).person
        assert l2 is not None and (await repo.mark_of(a, l2.id)).source is MarkSource.LINK  # type: ignore[union-attr]


async def test_the_lecturers_list_and_card(db: Database) -> None:
    services, clock, a, b, _ = await _world(db)
    checkin = services.checkin
    lecturer = await services.access.actor(LECTURER)
    listed = await checkin.teaching_today(lecturer)
    assert [s.session.id for s in listed] == [a]
    admin = await services.access.actor(ADMIN)
    assert {s.session.id for s in await checkin.teaching_today(admin)} >= {a, b}
    with pytest.raises(PermissionDenied):
        await checkin.teaching_today(await services.access.actor(L1))
    clock.advance(timedelta(minutes=15))
    projector = await checkin.open(lecturer, a)
    await checkin.by_code(await services.access.actor(L1), projector.code)
    card = await checkin.card(lecturer, a)
    assert (card.status.value, card.marked, card.expected) == ("open", 1, 2)
    assert card.counts[Mark.PRESENT] == 1
    with pytest.raises(PermissionDenied):
        await checkin.card(lecturer, b)
