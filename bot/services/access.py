"""Who may do what. Every privileged call passes through here on the server side."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import GRANTABLE_ROLES, Actor, Person, Role
from bot.errors import InvalidInput, NotFound, PermissionDenied
from storage.database import Database
from storage.repositories.code_lists import CodeListRepository
from storage.repositories.people import PeopleRepository
from storage.repositories.roles import RoleRepository, audit


def require(actor: Actor, *allowed: Role) -> None:
    """Raises unless the actor holds one of `allowed` (super-administrators hold every role)."""
    if actor.is_superadmin or any(actor.has(role) for role in allowed):
        return
    raise PermissionDenied()


async def unit_scope(conn: AsyncConnection, actor: Actor) -> list[int] | None:
    """Unit ids the actor answers for; None means the whole province (administrators)."""
    require(actor, Role.ADMIN, Role.UNIT_HEAD)
    if actor.is_admin:
        return None
    return await CodeListRepository(conn).subtree_ids(list(actor.headed_unit_ids))


class AccessService:
    def __init__(self, db: Database, superadmin_ids: frozenset[int]) -> None:
        self.db = db
        self.superadmin_ids = superadmin_ids

    async def actor(self, telegram_id: int) -> Actor:
        async with self.db.read() as conn:
            person = await PeopleRepository(conn).by_telegram(telegram_id)
            grants = await RoleRepository(conn).grants_of(person.id) if person else ()
        return Actor(
            telegram_id=telegram_id,
            person=person,
            grants=grants,
            is_superadmin=telegram_id in self.superadmin_ids,
        )

    async def grant(self, actor: Actor, person_id: int, role: Role) -> Person:
        """Grants `role`; a unit head heads the unit of their own record."""
        require(actor, Role.SUPERADMIN)
        if role not in GRANTABLE_ROLES:
            raise InvalidInput("error.role_unknown")
        async with self.db.write() as conn:
            person = await PeopleRepository(conn).get(person_id)
            if person is None:
                raise NotFound()
            unit_id = None
            if role is Role.UNIT_HEAD:
                if person.unit is None:
                    raise InvalidInput("error.role_needs_unit")
                unit_id = person.unit.id
            if await RoleRepository(conn).grant(person.id, role, unit_id, actor.telegram_id):
                await audit(
                    conn,
                    "role_granted",
                    actor=actor.telegram_id,
                    person_id=person.id,
                    role=role.value,
                    unit_id=unit_id,
                )
        return person

    async def revoke(self, actor: Actor, person_id: int, role: Role) -> Person:
        require(actor, Role.SUPERADMIN)
        async with self.db.write() as conn:
            person = await PeopleRepository(conn).get(person_id)
            if person is None:
                raise NotFound()
            if await RoleRepository(conn).revoke(person.id, role):
                await audit(
                    conn,
                    "role_revoked",
                    actor=actor.telegram_id,
                    person_id=person.id,
                    role=role.value,
                )
        return person

    async def grants_of(self, person_id: int) -> frozenset[Role]:
        async with self.db.read() as conn:
            return frozenset(g.role for g in await RoleRepository(conn).grants_of(person_id))
