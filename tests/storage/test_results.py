"""Results against a real database: completion needs the attendance threshold, an exception
is audited, a completed result is a completion (written, replaced, removed) that the
duplicated-training rule sees, and a workbook is saved whole or not at all."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from bot.attendance import Mark, MarkSource, Outcome
from bot.clock import FrozenClock
from bot.domain import Actor
from bot.errors import Conflict, NotFound, PermissionDenied
from bot.i18n import DEFAULT_TIMEZONE, texts
from bot.results_workbook import FIRST_ROW
from bot.services import Services
from bot.services.results import BelowThreshold
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.schema import audit_log, completions, results
from storage.types import utcnow
from tests.factories import add_class, add_person, count, make_province

ADMIN = 42
LEARNERS = (7001, 7002, 7003)


async def _ended_class(db: Database) -> tuple[Services, FrozenClock, int, list[int]]:
    """Five sessions; learners attended 5, 3 and 4 of them (4 needed); the class is over."""
    clock = FrozenClock(utcnow())
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=clock)
    province = await make_province(db)
    class_id = await add_class(db, "KQ01", days=5, programme="PRG.KQ", created=clock.now())
    people = []
    for telegram_id in LEARNERS:
        people.append(
            await add_person(
                db, f"Học viên {telegram_id}", telegram_id=telegram_id, unit_id=province.commune_id
            )
        )
        actor = await services.access.actor(telegram_id)
        await services.enrolment.enrol(actor, class_id, clashes_seen=True)
    attended = dict(zip(people, (5, 3, 4), strict=True))
    async with db.write() as conn:
        sessions = await ClassRepository(conn).sessions(class_id)
        for number, session in enumerate(sessions):
            marks = {p: Mark.PRESENT if number < n else Mark.ABSENT for p, n in attended.items()}
            await AttendanceRepository(conn).put(
                session.id, class_id, marks, source=MarkSource.ROLL, by=None, at=clock.now()
            )
    return services, clock, class_id, people


async def _audit(db: Database, action: str) -> list[dict[str, object]]:
    async with db.read() as conn:
        rows = await conn.execute(
            sa.select(audit_log.c.details)
            .where(audit_log.c.action == action)
            .order_by(audit_log.c.id)
        )
        return [r.details for r in rows]


async def test_completion_needs_the_threshold_and_an_exception_is_audited(db: Database) -> None:
    services, clock, class_id, (full, short, enough) = await _ended_class(db)
    admin = await services.access.actor(ADMIN)
    with pytest.raises(Conflict, match=r"results.not_ended"):
        await services.results.record(admin, class_id, full, Outcome.GOOD)
    clock.advance(timedelta(days=40))
    with pytest.raises(PermissionDenied):
        await services.results.record(
            await services.access.actor(LEARNERS[0]), class_id, full, Outcome.EXCELLENT
        )
    stranger = await add_person(db, "Người ngoài", unit_id=None)
    with pytest.raises(NotFound, match=r"results.not_enrolled"):
        await services.results.record(admin, class_id, stranger, Outcome.PASSED)

    await services.results.record(admin, class_id, full, Outcome.EXCELLENT)
    with pytest.raises(BelowThreshold) as below:
        await services.results.record(admin, class_id, short, Outcome.PASSED)
    assert below.value.params == {"name": "Học viên 7002", "attended": 3, "total": 5, "required": 4}
    await services.results.record(admin, class_id, short, Outcome.NOT_COMPLETED)
    saved = await services.results.record(admin, class_id, short, Outcome.PASSED, override=True)
    assert saved.override and (saved.attended, saved.total) == (3, 5)
    # An exception asked for where none is needed is not one.
    plain = await services.results.record(admin, class_id, enough, Outcome.GOOD, override=True)
    assert not plain.override
    # The same result again changes nothing, and audits nothing.
    await services.results.record(admin, class_id, enough, Outcome.GOOD)

    recorded = await _audit(db, "result_recorded")
    assert [d["outcome"] for d in recorded] == [
        {"before": None, "after": "excellent"},
        {"before": None, "after": "not_completed"},
        {"before": "not_completed", "after": "passed"},
        {"before": None, "after": "good"},
    ]
    assert await _audit(db, "result_override") == [
        {"class_id": class_id, "outcome": "passed", "attended": 3, "total": 5, "required": 4}
    ]
    sheet = await services.results.sheet(admin, class_id)
    assert [
        (line.standing.attended, line.result and line.result.outcome) for line in sheet.lines
    ] == [(5, Outcome.EXCELLENT), (3, Outcome.PASSED), (4, Outcome.GOOD)]


async def test_a_completion_is_written_removed_and_seen_by_the_duplicated_training_rule(
    db: Database,
) -> None:
    services, clock, class_id, (full, short, enough) = await _ended_class(db)
    clock.advance(timedelta(days=40))
    admin = await services.access.actor(ADMIN)
    await services.results.record(admin, class_id, full, Outcome.GOOD)
    await services.results.record(admin, class_id, full, Outcome.VERY_GOOD)
    await services.results.record(admin, class_id, enough, Outcome.PASSED)
    await services.results.record(admin, class_id, short, Outcome.NOT_COMPLETED)
    async with db.read() as conn:
        ends = (await ClassRepository(conn).get(class_id)).ends_at
        rows = (
            await conn.execute(
                sa.select(
                    completions.c.person_id,
                    completions.c.completed_on,
                    completions.c.source,
                    completions.c.class_id,
                ).order_by(completions.c.person_id)
            )
        ).all()
    assert ends is not None
    day = ends.astimezone(DEFAULT_TIMEZONE).date()
    assert [tuple(r) for r in rows] == [
        (full, day, "class", class_id),
        (enough, day, "class", class_id),
    ]
    await services.results.record(admin, class_id, enough, Outcome.NOT_COMPLETED)
    assert await count(db, completions) == 1

    # A later class of the same programme: the one who completed is refused as duplicated
    # training; those who did not complete may train again.
    later = await add_class(
        db, "KQ02", programme="PRG.KQ", starts=clock.now() + timedelta(days=30), created=clock.now()
    )
    with pytest.raises(Conflict, match=r"enrol.duplicate_done"):
        await services.enrolment.enrol(
            await services.access.actor(LEARNERS[0]), later, clashes_seen=True
        )
    for telegram_id in LEARNERS[1:]:
        await services.enrolment.enrol(
            await services.access.actor(telegram_id), later, clashes_seen=True
        )


def _fill(data: bytes, cells: dict[str, object]) -> bytes:
    book = load_workbook(io.BytesIO(data))
    for ref, value in cells.items():
        book.worksheets[0][ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_a_workbook_is_saved_whole_or_not_at_all(db: Database) -> None:
    services, clock, class_id, (full, short, enough) = await _ended_class(db)
    clock.advance(timedelta(days=40))
    admin = await services.access.actor(ADMIN)
    await services.results.record(admin, class_id, enough, Outcome.GOOD)
    blank = await services.results.template(admin, class_id, texts("vi"))
    # Rows are by name: 7001, 7002, 7003 (full, short, enough).
    rows = {full: FIRST_ROW, short: FIRST_ROW + 1, enough: FIRST_ROW + 2}
    stranger = await add_person(db, "Người ngoài", unit_id=None)
    bad = _fill(
        blank,
        {
            f"G{rows[full]}": "xuat sac",
            f"G{rows[short]}": "Đạt",  # below the threshold, no exception
            f"B{FIRST_ROW + 3}": stranger,
            f"G{FIRST_ROW + 3}": "kha",
            f"B{FIRST_ROW + 4}": 999999,
            f"G{FIRST_ROW + 4}": "kha",
        },
    )
    report = await services.results.import_results(admin, class_id, bad)
    assert report.refused and report.error_count == 3
    assert [(e.row, e.key) for e in report.errors] == [
        (rows[short], "results.err_below"),
        (FIRST_ROW + 3, "results.err_not_enrolled"),
        (FIRST_ROW + 4, "results.err_unknown_person"),
    ]
    assert await count(db, results) == 1 and await count(db, completions) == 1

    good = _fill(
        blank, {f"G{rows[full]}": "xuat sac", f"G{rows[short]}": "Đạt", f"H{rows[short]}": "Có"}
    )
    report = await services.results.import_results(admin, class_id, good)
    assert (report.saved, report.unchanged, report.overrides, report.refused) == (2, 1, 1, False)
    assert await count(db, completions) == 3
    assert len(await _audit(db, "result_override")) == 1
    sheet = await services.results.sheet(admin, class_id)
    assert [line.result and line.result.outcome for line in sheet.lines] == [
        Outcome.EXCELLENT,
        Outcome.PASSED,
        Outcome.GOOD,
    ]
    learner = Actor(telegram_id=LEARNERS[0], person=None, grants=(), is_superadmin=False)
    with pytest.raises(PermissionDenied):
        await services.results.import_results(learner, class_id, good)
