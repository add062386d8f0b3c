"""People: the roster and self-declared profiles, their Telegram links and consents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import CodeItem, Gender, Person, Role, RoleGrant
from storage.schema import audit_log, consents, ethnicities, grades, people, roles, titles, units
from storage.types import utcnow

_unit = units.alias("u")
_title = titles.alias("t")
_grade = grades.alias("g")
_eth = ethnicities.alias("e")

_PERSON_SELECT = sa.select(
    people,
    _unit.c.code.label("unit_code"),
    _unit.c.name.label("unit_name"),
    _title.c.code.label("title_code"),
    _title.c.name.label("title_name"),
    _grade.c.code.label("grade_code"),
    _grade.c.name.label("grade_name"),
    _eth.c.code.label("eth_code"),
    _eth.c.name.label("eth_name"),
).select_from(
    people.outerjoin(_unit, _unit.c.id == people.c.unit_id)
    .outerjoin(_title, _title.c.id == people.c.title_id)
    .outerjoin(_grade, _grade.c.id == people.c.grade_id)
    .outerjoin(_eth, _eth.c.id == people.c.ethnicity_id)
)


_role_unit = units.alias("ru")

#: A person with their role grants, one row per grant: the actor of an update in one query.
_ACTOR_SELECT = (
    _PERSON_SELECT.add_columns(
        roles.c.role.label("grant_role"),
        _role_unit.c.id.label("grant_unit_id"),
        _role_unit.c.code.label("grant_unit_code"),
        _role_unit.c.name.label("grant_unit_name"),
    )
    .outerjoin(roles, roles.c.person_id == people.c.id)
    .outerjoin(_role_unit, _role_unit.c.id == roles.c.unit_id)
    .where(people.c.telegram_id == sa.bindparam("telegram_id"))
    .order_by(roles.c.id)
)


def _item(row: Any, key: str, prefix: str) -> CodeItem | None:
    ident = getattr(row, key)
    if ident is None:
        return None
    return CodeItem(ident, getattr(row, f"{prefix}_code"), getattr(row, f"{prefix}_name"))


def _person(row: Any) -> Person:
    return Person(
        id=row.id,
        full_name=row.full_name,
        source=row.source,
        verified=row.verified,
        source_pool=row.source_pool,
        unit=_item(row, "unit_id", "unit"),
        title=_item(row, "title_id", "title"),
        grade=_item(row, "grade_id", "grade"),
        ethnicity=_item(row, "ethnicity_id", "eth"),
        gender=Gender(row.gender) if row.gender else None,
        birth_year=row.birth_year,
        phone=row.phone,
        telegram_id=row.telegram_id,
        language=row.language,
        consent_at=row.consent_at,
    )


class PeopleRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def _one(self, where: sa.ColumnElement[bool]) -> Person | None:
        row = (await self.conn.execute(_PERSON_SELECT.where(where))).first()
        return _person(row) if row else None

    async def get(self, person_id: int) -> Person | None:
        return await self._one(people.c.id == person_id)

    async def by_telegram(self, telegram_id: int) -> Person | None:
        return await self._one(people.c.telegram_id == telegram_id)

    async def lock(self, person_id: int) -> Person | None:
        """Reads the person and, on PostgreSQL, locks the row until the transaction ends, so
        two concurrent changes to their roles run one after the other (SQLite's write
        transactions are serial already)."""
        await self.conn.execute(
            sa.select(people.c.id).where(people.c.id == person_id).with_for_update()
        )
        return await self.get(person_id)

    async def with_grants(self, telegram_id: int) -> tuple[Person | None, tuple[RoleGrant, ...]]:
        """The person linked to this Telegram account and their roles, in one statement."""
        rows = (await self.conn.execute(_ACTOR_SELECT, {"telegram_id": telegram_id})).all()
        if not rows:
            return None, ()
        grants = tuple(
            RoleGrant(
                Role(r.grant_role),
                CodeItem(r.grant_unit_id, r.grant_unit_code, r.grant_unit_name)
                if r.grant_unit_id
                else None,
            )
            for r in rows
            if r.grant_role
        )
        return _person(rows[0]), grants

    async def by_phone(self, phone: str) -> list[Person]:
        rows = await self.conn.execute(_PERSON_SELECT.where(people.c.phone == phone).limit(5))
        return [_person(r) for r in rows]

    async def search(
        self, folded: str, *, unit_ids: Iterable[int] | None = None, limit: int = 10
    ) -> list[Person]:
        query = _PERSON_SELECT.where(people.c.name_search.contains(folded, autoescape=True))
        if unit_ids is not None:
            query = query.where(people.c.unit_id.in_(list(unit_ids)))
        rows = await self.conn.execute(query.order_by(people.c.name_search).limit(limit))
        return [_person(r) for r in rows]

    async def unverified(self, unit_ids: Iterable[int] | None, limit: int = 20) -> list[Person]:
        query = _PERSON_SELECT.where(
            people.c.verified.is_(False), people.c.telegram_id.is_not(None)
        )
        if unit_ids is not None:
            query = query.where(people.c.unit_id.in_(list(unit_ids)))
        rows = await self.conn.execute(query.order_by(people.c.created_at).limit(limit))
        return [_person(r) for r in rows]

    async def reachable(self, unit_ids: Iterable[int] | None) -> list[tuple[int, int]]:
        """(person id, Telegram id) of everyone linked, consenting and confirmed, in the units.

        Unconfirmed self-declared profiles are left out: anyone can claim any unit.
        """
        query = sa.select(people.c.id, people.c.telegram_id).where(
            people.c.telegram_id.is_not(None),
            people.c.consent_at.is_not(None),
            people.c.verified.is_(True),
        )
        if unit_ids is not None:
            query = query.where(people.c.unit_id.in_(list(unit_ids)))
        rows = await self.conn.execute(query.order_by(people.c.id))
        return [(r.id, r.telegram_id) for r in rows]

    async def insert(self, values: dict[str, Any]) -> int:
        now = utcnow()
        values = {"created_at": now, "updated_at": now, "source_pool": False, **values}
        result = await self.conn.execute(people.insert().values(values).returning(people.c.id))
        return int(result.scalar_one())

    async def update(self, person_id: int, values: dict[str, Any]) -> None:
        await self.conn.execute(
            people.update().where(people.c.id == person_id).values(**values, updated_at=utcnow())
        )

    async def link_telegram(
        self, person_id: int, telegram_id: int, language: str, consent_at: datetime
    ) -> bool:
        """Links only if the record is still free: two accounts racing can't both win."""
        result = await self.conn.execute(
            people.update()
            .where(people.c.id == person_id, people.c.telegram_id.is_(None))
            .values(
                telegram_id=telegram_id,
                language=language,
                consent_at=consent_at,
                updated_at=utcnow(),
            )
        )
        return result.rowcount == 1

    async def add_consent(self, person_id: int, version: str, given_at: datetime) -> None:
        await self.conn.execute(
            consents.insert().values(person_id=person_id, notice_version=version, given_at=given_at)
        )

    async def withdraw_consents(self, person_id: int, at: datetime) -> None:
        await self.conn.execute(
            consents.update()
            .where(consents.c.person_id == person_id, consents.c.withdrawn_at.is_(None))
            .values(withdrawn_at=at)
        )

    async def consents_of(self, person_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            sa.select(consents.c.notice_version, consents.c.given_at, consents.c.withdrawn_at)
            .where(consents.c.person_id == person_id)
            .order_by(consents.c.id)
        )
        return [dict(r._mapping) for r in rows]

    async def audit_of(self, person_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            sa.select(audit_log.c.at, audit_log.c.action, audit_log.c.details)
            .where(audit_log.c.person_id == person_id)
            .order_by(audit_log.c.id)
        )
        return [dict(r._mapping) for r in rows]
