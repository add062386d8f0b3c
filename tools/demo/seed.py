"""Loads `tools.demo.data` into a migrated database, for the sandbox, demos and load tests.

Rows go in with bulk executemany in one write transaction, so 100,000 people take seconds,
and a half-seeded database is never left behind. Seeding refuses a database that already has
people: the sandbox may restart many times and must never double its roster.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.text_search import fold
from storage import schema
from storage.database import Database
from storage.migrate import upgrade
from storage.types import utcnow
from tools.demo.data import (
    DEFAULT_PEOPLE,
    DEFAULT_SEED,
    ROOT_CODE,
    DemoIdentities,
    DemoUnit,
    generate_demo_data,
)

#: The privacy-notice version the demo's linked people are recorded as having accepted.
DEMO_NOTICE_VERSION = "2026-11"
#: asyncpg allows 32,767 bind parameters per statement; stay clear of it.
_MAX_PARAMETERS = 30_000
_MAX_ROWS = 5_000


class DemoSeedError(RuntimeError):
    """The database is not empty enough to receive the demo data."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What was seeded: enough for the sandbox to print a welcome and for tests to check."""

    units: int
    people: int
    linked: int
    identities: DemoIdentities
    root_unit_id: int


async def has_people(db: Database) -> bool:
    """Whether any person exists: the sandbox seeds only when this is False.

    A database not yet migrated has no people either, so this works before `upgrade` too.
    """
    async with db.read() as conn:
        if not await conn.run_sync(lambda c: sa.inspect(c).has_table(schema.people.name)):
            return False
        return await _has_people(conn)


async def _has_people(conn: AsyncConnection) -> bool:
    return (await conn.execute(sa.select(schema.people.c.id).limit(1))).first() is not None


def _chunks(rows: Sequence[dict[str, Any]]) -> Iterator[Sequence[dict[str, Any]]]:
    if not rows:
        return
    size = max(1, min(_MAX_ROWS, _MAX_PARAMETERS // len(rows[0])))
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def _insert(conn: AsyncConnection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    for chunk in _chunks(rows):
        await conn.execute(table.insert(), list(chunk))


async def _code_ids(conn: AsyncConnection, table: sa.Table) -> dict[str, int]:
    result = await conn.execute(sa.select(table.c.code, table.c.id))
    return {code: id_ for code, id_ in result.all()}


async def seed_demo(
    db: Database, *, people: int = DEFAULT_PEOPLE, seed: int = DEFAULT_SEED
) -> DemoSummary:
    """Migrate, then insert the demo province's units, roster, consents and staff roles.

    Raises DemoSeedError if the database already has people or any of the demo unit codes.
    """
    await upgrade(db)
    data = generate_demo_data(seed=seed, people=people)
    now = utcnow()
    async with db.write() as conn:
        # Checked inside the write transaction, so two concurrent seeders cannot both pass.
        if await _has_people(conn):
            raise DemoSeedError(
                "the database already has people; demo data is seeded only into an empty one"
            )
        unit_ids = await _insert_units(conn, data.units)
        title_ids = await _code_ids(conn, schema.titles)
        grade_ids = await _code_ids(conn, schema.grades)
        ethnicity_ids = await _code_ids(conn, schema.ethnicities)
        await _insert(
            conn,
            schema.people,
            [
                {
                    "full_name": p.full_name,
                    "name_search": fold(p.full_name),
                    "unit_id": unit_ids[p.unit_code],
                    "title_id": title_ids[p.title_code],
                    "grade_id": grade_ids[p.grade_code],
                    "gender": p.gender,
                    "birth_year": p.birth_year,
                    "ethnicity_id": ethnicity_ids[p.ethnicity_code],
                    "phone": p.phone,
                    "telegram_id": p.telegram_id,
                    "source": "self" if p.self_declared else "roster",
                    "verified": not p.self_declared,
                    "verified_by": None,
                    "verified_at": None if p.self_declared else now,
                    "source_pool": p.source_pool,
                    "language": "vi" if p.linked else None,
                    "consent_at": now if p.linked else None,
                    "created_at": now,
                    "updated_at": now,
                }
                for p in data.people
            ],
        )
        linked = (
            await conn.execute(
                sa.select(schema.people.c.id, schema.people.c.telegram_id).where(
                    schema.people.c.telegram_id.is_not(None)
                )
            )
        ).all()
        await _insert(
            conn,
            schema.consents,
            [
                {
                    "person_id": person_id,
                    "notice_version": DEMO_NOTICE_VERSION,
                    "given_at": now,
                    "withdrawn_at": None,
                }
                for person_id, _ in linked
            ],
        )
        staff = data.identities
        ids = await _ids_by_phone(
            conn, [staff.admin.phone, staff.unit_head.phone, staff.lecturer.phone]
        )
        await _insert(
            conn,
            schema.roles,
            [
                _role(ids[staff.admin.phone], "admin", None, now),
                _role(
                    ids[staff.unit_head.phone],
                    "unit_head",
                    unit_ids[staff.unit_head.unit_code],
                    now,
                ),
                _role(ids[staff.lecturer.phone], "lecturer", None, now),
            ],
        )
        await conn.execute(
            schema.audit_log.insert().values(
                at=now,
                actor_telegram_id=None,
                action="demo_seed",
                person_id=None,
                details={"people": len(data.people), "seed": seed},
            )
        )
    return DemoSummary(
        units=len(data.units),
        people=len(data.people),
        linked=len(linked),
        identities=data.identities,
        root_unit_id=unit_ids[ROOT_CODE],
    )


async def _ids_by_phone(conn: AsyncConnection, phones: Sequence[str]) -> dict[str, int]:
    people = schema.people
    result = await conn.execute(
        sa.select(people.c.phone, people.c.id).where(people.c.phone.in_(phones))
    )
    return {phone: id_ for phone, id_ in result.all()}


def _role(person_id: int, role: str, unit_id: int | None, now: datetime) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "role": role,
        "unit_id": unit_id,
        "granted_by": None,
        "granted_at": now,
    }


async def _insert_units(conn: AsyncConnection, demo_units: Sequence[DemoUnit]) -> dict[str, int]:
    """Insert the tree level by level, so each level can refer to its parents' new ids."""
    codes = [unit.code for unit in demo_units]
    taken = (
        await conn.execute(sa.select(schema.units.c.code).where(schema.units.c.code.in_(codes)))
    ).all()
    if taken:
        raise DemoSeedError(f"demo unit codes already exist: {sorted(c for (c,) in taken)[:5]}")
    ids: dict[str, int] = {}
    pending = list(demo_units)
    while pending:
        level = [u for u in pending if u.parent_code is None or u.parent_code in ids]
        if not level:
            raise AssertionError("demo units refer to parents that do not exist")
        await _insert(
            conn,
            schema.units,
            [
                {
                    "code": u.code,
                    "name": u.name,
                    "name_search": fold(u.name),
                    "parent_id": ids[u.parent_code] if u.parent_code else None,
                    "kind": u.kind,
                }
                for u in level
            ],
        )
        level_codes = [u.code for u in level]
        result = await conn.execute(
            sa.select(schema.units.c.code, schema.units.c.id).where(
                schema.units.c.code.in_(level_codes)
            )
        )
        ids.update({code: id_ for code, id_ in result.all()})
        placed = set(level_codes)
        pending = [u for u in pending if u.code not in placed]
    return ids
