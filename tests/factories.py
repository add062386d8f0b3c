"""Small, explicit test data: a province with two units and a few people."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from bot.domain import Gender, NewPerson, NewUnit, PersonSource, Role
from storage.database import Database
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import RoleRepository
from storage.repositories.units import UnitRepository
from storage.types import utcnow


@dataclass(frozen=True)
class Province:
    root_id: int
    commune_id: int
    department_id: int


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
        full_name=name, source=PersonSource(source), unit_id=unit_id, verified=verified,
        ethnicity_id=ethnicity_id, gender=Gender(gender), birth_year=birth_year, phone=phone,
        telegram_id=telegram_id, consent_at=utcnow() if telegram_id else None,
        language="vi" if telegram_id else None,
    )  # fmt: skip
    async with db.write() as conn:
        return (await PeopleRepository(conn).add(person)).id


async def add_role(db: Database, person_id: int, role: str, unit_id: int | None = None) -> None:
    async with db.write() as conn:
        await RoleRepository(conn).grant(person_id, Role(role), unit_id, by=None)


async def count(db: Database, table: sa.Table) -> int:
    async with db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())
