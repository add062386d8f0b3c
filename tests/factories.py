"""Small, explicit test data: a province with two units and a few people."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa

from bot.domain import Gender, NewPerson, NewUnit, PersonSource, Role
from bot.reminders import QuietHours
from bot.training import (
    Audience,
    ClassFormat,
    ClassKind,
    ClassStatus,
    NewClass,
    NewPlan,
    NewProgramme,
    NewSession,
)
from storage.database import Database
from storage.repositories.classes import ClassRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.plans import PlanRepository, ProgrammeRepository
from storage.repositories.roles import RoleRepository
from storage.repositories.units import UnitRepository
from storage.types import utcnow


@dataclass(frozen=True)
class Province:
    root_id: int
    commune_id: int
    department_id: int


#: Quiet hours off: a test that is not about them must not depend on the hour it runs at.
NEVER_QUIET = QuietHours(time(0), time(0))


async def add_unit(db: Database, code: str, name: str, parent_id: int | None, kind: str) -> int:
    async with db.write() as conn:
        return (await UnitRepository(conn).add(NewUnit(code, name, parent_id, kind))).id


async def make_province(db: Database) -> Province:
    root = await add_unit(db, "TINH", "Tỉnh Sơn Lâm", None, "province")
    commune = await add_unit(db, "XA.DONGVAN", "Xã Đồng Văn", root, "commune")
    department = await add_unit(db, "SNV", "Sở Nội vụ", root, "department")
    return Province(root, commune, department)


async def add_person(
    db: Database,
    name: str,
    *,
    unit_id: int | None,
    phone: str | None = None,
    telegram_id: int | None = None,
    source: str = "roster",
    verified: bool = True,
    gender: str = "female",
    birth_year: int = 1988,
    ethnicity_id: int = 8,
) -> int:
    """A person as the roster import would add them; linked if given a Telegram id."""
    person = NewPerson(
        full_name=name,
        source=PersonSource(source),
        unit_id=unit_id,
        verified=verified,
        ethnicity_id=ethnicity_id,
        gender=Gender(gender),
        birth_year=birth_year,
        phone=phone,
        telegram_id=telegram_id,
        consent_at=utcnow() if telegram_id else None,
        language="vi" if telegram_id else None,
    )
    async with db.write() as conn:
        return (await PeopleRepository(conn).add(person)).id


async def add_role(db: Database, person_id: int, role: str, unit_id: int | None = None) -> None:
    async with db.write() as conn:
        await RoleRepository(conn).grant(person_id, Role(role), unit_id, by=None)


async def count(db: Database, table: sa.Table) -> int:
    async with db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())


async def add_class(
    db: Database,
    code: str,
    *,
    capacity: int = 30,
    starts: datetime | None = None,
    days: int = 2,
    approved: bool = True,
    status: str = "open",
    programme: str | None = None,
    validity_months: int | None = 36,
    audience: Audience | None = None,
    deadline: datetime | None = None,
    name: str | None = None,
    plan_year: int | None = None,
    created: datetime | None = None,
    fmt: ClassFormat = ClassFormat.ON_SITE,
    location: str | None = "Hội trường A",
    link: str | None = None,
    lecturer_ids: tuple[int, ...] = (),
    requires_approval: bool = False,
) -> int:
    """An open class of an approved plan, with a morning session on each of `days` days
    from `starts` (by default a month from now); its programme, and the plan of
    `plan_year` (by default the year it starts), made if needed."""
    starts = starts or utcnow().replace(microsecond=0) + timedelta(days=30)
    year = plan_year or starts.year
    async with db.write() as conn:
        plans = PlanRepository(conn)
        plan = await plans.of_year(year)
        plan_id = (
            plan.id
            if plan
            else await plans.add(
                NewPlan(
                    year,
                    f"Kế hoạch {year}",
                    approved_on=date(year, 1, 5) if approved else None,
                    approved_by="Ban Thường vụ Tỉnh ủy" if approved else None,
                )
            )
        )
        programmes = ProgrammeRepository(conn)
        programme_code = programme or f"P.{code}"
        found = [p for p in await programmes.all() if p.code == programme_code]
        programme_id = (
            found[0].id
            if found
            else await programmes.add(
                NewProgramme(
                    programme_code,
                    f"Chương trình {programme_code}",
                    ClassKind.UPDATE,
                    validity_months,
                )
            )
        )
        repo = ClassRepository(conn)
        class_id = await repo.add(
            NewClass(
                code,
                name or f"Lớp bồi dưỡng {code}",
                programme_id,
                plan_id,
                ClassKind.UPDATE,
                fmt,
                capacity,
                audience=audience or Audience(),
                location=location,
                meeting_link=link,
                lecturer_ids=lecturer_ids,
                enrol_deadline=deadline,
                status=ClassStatus(status),
                requires_approval=requires_approval,
            ),
            by=None,
        )
        await repo.add_sessions(
            class_id,
            [
                NewSession(starts + timedelta(days=d), starts + timedelta(days=d, hours=3))
                for d in range(days)
            ],
            at=created,
        )
    return class_id
