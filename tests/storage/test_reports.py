"""Every figure of the progress reports equals the same figure computed in plain Python from
the stored rows (tests/report_world.py), on both databases, for every kind of period."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa

from bot.attendance import Mark
from bot.clock import FrozenClock
from bot.domain import Actor, Role, RoleGrant, UnitRef
from bot.errors import InvalidInput, NotFound, PermissionDenied
from bot.report import Coverage, Period, Summary
from bot.services.reports import ReportService
from bot.training import ALL_KINDS
from storage.database import Database
from storage.schema import (
    attendance,
    class_sessions,
    enrolments,
    learner_tallies,
    results,
    session_tallies,
)
from tests.report_world import NOW, TZ, Expected, World, build_world, expected

ADMIN = Actor(telegram_id=1, is_superadmin=True)
PERIODS = [
    Period.of_year(2026),
    Period.half(2026, 1),
    Period.quarter(2026, 1),
    Period.quarter(2026, 2),
    Period.month(2026, 11),
    Period.dates(date(2026, 3, 25), date(2026, 4, 5)),  # inside the class spanning Q1's end
    Period.of_year(2025),
    Period.of_year(2024),  # nothing at all, no plan
]


def _head(world: World) -> Actor:
    unit = UnitRef(world.department_id, "SNV", "Sở Nội vụ", None)
    return Actor(telegram_id=2, grants=(RoleGrant(Role.UNIT_HEAD, unit),))


def _service(db: Database) -> ReportService:
    return ReportService(db, FrozenClock(NOW), TZ)


def _by_kind(summary: Summary, name: str) -> dict[str, int]:
    return {k.kind: getattr(k, name) for k in summary.kinds if getattr(k, name)}


def _check_summary(summary: Summary, want: Expected) -> None:
    for name in ("new", "carried", "managed_to_date", "learners", "learners_to_date",
                 "attending", "completed", "results"):  # fmt: skip
        assert _by_kind(summary, name) == getattr(want, name), name
    got = {
        c.code: (c.sessions, c.marks.present, c.marks.late, c.marks.excused, c.marks.absent)
        for c in summary.classes
    }
    assert got == want.class_marks
    assert {(r.class_code, r.person_id) for r in summary.at_risk} == want.at_risk


def _check_coverage(coverage: Coverage, want: Expected) -> None:
    assert (coverage.total.staff, coverage.total.trained) == (len(want.staff), len(want.trained))
    assert {g.key: (g.covered.staff, g.covered.trained) for g in coverage.groups} == {
        g.value: figures for g, figures in want.groups.items()
    }
    assert {
        u.unit_id: (u.own.staff, u.own.trained) for u in coverage.units if u.own.staff
    } == want.units_own
    assert sum(g.covered.staff for g in coverage.grades) == len(want.staff)
    assert sum(g.covered.trained for g in coverage.titles) == len(want.trained)


@pytest.fixture
async def world(db: Database) -> World:
    return await build_world(db)


async def test_the_province_summary_and_coverage_match_an_independent_count(
    db: Database, world: World
) -> None:
    service = _service(db)
    for period in PERIODS:
        want = await expected(db, period, None)
        _check_summary(await service.summary(ADMIN, period), want)
        _check_coverage(await service.coverage(ADMIN, period), want)


async def test_a_unit_head_sees_their_units_staff_only(db: Database, world: World) -> None:
    service = _service(db)
    for period in PERIODS[:4]:
        want = await expected(db, period, {world.department_id, world.sub_unit_id})
        summary = await service.summary(_head(world), period)
        assert summary.scoped and all(k.target is None for k in summary.kinds)
        _check_summary(summary, want)
        coverage = await service.coverage(_head(world), period)
        _check_coverage(coverage, want)
        assert {u.unit_id for u in coverage.units} <= {world.department_id, world.sub_unit_id}


async def test_the_awkward_cases_land_where_the_definitions_say(db: Database, world: World) -> None:
    service = _service(db)
    year = await service.summary(ADMIN, Period.of_year(2026))
    total = year.total
    assert total.carried == 1  # last year's class running into January
    assert total.target is not None and total.target.classes == 24
    assert total.classes_share == total.managed_to_date / 24
    q2 = await service.summary(ADMIN, Period.quarter(2026, 2))
    span = next(c for c in q2.classes if c.class_id == world.spanning_class_id)
    assert span.sessions == 2  # 03/04 and 10/04; 20/03 and 27/03 were the first quarter's
    coverage = await service.coverage(ADMIN, Period.of_year(2026))
    assert world.empty_unit_id in {u.unit_id for u in coverage.untrained_units}
    mover = await expected(db, Period.of_year(2026), {world.department_id, world.sub_unit_id})
    assert world.mover_id not in mover.staff  # counted under the unit they belong to now
    empty = await service.summary(ADMIN, Period.of_year(2024))
    assert empty.empty and empty.plan is None and empty.kinds[-1].kind == ALL_KINDS


async def test_the_tallies_equal_the_marks_after_corrections_and_a_cancelled_session(
    db: Database, world: World
) -> None:
    async with db.read() as conn:
        marks = (await conn.execute(
            sa.select(attendance.c.session_id, attendance.c.person_id, attendance.c.class_id,
                      attendance.c.mark, class_sessions.c.status)
            .join(class_sessions, class_sessions.c.id == attendance.c.session_id)
        )).all()  # fmt: skip
        sessions = {r.session_id: r for r in await conn.execute(sa.select(session_tallies))}
        learners = {
            (r.class_id, r.person_id): r for r in await conn.execute(sa.select(learner_tallies))
        }
    per_session: dict[int, dict[str, int]] = {}
    per_learner: dict[tuple[int, int], dict[str, int]] = {}
    for m in marks:
        per_session.setdefault(m.session_id, dict.fromkeys(Mark, 0))[Mark(m.mark)] += 1
        if m.status == "scheduled":
            key = (m.class_id, m.person_id)
            per_learner.setdefault(key, dict.fromkeys(Mark, 0))[Mark(m.mark)] += 1
    for session_id, counts in per_session.items():
        assert {m: getattr(sessions[session_id], m.value) for m in Mark} == counts
    for key, row in learners.items():
        assert {m: getattr(row, m.value) for m in Mark} == per_learner.get(
            key, dict.fromkeys(Mark, 0)
        )


async def test_learners_and_lecturers_are_refused(db: Database, world: World) -> None:
    service = _service(db)
    learner = Actor(telegram_id=3)
    lecturer = Actor(telegram_id=4, grants=(RoleGrant(Role.LECTURER),))
    for actor in (learner, lecturer):
        with pytest.raises(PermissionDenied):
            await service.summary(actor, Period.of_year(2026))
        with pytest.raises(PermissionDenied):
            await service.coverage(actor, Period.of_year(2026))


@pytest.mark.parametrize(
    "typed", ["31/12/2026-01/01/2026", "01/12/2025 - 31/01/2026", "31/02/2026-01/03/2026",
              "hôm qua", "1" * 500, "01/10/2026 – 💥"],
)  # fmt: skip
async def test_typed_dates_that_make_no_period_are_refused(db: Database, typed: str) -> None:
    with pytest.raises(InvalidInput):
        _service(db).typed_period(ADMIN, typed)


async def test_typed_dates_make_a_period(db: Database) -> None:
    service = _service(db)
    assert service.typed_period(ADMIN, "1/10 đến 31/12") == Period.dates(
        date(2026, 10, 1), date(2026, 12, 31)
    )
    assert service.typed_period(ADMIN, "01/10/2026-15/10/2026").last == date(2026, 10, 15)


async def test_one_class_in_detail_matches_its_rows(db: Database, world: World) -> None:
    service = _service(db)
    report = await service.class_report(ADMIN, world.spanning_class_id)
    async with db.read() as conn:
        states = (await conn.execute(
            sa.select(enrolments.c.status).where(enrolments.c.class_id == world.spanning_class_id)
        )).scalars().all()  # fmt: skip
        outcomes = (await conn.execute(
            sa.select(results.c.outcome).where(results.c.class_id == world.spanning_class_id)
        )).scalars().all()  # fmt: skip
    assert report.statuses == dict(Counter(states))
    assert report.outcomes == dict(Counter(outcomes))
    assert len(report.sessions) == 4 and report.training.code == "SPAN"
    assert len(report.standings) == report.statuses["enrolled"]
    mine = await service.class_report(_head(world), world.spanning_class_id)
    assert sum(mine.statuses.values()) <= sum(report.statuses.values())
    head_only = await expected(db, Period.of_year(2026), {world.department_id, world.sub_unit_id})
    assert mine.marks.total == sum(head_only.class_marks.get("SPAN", (0, 0, 0, 0, 0))[1:])
    with pytest.raises(NotFound):
        await service.class_report(ADMIN, 10**9)
