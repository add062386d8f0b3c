"""Seeding the demo province into real SQLite and PostgreSQL databases."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from bot.clock import FrozenClock
from bot.errors import Conflict
from bot.report import Period
from bot.services import Services
from bot.text_search import fold
from bot.training import ClassStatus, EnrolmentStatus, Target
from storage import schema
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.plans import PlanRepository
from tools.demo.data import (
    DEMO_IDENTITIES,
    HOME_COMMUNE_CODE,
    NEWCOMER_PHONE,
    SCHOOL_CODE,
    generate_demo_data,
)
from tools.demo.seed import (
    DEMO_NOTICE_VERSION,
    DemoSeedError,
    DemoSummary,
    ask_demo_leave,
    has_people,
    seed_demo,
)

POSTGRES_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
PEOPLE = 500
SEED = 2026
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture(params=["sqlite", "postgresql"])
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh, empty database: a SQLite file, or a throwaway PostgreSQL schema."""
    if request.param == "sqlite":
        database = Database.from_url(f"sqlite+aiosqlite:///{tmp_path}/t.db")
        yield database
        await database.dispose()
        return
    name = f"t_{uuid.uuid4().hex}"
    admin = create_async_engine(POSTGRES_URL, poolclass=NullPool)
    try:
        async with asyncio.timeout(10), admin.begin() as conn:
            await conn.execute(sa.text(f'CREATE SCHEMA "{name}"'))
    except (OSError, TimeoutError, sa.exc.DBAPIError) as exc:
        await admin.dispose()
        pytest.skip(f"PostgreSQL at {POSTGRES_URL} is unreachable: {exc!r}")
    database = Database.from_url(POSTGRES_URL, schema=name)
    try:
        yield database
    finally:
        await database.dispose()
        async with admin.begin() as conn:
            await conn.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
        await admin.dispose()


async def count(db: Database, table: sa.Table) -> int:
    async with db.read() as conn:
        return (await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one()


async def person_by_phone(db: Database, phone: str) -> sa.Row:
    people, units, titles = schema.people, schema.units, schema.titles
    professional = schema.professional_titles
    query = (
        sa.select(
            people,
            units.c.code.label("unit_code"),
            units.c.kind.label("unit_kind"),
            titles.c.code.label("title_code"),
            professional.c.code.label("professional_code"),
        )
        .join(units, units.c.id == people.c.unit_id)
        .outerjoin(titles, titles.c.id == people.c.title_id)
        .outerjoin(professional, professional.c.id == people.c.professional_title_id)
        .where(people.c.phone == phone)
    )
    async with db.read() as conn:
        return (await conn.execute(query)).one()


async def test_seed_inserts_the_demo_province(db: Database) -> None:
    assert not await has_people(db)
    summary = await seed_demo(db, people=PEOPLE, seed=SEED)
    expected = generate_demo_data(seed=SEED, people=PEOPLE)
    linked = sum(p.linked for p in expected.people)

    assert summary.people == PEOPLE == await count(db, schema.people)
    assert summary.units == len(expected.units) == await count(db, schema.units)
    assert summary.linked == linked == await count(db, schema.consents)
    assert summary.identities == DEMO_IDENTITIES
    assert await has_people(db)

    async with db.read() as conn:
        root = (
            await conn.execute(sa.select(schema.units).where(schema.units.c.parent_id.is_(None)))
        ).one()
        linked_people = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(schema.people)
                .where(schema.people.c.telegram_id.is_not(None))
                .where(schema.people.c.consent_at.is_not(None))
            )
        ).scalar_one()
        notices = (await conn.execute(sa.select(schema.consents.c.notice_version))).scalars()
        unverified = (
            await conn.execute(
                sa.select(sa.func.count())
                .select_from(schema.people)
                .where(sa.or_(~schema.people.c.verified, schema.people.c.source != "roster"))
            )
        ).scalar_one()
        audit = (await conn.execute(sa.select(schema.audit_log))).one()
    assert (root.id, root.kind, root.name) == (summary.root_unit_id, "province", "Tỉnh Sơn Lâm")
    assert linked_people == linked
    assert set(notices) == {DEMO_NOTICE_VERSION}
    assert unverified == 3  # the self-declared profiles awaiting the unit head
    assert audit.action == "demo_seed" and audit.details == {"people": PEOPLE, "seed": SEED}


async def test_demo_identities_and_roles(db: Database) -> None:
    await seed_demo(db, people=PEOPLE, seed=SEED)
    ids = DEMO_IDENTITIES

    admin = await person_by_phone(db, ids.admin.phone)
    assert (admin.telegram_id, admin.unit_code, admin.title_code) == (900001, SCHOOL_CODE, None)
    # A lecturer is a public employee: a professional title and rank, not a position.
    assert (admin.employment, admin.professional_code, admin.professional_rank) == (
        "vien_chuc", "GIANG_VIEN", 2,
    )  # fmt: skip
    assert admin.consent_at is not None and admin.full_name == ids.admin.full_name
    head = await person_by_phone(db, ids.unit_head.phone)
    assert (head.telegram_id, head.unit_code, head.unit_kind) == (
        900002,
        HOME_COMMUNE_CODE,
        "commune",
    )
    assert (head.title_code, head.employment, head.grade_id) == ("CT_UBND", "can_bo", None)
    lecturer = await person_by_phone(db, ids.lecturer.phone)
    assert lecturer.telegram_id == 900003 and lecturer.consent_at is not None
    learner = await person_by_phone(db, ids.learner.phone)
    assert learner.telegram_id == 900004 and learner.unit_id == head.unit_id
    newcomer = await person_by_phone(db, NEWCOMER_PHONE)
    assert newcomer.telegram_id is None and newcomer.consent_at is None
    assert newcomer.full_name == "Triệu Thị Đào" and newcomer.name_search == "trieu thi dao"
    assert newcomer.verified and newcomer.source == "roster"

    async with db.read() as conn:
        roles = (
            await conn.execute(
                sa.select(schema.roles.c.person_id, schema.roles.c.role, schema.roles.c.unit_id)
            )
        ).all()
        consents = (
            await conn.execute(
                sa.select(schema.consents.c.person_id).where(
                    schema.consents.c.person_id.in_([admin.id, newcomer.id])
                )
            )
        ).scalars()
        commune = (
            await conn.execute(sa.select(schema.units).where(schema.units.c.id == head.unit_id))
        ).one()
    staff = [r for r in roles if r.person_id in (admin.id, lecturer.id, head.id)]
    assert sorted(staff, key=lambda r: r.role) == [
        (admin.id, "admin", None),
        (lecturer.id, "lecturer", None),
        (head.id, "unit_head", head.unit_id),
    ]
    # The others are school lecturers the demo classes are taught by.
    others = [r for r in roles if r not in staff]
    assert others and all(r.role == "lecturer" and r.unit_id is None for r in others)
    assert list(consents) == [admin.id]
    assert commune.name_search == fold(commune.name) == "xa lung cu"


async def test_a_seeded_database_is_never_seeded_twice(db: Database) -> None:
    await seed_demo(db, people=20, seed=1)
    with pytest.raises(DemoSeedError, match="already has people"):
        await seed_demo(db, people=20, seed=2)
    assert await count(db, schema.people) == 20
    assert await count(db, schema.audit_log) == 1


# --- training -------------------------------------------------------------------------------

NOW = datetime(2026, 3, 18, 10, 0, tzinfo=TZ)


async def seeded_services(db: Database) -> tuple[Services, DemoSummary]:
    summary = await seed_demo(db, people=PEOPLE, seed=SEED, now=NOW, tz=TZ)
    return Services.build(db, superadmin_ids=frozenset(), clock=FrozenClock(NOW), tz=TZ), summary


async def test_the_years_plan_classes_and_seats_are_consistent(db: Database) -> None:
    _services, summary = await seeded_services(db)
    assert (summary.plan_year, summary.classes) == (2026, 55)
    async with db.read() as conn:
        plan = await PlanRepository(conn).of_year(2026)
        draft = await PlanRepository(conn).of_year(2027)
        last = await PlanRepository(conn).of_year(2025)
        counted = (
            await conn.execute(
                sa.select(schema.classes.c.code, schema.classes.c.enrolled_count,
                          schema.classes.c.capacity, schema.classes.c.status,
                          sa.func.count(schema.enrolments.c.id))
                .outerjoin(schema.enrolments, sa.and_(
                    schema.enrolments.c.class_id == schema.classes.c.id,
                    schema.enrolments.c.status == "enrolled"))
                .group_by(schema.classes.c.id)
            )
        ).all()  # fmt: skip
        sessions = (
            await conn.execute(
                sa.select(schema.class_sessions.c.starts_at, schema.class_sessions.c.ends_at,
                          schema.classes.c.starts_at.label("first"),
                          schema.classes.c.ends_at.label("last"), schema.plans.c.year)
                .join(schema.classes, schema.classes.c.id == schema.class_sessions.c.class_id)
                .join(schema.plans, schema.plans.c.id == schema.classes.c.plan_id)
            )
        ).all()  # fmt: skip
        tickets = (
            await conn.execute(
                sa.select(schema.enrolments.c.ticket)
                .join(schema.classes, schema.classes.c.id == schema.enrolments.c.class_id)
                .where(schema.classes.c.code == summary.full_class,
                       schema.enrolments.c.status == "waitlisted")
                .order_by(schema.enrolments.c.ticket)
            )
        ).scalars().all()  # fmt: skip
    assert plan is not None and plan.approved and plan.approved_by == "Ban Thường vụ Tỉnh ủy"
    assert plan.targets["update"] == Target(24, 2668) and plan.targets["all"] == Target(60, 4563)
    assert draft is not None and not draft.approved
    assert last is not None and last.approved and last.targets["all"] == Target(53, 4120)
    assert {r.status for r in counted} == {s.value for s in ClassStatus}
    for code, enrolled_count, capacity, _status, rows in counted:
        assert enrolled_count == rows <= capacity, code
    full = next(r for r in counted if r.code == summary.full_class)
    assert full.enrolled_count == full.capacity and tickets == [1, 2, 3, 4, 5]
    # Sessions lie in their plan's year, but those of long courses carried into the next.
    assert sessions and all(
        s.first <= s.starts_at < s.ends_at <= s.last
        and s.starts_at.astimezone(TZ).year == s.ends_at.astimezone(TZ).year
        and s.first.astimezone(TZ).year == s.year
        and (s.starts_at.astimezone(TZ).year == s.year or s.first.astimezone(TZ).month >= 11)
        for s in sessions
    )


async def test_the_classes_loop_can_be_tried_as_the_guide_says(db: Database) -> None:
    services, summary = await seeded_services(db)
    ids = DEMO_IDENTITIES
    learner = await services.access.actor(ids.learner.telegram_id or 0)
    async with db.read() as conn:
        rows = await conn.execute(sa.select(schema.classes.c.code, schema.classes.c.id))
        class_ids = {code: class_id for code, class_id in rows}
    week = await services.catalog.timetable(learner, "week")
    assert {e.class_code for e in week} == {summary.learner_classes[0], summary.practice_class}
    upcoming = await services.catalog.timetable(learner, "all")
    assert {e.class_code for e in upcoming} == {*summary.learner_classes, summary.practice_class}

    with pytest.raises(Conflict) as refused:
        await services.enrolment.enrol(learner, class_ids[summary.duplicate_class],
                                       clashes_seen=True)  # fmt: skip
    assert refused.value.key == "enrol.duplicate_done"
    waiting = await services.enrolment.enrol(learner, class_ids[summary.full_class],
                                             clashes_seen=True)  # fmt: skip
    assert waiting.status is EnrolmentStatus.WAITLISTED and waiting.position == 6

    key = await services.catalog.new_view(learner, "chuyen doi so")
    found = await services.catalog.page(learner, key)
    assert summary.duplicate_class in {c.code for c in found.page.classes}

    lecturer = await services.access.actor(ids.lecturer.telegram_id or 0)
    teaching = await services.catalog.timetable(lecturer, "week", teaching=True)
    assert summary.running_class in {e.class_code for e in teaching}
    head = await services.access.actor(ids.unit_head.telegram_id or 0)
    staff = await services.catalog.staff_enrolments(head)
    assert {s.class_code for s in staff} >= {summary.running_class, summary.learner_classes[1]}

    admin = await services.access.actor(ids.admin.telegram_id or 0)
    with pytest.raises(Conflict) as not_approved:
        await services.planning.open_class(admin, class_ids[summary.draft_class])
    assert not_approved.value.key == "planning.plan_not_approved"


async def test_the_demo_has_a_year_of_attendance_and_a_check_in_under_way(db: Database) -> None:
    services, summary = await seeded_services(db)
    await ask_demo_leave(db, summary, services.clock.now())  # as the sandbox does
    now = services.clock.now()
    async with db.read() as conn:
        repo = AttendanceRepository(conn)
        assert await repo.to_close(now) == []  # every ended session is closed: no warnings
        opened = await repo.open_checkins(now)
        class_id = (
            await conn.execute(
                sa.select(schema.classes.c.id).where(
                    schema.classes.c.code == summary.practice_class
                )
            )
        ).scalar_one()
        learner = await services.access.actor(DEMO_IDENTITIES.learner.telegram_id or 0)
        assert learner.person is not None
        mine = (await repo.standings(class_id, 80, [learner.person.id]))[learner.person.id]
        marks = (
            await conn.execute(sa.select(sa.func.count()).select_from(schema.attendance))
        ).scalar_one()
        requests = (await conn.execute(sa.select(schema.leave_requests.c.status))).scalars().all()
        recorded = dict(
            (
                await conn.execute(
                    sa.select(schema.classes.c.code, sa.func.count())
                    .select_from(schema.results.join(schema.classes))
                    .group_by(schema.classes.c.code)
                )
            ).all()
        )
    assert [o.class_id for o in opened] == [class_id]
    assert opened[0].starts_at <= now < opened[0].ends_at
    assert (mine.attended, mine.excused, mine.absent, mine.warning) == (3, 1, 0, None)
    assert marks > 10_000
    assert requests == ["pending"]  # the demo learner's, for the lecturer to decide
    assert summary.results_class not in recorded and len(recorded) > 10


async def test_progress_reports_have_a_past_year_carried_classes_and_gaps(db: Database) -> None:
    """/report over the demo: this year's plan partly met with classes carried over, last
    year's figures, and a coverage with gaps; a unit head sees their commune only."""
    services, _summary = await seeded_services(db)
    admin = await services.access.actor(DEMO_IDENTITIES.admin.telegram_id or 0)
    this_year = await services.reports.summary(admin, Period.of_year(2026))
    assert this_year.plan is not None and this_year.plan.approved
    assert this_year.total.carried == 3 and this_year.total.new > 0
    behind = [k.kind for k in this_year.kinds
              if k.target and k.managed_to_date < k.target.classes]  # fmt: skip
    assert "thematic" in behind and "party" in behind
    assert this_year.at_risk

    last_year = await services.reports.summary(admin, Period.of_year(2025))
    assert last_year.plan is not None and last_year.plan.approved
    assert last_year.total.new == 51 and last_year.total.carried == 0
    assert 0 < last_year.total.completed < last_year.total.results
    assert last_year.marks.total > 10_000

    coverage = await services.reports.coverage(admin, Period.of_year(2025))
    assert 0 < coverage.total.trained < coverage.total.staff
    assert coverage.untrained_units
    head = await services.access.actor(DEMO_IDENTITIES.unit_head.telegram_id or 0)
    theirs = await services.reports.coverage(head, Period.of_year(2026))
    assert [u.name for u in theirs.units] == ["Xã Lũng Cú"]
