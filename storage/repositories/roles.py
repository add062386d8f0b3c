"""Role grants and the audit log that records every privileged change."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import CodeItem, Role, RoleGrant
from storage.schema import audit_log, people, roles, units
from storage.types import utcnow


class RoleRepository:
    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def grants_of(self, person_id: int) -> tuple[RoleGrant, ...]:
        rows = await self.conn.execute(
            sa.select(roles.c.role, units.c.id, units.c.code, units.c.name)
            .select_from(roles.outerjoin(units, units.c.id == roles.c.unit_id))
            .where(roles.c.person_id == person_id)
            .order_by(roles.c.id)
        )
        return tuple(
            RoleGrant(Role(r.role), CodeItem(r.id, r.code, r.name) if r.id else None) for r in rows
        )

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
                person_id=person_id,
                role=role.value,
                unit_id=unit_id,
                granted_by=by,
                granted_at=utcnow(),
            )
        )
        return True

    async def revoke(self, person_id: int, role: Role) -> bool:
        result = await self.conn.execute(
            roles.delete().where(roles.c.person_id == person_id, roles.c.role == role.value)
        )
        return result.rowcount > 0

    async def heads_of(self, unit_ids: list[int]) -> list[tuple[int, int]]:
        """(person id, Telegram id) of linked unit heads of any of these units."""
        rows = await self.conn.execute(
            sa.select(people.c.id, people.c.telegram_id)
            .select_from(roles.join(people, people.c.id == roles.c.person_id))
            .where(
                roles.c.role == Role.UNIT_HEAD.value,
                roles.c.unit_id.in_(unit_ids),
                people.c.telegram_id.is_not(None),
                people.c.consent_at.is_not(None),
            )
            .distinct()
        )
        return [(r.id, r.telegram_id) for r in rows]

    async def staff(self) -> dict[int, tuple[set[Role], str | None]]:
        """Telegram id → (roles, language) of everyone linked who holds a role."""
        rows = await self.conn.execute(
            sa.select(people.c.telegram_id, people.c.language, roles.c.role)
            .select_from(roles.join(people, people.c.id == roles.c.person_id))
            .where(people.c.telegram_id.is_not(None))
        )
        staff: dict[int, tuple[set[Role], str | None]] = {}
        for row in rows:
            staff.setdefault(row.telegram_id, (set(), row.language))[0].add(Role(row.role))
        return staff

    async def list_for_export(self, person_id: int) -> list[dict[str, Any]]:
        rows = await self.conn.execute(
            sa.select(roles.c.role, roles.c.unit_id, roles.c.granted_at)
            .where(roles.c.person_id == person_id)
            .order_by(roles.c.id)
        )
        return [dict(r._mapping) for r in rows]


async def audit(
    conn: AsyncConnection,
    action: str,
    *,
    actor: int | None,
    person_id: int | None = None,
    **details: Any,
) -> None:
    """Appends to the audit log inside the caller's transaction, so the record and the change
    commit together."""
    await conn.execute(
        audit_log.insert().values(
            at=utcnow(),
            actor_telegram_id=actor,
            action=action,
            person_id=person_id,
            details=details,
        )
    )
