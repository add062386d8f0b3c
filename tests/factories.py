"""Small, explicit test data: a province with two units and a few people."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from bot.text_search import fold
from storage.database import Database
from storage.schema import people, roles, units
from storage.types import utcnow


@dataclass(frozen=True)
class Province:
    root_id: int
    commune_id: int
    department_id: int


async def add_unit(db: Database, code: str, name: str, parent_id: int | None, kind: str) -> int:
    async with db.write() as conn:
        result = await conn.execute(
            units.insert()
            .values(code=code, name=name, name_search=fold(name), parent_id=parent_id, kind=kind)
            .returning(units.c.id)
        )
        return int(result.scalar_one())


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
    now = utcnow()
    async with db.write() as conn:
        result = await conn.execute(
            people.insert()
            .values(
                full_name=name, name_search=fold(name), unit_id=unit_id, phone=phone,
                telegram_id=telegram_id, source=source, verified=verified, gender=gender,
                birth_year=birth_year, ethnicity_id=ethnicity_id, source_pool=False,
                consent_at=now if telegram_id else None, language="vi" if telegram_id else None,
                created_at=now, updated_at=now,
            )
            .returning(people.c.id)
        )  # fmt: skip
        return int(result.scalar_one())


async def add_role(db: Database, person_id: int, role: str, unit_id: int | None = None) -> None:
    async with db.write() as conn:
        await conn.execute(
            roles.insert().values(
                person_id=person_id, role=role, unit_id=unit_id, granted_at=utcnow()
            )
        )


async def count(db: Database, table: sa.Table) -> int:
    async with db.read() as conn:
        return int((await conn.execute(sa.select(sa.func.count()).select_from(table))).scalar_one())
