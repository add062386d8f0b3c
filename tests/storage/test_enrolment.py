"""Enrolment against a real database: seats, the waitlist, refusals, promotion, cancellation,
and capacity that holds when two engines (two processes) enrol at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.clock import FrozenClock
from bot.domain import Actor
from bot.errors import Conflict, DomainError, NotFound, PermissionDenied
from bot.services import Services
from bot.training import Audience, EnrolmentStatus, PriorityGroup
from storage.database import Database
from storage.repositories.enrolments import EnrolmentRepository
from storage.schema import audit_log, class_events, classes, enrolments, outbox
from storage.types import utcnow
from tests.conftest import POSTGRES_URL, close_database, open_database
from tests.factories import NEVER_QUIET, Province, add_class, add_person, make_province

ADMIN = 42


@pytest.fixture
def services(db: Database) -> Services:
    return Services.build(db, superadmin_ids=frozenset({ADMIN}), quiet=NEVER_QUIET)


async def cadres(
    db: Database, province: Province, count: int, start: int = 5000, **kwargs: object
) -> list[int]:
    """Linked cadres of the commune, with Telegram ids from `start`."""
    return [
        await add_person(
            db, f"Học viên {i}", unit_id=province.commune_id, telegram_id=start + i, **kwargs
        )  # type: ignore[arg-type]
        for i in range(count)
    ]


async def actor(services: Services, telegram_id: int) -> Actor:
    return await services.access.actor(telegram_id)


async def statuses(db: Database, class_id: int) -> dict[str, int]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(enrolments.c.status, sa.func.count())
            .where(enrolments.c.class_id == class_id)
            .group_by(enrolments.c.status)
        )
        return {status: n for status, n in rows}


async def test_seats_then_the_waitlist_in_order_and_a_freed_seat_goes_to_the_first(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await cadres(db, province, 4)
    class_id = await add_class(db, "L01", capacity=2)
    results = [
        await services.enrolment.enrol(
            await actor(services, 5000 + i), class_id, clashes_seen=False
        )
        for i in range(4)
    ]
    assert [r.status for r in results] == ["enrolled", "enrolled", "waitlisted", "waitlisted"]
    assert [r.position for r in results[2:]] == [1, 2]

    await services.enrolment.withdraw(await actor(services, 5000), class_id)
    assert await statuses(db, class_id) == {"enrolled": 2, "waitlisted": 1, "withdrawn": 1}
    third = await services.enrolment.enrolment(await actor(services, 5002), class_id)
    fourth = await services.enrolment.enrolment(await actor(services, 5003), class_id)
    assert third is not None and third.status is EnrolmentStatus.ENROLLED
    assert fourth is not None and fourth.position == 1
    async with db.read() as conn:
        told = (await conn.execute(sa.select(outbox.c.chat_id, outbox.c.kind))).all()
        events = (await conn.execute(sa.select(class_events.c.kind))).scalars().all()
    assert told == [(5002, "waitlist_promoted")] and events == ["promoted"]

    promoted = await services.enrolment.set_capacity(await actor(services, ADMIN), class_id, 3)
    assert [p.full_name for p in promoted] == ["Học viên 3"]
    assert await statuses(db, class_id) == {"enrolled": 3, "withdrawn": 1}


async def test_capacity_below_the_enrolled_is_refused(db: Database, services: Services) -> None:
    province = await make_province(db)
    await cadres(db, province, 2)
    class_id = await add_class(db, "L02", capacity=5)
    for i in range(2):
        await services.enrolment.enrol(
            await actor(services, 5000 + i), class_id, clashes_seen=False
        )
    with pytest.raises(Conflict) as refused:
        await services.enrolment.set_capacity(await actor(services, ADMIN), class_id, 1)
    assert refused.value.key == "planning.capacity_below"
    with pytest.raises(PermissionDenied):
        await services.enrolment.set_capacity(await actor(services, 5000), class_id, 10)


async def test_each_refusal_has_its_reason_and_changes_nothing(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await cadres(db, province, 1)
    cadre = await actor(services, 5000)
    now = utcnow()
    cases = {
        "enrol.plan_not_approved": await add_class(
            db, "D1", plan_year=now.year + 2, approved=False
        ),
        "enrol.deadline_passed": await add_class(db, "D2", deadline=now - timedelta(hours=1)),
        "enrol.not_audience": await add_class(
            db, "D3", audience=Audience(unit_ids=(province.department_id,))
        ),
        "enrol.not_open_yet": await add_class(db, "D4", status="planned"),
        "enrol.cancelled": await add_class(db, "D5", status="cancelled"),
        "enrol.started": await add_class(db, "D6", starts=now - timedelta(hours=1)),
    }
    for key, class_id in cases.items():
        with pytest.raises(DomainError) as refused:
            await services.enrolment.enrol(cadre, class_id, clashes_seen=False)
        assert refused.value.key == key
        with pytest.raises(DomainError):
            await services.enrolment.prospect(cadre, class_id)
    async with db.read() as conn:
        assert (await conn.scalar(sa.select(sa.func.count()).select_from(enrolments))) == 0
        assert (await conn.scalar(sa.select(sa.func.sum(classes.c.enrolled_count)))) == 0

    open_one = await add_class(db, "D7")
    await services.enrolment.enrol(cadre, open_one, clashes_seen=False)
    with pytest.raises(Conflict) as again:
        await services.enrolment.enrol(cadre, open_one, clashes_seen=False)
    assert again.value.key == "enrol.already_enrolled"


async def test_the_audience_takes_sub_units_and_priority_groups(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await add_person(
        db,
        "Lò Thị Hoa",
        unit_id=province.commune_id,
        telegram_id=6001,
        gender="female",
        birth_year=utcnow().year - 30,
    )
    await add_person(
        db,
        "Lò Văn Nam",
        unit_id=province.commune_id,
        telegram_id=6002,
        gender="male",
        birth_year=1970,
    )
    whole_province = await add_class(db, "A1", audience=Audience(unit_ids=(province.root_id,)))
    young_women = await add_class(
        db, "A2", audience=Audience(groups=(PriorityGroup.YOUNG, PriorityGroup.WOMEN))
    )
    hoa, nam = await actor(services, 6001), await actor(services, 6002)
    for class_id in (whole_province, young_women):
        await services.enrolment.prospect(hoa, class_id)
    await services.enrolment.prospect(nam, whole_province)
    with pytest.raises(PermissionDenied):
        await services.enrolment.prospect(nam, young_women)


async def test_duplicated_training_is_refused_naming_the_earlier_class_unless_allowed(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    [person_id] = await cadres(db, province, 1)
    cadre = await actor(services, 5000)
    first = await add_class(db, "K1", programme="CVC", validity_months=None, name="Lớp CVC khóa 1")
    second = await add_class(db, "K2", programme="CVC", name="Lớp CVC khóa 2")
    await services.enrolment.enrol(cadre, first, clashes_seen=False)
    with pytest.raises(Conflict) as current:
        await services.enrolment.prospect(cadre, second)
    assert current.value.key == "enrol.duplicate_current"
    assert current.value.params["other"] == "Lớp CVC khóa 1"

    await services.enrolment.withdraw(cadre, first)
    async with db.write() as conn:
        programme_id = await conn.scalar(
            sa.select(classes.c.programme_id).where(classes.c.id == first)
        )
        await EnrolmentRepository(conn).add_completion(
            person_id, programme_id, date(2019, 6, 1), class_name="Lớp CVC năm 2019"
        )
    with pytest.raises(Conflict) as done:
        await services.enrolment.prospect(cadre, second)
    assert done.value.key == "enrol.duplicate_done"
    assert done.value.params == {"other": "Lớp CVC năm 2019", "on": date(2019, 6, 1)}

    assert await services.enrolment.allow_duplicate(await actor(services, ADMIN), second, person_id)
    enrolled = await services.enrolment.enrol(cadre, second, clashes_seen=False)
    assert enrolled.status is EnrolmentStatus.ENROLLED
    async with db.read() as conn:
        allowed = await conn.scalar(
            sa.select(sa.func.count()).where(audit_log.c.action == "duplicate_allowed")
        )
    assert allowed == 1


async def test_a_refresher_done_long_ago_may_be_taken_again(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    [person_id] = await cadres(db, province, 1)
    class_id = await add_class(db, "R1", programme="CNKT", validity_months=36)
    async with db.write() as conn:
        programme_id = await conn.scalar(
            sa.select(classes.c.programme_id).where(classes.c.id == class_id)
        )
        await EnrolmentRepository(conn).add_completion(person_id, programme_id, date(2020, 1, 1))
    await services.enrolment.prospect(await actor(services, 5000), class_id)


async def test_a_clash_is_shown_and_must_have_been_seen(db: Database, services: Services) -> None:
    province = await make_province(db)
    await cadres(db, province, 1)
    cadre = await actor(services, 5000)
    starts = utcnow().replace(microsecond=0) + timedelta(days=20)
    first = await add_class(db, "C1", starts=starts)
    overlapping = await add_class(db, "C2", starts=starts + timedelta(days=1, hours=2))
    await services.enrolment.enrol(cadre, first, clashes_seen=False)
    prospect = await services.enrolment.prospect(cadre, overlapping)
    assert len(prospect.clashes) == 1 and prospect.clashes[0].other_class == "Lớp bồi dưỡng C1"
    with pytest.raises(Conflict):
        await services.enrolment.enrol(cadre, overlapping, clashes_seen=False)
    await services.enrolment.enrol(cadre, overlapping, clashes_seen=True)


async def test_cancelling_a_class_tells_learners_and_waitlist_in_its_transaction(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await cadres(db, province, 3)
    class_id = await add_class(db, "X1", capacity=2)
    for i in range(3):
        await services.enrolment.enrol(
            await actor(services, 5000 + i), class_id, clashes_seen=False
        )
    done = await services.enrolment.cancel_class(
        await actor(services, ADMIN), class_id, "Dịch bệnh"
    )
    assert done.told == 3 and done.unreached_by_unit == {}
    assert await statuses(db, class_id) == {"cancelled": 3}
    async with db.read() as conn:
        kinds = (await conn.execute(sa.select(outbox.c.kind))).scalars().all()
    assert kinds == ["class_cancelled"] * 3
    with pytest.raises(Conflict):
        await services.enrolment.cancel_class(await actor(services, ADMIN), class_id, "")


@pytest.fixture
async def second_engine(
    database_kind: str, tmp_path: Path
) -> AsyncIterator[tuple[Database, Database]]:
    """Two engines on one database, as two bot processes would have."""
    first, schema = await open_database(database_kind, tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path}/test.db" if schema is None else POSTGRES_URL
    second = Database.from_url(url, schema=schema)
    yield first, second
    await second.dispose()
    await close_database(first, schema)


async def test_two_engines_enrolling_at_once_never_overbook(
    second_engine: tuple[Database, Database],
) -> None:
    first, second = second_engine
    province = await make_province(first)
    await cadres(first, province, 40)
    class_id = await add_class(first, "HOT", capacity=10)
    engines = [
        Services.build(db, superadmin_ids=frozenset(), quiet=NEVER_QUIET) for db in (first, second)
    ]

    async def tap(i: int) -> object:
        services = engines[i % 2]
        who = await services.access.actor(5000 + i)
        return await services.enrolment.enrol(who, class_id, clashes_seen=False)

    results = await asyncio.gather(*(tap(i) for i in range(40)), return_exceptions=True)
    assert not [r for r in results if isinstance(r, BaseException)]
    seated = [r for r in results if r.status is EnrolmentStatus.ENROLLED]  # type: ignore[union-attr]
    waiting = sorted(r.position for r in results if r.status is EnrolmentStatus.WAITLISTED)  # type: ignore[union-attr]
    assert len(seated) == 10 and waiting == list(range(1, 31))
    async with first.read() as conn:
        counted = await conn.scalar(
            sa.select(classes.c.enrolled_count).where(classes.c.id == class_id)
        )
        tickets = (
            (
                await conn.execute(
                    sa.select(enrolments.c.ticket).where(enrolments.c.status == "waitlisted")
                )
            )
            .scalars()
            .all()
        )
    assert counted == 10 and sorted(tickets) == list(range(1, 31))


async def test_a_class_taken_that_has_ended_counts_as_done_until_its_results(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    [person_id] = await cadres(db, province, 1)
    past = utcnow().replace(microsecond=0) - timedelta(days=40)
    earlier = await add_class(db, "E1", programme="CVC", starts=past, name="Lớp CVC đã học")
    later = await add_class(db, "E2", programme="CVC", name="Lớp CVC mới")
    async with db.write() as conn:
        await EnrolmentRepository(conn).put(earlier, person_id, EnrolmentStatus.ENROLLED)
    with pytest.raises(Conflict) as done:
        await services.enrolment.prospect(await actor(services, 5000), later)
    assert done.value.key == "enrol.duplicate_done"
    assert done.value.params["other"] == "Lớp CVC đã học"


async def test_catalog_views_expire_and_are_purged(db: Database) -> None:
    province = await make_province(db)
    await cadres(db, province, 1)
    clock = FrozenClock(utcnow())
    services = Services.build(db, superadmin_ids=frozenset(), clock=clock, quiet=NEVER_QUIET)
    cadre = await actor(services, 5000)
    key = await services.catalog.new_view(cadre, "chuyen doi so")
    assert (await services.catalog.view(cadre, key)).query == "chuyen doi so"
    with pytest.raises(NotFound):  # another cadre's key is not theirs to use
        await services.catalog.view(Actor(telegram_id=9), key)
    clock.advance(timedelta(days=8))
    with pytest.raises(NotFound):
        await services.catalog.view(cadre, key)
    assert await services.catalog.purge() == 1


async def test_a_capacity_raised_well_beyond_the_old_one_seats_every_waiting_cadre(
    db: Database, services: Services
) -> None:
    province = await make_province(db)
    await cadres(db, province, 3)
    class_id = await add_class(db, "GROW", capacity=1)
    for i in range(3):
        await services.enrolment.enrol(
            await actor(services, 5000 + i), class_id, clashes_seen=False
        )
    promoted = await services.enrolment.set_capacity(await actor(services, ADMIN), class_id, 5)
    assert [p.full_name for p in promoted] == ["Học viên 1", "Học viên 2"]
    assert await statuses(db, class_id) == {"enrolled": 3}
