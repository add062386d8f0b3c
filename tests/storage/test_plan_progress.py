"""A plan's year counted as seed 004 counts it: opened and carried-over classes, learners."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain import Actor
from bot.services import Services
from bot.training import EnrolmentStatus
from storage.database import Database
from storage.repositories.enrolments import EnrolmentRepository
from tests.factories import add_class, add_person, make_province

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


async def test_classes_running_into_january_count_in_both_years(db: Database) -> None:
    province = await make_province(db)
    learner = await add_person(db, "Lò Văn Học", unit_id=province.commune_id)
    december = datetime(2025, 12, 29, 7, 30, tzinfo=TZ)
    carried = await add_class(db, "C.2025", starts=december, days=7)  # into January
    await add_class(db, "D.2025", starts=december - timedelta(days=30))  # over by then
    opened = await add_class(db, "O.2026", starts=datetime(2026, 3, 2, 7, 30, tzinfo=TZ))
    await add_class(db, "P.2026", starts=datetime(2026, 4, 6, 7, 30, tzinfo=TZ), status="planned")
    await add_class(db, "X.2026", starts=datetime(2026, 5, 4, 7, 30, tzinfo=TZ), status="cancelled")
    async with db.write() as conn:
        for class_id in (carried, opened):
            await EnrolmentRepository(conn).put(class_id, learner, EnrolmentStatus.ENROLLED)
    services = Services.build(db, superadmin_ids=frozenset({1}))
    admin = Actor(telegram_id=1, is_superadmin=True)
    plans = {plan.year: plan for plan in await services.planning.plans(admin)}
    progress = await services.planning.progress(admin, list(plans.values()))
    this_year, last_year = progress[plans[2026].id], progress[plans[2025].id]
    assert (this_year.classes, this_year.opened, this_year.carried_over) == (3, 1, 1)
    assert (this_year.managed, this_year.learners) == (2, 2)
    assert (last_year.opened, last_year.carried_over, last_year.learners) == (2, 0, 1)
