"""Role grants: who teaches, who heads which unit, who administers."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import HeldRole, Role, UnitRef
from storage.links import SENDABLE, TYPED_LINK
from storage.schema import people, roles, unit_closure, units
from storage.types import utcnow


class RoleRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def grants_of(self, person_id: int) -> list[HeldRole]:
        rows = await self.conn.execute(
            sa.select(roles.c.role, units.c.id, units.c.code, units.c.name, roles.c.granted_at)
            .select_from(roles.outerjoin(units, units.c.id == roles.c.unit_id))
            .where(roles.c.person_id == person_id)
            .order_by(roles.c.id)
        )
        return [
            HeldRole(Role(r.role), UnitRef(r.id, r.code, r.name) if r.id else None, r.granted_at)
            for r in rows
        ]

    async def grant(self, person_id: int, role: Role, unit_id: int | None, by: int | None) -> bool:
        """Adds the grant unless it exists; False when there was nothing to add."""
        exists = await self.conn.execute(
            sa.select(roles.c.id).where(
                roles.c.person_id == person_id,
                roles.c.role == role.value,
                roles.c.unit_id.is_(None) if unit_id is None else roles.c.unit_id == unit_id,
            )
        )
        if exists.first():
            return False
        await self.conn.execute(
            roles.insert().values(
                person_id=person_id, role=role.value, unit_id=unit_id, granted_by=by,
                granted_at=utcnow(),
            )
        )  # fmt: skip
        return True

    async def revoke(self, person_id: int, role: Role) -> bool:
        result = await self.conn.execute(
            roles.delete().where(roles.c.person_id == person_id, roles.c.role == role.value)
        )
        return result.rowcount > 0

    async def holders(self, role: Role) -> list[int]:
        """The ids of the people who hold `role`, by name."""
        rows = await self.conn.execute(
            sa.select(people.c.id)
            .select_from(roles.join(people, people.c.id == roles.c.person_id))
            .where(roles.c.role == role.value)
            .order_by(people.c.name_search)
        )
        return list(rows.scalars())

    async def heads_above(self, unit_id: int) -> list[tuple[int, int]]:
        """(person id, Telegram id) of the linked heads of this unit or any unit above it."""
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.telegram_id)
            .select_from(
                roles.join(people, people.c.id == roles.c.person_id).join(
                    unit_closure, unit_closure.c.ancestor_id == roles.c.unit_id
                )
            )
            .where(
                roles.c.role == Role.UNIT_HEAD.value,
                unit_closure.c.descendant_id == unit_id,
                *SENDABLE,
            )
            .distinct()
        )
        return [(r.id, r.telegram_id) for r in rows]

    async def admins(self, also: Iterable[int] = ()) -> list[tuple[int, int]]:
        """(person id, Telegram id) of the linked administrators, and of the linked people
        whose Telegram id is among `also` (the superadmins of the configuration): who is
        asked when a unit has no head."""
        granted = sa.select(roles.c.person_id).where(roles.c.role == Role.ADMIN.value)
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.telegram_id)
            .where(
                sa.or_(people.c.id.in_(granted), people.c.telegram_id.in_(list(also))),
                *SENDABLE,
            )
            .order_by(people.c.id)
        )
        return [(r.id, r.telegram_id) for r in rows]

    async def staff(self) -> dict[int, tuple[set[Role], str | None]]:
        """Telegram id → (roles, language) of everyone linked who holds a role."""
        rows = await self.conn.execute(
            sa.select(people.c.telegram_id, people.c.language, roles.c.role)
            .select_from(roles.join(people, people.c.id == roles.c.person_id))
            .where(people.c.telegram_id.is_not(None), sa.not_(TYPED_LINK))
        )
        staff: dict[int, tuple[set[Role], str | None]] = {}
        for row in rows:
            staff.setdefault(row.telegram_id, (set(), row.language))[0].add(Role(row.role))
        return staff
