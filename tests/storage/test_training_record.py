"""A cadre's training record against a real database: figures per year (late counts as
attended, excused and unexcused apart, hours), results and imported completions, the
attendance of one class, and who may see whose record."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.attendance import Mark, MarkSource
from bot.clock import FrozenClock
from bot.errors import NotFound
from bot.services import Services
from bot.training import EnrolmentStatus
from storage.database import Database
from storage.repositories.attendance import AttendanceRepository
from storage.repositories.classes import ClassRepository
from storage.repositories.enrolments import EnrolmentRepository
from storage.repositories.plans import ProgrammeRepository
from storage.schema import results
from tests.factories import add_class, add_person, add_role, make_province

ADMIN = 42
LEARNER, OTHER, HEAD, FAR_HEAD = 7001, 7002, 6001, 6002
#: Both classes have begun by then; the last session of the second is still to come.
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


async def mark(db: Database, class_id: int, person_id: int, marks: list[Mark | None]) -> None:
    """Marks the person at the class's sessions in order (None: left unmarked)."""
    async with db.write() as conn:
        sessions = await ClassRepository(conn).sessions(class_id)
        repo = AttendanceRepository(conn)
        for session, given in zip(sessions, marks, strict=False):
            if given is not None:
                await repo.put(session.id, class_id, {person_id: given},
                               source=MarkSource.ROLL, by=None, at=session.starts_at)  # fmt: skip


async def setup(db: Database) -> tuple[Services, dict[str, int]]:
    """A learner in two classes of two years (one with a result), a class they withdrew from
    before it began, a completion from before the bot; heads inside and outside their unit."""
    services = Services.build(db, superadmin_ids=frozenset({ADMIN}), clock=FrozenClock(NOW))
    province = await make_province(db)
    ids = {
        "learner": await add_person(db, "Nguyễn Thị Lan", unit_id=province.commune_id,
                                    telegram_id=LEARNER),
        "other": await add_person(db, "Lò Văn Pọm", unit_id=province.commune_id,
                                  telegram_id=OTHER),
        "head": await add_person(db, "Thủ trưởng Xã", unit_id=province.commune_id,
                                 telegram_id=HEAD),
        "far_head": await add_person(db, "Thủ trưởng Sở", unit_id=province.department_id,
                                     telegram_id=FAR_HEAD),
    }  # fmt: skip
    await add_role(db, ids["head"], "unit_head", province.commune_id)
    await add_role(db, ids["far_head"], "unit_head", province.department_id)
    ids["old"] = await add_class(
        db,
        "LOP25",
        name="Bồi dưỡng kiến thức quốc phòng",
        starts=datetime(2025, 12, 1, 1, 0, tzinfo=UTC),
        days=4,
    )
    ids["new"] = await add_class(
        db,
        "LOP26",
        name="Chuyển đổi số trong cơ quan nhà nước",
        starts=datetime(2026, 1, 4, 1, 0, tzinfo=UTC),
        days=3,
    )
    ids["left"] = await add_class(db, "LOP26B", starts=datetime(2026, 1, 5, 1, 0, tzinfo=UTC))
    async with db.write() as conn:
        enrolments = EnrolmentRepository(conn)
        for class_id in (ids["old"], ids["new"], ids["left"]):
            await enrolments.add_enrolled(class_id, [ids["learner"], ids["other"]])
        await enrolments.set_status(ids["left"], ids["learner"], EnrolmentStatus.WITHDRAWN)
        programme = (await ProgrammeRepository(conn).all())[0]
        await enrolments.add_completion(
            ids["learner"],
            programme.id,
            date(2024, 6, 28),
            class_name="Trung cấp lý luận chính trị khóa 12",
        )
        await conn.execute(results.insert().values(
            class_id=ids["old"], person_id=ids["learner"], outcome="passed", attended=2, total=4,
            override=True, recorded_by=ADMIN, recorded_at=NOW - timedelta(days=30),
        ))  # fmt: skip
    await mark(db, ids["old"], ids["learner"], [Mark.PRESENT, Mark.LATE, Mark.EXCUSED, Mark.ABSENT])
    await mark(db, ids["new"], ids["learner"], [Mark.LATE])
    await mark(db, ids["new"], ids["other"], [Mark.PRESENT, Mark.PRESENT])
    return services, ids


async def test_the_record_counts_each_year(db: Database) -> None:
    services, ids = await setup(db)
    learner = await services.access.actor(LEARNER)
    record = await services.records.record(learner)
    assert record.person.full_name == "Nguyễn Thị Lan"
    assert record.period == (2024, 2026)
    assert [y.year for y in record.years] == [2024, 2025, 2026]
    before, last_year, this_year = record.years
    assert before.classes == () and before.imported[0].class_name.startswith("Trung cấp")
    assert (before.class_count, before.completed) == (1, 1)

    (old,) = last_year.classes
    assert (old.code, old.held, old.attended, old.late) == ("LOP25", 4, 2, 1)
    assert (old.excused, old.unexcused, old.hours) == (1, 1, 6.0)
    assert old.outcome is not None and old.outcome.value == "passed" and old.override
    assert (last_year.class_count, last_year.attended, last_year.held) == (1, 2, 4)
    assert (last_year.hours, last_year.completed) == (6.0, 1)

    # The class withdrawn from before it began is no training: not in the record.
    (new,) = this_year.classes
    assert new.code == "LOP26" and new.outcome is None and not new.completed
    assert (new.held, new.attended, new.late, new.excused, new.unexcused) == (2, 1, 1, 0, 0)
    assert new.hours == 3.0
    assert [s.mark for s in new.sessions] == [Mark.LATE, None, None]
    assert [s.held for s in new.sessions] == [True, True, False]  # unmarked, then to come
    assert (record.totals.class_count, record.totals.completed) == (3, 2)
    assert (record.totals.attended, record.totals.held, record.totals.hours) == (3, 6, 9.0)

    standing = (await services.records.class_attendance(learner, ids["new"])).standing
    assert (standing.attended, standing.total, standing.required) == (1, 3, 3)
    assert standing.unmarked == 2


async def test_heads_see_their_staff_and_nobody_else_sees_anything(db: Database) -> None:
    services, ids = await setup(db)
    records = services.records
    head = await services.access.actor(HEAD)
    seen = await records.record(head, ids["learner"])
    assert seen.person.id == ids["learner"] and len(seen.years) == 3
    attendance = await records.class_attendance(head, ids["old"], ids["learner"])
    assert attendance.standing.attended == 2

    admin = await services.access.actor(ADMIN)  # a super-administrator without a profile
    assert (await records.record(admin, ids["other"])).totals.attended == 2
    with pytest.raises(NotFound) as unknown:
        await records.record(admin, 999_999)

    far_head = await services.access.actor(FAR_HEAD)
    learner = await services.access.actor(LEARNER)
    refusals = [
        records.record(far_head, ids["learner"]),
        records.class_attendance(far_head, ids["old"], ids["learner"]),
        records.record(learner, ids["other"]),
        records.class_attendance(learner, ids["new"], ids["other"]),
        records.record(head, 999_999),
    ]
    for refused in refusals:
        with pytest.raises(NotFound) as caught:
            await refused
        assert (caught.value.key, caught.value.params) == (unknown.value.key, {})

    with pytest.raises(NotFound, match="class_unknown"):  # not a class of their record
        await records.class_attendance(learner, ids["left"])
    stranger = await services.access.actor(9999)
    with pytest.raises(NotFound, match=r"profile\.none"):
        await records.record(stranger)
